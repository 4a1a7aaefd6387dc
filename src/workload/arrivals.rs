//! Open-loop arrival processes: when clients send, as a stream of send times
//! over a list of phases (Poisson, constant, bursty on/off, diurnal).
//!
//! Plain types without serde: the experiment schema validates its TOML and
//! converts it into these. Every draw comes from the one stream passed in, so
//! the send times are a pure function of the phases and the seed.
//!
//! Within a phase, time runs as an `f64` offset in nanoseconds from the phase
//! start (exact to well under a nanosecond for months) and is rounded only on
//! output, so rounding never accumulates. A phase owns the half-open interval
//! (start, start + duration]: a constant process of rate r over d seconds
//! sends exactly r x d times.

use std::iter::FusedIterator;

use rand::RngExt;
use rand_distr::Exp1;

use crate::engine::{RngStream, SECOND, SimTime};

/// When an open-loop client sends: rates are requests per second.
#[derive(Debug, Clone, PartialEq)]
pub enum Process {
    Poisson {
        rate: f64,
    },
    /// Evenly spaced, 1/rate apart, the first at 1/rate after the phase start.
    Constant {
        rate: f64,
    },
    /// A two-state Markov-modulated Poisson process: `on_rate` during "on"
    /// periods and `off_rate` (may be 0) during "off" ones, whose lengths are
    /// exponential with means `on` and `off`; starts "on".
    OnOff {
        on_rate: f64,
        off_rate: f64,
        on: SimTime,
        off: SimTime,
    },
    /// Poisson with rate(t) = rate x (1 + amplitude x sin(2 pi t / period)),
    /// 0 <= amplitude <= 1, t from the start of the phase (thinning).
    Diurnal {
        rate: f64,
        amplitude: f64,
        period: SimTime,
    },
}

impl Process {
    /// The long-run mean rate in requests per second, for docs and reports.
    pub fn mean_rate(&self) -> f64 {
        match *self {
            Process::Poisson { rate } | Process::Constant { rate } => rate,
            // The sine averages to zero over a period.
            Process::Diurnal { rate, .. } => rate,
            Process::OnOff {
                on_rate,
                off_rate,
                on,
                off,
            } => (on_rate * on as f64 + off_rate * off as f64) / (on as f64 + off as f64),
        }
    }

    /// Sanity of the values; the schema reports bad ones to the user.
    fn is_sane(&self) -> bool {
        let rate_ok = |r: f64| r.is_finite() && r >= 0.0;
        match *self {
            Process::Poisson { rate } | Process::Constant { rate } => rate_ok(rate),
            Process::OnOff {
                on_rate,
                off_rate,
                on,
                off,
            } => rate_ok(on_rate) && rate_ok(off_rate) && on > 0 && off > 0,
            Process::Diurnal {
                rate,
                amplitude,
                period,
            } => rate_ok(rate) && (0.0..=1.0).contains(&amplitude) && period > 0,
        }
    }
}

/// A stretch of time with one process; `duration` None = until the end.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub duration: Option<SimTime>,
    pub process: Process,
}

/// The running state of the current phase; gaps, lengths and offsets in
/// nanoseconds.
#[derive(Debug, Clone)]
enum State {
    /// Sends nothing until the phase ends.
    Silent,
    /// `gap` is the mean gap.
    Poisson { gap: f64 },
    /// The n-th send is at n x SECOND / rate, computed afresh each time.
    Constant { rate: f64, n: u64 },
    /// Index 1 is "on", 0 "off"; a zero rate has an infinite mean gap.
    OnOff {
        gap: [f64; 2],
        mean: [f64; 2],
        now: usize,
        switch: f64,
    },
    /// Candidates at the peak rate, kept with probability rate(t) / peak.
    Diurnal {
        gap: f64,
        amplitude: f64,
        omega: f64,
    },
}

/// The send times of a list of phases, in order, as an iterator of SimTime
/// (non-decreasing); ends when the last phase with a duration ends.
#[derive(Debug, Clone)]
pub struct Arrivals {
    rest: std::vec::IntoIter<Phase>,
    rng: RngStream,
    state: State,
    /// Start of the current phase.
    start: SimTime,
    /// Its duration; None for the last, endless one.
    duration: Option<SimTime>,
    /// The same in nanoseconds, infinite when endless.
    limit: f64,
    /// Offset from `start` of the last draw.
    offset: f64,
    done: bool,
}

const NS: f64 = SECOND as f64;

impl Arrivals {
    pub fn new(phases: Vec<Phase>, rng: RngStream) -> Self {
        debug_assert!(phases.iter().all(|p| p.process.is_sane()), "{phases:?}");
        debug_assert!(
            phases.iter().all(|p| p.duration != Some(0)),
            "zero-length phase"
        );
        debug_assert!(
            phases.iter().rev().skip(1).all(|p| p.duration.is_some()),
            "only the last phase may be endless"
        );
        let mut arrivals = Arrivals {
            rest: phases.into_iter(),
            rng,
            state: State::Silent,
            start: 0,
            duration: Some(0),
            limit: 0.0,
            offset: 0.0,
            done: false,
        };
        arrivals.next_phase();
        arrivals
    }

    /// Moves to the phase after the current one; false when there is none.
    fn next_phase(&mut self) -> bool {
        let (Some(duration), Some(phase)) = (self.duration, self.rest.next()) else {
            self.done = true;
            return false;
        };
        self.start = self.start.saturating_add(duration);
        self.duration = phase.duration;
        self.limit = phase.duration.map_or(f64::INFINITY, |d| d as f64);
        self.offset = 0.0;
        self.state = self.initial_state(&phase.process);
        true
    }

    fn initial_state(&mut self, process: &Process) -> State {
        if process.mean_rate() <= 0.0 {
            return State::Silent;
        }
        match *process {
            Process::Poisson { rate }
            | Process::Diurnal {
                rate,
                amplitude: 0.0,
                ..
            } => State::Poisson { gap: NS / rate },
            Process::Constant { rate } => State::Constant { rate, n: 0 },
            Process::OnOff {
                on_rate,
                off_rate,
                on,
                off,
            } => {
                let gap = |r: f64| if r > 0.0 { NS / r } else { f64::INFINITY };
                let mean = [off as f64, on as f64];
                State::OnOff {
                    gap: [gap(off_rate), gap(on_rate)],
                    mean,
                    now: 1,
                    switch: self.rng.sample::<f64, _>(Exp1) * mean[1],
                }
            }
            Process::Diurnal {
                rate,
                amplitude,
                period,
            } => State::Diurnal {
                gap: NS / (rate * (1.0 + amplitude)),
                amplitude,
                omega: std::f64::consts::TAU / period as f64,
            },
        }
    }

    /// The offset of the next send in the current phase, beyond `limit` if
    /// the phase ends first; None if it never sends again.
    #[inline]
    fn draw(&mut self) -> Option<f64> {
        match &mut self.state {
            State::Silent => return None,
            State::Poisson { gap } => {
                let gap = *gap;
                self.offset += self.rng.sample::<f64, _>(Exp1) * gap;
            }
            State::Constant { rate, n } => {
                // One correctly rounded division: n / rate seconds lands
                // exactly on the phase end when it should.
                *n += 1;
                self.offset = *n as f64 * NS / *rate;
            }
            State::OnOff {
                gap,
                mean,
                now,
                switch,
            } => loop {
                // Memoryless: a draw past the switch is dropped and the
                // next state starts afresh at the switch.
                if gap[*now].is_finite() {
                    let next = self.offset + self.rng.sample::<f64, _>(Exp1) * gap[*now];
                    if next < *switch {
                        self.offset = next;
                        break;
                    }
                }
                if *switch > self.limit {
                    self.offset = *switch;
                    break;
                }
                self.offset = *switch;
                *now ^= 1;
                *switch = self.offset + self.rng.sample::<f64, _>(Exp1) * mean[*now];
            },
            State::Diurnal {
                gap,
                amplitude,
                omega,
            } => loop {
                self.offset += self.rng.sample::<f64, _>(Exp1) * *gap;
                if self.offset > self.limit {
                    break;
                }
                // Below 1 - amplitude, accept without computing the sine.
                let u = self.rng.random::<f64>() * (1.0 + *amplitude);
                if u < 1.0 - *amplitude || u < 1.0 + *amplitude * (*omega * self.offset).sin() {
                    break;
                }
            },
        }
        Some(self.offset)
    }
}

impl Iterator for Arrivals {
    type Item = SimTime;

    #[inline]
    fn next(&mut self) -> Option<SimTime> {
        while !self.done {
            match self.draw() {
                // Round half up; offset <= limit keeps the time in the phase.
                Some(t) if t <= self.limit => return Some(self.start + (t + 0.5) as SimTime),
                _ => {
                    self.next_phase();
                }
            }
        }
        None
    }
}

impl FusedIterator for Arrivals {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    const MS: SimTime = SECOND / 1000;

    fn endless(process: Process) -> Arrivals {
        Arrivals::new(
            vec![Phase {
                duration: None,
                process,
            }],
            stream(1, "arrivals"),
        )
    }

    fn timed(seconds: u64, process: Process) -> Vec<SimTime> {
        Arrivals::new(
            vec![Phase {
                duration: Some(seconds * SECOND),
                process,
            }],
            stream(2, "arrivals"),
        )
        .collect()
    }

    fn gaps(times: &[SimTime]) -> Vec<f64> {
        times.windows(2).map(|w| (w[1] - w[0]) as f64).collect()
    }

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    /// Sends per window of `window` ns over [0, end).
    fn counts(times: &[SimTime], window: SimTime, end: SimTime) -> Vec<f64> {
        let mut c = vec![0.0; (end / window) as usize];
        for &t in times.iter().filter(|&&t| t < end) {
            c[(t / window) as usize] += 1.0;
        }
        c
    }

    fn dispersion(times: &[SimTime], window: SimTime, end: SimTime) -> f64 {
        let (mean, var) = mean_var(&counts(times, window, end));
        var / mean
    }

    fn close(got: f64, want: f64, tol: f64) -> bool {
        ((got - want) / want).abs() <= tol
    }

    #[test]
    fn poisson_has_its_rate_and_exponential_gaps() {
        let times: Vec<_> = endless(Process::Poisson { rate: 1000.0 })
            .take(200_000)
            .collect();
        let rate = times.len() as f64 / (*times.last().unwrap() as f64 / NS);
        assert!(close(rate, 1000.0, 0.01), "rate {rate}");
        let (mean, var) = mean_var(&gaps(&times));
        let cv = var.sqrt() / mean;
        assert!(close(cv, 1.0, 0.02), "coefficient of variation {cv}");
    }

    #[test]
    fn constant_is_exactly_spaced() {
        let times: Vec<_> = endless(Process::Constant { rate: 1000.0 })
            .take(10_000)
            .collect();
        assert!(
            times
                .iter()
                .enumerate()
                .all(|(i, &t)| t == (i as u64 + 1) * MS)
        );
        // 1/3 s does not divide into nanoseconds: each time is rounded alone.
        let thirds = timed(2, Process::Constant { rate: 3.0 });
        let want: Vec<SimTime> = [1, 2, 3, 4, 5, 6]
            .iter()
            .map(|&n| (n * SECOND + 1) / 3)
            .collect();
        assert_eq!(thirds, want);
    }

    #[test]
    fn on_off_has_the_mean_rate_of_its_states() {
        let process = Process::OnOff {
            on_rate: 50.0,
            off_rate: 10.0,
            on: 100 * MS,
            off: 200 * MS,
        };
        let want = process.mean_rate();
        assert!(close(want, 70.0 / 3.0, 1e-12));
        let times: Vec<_> = endless(process).take(500_000).collect();
        let rate = times.len() as f64 / (*times.last().unwrap() as f64 / NS);
        assert!(close(rate, want, 0.02), "rate {rate}, want {want}");
    }

    #[test]
    fn on_off_starts_on() {
        // Started "off", the first send would wait about a second.
        for seed in 0..20 {
            let process = Process::OnOff {
                on_rate: 100_000.0,
                off_rate: 0.0,
                on: SECOND,
                off: SECOND,
            };
            let phase = Phase {
                duration: None,
                process,
            };
            let first = Arrivals::new(vec![phase], stream(seed, "arrivals")).next();
            assert!(first.unwrap() < MS, "seed {seed}: {first:?}");
        }
    }

    #[test]
    fn on_off_goes_silent_for_off_periods_of_the_mean_length() {
        // At 4000/s a gap over 4 ms within an "on" period has probability
        // e^-16: long gaps are "off" periods. Past the threshold an
        // exponential length has the same mean (memoryless), plus the two
        // partial gaps around it, about 1/4000 s each.
        let (on_rate, off) = (4000.0, 200 * MS);
        let times = timed(
            5000,
            Process::OnOff {
                on_rate,
                off_rate: 0.0,
                on: 50 * MS,
                off,
            },
        );
        let threshold = (4 * MS) as f64;
        let long: Vec<f64> = gaps(&times)
            .into_iter()
            .filter(|&g| g > threshold)
            .map(|g| g - threshold)
            .collect();
        assert!(long.len() > 15_000, "{} off periods", long.len());
        let (mean, _) = mean_var(&long);
        let want = off as f64 + 2.0 * NS / on_rate;
        assert!(close(mean, want, 0.03), "mean off gap {mean}, want {want}");
    }

    #[test]
    fn on_off_is_bursty_and_poisson_is_not() {
        let end = 2000 * SECOND;
        let poisson = timed(2000, Process::Poisson { rate: 100.0 });
        let d = dispersion(&poisson, SECOND, end);
        assert!((0.9..1.1).contains(&d), "Poisson dispersion {d}");
        let bursty = timed(
            2000,
            Process::OnOff {
                on_rate: 200.0,
                off_rate: 0.0,
                on: SECOND,
                off: SECOND,
            },
        );
        let d = dispersion(&bursty, SECOND, end);
        assert!(d > 5.0, "on/off dispersion {d}");
    }

    #[test]
    fn diurnal_follows_the_integral_of_its_rate() {
        let (rate, amplitude, period) = (1000.0, 0.8, 10 * SECOND);
        let periods = 20;
        let times = timed(
            10 * periods,
            Process::Diurnal {
                rate,
                amplitude,
                period,
            },
        );
        let mut quarters = [0.0; 4];
        for &t in &times {
            quarters[((t % period) * 4 / period).min(3) as usize] += 1.0;
        }
        // The integral of rate(t) over quarter q of a period is
        // rate x P x (1/4 +- amplitude / 2 pi): + for the first two.
        let p = period as f64 / NS;
        for (q, &got) in quarters.iter().enumerate() {
            let sign = if q < 2 { 1.0 } else { -1.0 };
            let want =
                periods as f64 * rate * p * (0.25 + sign * amplitude / std::f64::consts::TAU);
            assert!(close(got, want, 0.03), "quarter {q}: {got}, want {want}");
        }
    }

    fn phases() -> Vec<Phase> {
        let phase = |s: u64, process| Phase {
            duration: Some(s * SECOND),
            process,
        };
        vec![
            phase(20, Process::Poisson { rate: 1000.0 }),
            phase(5, Process::Constant { rate: 500.0 }),
            phase(3, Process::Poisson { rate: 0.0 }),
            phase(
                1000,
                Process::OnOff {
                    on_rate: 400.0,
                    off_rate: 100.0,
                    on: 200 * MS,
                    off: 200 * MS,
                },
            ),
            phase(
                20,
                Process::Diurnal {
                    rate: 2000.0,
                    amplitude: 1.0,
                    period: 4 * SECOND,
                },
            ),
        ]
    }

    #[test]
    fn phases_follow_each_other() {
        let phases = phases();
        let times: Vec<_> = Arrivals::new(phases.clone(), stream(3, "arrivals")).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        let mut start = 0;
        for (k, phase) in phases.iter().enumerate() {
            let end = start + phase.duration.unwrap();
            let got = times.iter().filter(|&&t| t > start && t <= end).count() as f64;
            let want = phase.process.mean_rate() * (end - start) as f64 / NS;
            match k {
                1 => assert_eq!(got, want),
                2 => assert_eq!(got, 0.0),
                _ => assert!(close(got, want, 0.05), "phase {k}: {got}, want {want}"),
            }
            start = end;
        }
        assert_eq!(times.iter().filter(|&&t| t == 0 || t > start).count(), 0);
    }

    #[test]
    fn a_phase_ends_on_time_even_when_quiet_near_its_end() {
        let phase = |duration, rate| Phase {
            duration,
            process: Process::Constant { rate },
        };
        let times: Vec<_> = Arrivals::new(
            vec![
                phase(Some(2500 * MS), 1.0),
                phase(Some(SECOND), 0.0),
                phase(None, 2.0),
            ],
            stream(4, "arrivals"),
        )
        .take(4)
        .collect();
        assert_eq!(times, [1000 * MS, 2000 * MS, 4000 * MS, 4500 * MS]);
    }

    #[test]
    fn iterator_ends_after_the_last_timed_phase_or_a_silent_endless_one() {
        let mut a = Arrivals::new(
            vec![Phase {
                duration: Some(SECOND),
                process: Process::Poisson { rate: 100.0 },
            }],
            stream(5, "arrivals"),
        );
        assert!(a.by_ref().all(|t| t <= SECOND));
        assert_eq!(a.next(), None);
        let mut silent = endless(Process::OnOff {
            on_rate: 0.0,
            off_rate: 0.0,
            on: SECOND,
            off: SECOND,
        });
        assert_eq!(silent.next(), None);
        assert_eq!(Arrivals::new(vec![], stream(5, "arrivals")).next(), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_times() {
        let run = |seed| -> Vec<SimTime> { Arrivals::new(phases(), stream(seed, "a")).collect() };
        let first = run(7);
        assert_eq!(first, run(7));
        assert_ne!(first, run(8));
    }
}
