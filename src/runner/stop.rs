//! Stopping a run early on Ctrl-C (SIGINT) or SIGTERM: the signal only sets
//! a flag, which the runner reads between runs (and between the slices of a
//! cache-only replay), so that the results completed so far can still be
//! written whole. A second signal ends the process at once, for a user who
//! does not want to wait for the runs in flight.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The signal that asked the runs to stop (0: none yet).
static SIGNALLED: AtomicUsize = AtomicUsize::new(0);
/// Set by the first signal: the next one exits at once.
static ARMED: AtomicBool = AtomicBool::new(false);

/// Whether the runner should stop: never (library callers, tests), or when
/// SIGINT or SIGTERM arrives.
#[derive(Debug, Clone, Copy)]
pub struct Stop {
    signals: bool,
}

impl Stop {
    /// Runs to the end whatever happens.
    pub fn never() -> Self {
        Stop { signals: false }
    }

    /// Stops when SIGINT or SIGTERM arrives; a second one exits at once
    /// with 128 + its number, as a shell reports a process killed by it.
    pub fn on_signals() -> anyhow::Result<Self> {
        #[cfg(unix)]
        for signal in [libc::SIGINT, libc::SIGTERM] {
            use signal_hook::flag;
            let hook = || -> std::io::Result<()> {
                // Registered first, so it sees ARMED as the previous signal left it.
                flag::register_conditional_shutdown(signal, 128 + signal, &ARMED)?;
                flag::register_usize(signal, &SIGNALLED, signal as usize)?;
                flag::register(signal, &ARMED)?;
                Ok(())
            };
            hook().map_err(|e| anyhow::anyhow!("cannot handle signal {signal}: {e}"))?;
        }
        Ok(Stop { signals: true })
    }

    /// The signal received, if the runs should stop.
    pub fn signal(&self) -> Option<i32> {
        if !self.signals {
            return None;
        }
        match SIGNALLED.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s as i32),
        }
    }

    pub fn requested(&self) -> bool {
        self.signal().is_some()
    }
}

/// The error of a run stopped by a signal, after its partial results were
/// written: the process exits with 128 + the signal's number.
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    /// What was written and how to finish.
    pub message: String,
}

impl Interrupted {
    /// The exit status a shell gives a process killed by the signal.
    pub fn exit_code(&self) -> u8 {
        (128 + self.signal).clamp(1, 255) as u8
    }
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let name = match self.signal {
            2 => "SIGINT".to_string(),
            15 => "SIGTERM".to_string(),
            s => format!("signal {s}"),
        };
        write!(f, "interrupted by {name}: {}", self.message)
    }
}

impl std::error::Error for Interrupted {}
