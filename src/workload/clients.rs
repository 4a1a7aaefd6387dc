//! A client population for rate-limit experiments: legitimate clients with
//! heavy-tailed per-client rates and Poisson arrivals, abusive clients
//! (constant high rate, bursty on/off, or many low-and-slow Poisson sources)
//! and an optional flash crowd of extra legitimate clients. Every request
//! carries its client id, the client's tier and a legit/abusive label that
//! only metrics read.
//!
//! Client ids: legitimate clients are 0..legit, abusive ones follow, then the
//! flash crowd. Per-client parameters come from the stream "client-params"
//! and arrival gaps from "client-arrivals", so the same seed gives the same
//! population whatever the cache or limiter.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;
use rand_distr::{Distribution, Exp, Pareto};
use serde::Deserialize;

use super::{Label, Request};
use crate::engine::{SECOND, SimTime, stream};
use crate::error::ConfigError;
use crate::units::{Duration, Rate, checked};

/// `clients = { ... }` in a synthetic `[workload]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsSpec {
    /// Legitimate clients.
    #[serde(default, deserialize_with = "checked::whole_u32")]
    pub legit: u32,
    /// Mean rate of one legitimate client; per-client rates are Pareto
    /// distributed with this mean [default: "0.5/s"].
    #[serde(default = "default_legit_rate")]
    pub legit_rate: Rate,
    /// Pareto shape of the per-client rates, above 1; smaller is heavier
    /// tailed [default: 1.5].
    #[serde(default = "default_alpha", deserialize_with = "shape")]
    pub legit_alpha: f64,
    /// Share of legitimate clients in the premium tier [default: 0].
    #[serde(default, deserialize_with = "share")]
    pub premium_share: f64,
    /// Abusive clients.
    #[serde(default, deserialize_with = "checked::whole_u32")]
    pub abusive: u32,
    /// How they send [default: "constant"].
    #[serde(default)]
    pub abuse: Abuse,
    /// Rate of one abusive client (while "on" for on-off) [default: "20/s"].
    #[serde(default = "default_abusive_rate")]
    pub abusive_rate: Rate,
    /// On and off periods of on-off abusers [default: "5s" and "15s"].
    #[serde(default = "default_on")]
    pub on: Duration,
    #[serde(default = "default_off")]
    pub off: Duration,
    /// When the abusers start [default: "0s"].
    #[serde(default)]
    pub attack_start: Option<Duration>,
    /// Locations of a `[topology]` each abusive client sends from in turn,
    /// to stay under per-location limits [default: 1].
    #[serde(default = "one", deserialize_with = "checked::positive")]
    pub spread: u64,
    pub flash_crowd: Option<FlashCrowd>,
}

/// How abusive clients send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Abuse {
    /// Evenly spaced at `abusive_rate`, from a random phase.
    #[default]
    Constant,
    /// At `abusive_rate` for `on`, then silent for `off`, from a random phase.
    OnOff,
    /// Poisson at `abusive_rate` (meant to be low) from each of many sources.
    LowAndSlow,
}

/// Extra legitimate clients, each Poisson at `rate`, active only in
/// [at, at + duration).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlashCrowd {
    pub at: Duration,
    pub duration: Duration,
    #[serde(deserialize_with = "checked::positive")]
    pub clients: u64,
    pub rate: Rate,
}

fn default_legit_rate() -> Rate {
    Rate(0.5)
}
fn default_alpha() -> f64 {
    1.5
}
fn one() -> u64 {
    1
}

fn default_abusive_rate() -> Rate {
    Rate(20.0)
}
fn default_on() -> Duration {
    Duration(5 * SECOND)
}
fn default_off() -> Duration {
    Duration(15 * SECOND)
}

fn shape<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    if !(v.is_finite() && v > 1.0) {
        return Err(serde::de::Error::custom(format!(
            "legit_alpha must be above 1 (the mean rate is infinite otherwise), found {v}"
        )));
    }
    Ok(v)
}

fn share<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    checked::share(d, |v| {
        format!("premium_share must be between 0 and 1, found {v}")
    })
}

/// How one client's requests arrive.
#[derive(Clone, Copy)]
enum Arrivals {
    Poisson {
        rate: f64,
    },
    Even {
        interval: SimTime,
    },
    OnOff {
        interval: SimTime,
        on: SimTime,
        cycle: SimTime,
        origin: SimTime,
    },
}

#[derive(Clone, Copy)]
struct Client {
    arrivals: Arrivals,
    label: Label,
    tier: u8,
    /// No requests at or after this time.
    end: SimTime,
}

fn gap(rate: f64, rng: &mut crate::engine::RngStream) -> SimTime {
    let exp = Exp::new(rate).expect("rates are positive");
    (exp.sample(rng) * SECOND as f64).round() as SimTime
}

impl Client {
    /// The arrival after one at `t` (or the first, from `t` = start), if any.
    fn next(&self, t: SimTime, first: bool, rng: &mut crate::engine::RngStream) -> Option<SimTime> {
        let next = match self.arrivals {
            Arrivals::Poisson { rate } => t.saturating_add(gap(rate, rng)),
            Arrivals::Even { interval } => t.saturating_add(if first { 0 } else { interval }),
            Arrivals::OnOff {
                interval,
                on,
                cycle,
                origin,
            } => {
                let candidate = if first { t } else { t.saturating_add(interval) };
                let phase = (candidate - origin) % cycle;
                if phase < on {
                    candidate
                } else {
                    candidate.saturating_add(cycle - phase)
                }
            }
        };
        (next < self.end).then_some(next)
    }
}

impl ClientsSpec {
    /// Every client, with its first arrival time.
    fn population(&self, seed: u64) -> Result<Vec<(Client, SimTime)>, ConfigError> {
        if self.legit == 0 && self.abusive == 0 && self.flash_crowd.is_none() {
            return Err(
                "clients: the population is empty; give legit, abusive or a flash_crowd".into(),
            );
        }
        let mut params = stream(seed, "client-params");
        let mean = self.legit_rate.0;
        let scale = mean * (self.legit_alpha - 1.0) / self.legit_alpha;
        let rates = Pareto::new(scale, self.legit_alpha).map_err(|e| format!("clients: {e}"))?;
        let flash = self.flash_crowd.as_ref().map_or(0, |f| f.clients);
        let total = self.legit as u64 + self.abusive as u64 + flash;
        if total > u32::MAX as u64 {
            return Err(format!(
                "clients: {total} in all, more than the {} a run can tell apart",
                u32::MAX
            )
            .into());
        }
        let mut clients = super::with_room(total, "clients")?;
        for _ in 0..self.legit {
            let client = Client {
                arrivals: Arrivals::Poisson {
                    rate: rates.sample(&mut params),
                },
                label: Label::Legit,
                tier: (params.random::<f64>() < self.premium_share) as u8,
                end: SimTime::MAX,
            };
            clients.push((client, 0));
        }
        let start = self.attack_start.map_or(0, |d| d.0);
        let interval = ((1e9 / self.abusive_rate.0).round() as SimTime).max(1);
        for _ in 0..self.abusive {
            let (arrivals, first) = match self.abuse {
                Abuse::Constant => (
                    Arrivals::Even { interval },
                    start + params.random_range(0..interval),
                ),
                Abuse::OnOff => {
                    let (on, off) = (self.on.0.max(1), self.off.0);
                    let cycle = on + off;
                    let origin = start + params.random_range(0..cycle);
                    let arrivals = Arrivals::OnOff {
                        interval,
                        on,
                        cycle,
                        origin,
                    };
                    (arrivals, origin)
                }
                Abuse::LowAndSlow => (
                    Arrivals::Poisson {
                        rate: self.abusive_rate.0,
                    },
                    start,
                ),
            };
            let client = Client {
                arrivals,
                label: Label::Abusive,
                tier: 0,
                end: SimTime::MAX,
            };
            clients.push((client, first));
        }
        if let Some(f) = &self.flash_crowd {
            for _ in 0..f.clients {
                let client = Client {
                    arrivals: Arrivals::Poisson { rate: f.rate.0 },
                    label: Label::Legit,
                    tier: 0,
                    end: f.at.0.saturating_add(f.duration.0),
                };
                clients.push((client, f.at.0));
            }
        }
        Ok(clients)
    }

    /// Generates `count` requests sent before `end`, merging every client's
    /// arrivals in time order (ties by client id); `request` fills in key,
    /// size and TTL.
    pub fn generate(
        &self,
        count: u64,
        end: SimTime,
        seed: u64,
        mut request: impl FnMut(SimTime, u32, Label, u8) -> Request,
    ) -> Result<Vec<Request>, ConfigError> {
        let clients = self.population(seed)?;
        let mut arrivals = stream(seed, "client-arrivals");
        let mut heap = BinaryHeap::new();
        for (id, (client, start)) in clients.iter().enumerate() {
            if let Some(t) = client.next(*start, true, &mut arrivals) {
                heap.push(Reverse((t, id as u32)));
            }
        }
        let mut out = Vec::with_capacity(count.min(1 << 24) as usize);
        while (out.len() as u64) < count {
            let Some(Reverse((t, id))) = heap.pop().filter(|Reverse((t, _))| *t < end) else {
                break;
            };
            let client = &clients[id as usize].0;
            let t = super::within_clock(t, out.len() + 1)?;
            out.push(request(t, id, client.label, client.tier));
            if let Some(next) = client.next(t, false, &mut arrivals) {
                heap.push(Reverse((next, id)));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(toml_text: &str) -> ClientsSpec {
        toml::from_str(toml_text).unwrap()
    }

    fn requests(s: &ClientsSpec, n: u64) -> Vec<Request> {
        s.generate(n, SimTime::MAX, 7, |time, client, label, tier| Request {
            time,
            client,
            label,
            tier,
            ..Request::default()
        })
        .unwrap()
    }

    #[test]
    fn abusers_send_at_their_rate_and_legit_clients_much_less() {
        let s = spec("legit = 1000\nabusive = 5\nabusive_rate = \"50/s\"\n");
        let reqs = requests(&s, 20_000);
        assert!(reqs.windows(2).all(|w| w[0].time <= w[1].time));
        let span = reqs.last().unwrap().time as f64 / 1e9;
        let abusive = reqs.iter().filter(|r| r.label == Label::Abusive).count() as f64;
        // 5 x 50/s against 1000 x 0.5/s mean: a third of the traffic.
        assert!((abusive / span - 250.0).abs() < 5.0, "{}", abusive / span);
        let legit = reqs.len() as f64 - abusive;
        assert!(
            (legit / span / 500.0 - 1.0).abs() < 0.25,
            "{}",
            legit / span
        );
        assert!(
            reqs.iter()
                .all(|r| (r.label == Label::Abusive) == (r.client >= 1000))
        );
    }

    #[test]
    fn on_off_abusers_are_silent_when_off() {
        let s = spec(
            "abusive = 1\nabuse = \"on-off\"\non = \"1s\"\noff = \"3s\"\nabusive_rate = \"100/s\"\n",
        );
        let reqs = requests(&s, 2_000);
        let origin = reqs[0].time;
        assert!(
            reqs.iter()
                .all(|r| (r.time - origin) % (4 * SECOND) < SECOND)
        );
        assert_eq!(requests(&s, 2_000), reqs, "same seed, same requests");
    }

    #[test]
    fn flash_crowd_stays_in_its_window_and_empty_population_is_an_error() {
        let s = spec(
            "flash_crowd = { at = \"10s\", duration = \"5s\", clients = 100, rate = \"1/s\" }\n",
        );
        let reqs = requests(&s, 100_000);
        assert!(reqs.len() < 1000 && !reqs.is_empty());
        assert!(
            reqs.iter()
                .all(|r| r.time >= 10 * SECOND && r.time < 15 * SECOND)
        );
        let err = spec("legit = 0\n")
            .generate(10, SimTime::MAX, 1, |_, _, _, _| Request::default())
            .unwrap_err();
        assert!(err.0.contains("population is empty"), "{err}");
    }
}
