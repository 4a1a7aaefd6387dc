//! `edgesim limiters`: the limiter algorithms with their parameters and
//! defaults, printed from the registry, so the list is the code's.

use std::fmt::Write as _;

use anyhow::Result;

use edgesim::limiter::{ALGORITHMS, Defaults, KeyBy};
use edgesim::spec;

use super::emit;

/// Runs the command.
pub fn run() -> Result<()> {
    emit(&text())
}

fn text() -> String {
    let mut s = String::from(
        "Limiter algorithms, each with the parameters it takes in parentheses\n\
         (e.g. aimd(timeout=200ms)) as name=default (valid values): meaning.\n\n",
    );
    s.push_str(&spec::listing(ALGORITHMS));
    s.push_str("\nCommon parameters ([[limiter]] fields; `edgesim limit` flags):\n");
    let rate = default_of(|d| match d.limit {
        None => "none (rate and window algorithms need one)".into(),
        Some(n) => format!("{n} per window"),
    });
    let common = [
        ("rate", "sustained rate per key, such as 10/s", rate),
        (
            "burst",
            "requests admitted back to back from idle (nginx burst=B is B+1)",
            default_of(|d| d.burst.to_string()),
        ),
        (
            "window",
            "window of the window algorithms",
            default_of(|d| format!("{}s", d.window as f64 / 1e9)),
        ),
        (
            "key",
            "what a limit applies to: client, client+route or global",
            KeyBy::default().to_string(),
        ),
        (
            "premium",
            "multiplier of premium (tier 1) clients' limits",
            default_of(|d| d.premium.to_string()),
        ),
    ];
    for (name, about, default) in common {
        let _ = writeln!(s, "  {name:7}  {about} [default: {default}]");
    }
    s
}

/// The usual default of a common parameter, then any algorithm's own:
/// `1s; 60s for workshop-adaptive`.
fn default_of(value: impl Fn(&Defaults) -> String) -> String {
    let usual = value(&Defaults::STANDARD);
    let mut text = usual.clone();
    for a in ALGORITHMS {
        let own = value(&a.facts.defaults);
        if own != usual {
            let _ = write!(text, "; {own} for {}", a.name);
        }
    }
    text
}
