//! report.md: what was run and how sure the numbers are, the decision
//! (recommendation, grades, baselines, comparisons across sweeps), then
//! the limiter and service details.

use std::fmt::Write;

use anyhow::Result;

use super::{Export, Summary};

pub struct Markdown;

impl Export for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        Ok(render(summary).into_bytes())
    }
}

pub(super) fn render(summary: &Summary) -> String {
    let exp = summary.experiment;
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", exp.name);
    if let Some(d) = &exp.meta.description {
        let _ = writeln!(md, "{d}\n");
    }
    let _ = writeln!(
        md,
        "{} runs: {}, seed {}. {}\n",
        summary.results.len(),
        exp.run_product(),
        exp.meta.seed,
        uncertainty(summary)
    );
    super::verdict::markdown(&mut md, summary);
    super::chart::image(&mut md, summary, &super::chart::MRC);
    if !summary.limit_configs.is_empty() {
        super::limits::markdown(&mut md, summary);
    }
    super::service::markdown(&mut md, summary);
    super::topology::markdown(&mut md, summary);
    super::alerts::markdown(&mut md, summary);
    super::observed::markdown(&mut md, summary);
    md
}

/// A table's header and alignment rows: the `words` columns left-aligned,
/// then the `numbers` columns right-aligned.
pub(super) fn table_head(md: &mut String, words: &[&str], numbers: &[&str]) {
    let columns: Vec<&str> = words.iter().chain(numbers).copied().collect();
    let _ = writeln!(md, "| {} |", columns.join(" | "));
    let _ = writeln!(
        md,
        "|{}{}",
        "---|".repeat(words.len()),
        "---:|".repeat(numbers.len())
    );
}

/// Where the intervals come from, or that there are none.
fn uncertainty(summary: &Summary) -> String {
    let reps = summary.experiment.meta.replications;
    if reps > 1 {
        return format!(
            "± is the 95% confidence interval over the {reps} replications; changes from the baseline are paired replication by replication (every configuration replays the same requests)."
        );
    }
    let batched = summary.results.iter().any(|r| !r.batches.is_empty());
    if batched {
        format!(
            "One replication: ± on hit ratios is a 95% interval from {} batch means within the run; other metrics carry no interval (set `replications` in [experiment] to get them).",
            crate::runner::BATCHES
        )
    } else {
        "One replication: the numbers carry no confidence interval (set `replications` in [experiment] to get one).".into()
    }
}
