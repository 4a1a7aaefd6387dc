//! The decision, apart from its rendering: every configuration against its
//! baseline with the workshop's grades, and one [`Recommendation`] per
//! environment (load level, traffic), computed from the results alone so
//! Markdown and JSON only print it.

mod candidate;
pub mod json;

pub use candidate::{Candidate, Measure, candidates, describe, shown, varying};

use super::summary::Mean;
use crate::experiment::{Bands, Baseline, Experiment, Metric, Target};

/// A workshop grade ("Workshop Assessment").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    Poor,
    Fair,
    Good,
    Excellent,
}

impl Band {
    /// `improvement` in percent against `bands`: above the excellent edge
    /// is excellent, from the good edge up good, from the fair edge up
    /// fair (the workshop's ">50%", "30-50%", "10-30%", "<10%").
    pub fn of(improvement: f64, bands: &Bands) -> Band {
        // To a millionth of a percent, so 0.5 -> 0.6 is 20%, not 19.99...
        let improvement = (improvement * 1e6).round() / 1e6;
        if improvement > bands.excellent {
            Band::Excellent
        } else if improvement >= bands.good {
            Band::Good
        } else if improvement >= bands.fair {
            Band::Fair
        } else {
            Band::Poor
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Band::Poor => "poor",
            Band::Fair => "fair",
            Band::Good => "good",
            Band::Excellent => "excellent",
        }
    }
}

/// One graded improvement over the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grade {
    pub metric: Metric,
    /// In percent: reduction for p95 and errors, increase for throughput
    /// and hit ratio; infinite when the baseline had none (a hit ratio
    /// from zero).
    pub improvement: f64,
    pub band: Band,
}

/// The workshop's four graded improvements, with their bands.
fn graded(exp: &Experiment) -> [(Metric, Bands); 4] {
    let g = &exp.report.grades;
    [
        (Metric::P95, g.p95),
        (Metric::Throughput, g.throughput),
        (Metric::ErrorRatio, g.error_ratio),
        (Metric::HitRatio, g.hit_ratio),
    ]
}

/// Improvement of `value` over `base` in percent, in the metric's good
/// direction; None when there is nothing to improve on (no errors to
/// reduce, no latency, a hit ratio of zero staying zero).
pub fn improvement(metric: Metric, base: f64, value: f64) -> Option<f64> {
    let change = if metric.higher_is_better() {
        value - base
    } else {
        base - value
    };
    if base == 0.0 {
        return (change > 0.0 && metric.higher_is_better()).then_some(f64::INFINITY);
    }
    Some(change / base * 100.0)
}

/// A configuration against its baseline, metric by metric.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Index of the baseline in the candidates; None for the baseline
    /// itself, or when no configuration matches it.
    pub baseline: Option<usize>,
    pub changes: Vec<Change>,
    pub grades: Vec<Grade>,
}

/// One metric's change from the baseline.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub metric: Metric,
    pub base: f64,
    pub value: f64,
    /// `value - base`, with the 95% interval of the paired difference when
    /// there is one.
    pub delta: Mean,
    /// In percent of `base` (None when it is zero).
    pub relative: Option<f64>,
}

/// The paired difference `a - b` of one metric: replication by
/// replication (or batch by batch), both runs having seen the same
/// requests.
pub fn difference(a: &Measure, b: &Measure) -> Mean {
    let delta = a.mean.mean - b.mean.mean;
    if a.samples.len() == b.samples.len() && a.samples.len() > 1 {
        let diffs: Vec<f64> = a
            .samples
            .iter()
            .zip(&b.samples)
            .map(|(x, y)| x - y)
            .collect();
        Mean {
            mean: delta,
            ..Mean::of(&diffs)
        }
    } else {
        Mean {
            mean: delta,
            half_width: 0.0,
            n: 1,
        }
    }
}

/// The baseline as configured, or the "before" an experiment implies: no
/// cache, else no limiter, else LRU, else the first choice listed.
pub fn baseline_spec(exp: &Experiment) -> Option<Baseline> {
    if let Some(b) = &exp.report.baseline {
        return Some(b.clone());
    }
    let one = |k: &str, v: String| Some(Baseline(vec![(k.to_string(), v)]));
    if !exp.caches.is_empty() && exp.cache_slots.contains(&None) {
        return one("policy", "none".into());
    }
    if !exp.limiters.is_empty() && exp.limiter_slots.contains(&None) {
        return one("limiter", "none".into());
    }
    if let Some(first) = exp.caches.first() {
        let lru = exp
            .caches
            .iter()
            .find(|c| c.spec.policy.to_string() == "lru");
        return one("policy", lru.unwrap_or(first).spec.policy.to_string());
    }
    if let Some(first) = exp.limiters.first() {
        return one("limiter", first.spec.label());
    }
    if exp.loads.len() > 1 {
        return one("load", exp.loads[0].label());
    }
    None
}

/// The baseline of `c`: among configurations matching `spec`, the one
/// sharing most values with `c` (first in run order on ties).
fn baseline_of(candidates: &[Candidate], c: &Candidate, spec: &Baseline) -> Option<usize> {
    let shared = |b: &Candidate| c.values.iter().filter(|v| b.values.contains(v)).count();
    let mut best: Option<(usize, usize)> = None;
    for (i, b) in candidates.iter().enumerate() {
        if spec.matches(&b.values) && best.is_none_or(|(_, s)| shared(b) > s) {
            best = Some((i, shared(b)));
        }
    }
    best.map(|(i, _)| i)
}

/// Every candidate against its baseline.
pub fn compare(exp: &Experiment, candidates: &[Candidate]) -> Vec<Comparison> {
    let spec = baseline_spec(exp);
    candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let baseline = spec
                .as_ref()
                .and_then(|s| baseline_of(candidates, c, s))
                .filter(|&b| b != i);
            let Some(b) = baseline.map(|b| &candidates[b]) else {
                return Comparison {
                    baseline: None,
                    changes: Vec::new(),
                    grades: Vec::new(),
                };
            };
            let changes: Vec<Change> = c
                .measures
                .iter()
                .filter_map(|m| {
                    let base = b.get(m.metric)?;
                    let delta = difference(m, base);
                    Some(Change {
                        metric: m.metric,
                        base: base.mean.mean,
                        value: m.mean.mean,
                        delta,
                        relative: (base.mean.mean != 0.0)
                            .then(|| delta.mean / base.mean.mean * 100.0),
                    })
                })
                .collect();
            let grades = graded(exp)
                .into_iter()
                .filter_map(|(metric, bands)| {
                    let change = changes.iter().find(|ch| ch.metric == metric)?;
                    let improvement = improvement(metric, change.base, change.value)?;
                    Some(Grade {
                        metric,
                        improvement,
                        band: Band::of(improvement, &bands),
                    })
                })
                .collect();
            Comparison {
                baseline,
                changes,
                grades,
            }
        })
        .collect()
}

/// What a recommendation misses a target by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Miss {
    pub target: Target,
    /// The configuration's value; None when it does not have the metric.
    pub value: Option<f64>,
}

/// How the pick was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The best `rank_by` among those meeting the targets.
    Best,
    /// The cheapest meeting the targets (targets given, or prices).
    Cheapest,
}

/// The decision for one environment.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// The load level and traffic it holds for (empty when the experiment
    /// has one).
    pub environment: Vec<(String, String)>,
    /// Indices into the candidates competing here, in run order.
    pub competing: Vec<usize>,
    pub rule: Rule,
    pub rank_by: Metric,
    pub targets: Vec<Target>,
    /// Indices of the deployable candidates meeting every target.
    pub meeting: Vec<usize>,
    /// None only when nothing is deployable.
    pub pick: Option<usize>,
    pub runner_up: Option<usize>,
    /// The pick and the runner-up cannot be told apart on `rank_by` at
    /// this sample size (the interval of their difference holds zero).
    pub indistinguishable: bool,
    /// When no configuration meets the targets: what the pick (the
    /// closest) misses.
    pub misses: Vec<Miss>,
    /// The best offline oracle at the pick's size: what no policy can beat.
    pub bound: Option<usize>,
    pub warnings: Vec<String>,
    /// The workshop's analysis rules, applied to the pick.
    pub advice: Vec<Advice>,
    /// When policies compete at several sizes: the best deployable at each
    /// size, the second, and whether they can be told apart.
    pub per_size: Vec<SizeWinner>,
}

/// The best configuration at one cache size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeWinner {
    pub best: usize,
    pub second: Option<usize>,
    /// The interval of their difference excludes zero.
    pub clear: bool,
}

/// One piece of the workshop's advice, with the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// "high" or "medium", as the workshop ranks it.
    pub priority: &'static str,
    pub issue: String,
    pub action: String,
}

/// The metric "best" means when no target or price decides: what users
/// feel when there is a service, else the hit ratio, else legit denials.
pub fn rank_by(exp: &Experiment) -> Metric {
    exp.report.rank_by.unwrap_or(if !exp.services.is_empty() {
        Metric::P95
    } else if !exp.caches.is_empty() {
        Metric::HitRatio
    } else {
        Metric::LegitDenied
    })
}

/// The targets in force: as configured, else the defaults that keep "best
/// latency" honest. With limiters: let at most 10% of abusive requests
/// through (when the traffic has abusers) and deny at most 1% of
/// legitimate ones (the workshop dashboard's 1% error baseline), so no
/// limiter wins on latency by turning users away; with a service: at most
/// 5% errors (the dashboard's `high_error_rate` alert).
pub fn targets(exp: &Experiment, candidates: &[Candidate]) -> Vec<Target> {
    if let Some(t) = &exp.report.targets {
        return t.0.clone();
    }
    let at_most = |metric, value| Target {
        metric,
        at_least: false,
        value,
    };
    let mut defaults = Vec::new();
    if candidates
        .iter()
        .any(|c| c.get(Metric::AbusiveAllowed).is_some())
    {
        defaults.push(at_most(Metric::AbusiveAllowed, 0.10));
    }
    if !exp.limiters.is_empty() {
        defaults.push(at_most(Metric::LegitDenied, 0.01));
    }
    // An overloaded origin answers its few successes fast: latency alone
    // would pick the configuration that fails most.
    if !exp.services.is_empty() {
        defaults.push(at_most(Metric::ErrorRatio, 0.05));
    }
    defaults
}

/// One recommendation per environment, in run order.
pub fn recommend(exp: &Experiment, candidates: &[Candidate]) -> Vec<Recommendation> {
    let mut environments: Vec<&Vec<(String, String)>> = Vec::new();
    for c in candidates {
        if !environments.contains(&&c.environment) {
            environments.push(&c.environment);
        }
    }
    let rule = if exp.report.targets.is_some() || exp.cost.is_some() {
        Rule::Cheapest
    } else {
        Rule::Best
    };
    environments
        .into_iter()
        .map(|env| {
            let competing: Vec<usize> = (0..candidates.len())
                .filter(|&i| &candidates[i].environment == env)
                .collect();
            decide(exp, candidates, env.clone(), competing, rule)
        })
        .collect()
}

/// Requests per run under which a verdict is called too short to trust.
const SHORT_RUN: u64 = 10_000;

fn decide(
    exp: &Experiment,
    all: &[Candidate],
    environment: Vec<(String, String)>,
    competing: Vec<usize>,
    rule: Rule,
) -> Recommendation {
    let rank_by = rank_by(exp);
    let mut warnings = Vec::new();
    let here: Vec<&Candidate> = competing.iter().map(|&i| &all[i]).collect();
    // A target on a metric nothing here has cannot decide anything.
    let targets: Vec<Target> = targets(exp, all)
        .into_iter()
        .filter(|t| {
            let known = here.iter().any(|c| c.get(t.metric).is_some());
            if !known {
                warnings.push(format!(
                    "target `{} {} {}` is ignored: no configuration here measures {}",
                    t.metric.name(),
                    t.op(),
                    t.value,
                    t.metric.title()
                ));
            }
            known
        })
        .collect();
    let meets = |c: &Candidate| {
        targets
            .iter()
            .all(|t| c.mean(t.metric).is_some_and(|x| t.met_by(x)))
    };
    let deployable: Vec<usize> = competing
        .iter()
        .copied()
        .filter(|&i| !all[i].offline)
        .collect();
    let meeting: Vec<usize> = deployable
        .iter()
        .copied()
        .filter(|&i| meets(&all[i]))
        .collect();
    let score = |i: usize| {
        let x = all[i].mean(rank_by).unwrap_or(f64::NAN);
        if rank_by.higher_is_better() { -x } else { x }
    };
    let cost = |i: usize| match all[i].mean(Metric::Cost) {
        Some(c) => [c, 0.0, 0.0],
        None => all[i].size,
    };
    let order = |a: &usize, b: &usize| {
        let by_score = score(*a).total_cmp(&score(*b));
        let by_cost = cost(*a)
            .partial_cmp(&cost(*b))
            .unwrap_or(std::cmp::Ordering::Equal);
        match rule {
            Rule::Best => by_score.then(by_cost),
            Rule::Cheapest => by_cost.then(by_score),
        }
        .then(a.cmp(b))
    };
    let mut ranked = meeting.clone();
    let mut misses = Vec::new();
    if ranked.is_empty() {
        // The closest: the least total shortfall, relative to each target.
        let shortfall = |i: usize| -> f64 {
            targets
                .iter()
                .map(|t| {
                    all[i]
                        .mean(t.metric)
                        .map_or(f64::INFINITY, |x| t.shortfall(x))
                })
                .sum()
        };
        ranked = deployable.clone();
        ranked.sort_by(|a, b| shortfall(*a).total_cmp(&shortfall(*b)).then(order(a, b)));
        if let Some(&pick) = ranked.first() {
            misses = targets
                .iter()
                .filter_map(|t| {
                    let value = all[pick].mean(t.metric);
                    (!value.is_some_and(|x| t.met_by(x))).then_some(Miss { target: *t, value })
                })
                .collect();
        }
    } else {
        ranked.sort_by(order);
    }
    let pick = ranked.first().copied();
    let runner_up = ranked.get(1).copied();
    let indistinguishable = match (pick, runner_up, rule) {
        (Some(p), Some(r), Rule::Best) => {
            let (a, b) = (all[p].get(rank_by), all[r].get(rank_by));
            // Equal values are a tie even without an interval.
            a.zip(b).is_some_and(|(a, b)| {
                let d = difference(a, b);
                d.mean == 0.0 || d.n > 1
            }) && !clearly_apart(&all[p], &all[r], rank_by)
        }
        _ => false,
    };
    if let Some(p) = pick {
        let c = &all[p];
        if c.get(rank_by).is_some_and(|m| m.samples.len() < 2) {
            warnings.push(
                "one replication and no batch means for this metric: the numbers carry no confidence interval; set `replications = 3` or more to get one".into(),
            );
        }
        if c.requests < SHORT_RUN {
            warnings.push(format!(
                "only {} requests per run: too short to decide between close configurations; replay a longer trace",
                c.requests
            ));
        }
    }
    let bound = pick.and_then(|p| {
        competing
            .iter()
            .copied()
            .filter(|&i| all[i].offline && all[i].size == all[p].size)
            .min_by(|a, b| score(*a).total_cmp(&score(*b)))
    });
    let advice = pick.map_or(Vec::new(), |p| advise(all, &competing, p));
    let per_size = per_size(all, &deployable, rank_by);
    Recommendation {
        environment,
        competing,
        rule,
        rank_by,
        targets,
        meeting,
        pick,
        runner_up,
        indistinguishable,
        misses,
        bound,
        warnings,
        advice,
        per_size,
    }
}

/// Whether `a` beats `b` on `metric` beyond the interval of the difference.
fn clearly_apart(a: &Candidate, b: &Candidate, metric: Metric) -> bool {
    match (a.get(metric), b.get(metric)) {
        (Some(x), Some(y)) => {
            let d = difference(x, y);
            d.n > 1 && d.mean.abs() > d.half_width
        }
        _ => false,
    }
}

/// The best of `deployable` at each cache size, when more than one policy
/// and more than one size compete (else empty).
fn per_size(all: &[Candidate], deployable: &[usize], metric: Metric) -> Vec<SizeWinner> {
    let value = |i: usize, name: &str| all[i].value(name).map(String::from);
    let distinct = |name: &str| {
        let mut seen: Vec<String> = Vec::new();
        for &i in deployable {
            if let Some(v) = value(i, name)
                && !seen.contains(&v)
            {
                seen.push(v);
            }
        }
        seen
    };
    let sizes = distinct("capacity");
    if sizes.len() < 2 || distinct("policy").len() < 2 {
        return Vec::new();
    }
    let better = |i: usize| {
        let x = all[i].mean(metric).unwrap_or(f64::NAN);
        if metric.higher_is_better() { -x } else { x }
    };
    sizes
        .iter()
        .filter_map(|size| {
            let mut here: Vec<usize> = deployable
                .iter()
                .copied()
                .filter(|&i| value(i, "capacity").as_ref() == Some(size))
                .collect();
            here.sort_by(|a, b| better(*a).total_cmp(&better(*b)).then(a.cmp(b)));
            let best = *here.first()?;
            let second = here.get(1).copied();
            Some(SizeWinner {
                best,
                second,
                clear: second.is_some_and(|s| clearly_apart(&all[best], &all[s], metric)),
            })
        })
        .collect()
}

/// The workshop's analysis rules ("Cache Analysis" recommendations and the
/// dashboard's alert thresholds) applied to the pick, with what the sweep
/// says the fix would gain.
fn advise(all: &[Candidate], competing: &[usize], pick: usize) -> Vec<Advice> {
    let c = &all[pick];
    let mut advice = Vec::new();
    if let Some(hit) = c.mean(Metric::HitRatio).filter(|&h| h < 0.7) {
        // Variants of the pick that differ only in TTL or key design.
        let differs_only_in_choice = |o: &Candidate| {
            c.values.iter().zip(&o.values).all(|((n, a), (_, b))| {
                a == b || matches!(n.rsplit('.').next(), Some("ttl" | "log_key"))
            }) && o.values.len() == c.values.len()
        };
        let better = competing
            .iter()
            .map(|&i| &all[i])
            .filter(|o| !std::ptr::eq(*o, c) && differs_only_in_choice(o))
            .filter_map(|o| Some((o, o.mean(Metric::HitRatio)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, h)| *h > hit);
        let action = match better {
            Some((o, h)) => format!(
                "the sweep says `{}` reaches {:.4} ({:+.2} points)",
                o.label,
                h,
                (h - hit) * 100.0
            ),
            None => {
                "a longer TTL or keys that vary less (sweep `ttl` or `log_key` to see the gain)"
                    .into()
            }
        };
        advice.push(Advice {
            priority: "high",
            issue: format!("hit ratio {hit:.4} is below 0.70"),
            action,
        });
    }
    if let Some(e) = c.mean(Metric::ErrorRatio).filter(|&e| e > 0.05) {
        advice.push(Advice {
            priority: "high",
            issue: format!("error ratio {:.2}% is above 5%", e * 100.0),
            action:
                "add origin capacity or shed load earlier (more servers, a queue limit, a limiter)"
                    .into(),
        });
    }
    if let Some(p95) = c.mean(Metric::P95).filter(|&p| p > 1000.0) {
        advice.push(Advice {
            priority: "high",
            issue: format!("p95 {p95:.1} ms is above 1 s"),
            action: "raise the hit ratio or the origin's capacity; see the breaking points below"
                .into(),
        });
    }
    advice
}

#[cfg(test)]
mod tests;
