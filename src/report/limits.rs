//! The limiter side of the reports: per-run columns, per-configuration
//! aggregates, the legit-denied vs abusive-allowed chart, and the limiter
//! section of report.md (the decision is made in `decide`).

use std::fmt::Write;

use super::Summary;
use super::levels::ConfigKey;
use super::summary::{Cell, Mean};
use crate::experiment::Experiment;
use crate::limiter::LimiterSpec;
use crate::runner::RunResult;

/// Limiter columns of results.csv; `requests` first when no cache columns
/// already carry it.
pub fn columns(with_requests: bool) -> Vec<String> {
    let names = [
        "algorithm",
        "rate",
        "burst",
        "key",
        "allowed",
        "delayed",
        "denied",
        "denial_ratio",
        "legit_requests",
        "legit_denied",
        "legit_denied_ratio",
        "abusive_requests",
        "abusive_allowed",
        "abusive_allowed_ratio",
        "legit_clients",
        "clients_wrongly_blocked",
        "abusers",
        "abusers_blocked",
        "first_block_mean_s",
        "first_block_max_s",
        "peak_keys",
        "peak_state_bytes",
        "misclassified_ratio",
        "rate_error",
    ];
    let requests = with_requests.then_some("offered_requests");
    requests
        .into_iter()
        .chain(names)
        .map(String::from)
        .collect()
}

/// The cells of [`columns`] for one run.
pub fn cells(spec: &LimiterSpec, r: &RunResult, with_requests: bool) -> Vec<Cell> {
    let Some(l) = &r.limits else {
        return vec![Cell::Empty; columns(with_requests).len()];
    };
    let seconds = |ns: f64| ns / 1e9;
    let blocked = |x: f64| {
        if l.abusers_blocked > 0 {
            Cell::Real(x)
        } else {
            Cell::Empty
        }
    };
    let mut row = Vec::new();
    if with_requests {
        row.push(Cell::Int(l.requests));
    }
    row.extend([
        Cell::Text(spec.algorithm.to_string()),
        spec.rate.map_or(Cell::Empty, |r| Cell::Real(r.0)),
        spec.burst.map_or(Cell::Empty, |b| Cell::Int(b as u64)),
        Cell::Text(spec.key.to_string()),
        Cell::Int(l.allowed),
        Cell::Int(l.delayed),
        Cell::Int(l.denied),
        Cell::Real(l.denial_ratio()),
        Cell::Int(l.legit),
        Cell::Int(l.legit_denied),
        Cell::Real(l.legit_denied_ratio()),
        Cell::Int(l.abusive),
        Cell::Int(l.abusive_allowed),
        Cell::Real(l.abusive_allowed_ratio()),
        Cell::Int(l.legit_clients),
        Cell::Int(l.clients_wrongly_blocked),
        Cell::Int(l.abusers),
        Cell::Int(l.abusers_blocked),
        blocked(seconds(l.first_block_mean)),
        blocked(seconds(l.first_block_max as f64)),
        Cell::Int(l.peak_keys),
        Cell::Int(l.peak_state_bytes),
        l.accuracy
            .map_or(Cell::Empty, |a| Cell::Real(a.misclassified_ratio())),
        l.accuracy
            .map_or(Cell::Empty, |a| Cell::Real(a.mean_rate_error)),
    ]);
    row
}

/// One limiter configuration over its replications.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    pub workload: usize,
    /// The algorithm with its parameters, rate and burst.
    pub label: String,
    /// The algorithm as written, which names the chart's series.
    pub algorithm: String,
    pub legit_denied: Mean,
    pub abusive_allowed: Mean,
    pub denial: Mean,
    pub clients_wrongly_blocked: Mean,
    pub legit_clients: u64,
    pub abusers: u64,
    pub abusers_blocked: Mean,
    /// Mean time to first block, in seconds, over runs that blocked someone.
    pub first_block_s: Option<Mean>,
    pub peak_keys: Mean,
    pub peak_state_bytes: Mean,
    /// With a service only.
    pub latency_p99_ms: Option<Mean>,
    pub misclassified: Option<Mean>,
    pub rate_error: Option<Mean>,
}

/// Groups runs by (workload, cache, limiter), in run order.
pub fn aggregate(experiment: &Experiment, results: &[RunResult]) -> Vec<LimitConfig> {
    let same = |a: &RunResult, b: &RunResult| a.run.configuration() == b.run.configuration();
    let mut configs = Vec::new();
    for chunk in results.chunk_by(same) {
        let first = &chunk[0];
        let (Some(limiter), Some(l0)) = (experiment.limiter_of(&first.run), &first.limits) else {
            continue;
        };
        let stats: Vec<_> = chunk.iter().filter_map(|r| r.limits.as_ref()).collect();
        let mean = |f: &dyn Fn(&crate::metrics::LimitStats) -> f64| {
            Mean::of(&stats.iter().map(|s| f(s)).collect::<Vec<_>>())
        };
        let blocked: Vec<f64> = stats
            .iter()
            .filter(|s| s.abusers_blocked > 0)
            .map(|s| s.first_block_mean / 1e9)
            .collect();
        let accuracy: Vec<_> = stats.iter().filter_map(|s| s.accuracy).collect();
        let spec = &limiter.spec;
        // Where loads or other stages vary, say which configuration a row is.
        let config = super::levels::config_label(experiment, ConfigKey::of(&first.run));
        let label = match experiment.loads.len() {
            1 => config,
            _ => format!("{} · {config}", experiment.load_of(&first.run).label()),
        };
        configs.push(LimitConfig {
            workload: first.run.workload,
            label,
            algorithm: spec.algorithm.to_string(),
            legit_denied: mean(&|s| s.legit_denied_ratio()),
            abusive_allowed: mean(&|s| s.abusive_allowed_ratio()),
            denial: mean(&|s| s.denial_ratio()),
            clients_wrongly_blocked: mean(&|s| s.clients_wrongly_blocked as f64),
            legit_clients: l0.legit_clients,
            abusers: l0.abusers,
            abusers_blocked: mean(&|s| s.abusers_blocked as f64),
            first_block_s: (!blocked.is_empty()).then(|| Mean::of(&blocked)),
            peak_keys: mean(&|s| s.peak_keys as f64),
            peak_state_bytes: mean(&|s| s.peak_state_bytes as f64),
            latency_p99_ms: first.service.as_ref().map(|_| {
                let p99: Vec<f64> = chunk
                    .iter()
                    .filter_map(|r| r.service.as_ref())
                    .map(|s| s.latency.p99 as f64 / 1e6)
                    .collect();
                Mean::of(&p99)
            }),
            misclassified: (!accuracy.is_empty()).then(|| {
                Mean::of(
                    &accuracy
                        .iter()
                        .map(|a| a.misclassified_ratio())
                        .collect::<Vec<_>>(),
                )
            }),
            rate_error: (!accuracy.is_empty()).then(|| {
                Mean::of(
                    &accuracy
                        .iter()
                        .map(|a| a.mean_rate_error)
                        .collect::<Vec<_>>(),
                )
            }),
        });
    }
    configs
}

/// Whether there is a trade-off to draw: without abusive clients (a
/// closed loop's connections, say) every point sits on the x axis.
pub fn has_trade_off(summary: &Summary) -> bool {
    summary.limit_configs.iter().any(|c| c.abusers > 0)
}

fn pct(m: Mean) -> String {
    if m.n > 1 {
        format!("{:.2}% ± {:.2}", m.mean * 100.0, m.half_width * 100.0)
    } else {
        format!("{:.2}%", m.mean * 100.0)
    }
}

/// A count: whole with one replication, a mean to one decimal with more.
fn count(m: Mean) -> String {
    if m.n > 1 {
        format!("{:.1}", m.mean)
    } else {
        format!("{:.0}", m.mean)
    }
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or("–".into(), f)
}

/// The limiter section of report.md.
pub fn markdown(md: &mut String, summary: &Summary) {
    let exp = summary.experiment;
    let _ = writeln!(md, "## Limiters\n");
    if has_trade_off(summary) {
        let _ = writeln!(
            md,
            "Every limiter sees the same requests (same seed). The best limiter denies few legitimate \
             requests (x axis) and lets few abusive ones through (y axis): the lower left corner.\n"
        );
        super::chart::image(md, summary, &super::chart::TRADEOFF);
    }
    for w in 0..exp.workloads.len() {
        let configs: Vec<&LimitConfig> = summary
            .limit_configs
            .iter()
            .filter(|c| c.workload == w)
            .collect();
        let Some(first) = configs.first() else {
            continue;
        };
        if exp.workloads.len() > 1 {
            let values = super::levels::workload_values(exp, w);
            let _ = writeln!(md, "### Workload {values}\n");
        }
        let _ = writeln!(
            md,
            "{} legitimate clients, {} abusers.\n",
            first.legit_clients, first.abusers
        );
        let _ = writeln!(
            md,
            "| limiter | legit denied | abusive allowed | clients wrongly blocked | abusers blocked | first block (s) | peak keys | state | p99 latency (ms) | misclassified vs exact | rate error |"
        );
        let _ = writeln!(
            md,
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for c in &configs {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} of {} | {} | {:.0} | {} | {} | {} | {} |",
                c.label,
                pct(c.legit_denied),
                pct(c.abusive_allowed),
                count(c.clients_wrongly_blocked),
                count(c.abusers_blocked),
                c.abusers,
                opt(c.first_block_s, |m| format!("{:.2}", m.mean)),
                c.peak_keys.mean,
                crate::units::format_bytes(c.peak_state_bytes.mean.round() as u64),
                opt(c.latency_p99_ms, |m| format!("{:.1}", m.mean)),
                opt(c.misclassified, |m| format!("{:.4}%", m.mean * 100.0)),
                opt(c.rate_error, |m| format!("{:.2}%", m.mean * 100.0)),
            );
        }
        md.push('\n');
    }
}
