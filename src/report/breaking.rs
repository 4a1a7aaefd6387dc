//! Breaking points: for each configuration and each stress ladder (a
//! `[[load]]` table of several levels), the last level that holds and the
//! first that breaks, walking the levels in file order. A level breaks when
//! its mean error ratio over replications is above
//! `breaking_point.error_ratio` (strictly, like the workshop's
//! `errors > total * 0.1`), or its mean p95 is above `breaking_point.p95`
//! when that is given.

use serde_json::{Map, Value, json};

use super::levels::{self, ConfigKey, Ladder, Level};
use crate::experiment::{BreakingPoint, Experiment};

/// How one level fared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Position in the ladder.
    pub step: usize,
    pub error_ratio: f64,
    pub p95_ms: f64,
    /// Which limits it crossed (both false: it holds).
    pub by_errors: bool,
    pub by_p95: bool,
}

impl Verdict {
    pub fn broke(&self) -> bool {
        self.by_errors || self.by_p95
    }
}

/// The breaking point of one configuration on one ladder.
#[derive(Debug, Clone)]
pub struct Breaking {
    pub config: ConfigKey,
    /// Index into [`levels::ladders`].
    pub ladder: usize,
    /// The last level before the first that breaks (None: the first broke).
    pub holds: Option<Verdict>,
    /// The first level that breaks (None: none did).
    pub breaks: Option<Verdict>,
}

/// Judges one level by its means.
pub fn judge(rule: &BreakingPoint, step: usize, error_ratio: f64, p95_ms: f64) -> Verdict {
    Verdict {
        step,
        error_ratio,
        p95_ms,
        by_errors: error_ratio > rule.error_ratio,
        by_p95: rule.p95.is_some_and(|limit| p95_ms > limit.0 as f64 / 1e6),
    }
}

/// Every configuration's breaking point on every ladder, configurations in
/// run order, then ladders in file order.
pub fn find(exp: &Experiment, levels: &[Level], ladders: &[Ladder]) -> Vec<Breaking> {
    let rule = &exp.report.breaking_point;
    let mut out = Vec::new();
    for config in levels::configs(levels) {
        for (index, ladder) in ladders.iter().enumerate() {
            let verdicts = ladder.loads.iter().enumerate().filter_map(|(step, &load)| {
                let level = levels::find(levels, config, load)?;
                Some(judge(rule, step, level.error_ratio.mean, level.p95.mean))
            });
            let mut holds = None;
            let mut breaks = None;
            for v in verdicts {
                if v.broke() {
                    breaks = Some(v);
                    break;
                }
                holds = Some(v);
            }
            out.push(Breaking {
                config,
                ladder: index,
                holds,
                breaks,
            });
        }
    }
    out
}

/// The `breaking_points` array of results.json.
pub fn json(exp: &Experiment, levels: &[Level]) -> Value {
    let ladders = levels::ladders(exp);
    let found = find(exp, levels, &ladders);
    let points: Vec<Value> = found
        .iter()
        .map(|b| {
            let ladder = &ladders[b.ladder];
            let label = |v: &Option<Verdict>| {
                v.map_or(Value::Null, |v| {
                    Value::from(exp.loads[ladder.loads[v.step]].label())
                })
            };
            let workload: Map<String, Value> = exp.workloads[b.config.workload]
                .dims
                .iter()
                .map(|(d, v)| (d.clone(), Value::from(v.as_str())))
                .collect();
            json!({
                "workload": workload,
                "load": ladder.name,
                "cache": levels::cache_label(exp, b.config.cache),
                "limiter": levels::limiter_label(exp, b.config.limiter),
                "holds": label(&b.holds),
                "holds_error_ratio": b.holds.map(|v| v.error_ratio),
                "holds_p95_ms": b.holds.map(|v| v.p95_ms),
                "breaks": label(&b.breaks),
                "breaks_error_ratio": b.breaks.map(|v| v.error_ratio),
                "breaks_p95_ms": b.breaks.map(|v| v.p95_ms),
            })
        })
        .collect();
    Value::Array(points)
}

/// What crossed the line at a breaking level: "23.4% errors", "p95 812.0 ms
/// over 500 ms", or both.
fn why(exp: &Experiment, v: &Verdict) -> String {
    let mut parts = Vec::new();
    if v.by_errors {
        parts.push(format!("{:.1}% errors", v.error_ratio * 100.0));
    }
    if let (true, Some(limit)) = (v.by_p95, exp.report.breaking_point.p95) {
        parts.push(format!(
            "p95 {:.1} ms over {} ms",
            v.p95_ms,
            levels::number(limit.0 as f64 / 1e6)
        ));
    }
    parts.join(", ")
}

/// The breaking point in words: "holds up to 200 connections, breaks at
/// 500: 23.4% errors".
pub fn sentence(exp: &Experiment, ladder: &Ladder, b: &Breaking) -> String {
    match (&b.holds, &b.breaks) {
        (Some(h), Some(k)) => format!(
            "holds up to {}, breaks at {}: {}",
            ladder.level_text(exp, h.step),
            ladder.level_value(exp, k.step),
            why(exp, k)
        ),
        (None, Some(k)) => format!(
            "breaks already at the first level, {}: {}",
            ladder.level_text(exp, k.step),
            why(exp, k)
        ),
        (Some(h), None) => format!(
            "holds at every level, up to {} ({:.1}% errors, p95 {:.1} ms)",
            ladder.level_text(exp, h.step),
            h.error_ratio * 100.0,
            h.p95_ms
        ),
        (None, None) => "no level ran".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::engine::SECOND;
    use crate::metrics::service::{Fate, LoopStats, ServiceStats, Status};
    use crate::runner::RunResult;

    /// Stats of 1000 requests of which `errors` were 503s, each taking
    /// `latency_ms`.
    fn stats(errors: u64, latency_ms: u64) -> ServiceStats {
        let fates: Vec<Fate> = (0..1000u64)
            .map(|i| Fate {
                sent: i * 1_000_000,
                done: i * 1_000_000 + latency_ms * 1_000_000,
                status: if i < errors { Status::Full } else { Status::Ok },
                ..Fate::default()
            })
            .collect();
        ServiceStats::of(&fates, &[], &[], &LoopStats::default(), SECOND)
    }

    /// Runs an experiment whose ladder has four levels, with made-up stats
    /// per (load level, replication).
    fn made_up(
        source: &str,
        stats_of: impl Fn(usize, u64) -> ServiceStats,
    ) -> (Experiment, Vec<RunResult>) {
        let exp = Experiment::parse(Path::new("t.toml"), source.into()).unwrap();
        let results = exp
            .runs()
            .into_iter()
            .map(|run| RunResult {
                seed: 0,
                capacity: 0,
                count_objects: false,
                working_set: Default::default(),
                stats: Default::default(),
                evictions: 0,
                batches: Vec::new(),
                span: 0,
                limits: None,
                service: Some(stats_of(run.load, run.replication)),
                observed: None,
                topology: None,
                run,
            })
            .collect();
        (exp, results)
    }

    const LADDER: &str = r#"
        [experiment]
        replications = REPS
        [workload]
        keys = 10
        [[load]]
        name = "ladder"
        connections = [1, 2, 3, 4]
        duration = "1s"
        [service]
        servers = 1
        service_time = { dist = "fixed", time = "1ms" }
    "#;

    fn find_one(exp: &Experiment, results: &[RunResult]) -> (Option<String>, Option<String>) {
        let levels = levels::levels(results);
        let ladders = levels::ladders(exp);
        let found = find(exp, &levels, &ladders);
        assert_eq!(found.len(), 1);
        let name = |v: Option<Verdict>| v.map(|v| exp.loads[ladders[0].loads[v.step]].label());
        (name(found[0].holds), name(found[0].breaks))
    }

    #[test]
    fn exactly_the_limit_holds_and_just_above_breaks() {
        // 0%, exactly 10%, 10.1%, then 0% again: the walk stops at the first break.
        let errors = [0, 100, 101, 0];
        let (exp, results) = made_up(&LADDER.replace("REPS", "1"), |load, _| {
            stats(errors[load], 5)
        });
        let (holds, breaks) = find_one(&exp, &results);
        assert_eq!(holds.as_deref(), Some("ladder connections=2"));
        assert_eq!(breaks.as_deref(), Some("ladder connections=3"));
        let levels = levels::levels(&results);
        let ladders = levels::ladders(&exp);
        let found = find(&exp, &levels, &ladders);
        assert_eq!(
            sentence(&exp, &ladders[0], &found[0]),
            "holds up to 2 connections, breaks at 3: 10.1% errors"
        );
        let doc = json(&exp, &levels);
        assert_eq!(doc[0]["holds"], "ladder connections=2");
        assert_eq!(doc[0]["breaks_error_ratio"], 0.101);
        assert_eq!(doc[0]["cache"], "none");
        assert_eq!(doc[0]["limiter"], "none");
    }

    #[test]
    fn the_mean_over_replications_decides() {
        // Level 2: 8% and 12.5% average 10.25%, above the limit.
        let errors = [[0, 0], [80, 125], [200, 200], [300, 300]];
        let (exp, results) = made_up(&LADDER.replace("REPS", "2"), |load, rep| {
            stats(errors[load][rep as usize], 5)
        });
        let (holds, breaks) = find_one(&exp, &results);
        assert_eq!(holds.as_deref(), Some("ladder connections=1"));
        assert_eq!(breaks.as_deref(), Some("ladder connections=2"));
    }

    #[test]
    fn p95_breaks_when_given_and_nothing_breaks_otherwise() {
        // HDR rounds 50ms up a little: keep clear of the limit.
        let latency = [10, 40, 60, 70];
        let (exp, results) = made_up(&LADDER.replace("REPS", "1"), |load, _| {
            stats(0, latency[load])
        });
        assert_eq!(
            find_one(&exp, &results),
            (Some("ladder connections=4".into()), None)
        );
        let with_p95 = format!(
            "{}\n[report]\nbreaking_point = {{ p95 = \"50ms\" }}\n",
            LADDER
        )
        .replace("REPS", "1");
        let (exp, results) = made_up(&with_p95, |load, _| stats(0, latency[load]));
        let (holds, breaks) = find_one(&exp, &results);
        assert_eq!(holds.as_deref(), Some("ladder connections=2"));
        assert_eq!(breaks.as_deref(), Some("ladder connections=3"));
        // The first level breaking leaves nothing that holds.
        let (exp, results) = made_up(&LADDER.replace("REPS", "1"), |_, _| stats(500, 5));
        assert_eq!(
            find_one(&exp, &results),
            (None, Some("ladder connections=1".into()))
        );
    }
}
