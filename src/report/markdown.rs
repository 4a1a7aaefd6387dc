//! report.md: what was run, the results table and the recommendation, in
//! words and numbers; then the limiter and service sections.

use std::fmt::Write;

use anyhow::Result;

use super::summary::Mean;
use super::{Config, Export, Summary};
use crate::experiment::RankBy;

pub struct Markdown;

impl Export for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        Ok(render(summary).into_bytes())
    }
}

fn render(summary: &Summary) -> String {
    let exp = summary.experiment;
    let rank_by = exp.report.rank_by;
    let metric = match rank_by {
        RankBy::HitRatio => "hit ratio",
        RankBy::ByteHitRatio => "byte hit ratio",
    };
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", exp.name);
    if let Some(d) = &exp.meta.description {
        let _ = writeln!(md, "{d}\n");
    }
    let ranked = if exp.caches.is_empty() {
        String::new()
    } else {
        format!("Configurations are ranked by {metric}; ")
    };
    let _ = writeln!(
        md,
        "{} runs: {}, seed {}. {ranked}± is the 95% confidence interval over replications.\n",
        summary.results.len(),
        exp.run_product(),
        exp.meta.seed
    );
    // One cache configuration leaves nothing to rank: the service section
    // shows its hit ratio where it matters.
    let single = summary.configs.iter().all(|c| {
        let first = &summary.configs[0];
        (&c.policy, &c.capacity_label) == (&first.policy, &first.capacity_label)
    });
    if summary.configs.is_empty() || (single && !exp.services.is_empty()) {
        // A service alone has neither caches nor limiters to rank.
        if !summary.limit_configs.is_empty() {
            super::limits::markdown(&mut md, summary);
        }
        super::service::markdown(&mut md, summary);
        return md;
    }
    if super::chart::has_curve(summary) {
        let _ = writeln!(md, "![hit ratio by cache size](mrc.png)\n");
    }
    for (w, workload) in exp.workloads.iter().enumerate() {
        let configs: Vec<&Config> = summary.configs.iter().filter(|c| c.workload == w).collect();
        if exp.workloads.len() > 1 {
            let dims: Vec<String> = workload
                .dims
                .iter()
                .map(|(d, v)| format!("{d} = {v}"))
                .collect();
            let _ = writeln!(md, "## Workload {}\n", dims.join(", "));
        }
        if let Some(first) = summary
            .results
            .iter()
            .find(|r| r.run.workload == w && r.run.cache.is_some())
        {
            let ws = first.working_set;
            let _ = writeln!(
                md,
                "{} requests over {} objects ({}).\n",
                first.stats.requests,
                ws.objects,
                crate::units::format_bytes(ws.bytes)
            );
        }
        // Each load level, service variant and limiter feeds its caches
        // different requests: one table for each.
        let mut settings: Vec<(usize, Option<usize>, Option<usize>)> = Vec::new();
        for c in &configs {
            if !settings.contains(&(c.load, c.service, c.limiter)) {
                settings.push((c.load, c.service, c.limiter));
            }
        }
        for &(load, service, limiter) in &settings {
            let mut heading = Vec::new();
            if exp.loads.len() > 1 {
                heading.push(format!("load `{}`", exp.loads[load].label()));
            }
            if let Some(s) = service.filter(|_| exp.services.len() > 1) {
                let dims = &exp.services[s].dims;
                heading.extend(dims.iter().map(|(d, v)| format!("{d} = {v}")));
            }
            if let Some(l) = limiter {
                heading.push(format!("behind `{}`", exp.limiters[l].spec.label()));
            }
            if !heading.is_empty() {
                let _ = writeln!(md, "#### {}\n", heading.join(", "));
            }
            let behind: Vec<&Config> = configs
                .iter()
                .copied()
                .filter(|c| (c.load, c.service, c.limiter) == (load, service, limiter))
                .collect();
            table(&mut md, &behind, rank_by);
            recommend(&mut md, &behind, summary, rank_by, metric);
        }
    }
    if !summary.limit_configs.is_empty() {
        super::limits::markdown(&mut md, summary);
    }
    super::service::markdown(&mut md, summary);
    super::observed::markdown(&mut md, summary);
    md
}

fn score(c: &Config, rank_by: RankBy) -> Mean {
    match rank_by {
        RankBy::HitRatio => c.hit_ratio,
        RankBy::ByteHitRatio => c.byte_hit_ratio,
    }
}

fn fmt_mean(m: Mean) -> String {
    if m.n > 1 {
        format!("{:.4} ± {:.4}", m.mean, m.half_width)
    } else {
        format!("{:.4}", m.mean)
    }
}

/// Distinct values in first-seen order.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn table(md: &mut String, configs: &[&Config], rank_by: RankBy) {
    let capacities = distinct(configs.iter().map(|c| c.capacity_label.as_str()));
    let policies = distinct(configs.iter().map(|c| c.policy.as_str()));
    let header: Vec<String> = capacities
        .iter()
        .map(|cap| {
            configs
                .iter()
                .find(|c| c.capacity_label == *cap)
                .map_or(cap.to_string(), |c| c.capacity_text())
        })
        .collect();
    let _ = writeln!(md, "| policy | {} |", header.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(capacities.len()));
    for policy in &policies {
        let cells: Vec<String> = capacities
            .iter()
            .map(|cap| {
                let found = configs
                    .iter()
                    .find(|c| c.policy == *policy && c.capacity_label == *cap);
                let best = best_at(configs, cap, rank_by);
                match found {
                    Some(c) if best.is_some_and(|b| std::ptr::eq(b, *c)) => {
                        format!("**{}**", fmt_mean(score(c, rank_by)))
                    }
                    Some(c) => fmt_mean(score(c, rank_by)),
                    None => "–".into(),
                }
            })
            .collect();
        let _ = writeln!(md, "| `{policy}` | {} |", cells.join(" | "));
    }
    md.push('\n');
}

/// The best configuration at capacity `cap` (first in run order on ties).
fn best_at<'a>(configs: &[&'a Config], cap: &str, rank_by: RankBy) -> Option<&'a Config> {
    configs
        .iter()
        .filter(|c| c.capacity_label == cap)
        .fold(None, |best: Option<&&Config>, c| match best {
            Some(b) if score(b, rank_by).mean >= score(c, rank_by).mean => Some(b),
            _ => Some(c),
        })
        .copied()
}

fn recommend(
    md: &mut String,
    configs: &[&Config],
    summary: &Summary,
    rank_by: RankBy,
    metric: &str,
) {
    let capacities = distinct(configs.iter().map(|c| c.capacity_label.as_str()));
    let policies = distinct(configs.iter().map(|c| c.policy.as_str()));
    let winners: Vec<&Config> = capacities
        .iter()
        .filter_map(|cap| best_at(configs, cap, rank_by))
        .collect();
    // The policy that wins most sizes; ties go to the higher mean score.
    let mean_score = |p: &str| {
        let s: Vec<f64> = configs
            .iter()
            .filter(|c| c.policy == p)
            .map(|c| score(c, rank_by).mean)
            .collect();
        s.iter().sum::<f64>() / s.len().max(1) as f64
    };
    let wins_of = |p: &str| winners.iter().filter(|w| w.policy == p).count();
    let mut ranked = policies.iter().copied();
    let Some(first) = ranked.next() else { return };
    let pick = ranked.fold(first, |best, p| {
        let better = (wins_of(p), mean_score(p)) > (wins_of(best), mean_score(best));
        if better { p } else { best }
    });
    let wins = wins_of(pick);
    let _ = writeln!(md, "### Recommendation\n");
    let _ = writeln!(
        md,
        "**Pick `{pick}`.** It had the highest {metric} at {wins} of {} cache size(s) tested.",
        capacities.len()
    );
    let baseline = summary
        .experiment
        .report
        .baseline
        .as_ref()
        .map(|b| b.policy.to_string())
        .or_else(|| {
            policies
                .iter()
                .find(|p| **p == "lru")
                .map(|p| p.to_string())
        })
        .filter(|b| b != pick && policies.contains(&b.as_str()));
    for cap in &capacities {
        let Some(chosen) = configs
            .iter()
            .find(|c| c.policy == pick && c.capacity_label == *cap)
        else {
            continue;
        };
        let s = score(chosen, rank_by);
        let mut line = format!("- At {}: {} {:.4}", chosen.capacity_text(), metric, s.mean);
        let rival = match &baseline {
            Some(b) => configs
                .iter()
                .find(|c| c.policy == *b && c.capacity_label == *cap)
                .copied(),
            None => configs
                .iter()
                .filter(|c| c.capacity_label == *cap && c.policy != pick)
                .max_by(|a, b| score(a, rank_by).mean.total_cmp(&score(b, rank_by).mean))
                .copied(),
        };
        if let Some(r) = rival {
            let rs = score(r, rank_by);
            let role = if baseline.is_some() {
                "the baseline"
            } else {
                "the runner-up"
            };
            let fewer = if rs.mean < 1.0 {
                (s.mean - rs.mean) / (1.0 - rs.mean) * 100.0
            } else {
                0.0
            };
            let _ = write!(
                line,
                " against {:.4} for {role} `{}`: {:+.2} points, {:.1}% fewer misses",
                rs.mean,
                r.policy,
                (s.mean - rs.mean) * 100.0,
                fewer
            );
            if s.n > 1 && (s.mean - rs.mean).abs() <= s.half_width + rs.half_width {
                line.push_str(" (within the confidence intervals: not a clear difference)");
            }
        }
        let _ = writeln!(md, "{line}.");
    }
    md.push('\n');
}
