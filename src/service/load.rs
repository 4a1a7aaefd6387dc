//! `[[load]]`: how requests are sent. Open loop (an arrival process, or a
//! list of rate phases), closed loop (connections that each wait for their
//! answer, as autocannon and the workshop's load tests do), or the
//! workload's own times (a trace's timestamps, sped up).

use serde::Deserialize;

use crate::engine::{SECOND, SimTime};
use crate::error::ConfigError;
use crate::units::{Duration, Rate};
use crate::workload::arrivals::{Phase, Process};

/// One `[[load]]` choice after sweeps are expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawLoad")]
pub struct LoadSpec {
    /// A label for reports ("stress", "endurance").
    pub name: Option<String>,
    pub load: Load,
}

/// How requests are sent.
#[derive(Debug, Clone)]
pub enum Load {
    /// The workload's own times (a synthetic workload's Poisson `rate` or
    /// client population; a trace's timestamps), divided by `speedup`, cut
    /// at `duration`.
    Own {
        speedup: f64,
        duration: Option<SimTime>,
    },
    /// Sent at the times of an arrival process, phase after phase.
    Open { phases: Vec<Phase> },
    /// Connections send their next request when the previous one is
    /// answered, plus `think`.
    Closed {
        phases: Vec<ConnPhase>,
        think: SimTime,
    },
}

impl Default for Load {
    fn default() -> Self {
        Load::Own {
            speedup: 1.0,
            duration: None,
        }
    }
}

impl Load {
    /// When sending stops, if the load says.
    pub fn end(&self) -> Option<SimTime> {
        match self {
            Load::Own { duration, .. } => *duration,
            Load::Open { phases } => phases.iter().map(|p| p.duration).sum::<Option<SimTime>>(),
            Load::Closed { phases, .. } => phases.last().and_then(|p| p.end),
        }
    }
}

/// A stretch of a closed-loop run with a given number of connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnPhase {
    pub start: SimTime,
    /// None: until the workload runs out of requests.
    pub end: Option<SimTime>,
    pub connections: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Arrival {
    Poisson,
    Constant,
    OnOff,
    Diurnal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    name: Option<String>,
    arrival: Option<Arrival>,
    rate: Option<Rate>,
    on: Option<Duration>,
    off: Option<Duration>,
    off_rate: Option<Rate>,
    period: Option<Duration>,
    amplitude: Option<f64>,
    #[serde(default, deserialize_with = "crate::units::checked::some_whole")]
    connections: Option<u64>,
    think: Option<Duration>,
    duration: Option<Duration>,
    phases: Option<Vec<RawPhase>>,
    speedup: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    duration: Duration,
    rate: Option<Rate>,
    #[serde(default, deserialize_with = "crate::units::checked::some_whole")]
    connections: Option<u64>,
}

impl TryFrom<RawLoad> for LoadSpec {
    type Error = ConfigError;

    fn try_from(raw: RawLoad) -> Result<LoadSpec, ConfigError> {
        let load = resolve(&raw)?;
        Ok(LoadSpec {
            name: raw.name,
            load,
        })
    }
}

fn resolve(raw: &RawLoad) -> Result<Load, ConfigError> {
    if raw.connections == Some(0) {
        return Err("connections must be at least 1, found 0".into());
    }
    if raw.duration.is_some_and(|d| d.0 == 0) {
        return Err("duration must be longer than zero".into());
    }
    let phases = match &raw.phases {
        Some(p) if p.is_empty() => {
            return Err("phases: the list is empty; give at least one { duration, rate } or { duration, connections }".into());
        }
        Some(p) => {
            if raw.rate.is_some() || raw.connections.is_some() || raw.duration.is_some() {
                return Err("with `phases`, rate, connections and duration go in each phase, not beside the list".into());
            }
            Some(p)
        }
        None => None,
    };
    let closed = raw.connections.is_some()
        || phases.is_some_and(|p| p.iter().any(|p| p.connections.is_some()));
    if closed {
        return closed_load(raw, phases);
    }
    if raw.think.is_some() {
        return Err(
            "`think` is the pause of a closed-loop connection: give `connections` too".into(),
        );
    }
    if let Some(speedup) = raw.speedup {
        if !(speedup.is_finite() && speedup > 0.0) {
            return Err(format!("speedup must be a number > 0, found {speedup}").into());
        }
        if raw.rate.is_some() || phases.is_some() || raw.arrival.is_some() {
            return Err("`speedup` replays the workload's own times; it cannot be combined with rate, arrival or phases".into());
        }
    }
    let Some(phases) = phases else {
        let Some(rate) = raw.rate else {
            if raw.arrival.is_some() {
                return Err("an arrival process needs a `rate`".into());
            }
            return Ok(Load::Own {
                speedup: raw.speedup.unwrap_or(1.0),
                duration: raw.duration.map(|d| d.0),
            });
        };
        return Ok(Load::Open {
            phases: vec![Phase {
                duration: raw.duration.map(|d| d.0),
                process: process(raw, rate.0)?,
            }],
        });
    };
    let phases = phases
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let rate = p.rate.ok_or_else(|| {
                format!("phases[{i}]: give a `rate` (open loop) or `connections` (closed loop)")
            })?;
            if p.duration.0 == 0 {
                return Err(format!("phases[{i}]: duration must be longer than zero"));
            }
            Ok(Phase {
                duration: Some(p.duration.0),
                process: process(raw, rate.0)?,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Load::Open { phases })
}

fn closed_load(raw: &RawLoad, phases: Option<&Vec<RawPhase>>) -> Result<Load, ConfigError> {
    if raw.rate.is_some() || raw.arrival.is_some() || raw.speedup.is_some() {
        return Err("a closed loop (connections) sends as fast as answers come back: drop rate, arrival and speedup, or drop connections".into());
    }
    let think = raw.think.map_or(0, |t| t.0);
    let phases = match phases {
        None => vec![ConnPhase {
            start: 0,
            end: raw.duration.map(|d| d.0),
            connections: raw.connections.expect("closed implies connections"),
        }],
        Some(list) => {
            let mut start = 0;
            list.iter()
                .enumerate()
                .map(|(i, p)| {
                    let connections = match (p.connections, p.rate) {
                        (Some(0), _) => {
                            return Err(format!("phases[{i}]: connections must be at least 1, found 0"));
                        }
                        (Some(c), None) => c,
                        _ => {
                            return Err(format!("phases[{i}]: every phase of a closed loop gives `connections` (and no rate)"));
                        }
                    };
                    if p.duration.0 == 0 {
                        return Err(format!("phases[{i}]: duration must be longer than zero"));
                    }
                    let phase = ConnPhase {
                        start,
                        end: Some(start + p.duration.0),
                        connections,
                    };
                    start += p.duration.0;
                    Ok(phase)
                })
                .collect::<Result<_, String>>()?
        }
    };
    Ok(Load::Closed { phases, think })
}

/// The arrival process `raw.arrival` at `rate` per second.
fn process(raw: &RawLoad, rate: f64) -> Result<Process, ConfigError> {
    let on_off = matches!(raw.arrival, Some(Arrival::OnOff));
    let diurnal = matches!(raw.arrival, Some(Arrival::Diurnal));
    if !on_off && (raw.on.is_some() || raw.off.is_some() || raw.off_rate.is_some()) {
        return Err("on, off and off_rate belong to arrival = \"on-off\"".into());
    }
    if !diurnal && (raw.period.is_some() || raw.amplitude.is_some()) {
        return Err("period and amplitude belong to arrival = \"diurnal\"".into());
    }
    let need = |v: Option<Duration>, what: &str| match v {
        Some(d) if d.0 > 0 => Ok(d.0),
        Some(_) => Err(format!("{what} must be longer than zero")),
        None => Err(format!("this arrival process needs `{what}`")),
    };
    Ok(match raw.arrival.as_ref().unwrap_or(&Arrival::Poisson) {
        Arrival::Poisson => Process::Poisson { rate },
        Arrival::Constant => Process::Constant { rate },
        Arrival::OnOff => Process::OnOff {
            on_rate: rate,
            off_rate: raw.off_rate.map_or(0.0, |r| r.0),
            on: need(raw.on, "on")?,
            off: need(raw.off, "off")?,
        },
        Arrival::Diurnal => {
            let amplitude = raw.amplitude.unwrap_or(0.5);
            if !(0.0..=1.0).contains(&amplitude) {
                return Err(format!("amplitude must be between 0 and 1, found {amplitude}").into());
            }
            Process::Diurnal {
                rate,
                amplitude,
                period: raw
                    .period
                    .map_or(Ok(24 * 3600 * SECOND), |p| need(Some(p), "period"))?,
            }
        }
    })
}
