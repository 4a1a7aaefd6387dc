//! The decision for programs: results.json's `configurations` and
//! `recommendations`, the same values report.md prints.

use serde_json::{Map, Value, json};

use super::super::Summary;
use super::super::summary::Mean;
use super::{Recommendation, Rule};

fn mean(m: Mean) -> Value {
    json!({ "mean": m.mean, "ci95": m.half_width, "n": m.n })
}

fn pairs(values: &[(String, String)]) -> Value {
    Value::Object(
        values
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// Every configuration: its values, metrics, baseline, changes and grades.
pub fn configurations(summary: &Summary) -> Value {
    let all = &summary.candidates;
    all.iter()
        .zip(&summary.comparisons)
        .map(|(c, cmp)| {
            let metrics: Map<String, Value> = c
                .measures
                .iter()
                .map(|m| (m.metric.name().to_string(), mean(m.mean)))
                .collect();
            let changes: Map<String, Value> = cmp
                .changes
                .iter()
                .map(|ch| {
                    let value = json!({
                        "baseline": ch.base,
                        "delta": ch.delta.mean,
                        "ci95": ch.delta.half_width,
                        "relative_pct": ch.relative,
                    });
                    (ch.metric.name().to_string(), value)
                })
                .collect();
            let grades: Map<String, Value> = cmp
                .grades
                .iter()
                .map(|g| {
                    let improvement = g.improvement.is_finite().then_some(g.improvement);
                    let value = json!({ "improvement_pct": improvement, "grade": g.band.name() });
                    (g.metric.name().to_string(), value)
                })
                .collect();
            json!({
                "label": c.label,
                "environment": c.environment_label,
                "runs": c.runs,
                "values": pairs(&c.values),
                "offline": c.offline,
                "metrics": metrics,
                "baseline": cmp.baseline.map(|b| all[b].label.as_str()),
                "changes": changes,
                "grades": grades,
            })
        })
        .collect()
}

/// One recommendation per environment.
pub fn recommendations(summary: &Summary) -> Value {
    summary
        .recommendations
        .iter()
        .map(|r| recommendation(summary, r))
        .collect()
}

fn recommendation(summary: &Summary, r: &Recommendation) -> Value {
    let label = |i: Option<usize>| i.map(|i| summary.candidates[i].label.as_str());
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| format!("{} {} {}", t.metric.name(), t.op(), t.value))
        .collect();
    let misses: Vec<Value> = r
        .misses
        .iter()
        .map(|m| {
            json!({
                "target": format!("{} {} {}", m.target.metric.name(), m.target.op(), m.target.value),
                "value": m.value,
            })
        })
        .collect();
    let advice: Vec<Value> = r
        .advice
        .iter()
        .map(|a| json!({ "priority": a.priority, "issue": a.issue, "action": a.action }))
        .collect();
    json!({
        "environment": pairs(&r.environment),
        "rule": match r.rule { Rule::Best => "best", Rule::Cheapest => "cheapest" },
        "rank_by": r.rank_by.name(),
        "targets": targets,
        "meeting": r.meeting.iter().map(|&i| summary.candidates[i].label.as_str()).collect::<Vec<_>>(),
        "pick": label(r.pick),
        "runner_up": label(r.runner_up),
        "indistinguishable": r.indistinguishable,
        "meets_targets": r.misses.is_empty(),
        "misses": misses,
        "bound": label(r.bound),
        "warnings": r.warnings,
        "advice": advice,
    })
}
