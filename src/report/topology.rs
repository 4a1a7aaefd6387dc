//! Many locations (`[topology]`): topology.csv, one row per run and site,
//! and the Topology section of report.md: each configuration's tiers and
//! origin load, flat against tiered, the limiter's scope against an
//! attacker spread over locations, and the recommended configuration
//! location by location. The tiers and spread charts read the same
//! aggregates ([`configs`]), so they cannot disagree with the text.

use std::fmt::Write;

use anyhow::Result;

use super::csv::Table;
use super::decide::{Candidate, describe, shown, varying};
use super::summary::{Cell, Mean};
use super::verdict::{self, NA};
use super::{Export, Summary, chart, levels};
use crate::engine::SECOND;
use crate::experiment::Metric;
use crate::metrics::service::Latency;
use crate::metrics::topology::{SiteStats, TopologyStats, tier_total};
use crate::runner::RunResult;
use crate::topology::{Scope, Tiering, TopologySpec};

/// An upper tier that takes less than this share of the requests off the
/// origin barely changes its load: it does not pay.
const MIN_CUT: f64 = 0.05;

/// A scope holds the limit when a spread attacker gets at most this
/// multiple of it.
const HOLDS: f64 = 1.1;

/// At most this many locations are listed one by one in report.md.
const MAX_LOCATIONS: usize = 20;

/// topology.csv: per run, one row per location, per upper tier, and one
/// for the origin. Sites without a cache leave its columns empty; upper
/// tiers and the origin leave the latency empty (a location's is its
/// clients'); only the origin row has `origin_requests` and `origin_bytes`.
pub struct TopologyCsv;

impl Export for TopologyCsv {
    fn file_name(&self) -> &'static str {
        "topology.csv"
    }

    fn applies(&self, summary: &Summary) -> bool {
        summary.results.iter().any(|r| r.topology.is_some())
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        // The run's load and swept values, as results.csv has them.
        let swept = summary.experiment.swept_dims();
        let ids: Vec<usize> = (summary.columns.iter().enumerate())
            .filter(|(_, c)| *c == "load" || swept.contains(c))
            .map(|(i, _)| i)
            .collect();
        let header = ["run", "replication"]
            .into_iter()
            .chain(ids.iter().map(|&i| summary.columns[i].as_str()))
            .chain(CSV_COLUMNS);
        let mut out = Table::new(header)?;
        for (r, row) in summary.results.iter().zip(&summary.rows) {
            let Some(t) = &r.topology else { continue };
            let lead: Vec<Cell> = [Cell::Int(r.run.index as u64), Cell::Int(r.run.replication)]
                .into_iter()
                .chain(ids.iter().map(|&i| row[i].clone()))
                .collect();
            let sites = (t.locations.iter().map(|s| ("location", s)))
                .chain(t.upper.iter().map(|s| ("upper", s)));
            for (kind, site) in sites {
                out.row(lead.iter().cloned().chain(site_cells(kind, site)))?;
            }
            let mut origin = vec![Cell::Text("origin".into()), Cell::Text("origin".into())];
            origin.resize(CSV_COLUMNS.len() - 2, Cell::Empty);
            origin.extend([Cell::Int(t.origin_requests), Cell::Int(t.origin_bytes)]);
            out.row(lead.iter().chain(&origin))?;
        }
        out.finish()
    }
}

/// The columns of topology.csv after the run's own.
const CSV_COLUMNS: [&str; 13] = [
    "site_kind",
    "site",
    "requests",
    "hits",
    "hit_ratio",
    "byte_hit_ratio",
    "forwarded",
    "forwarded_bytes",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "origin_requests",
    "origin_bytes",
];

/// A location's or upper tier's cells of [`CSV_COLUMNS`].
fn site_cells(kind: &str, s: &SiteStats) -> Vec<Cell> {
    let cached = s.cache.requests > 0;
    let cache = |x: Cell| if cached { x } else { Cell::Empty };
    let measured = s.latency.count > 0;
    let ms = |ns: u64| {
        if measured {
            Cell::Real(ns as f64 / 1e6)
        } else {
            Cell::Empty
        }
    };
    vec![
        Cell::Text(kind.into()),
        Cell::Text(s.name.clone()),
        Cell::Int(s.requests),
        cache(Cell::Int(s.cache.hits)),
        cache(Cell::Real(s.cache.hit_ratio())),
        cache(Cell::Real(s.cache.byte_hit_ratio())),
        Cell::Int(s.forwarded),
        Cell::Int(s.forwarded_bytes),
        ms(s.latency.p50),
        ms(s.latency.p95),
        ms(s.latency.p99),
        Cell::Empty,
        Cell::Empty,
    ]
}

/// One configuration with a topology, over its replications.
pub struct TopoConfig<'a> {
    /// Index into the summary's candidates.
    pub candidate: usize,
    pub spec: &'a TopologySpec,
    runs: Vec<&'a RunResult>,
    /// Every location's cache together; None without a cache.
    pub edge_hit: Option<Mean>,
    /// Every upper tier's cache together; None when flat.
    pub upper_hit: Option<Mean>,
    pub origin_requests: Mean,
    pub origin_bytes: Mean,
    /// Origin requests over the requests the locations got.
    pub origin_share: Mean,
    /// Of every answered request, in ms.
    pub mean_ms: Option<Mean>,
    pub p95_ms: Option<Mean>,
    /// Clients seen at more than one location, when a limiter decided.
    pub spread: Option<AttackerSpread>,
}

/// What clients spread over locations got from the limiter.
pub struct AttackerSpread {
    /// Locations each used.
    pub locations: Mean,
    /// Their limit against the configured one.
    pub multiple: Mean,
    pub configured_rps: f64,
}

/// The mean of `f` over `items`.
fn mean_by<T>(items: &[T], f: impl Fn(&T) -> f64) -> Mean {
    Mean::of(&items.iter().map(f).collect::<Vec<_>>())
}

/// `f` of every run, when every run has it.
fn mean_of(runs: &[&RunResult], f: impl Fn(&RunResult) -> Option<f64>) -> Option<Mean> {
    let values: Option<Vec<f64>> = runs.iter().map(|r| f(r)).collect();
    values.map(|v| Mean::of(&v))
}

fn topology(r: &RunResult) -> &TopologyStats {
    r.topology
        .as_ref()
        .expect("a topology configuration's runs have one")
}

impl TopoConfig<'_> {
    /// p50, p95 and p99 in ms of the latency `pick` chooses, when every
    /// run measured some.
    pub fn latency(&self, pick: impl Fn(&TopologyStats) -> &Latency) -> Option<[Mean; 3]> {
        let quantile = |q: fn(&Latency) -> u64| {
            mean_of(&self.runs, |r| {
                let l = pick(topology(r));
                (l.count > 0).then(|| q(l) as f64 / 1e6)
            })
        };
        Some([
            quantile(|l| l.p50)?,
            quantile(|l| l.p95)?,
            quantile(|l| l.p99)?,
        ])
    }

    /// Locations each abusive client sends from (`[workload.clients] spread`).
    pub fn attacker_spread(&self, summary: &Summary) -> u64 {
        summary.experiment.workload_of(&self.runs[0].run).spread()
    }

    /// Whether a limiter decided, so that its scope means something.
    pub fn limited(&self) -> bool {
        self.runs[0].limits.is_some()
    }

    /// The mean over replications of `f` of location `i`.
    fn location(
        &self,
        i: usize,
        f: impl Fn(&SiteStats, &TopologyStats) -> Option<f64>,
    ) -> Option<Mean> {
        mean_of(&self.runs, |r| {
            let t = topology(r);
            f(t.locations.get(i)?, t)
        })
    }
}

/// The swept value naming how many locations an attacker uses.
pub const SPREAD: &str = "workload.clients.spread";

/// Swept values that a topology configuration's name says in words from
/// the topology itself (its tiers, its limiter's scope), so left out of
/// its other values.
const TIERS_AND_SCOPE: [&str; 3] = ["topology.tier", "topology.limit_scope", "topology.sync"];

/// Swept values that the limiter scope's rows and lines are drawn along,
/// so left out of what else names them.
pub const SCOPE_AND_SPREAD: [&str; 3] = ["topology.limit_scope", "topology.sync", SPREAD];

/// Every configuration that ran with a topology, in run order.
pub fn configs<'a>(summary: &Summary<'a>) -> Vec<TopoConfig<'a>> {
    let exp = summary.experiment;
    let same = |a: &RunResult, b: &RunResult| a.run.configuration() == b.run.configuration();
    let mut out = Vec::new();
    for chunk in summary.results.chunk_by(same) {
        let run = &chunk[0].run;
        let Some(spec) = exp.service_of(run).and_then(|s| s.topology.as_ref()) else {
            continue;
        };
        let runs: Vec<&RunResult> = chunk.iter().filter(|r| r.topology.is_some()).collect();
        let Some(candidate) = (summary.candidates.iter())
            .position(|c| c.run.configuration() == run.configuration())
            .filter(|_| !runs.is_empty())
        else {
            continue;
        };
        let cache_of = |sites: &[SiteStats]| {
            let total = tier_total(sites).cache;
            (total.requests > 0).then(|| total.hit_ratio())
        };
        let spreads: Option<Vec<_>> = runs.iter().map(|r| topology(r).spread).collect();
        let service = |f: fn(&Latency) -> f64| {
            mean_of(&runs, |r| r.service.as_ref().map(|s| f(&s.latency) / 1e6))
        };
        out.push(TopoConfig {
            candidate,
            spec,
            edge_hit: mean_of(&runs, |r| cache_of(&topology(r).locations)),
            upper_hit: mean_of(&runs, |r| cache_of(&topology(r).upper)),
            origin_requests: mean_by(&runs, |r| topology(r).origin_requests as f64),
            origin_bytes: mean_by(&runs, |r| topology(r).origin_bytes as f64),
            origin_share: mean_by(&runs, |r| {
                let t = topology(r);
                crate::metrics::ratio(t.origin_requests, tier_total(&t.locations).requests)
            }),
            mean_ms: service(|l| l.mean),
            p95_ms: service(|l| l.p95 as f64),
            spread: spreads.map(|s| AttackerSpread {
                locations: mean_by(&s, |s| s.locations_mean),
                multiple: mean_by(&s, |s| s.multiple),
                configured_rps: s[0].configured_rps,
            }),
            runs,
        });
    }
    out
}

/// The tiering as `tier` writes it.
pub fn tier_name(tier: Tiering) -> &'static str {
    match tier {
        Tiering::Flat => "flat",
        Tiering::Upper => "upper",
        Tiering::Regional => "regional",
    }
}

/// The tiers for sentences and keys: "flat", "upper tier", "regional tiers".
pub fn tiers_text(tier: Tiering) -> &'static str {
    match tier {
        Tiering::Flat => "flat",
        Tiering::Upper => "upper tier",
        Tiering::Regional => "regional tiers",
    }
}

/// The limiter scope for people: "location", "global", "lagged (sync 1s)".
pub fn scope_text(spec: &TopologySpec) -> String {
    match (spec.limit_scope, sync_text(spec)) {
        (Scope::Location, _) => "location".into(),
        (Scope::Global, _) => "global".into(),
        (Scope::Lagged, None) => "lagged".into(),
        (Scope::Lagged, Some(sync)) => format!("lagged (sync {sync})"),
    }
}

/// A lagged scope's merge interval as written: "1s", "250ms".
fn sync_text(spec: &TopologySpec) -> Option<String> {
    let ns = spec.sync?.0;
    Some(if ns.is_multiple_of(SECOND) {
        format!("{}s", ns / SECOND)
    } else {
        format!("{}ms", levels::number(ns as f64 / 1e6))
    })
}

/// A topology configuration for people: what else varies, its tiers
/// (with `tiers`) and its limiter's scope ("spread=5 · upper tier · global
/// scope").
pub fn name(summary: &Summary, t: &TopoConfig, tiers: bool) -> String {
    let parts = [
        others(summary, &summary.candidates[t.candidate], &TIERS_AND_SCOPE),
        if tiers { tiers_text(t.spec.tier) } else { "" }.into(),
        if t.limited() {
            format!("{} scope", scope_text(t.spec))
        } else {
            String::new()
        },
    ];
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The values of `c` that vary, in words, leaving out those named in
/// `skip` and a whole `[[topology]]` table swept as one value (its
/// settings are shown from the topology itself).
pub fn others(summary: &Summary, c: &Candidate, skip: &[&str]) -> String {
    let varying = varying(&summary.candidates);
    let (choice, environment) = describe(c, |n| {
        shown(&varying, n) && n != "topology" && !skip.contains(&n)
    });
    [choice, environment].concat().join(" · ")
}

/// What `c` is, with `spec` changed by `neutral` and the swept values
/// named in `ignore` left out: configurations with equal keys differ only
/// in those. The topology is compared by its debug form, which holds every
/// field.
pub fn key(
    c: &Candidate,
    spec: &TopologySpec,
    neutral: impl FnOnce(&mut TopologySpec),
    ignore: &[&str],
) -> String {
    let mut spec = spec.clone();
    neutral(&mut spec);
    let values: Vec<&(String, String)> = c
        .values
        .iter()
        .filter(|(n, _)| !n.starts_with("topology") && !ignore.contains(&n.as_str()))
        .collect();
    format!("{values:?} {spec:?}")
}

/// Leaves out what only an upper tier uses.
pub fn untiered(spec: &mut TopologySpec) {
    spec.tier = Tiering::Flat;
    spec.upper = None;
    spec.upper_rtt = None;
    spec.region.clear();
}

/// A flat configuration against a tiered one that differs from it only
/// in its tiers, as indices into [`configs`].
pub fn pairs(summary: &Summary, configs: &[TopoConfig]) -> Vec<(usize, usize)> {
    let key_of = |t: &TopoConfig| key(&summary.candidates[t.candidate], t.spec, untiered, &[]);
    let mut out = Vec::new();
    for (i, t) in configs.iter().enumerate() {
        if t.spec.tier == Tiering::Flat {
            continue;
        }
        let flat = configs
            .iter()
            .position(|f| f.spec.tier == Tiering::Flat && key_of(f) == key_of(t));
        out.extend(flat.map(|f| (f, i)));
    }
    out
}

/// Flat against tiered, in numbers.
pub struct Compared {
    pub flat: usize,
    pub tiered: usize,
    /// Share of the flat origin requests and bytes the tiers take off
    /// (negative: they add).
    pub requests_cut: f64,
    pub bytes_cut: f64,
    /// Mean and p95 latency, flat then tiered, in ms.
    pub mean_ms: Option<(f64, f64)>,
    pub p95_ms: Option<(f64, f64)>,
    /// It takes at least [`MIN_CUT`] off the origin and the mean latency
    /// does not rise: the upper hits save more than the extra hop costs.
    pub pays: bool,
}

fn cut(before: f64, after: f64) -> f64 {
    if before == 0.0 {
        0.0
    } else {
        1.0 - after / before
    }
}

pub fn compare(configs: &[TopoConfig], (flat, tiered): (usize, usize)) -> Compared {
    let (f, t) = (&configs[flat], &configs[tiered]);
    let both = |a: Option<Mean>, b: Option<Mean>| Some((a?.mean, b?.mean));
    let requests_cut = cut(f.origin_requests.mean, t.origin_requests.mean);
    let mean_ms = both(f.mean_ms, t.mean_ms);
    Compared {
        flat,
        tiered,
        requests_cut,
        bytes_cut: cut(f.origin_bytes.mean, t.origin_bytes.mean),
        mean_ms,
        p95_ms: both(f.p95_ms, t.p95_ms),
        pays: requests_cut >= MIN_CUT && mean_ms.is_none_or(|(a, b)| b <= a),
    }
}

/// What tiers do to an origin load they take `share` off: "cut" or
/// "raise" (negative), for a subject in the `plural` or not.
fn cuts(share: f64, plural: bool) -> &'static str {
    match (share >= 0.0, plural) {
        (true, false) => "cuts",
        (true, true) => "cut",
        (false, false) => "raises",
        (false, true) => "raise",
    }
}

fn ms_text(x: f64) -> String {
    format!("{} ms", verdict::value(Metric::P95, x, ""))
}

/// What the tiers did, in one clause: "the upper tier cuts origin
/// requests by 40.4% (37119 -> 22134) and origin bandwidth by ...".
pub fn effect(configs: &[TopoConfig], c: &Compared) -> String {
    let (f, t) = (&configs[c.flat], &configs[c.tiered]);
    let tiers = tiers_text(t.spec.tier);
    let requests = |m: Mean| verdict::value(Metric::OriginRequests, m.mean, "");
    let bytes = |m: Mean| verdict::value(Metric::OriginBytes, m.mean, "");
    let plural = t.spec.tier == Tiering::Regional;
    let verb = cuts(c.requests_cut, plural);
    let again = if cuts(c.bytes_cut, plural) == verb {
        ""
    } else {
        cuts(c.bytes_cut, plural)
    };
    let mut text = format!(
        "the {tiers} {verb} origin requests by {:.1}% ({} -> {}) and {again}{}origin bandwidth by {:.1}% ({} -> {})",
        c.requests_cut.abs() * 100.0,
        requests(f.origin_requests),
        requests(t.origin_requests),
        if again.is_empty() { "" } else { " " },
        c.bytes_cut.abs() * 100.0,
        bytes(f.origin_bytes),
        bytes(t.origin_bytes),
    );
    let mean = c.mean_ms.map(|(a, b)| (ms_text(a), ms_text(b)));
    let _ = match (c.p95_ms.map(|(a, b)| (ms_text(a), ms_text(b))), mean) {
        (Some((a, b)), Some((m, n))) if a == b => {
            write!(text, "; p95 stays at {a} and the mean goes from {m} to {n}")
        }
        (Some((a, b)), Some((m, n))) => {
            write!(
                text,
                "; p95 goes from {a} to {b} and the mean from {m} to {n}"
            )
        }
        (Some((a, b)), None) => write!(text, "; p95 goes from {a} to {b}"),
        (None, Some((m, n))) => write!(text, "; the mean latency goes from {m} to {n}"),
        (None, None) => Ok(()),
    };
    text
}

/// Why tiering does not pay for `c`.
fn why_not(c: &Compared) -> String {
    match c.mean_ms {
        Some((a, b)) if b > a && c.requests_cut >= MIN_CUT => format!(
            "the extra hop costs more latency than the upper hits save (the mean rises from {} to {})",
            ms_text(a),
            ms_text(b)
        ),
        _ => format!(
            "the origin load barely changes (origin requests {} by {:.1}%)",
            if c.requests_cut >= 0.0 {
                "fall"
            } else {
                "rise"
            },
            c.requests_cut.abs() * 100.0
        ),
    }
}

/// The topology to pick, from every comparison: the largest cut speaks
/// for all, among those holding the recommended configuration if any.
pub fn advice<'c>(
    summary: &Summary,
    configs: &[TopoConfig],
    compared: &'c [Compared],
) -> Option<String> {
    let picks: Vec<usize> = summary
        .recommendations
        .iter()
        .filter_map(|r| r.pick)
        .collect();
    let holds_pick = |c: &&Compared| {
        picks.contains(&configs[c.flat].candidate) || picks.contains(&configs[c.tiered].candidate)
    };
    let paying: Vec<&Compared> = compared.iter().filter(|c| c.pays).collect();
    let speaker = |among: Vec<&'c Compared>| -> Option<&'c Compared> {
        let held: Vec<&Compared> = among.iter().copied().filter(holds_pick).collect();
        let among = if held.is_empty() { among } else { held };
        (among.into_iter()).max_by(|a, b| a.requests_cut.total_cmp(&b.requests_cut))
    };
    let all = compared.len();
    let label = |c: &Compared| format!("`{}`", name(summary, &configs[c.tiered], false));
    // The tiers, and what else sets the tiered configuration apart.
    let tier = |c: &Compared| {
        let t = &configs[c.tiered];
        match others(summary, &summary.candidates[t.candidate], &TIERS_AND_SCOPE) {
            o if o.is_empty() => tier_name(t.spec.tier).to_string(),
            o => format!("{}, `{o}`", tier_name(t.spec.tier)),
        }
    };
    Some(match paying.len() {
        0 => {
            let c = speaker(compared.iter().collect())?;
            let every = if all > 1 {
                format!(" (in none of the {all} comparisons does it pay)")
            } else {
                String::new()
            };
            format!("**Keep flat**: {}{every}.", why_not(c))
        }
        n if n == all => {
            let c = speaker(paying.clone())?;
            let mut text = format!("**Pick tiered ({})**: {}", tier(c), effect(configs, c));
            if all > 1 {
                let cuts = paying.iter().map(|c| c.requests_cut);
                let lo = cuts.clone().fold(f64::INFINITY, f64::min);
                let hi = cuts.fold(f64::NEG_INFINITY, f64::max);
                let every = if all == 2 {
                    "both".into()
                } else {
                    format!("all {all}")
                };
                let _ = write!(
                    text,
                    "; it pays in {every} comparisons, cutting origin requests by {:.1}% to {:.1}%",
                    lo * 100.0,
                    hi * 100.0
                );
            }
            text + "."
        }
        n => {
            let pick: Vec<String> = paying
                .iter()
                .map(|c| format!("{} ({})", label(c), tier(c)))
                .collect();
            let keep: Vec<String> = compared
                .iter()
                .filter(|c| !c.pays)
                .map(|c| format!("{}: {}", label(c), why_not(c)))
                .collect();
            format!(
                "**Tiering pays in {n} of {all} comparisons**: pick tiered for {}; keep flat for {}.",
                pick.join(", "),
                keep.join("; ")
            )
        }
    })
}

/// The Topology section of report.md, when runs had a topology.
pub fn markdown(md: &mut String, summary: &Summary) {
    let configs = configs(summary);
    if configs.is_empty() {
        return;
    }
    let counts = configs.iter().map(|t| t.spec.location_count() as f64);
    let lo = counts.clone().fold(f64::INFINITY, f64::min);
    let hi = counts.fold(0.0, f64::max);
    let currency = summary.currency();
    let _ = writeln!(md, "## Topology\n");
    let own = if configs.iter().any(TopoConfig::limited) {
        "cache and limiter copy"
    } else {
        "cache"
    };
    let _ = writeln!(
        md,
        "{} locations, each with its own {own}. The edge hit ratio counts every location's cache together, the upper-tier hit ratio the fetches the locations sent on; origin bandwidth is the bytes the origin sent. Latency is of answered requests by where they were served, p50 / p95 / p99 in ms.\n",
        levels::number(lo)
            + &if hi > lo {
                format!(" to {}", levels::number(hi))
            } else {
                String::new()
            }
    );
    chart::image(md, summary, &chart::TIERS);
    let named = Named::of(summary, configs.iter(), &TIERS_AND_SCOPE);
    let _ = writeln!(
        md,
        "|{} tier | scope | edge hit ratio | upper-tier hit ratio | origin requests | origin bandwidth | served at the edge (ms) | at an upper tier (ms) | at the origin (ms) |",
        named.header
    );
    let _ = writeln!(
        md,
        "|{}---|---|---:|---:|---:|---:|---:|---:|---:|",
        named.rule
    );
    let mean =
        |metric, m: Option<Mean>| m.map_or(NA.into(), |m| verdict::mean(metric, m, currency));
    let latency = |q: Option<[Mean; 3]>| {
        q.map_or(NA.into(), |q| {
            q.map(|m| verdict::mean(Metric::P50, m, currency))
                .join(" / ")
        })
    };
    for (t, head) in configs.iter().zip(&named.cells) {
        let _ = writeln!(
            md,
            "|{head} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            tier_name(t.spec.tier),
            if t.limited() {
                scope_text(t.spec)
            } else {
                NA.into()
            },
            mean(Metric::HitRatio, t.edge_hit),
            mean(Metric::HitRatio, t.upper_hit),
            mean(Metric::OriginRequests, Some(t.origin_requests)),
            mean(Metric::OriginBytes, Some(t.origin_bytes)),
            latency(t.latency(|s| &s.served.edge)),
            latency(t.latency(|s| &s.served.upper)),
            latency(t.latency(|s| &s.served.origin)),
        );
    }
    md.push('\n');
    flat_vs_tiered(md, summary, &configs);
    scope(md, summary, &configs);
    per_location(md, summary, &configs);
}

fn flat_vs_tiered(md: &mut String, summary: &Summary, configs: &[TopoConfig]) {
    let compared: Vec<Compared> = (pairs(summary, configs).into_iter())
        .map(|p| compare(configs, p))
        .collect();
    let Some(advice) = advice(summary, configs, &compared) else {
        return;
    };
    let _ = writeln!(md, "### Flat vs tiered\n");
    let _ = writeln!(
        md,
        "| configuration | tiers | origin requests | change | origin bandwidth | change | p95 (ms) | mean (ms) |\n|---|---|---:|---:|---:|---:|---:|---:|"
    );
    let from_to = |metric: Metric, a: f64, b: f64| {
        format!(
            "{} -> {}",
            verdict::value(metric, a, ""),
            verdict::value(metric, b, "")
        )
    };
    let ms = |pair: Option<(f64, f64)>| pair.map_or(NA.into(), |(a, b)| from_to(Metric::P95, a, b));
    for c in &compared {
        let (f, t) = (&configs[c.flat], &configs[c.tiered]);
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {:+.1}% | {} | {:+.1}% | {} | {} |",
            name(summary, t, false),
            tiers_text(t.spec.tier),
            from_to(
                Metric::OriginRequests,
                f.origin_requests.mean,
                t.origin_requests.mean
            ),
            -100.0 * c.requests_cut,
            from_to(
                Metric::OriginBytes,
                f.origin_bytes.mean,
                t.origin_bytes.mean
            ),
            -100.0 * c.bytes_cut,
            ms(c.p95_ms),
            ms(c.mean_ms),
        );
    }
    let _ = writeln!(md, "\n{advice}\n");
}

/// A table's first column, naming each row by the values that vary
/// besides those its other columns show; none when nothing else varies.
struct Named {
    header: &'static str,
    rule: &'static str,
    /// Each row's cell, with its separator.
    cells: Vec<String>,
}

impl Named {
    fn of<'t, 'a: 't>(
        summary: &Summary,
        rows: impl Iterator<Item = &'t TopoConfig<'a>>,
        skip: &[&str],
    ) -> Named {
        let labels: Vec<String> = rows
            .map(|t| others(summary, &summary.candidates[t.candidate], skip))
            .collect();
        if labels.iter().all(String::is_empty) {
            return Named {
                header: "",
                rule: "",
                cells: vec![String::new(); labels.len()],
            };
        }
        Named {
            header: " configuration |",
            rule: "---|",
            cells: (labels.iter())
                .map(|l| match l.is_empty() {
                    true => format!(" {NA} |"),
                    false => format!(" `{l}` |"),
                })
                .collect(),
        }
    }
}

/// "10.0x the configured 5/s".
pub fn multiple_text(s: &AttackerSpread) -> String {
    let m = s.multiple;
    let interval = if m.n > 1 && m.half_width > 0.0 {
        format!(" (± {:.2})", m.half_width)
    } else {
        String::new()
    };
    format!(
        "{:.1}x{interval} the configured {}/s",
        m.mean,
        levels::number(s.configured_rps)
    )
}

/// Configurations whose limiter decided, ordered by scope, then by the
/// locations the attacker used.
pub fn limited<'c, 'a>(
    summary: &Summary,
    configs: &'c [TopoConfig<'a>],
) -> Vec<&'c TopoConfig<'a>> {
    let mut out: Vec<&TopoConfig> = (configs.iter()).filter(|t| t.limited()).collect();
    let order = |t: &TopoConfig| {
        (
            t.spec.limit_scope as u8,
            t.spec.sync,
            t.attacker_spread(summary),
        )
    };
    out.sort_by_key(|t| order(t));
    out
}

fn scope(md: &mut String, summary: &Summary, configs: &[TopoConfig]) {
    let rows = limited(summary, configs);
    if rows.is_empty() {
        return;
    }
    let currency = summary.currency();
    let _ = writeln!(md, "### Limiter scope\n");
    let _ = writeln!(
        md,
        "An abusive client sends in turn to `spread` locations. The effective limit is what clients seen at more than one location were admitted per second of their sending, against the limiter's rate (at one location nothing is spread: –).\n"
    );
    chart::image(md, summary, &chart::SPREAD);
    let named = Named::of(summary, rows.iter().copied(), &SCOPE_AND_SPREAD);
    let _ = writeln!(
        md,
        "|{} scope | attacker locations | effective limit | legit denied | abusive allowed |",
        named.header
    );
    let _ = writeln!(md, "|{}---|---:|---:|---:|---:|", named.rule);
    for (t, head) in rows.iter().zip(&named.cells) {
        let c = &summary.candidates[t.candidate];
        let metric = |m: Metric| {
            c.get(m)
                .map_or(NA.into(), |x| verdict::mean(m, x.mean, currency))
        };
        let (locations, limit) = match &t.spread {
            Some(s) => (levels::number(s.locations.mean), multiple_text(s)),
            None => (t.attacker_spread(summary).to_string(), NA.into()),
        };
        let _ = writeln!(
            md,
            "|{head} {} | {locations} | {limit} | {} | {} |",
            scope_text(t.spec),
            metric(Metric::LegitDenied),
            metric(Metric::AbusiveAllowed),
        );
    }
    md.push('\n');
    if let Some(sentence) = scope_sentence(&rows) {
        let _ = writeln!(md, "{sentence}\n");
    }
}

/// Which scope holds the limit at the widest spread measured, and what
/// the lag costs against the exact global count.
pub fn scope_sentence(rows: &[&TopoConfig]) -> Option<String> {
    let widest = rows
        .iter()
        .filter_map(|t| t.spread.as_ref())
        .map(|s| s.locations.mean)
        .max_by(f64::total_cmp)?;
    let mut at: Vec<(String, &TopoConfig, f64)> = Vec::new();
    for t in rows {
        let Some(s) = t.spread.as_ref().filter(|s| s.locations.mean == widest) else {
            continue;
        };
        let scope = scope_text(t.spec);
        if !at.iter().any(|(name, ..)| *name == scope) {
            at.push((scope, t, s.multiple.mean));
        }
    }
    let x = |m: f64| format!("{m:.1}x");
    let and = |items: Vec<String>| match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.concat(),
    };
    let lagged = |t: &TopoConfig| t.spec.limit_scope == Scope::Lagged;
    let hold: Vec<&(String, &TopoConfig, f64)> = at.iter().filter(|a| a.2 <= HOLDS).collect();
    let mut clauses = vec![match hold.len() {
        0 => "no scope holds the limit".to_string(),
        1 => format!("`{}` holds the limit ({})", hold[0].0, x(hold[0].2)),
        _ => format!(
            "{} hold the limit",
            and(hold
                .iter()
                .map(|(n, _, m)| format!("`{n}` ({})", x(*m)))
                .collect())
        ),
    }];
    let leak = |lag: bool| at.iter().filter(move |a| a.2 > HOLDS && lagged(a.1) == lag);
    clauses.extend(leak(false).map(|(n, _, m)| format!("`{n}` lets it take {}", x(*m))));
    let lags: Vec<&(String, &TopoConfig, f64)> = leak(true).collect();
    if !lags.is_empty() {
        let mut clause = format!(
            "lagged copies let it take {}",
            and(lags
                .iter()
                .map(|(_, t, m)| format!(
                    "{} (sync {})",
                    x(*m),
                    sync_text(t.spec).unwrap_or_default()
                ))
                .collect())
        );
        if let Some((.., g)) = at.iter().find(|a| a.1.spec.limit_scope == Scope::Global) {
            let _ = write!(
                clause,
                ": the lag costs {} the limit over the exact global count",
                and(lags.iter().map(|(.., m)| x(m - g)).collect())
            );
        }
        clauses.push(clause);
    }
    let text = format!(
        "With the attacker over {} locations, {}",
        levels::number(widest),
        clauses.join("; ")
    );
    Some(text + ".")
}

/// Each location of the recommended configuration(s).
fn per_location(md: &mut String, summary: &Summary, configs: &[TopoConfig]) {
    let currency = summary.currency();
    for r in &summary.recommendations {
        let Some(t) = r
            .pick
            .and_then(|p| configs.iter().find(|t| t.candidate == p))
        else {
            continue;
        };
        let _ = writeln!(md, "### Per location: {}\n", name(summary, t, true));
        let _ = writeln!(
            md,
            "| location | share of requests | hit ratio | forwarded | p95 (ms) |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|");
        let names = t.spec.location_names();
        for (i, name) in names.iter().enumerate().take(MAX_LOCATIONS) {
            let share = t.location(i, |s, all| {
                Some(crate::metrics::ratio(
                    s.requests,
                    tier_total(&all.locations).requests,
                ))
            });
            let hit = t.location(i, |s, _| {
                (s.cache.requests > 0).then(|| s.cache.hit_ratio())
            });
            let forwarded = t.location(i, |s, _| Some(s.forwarded as f64));
            let p95 = t.location(i, |s, _| {
                (s.latency.count > 0).then(|| s.latency.p95 as f64 / 1e6)
            });
            let cell = |metric, m: Option<Mean>| {
                m.map_or(NA.into(), |m| verdict::mean(metric, m, currency))
            };
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {} | {} |",
                share.map_or(NA.into(), |m| format!("{:.1}%", m.mean * 100.0)),
                cell(Metric::HitRatio, hit),
                cell(Metric::OriginRequests, forwarded),
                cell(Metric::P95, p95),
            );
        }
        if names.len() > MAX_LOCATIONS {
            let _ = writeln!(
                md,
                "\n{} more locations in topology.csv.",
                names.len() - MAX_LOCATIONS
            );
        }
        md.push('\n');
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use super::*;
    use crate::experiment::Experiment;

    /// Three named locations with TIER tiers, the location and global
    /// scopes against two attackers spread over SPREAD locations.
    pub const EXPERIMENT: &str = r#"
        [experiment]
        name = "topo"
        seed = 5
        [workload]
        requests = 3000
        keys = 300
        [workload.clients]
        legit = 60
        legit_rate = "1/s"
        abusive = 2
        abusive_rate = "40/s"
        spread = SPREAD
        [[cache]]
        policy = "lru"
        capacity = "10%"
        [[limiter]]
        algorithm = "token-bucket"
        rate = "5/s"
        burst = 5
        key = "client"
        [service]
        servers = 16
        service_time = { dist = "fixed", time = "10ms" }
        rtt = { dist = "fixed", time = "5ms" }
        [topology]
        tier = TIER
        upper = { policy = "lru", capacity = "30%" }
        limit_scope = ["location", "global"]
        [[topology.location]]
        name = "fra"
        share = 0.5
        [[topology.location]]
        name = "lhr"
        share = 0.3
        [[topology.location]]
        name = "cdg"
        share = 0.2
    "#;

    /// Flat and upper-tier runs of `EXPERIMENT`.
    pub const TIERS: &str = r#"["flat", "upper"]"#;

    /// `EXPERIMENT` with `spread` and `tier` as written, and its results.
    pub fn simulate(spread: &str, tier: &str) -> (Experiment, Vec<RunResult>) {
        let source = EXPERIMENT.replace("SPREAD", spread).replace("TIER", tier);
        let exp = Experiment::parse(Path::new("t.toml"), source).unwrap();
        let results = crate::runner::run(&exp, Some(1)).unwrap();
        (exp, results)
    }

    /// Sets a run's origin load and latency (mean and p95, in ms).
    pub fn made_up(r: &mut RunResult, requests: u64, bytes: u64, mean_ms: f64, p95_ms: u64) {
        let t = r.topology.as_mut().unwrap();
        t.origin_requests = requests;
        t.origin_bytes = bytes;
        let latency = &mut r.service.as_mut().unwrap().latency;
        latency.mean = mean_ms * 1e6;
        latency.p95 = p95_ms * 1_000_000;
    }

    #[test]
    fn topology_csv_has_a_row_per_run_and_site() {
        let (exp, results) = simulate("2", TIERS);
        let summary = Summary::new(&exp, &results);
        assert!(TopologyCsv.applies(&summary));
        let bytes = TopologyCsv.render(&summary).unwrap();
        assert_eq!(bytes, TopologyCsv.render(&summary).unwrap());
        let mut reader = ::csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header[..4],
            [
                "run",
                "replication",
                "topology.tier",
                "topology.limit_scope"
            ]
        );
        assert_eq!(header[4..], CSV_COLUMNS);
        let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        // Flat runs: three locations and the origin; tiered: and the upper tier.
        assert_eq!(rows.len(), 2 * 4 + 2 * 5);
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        for r in &results {
            let t = r.topology.as_ref().unwrap();
            let mine: Vec<&::csv::StringRecord> = (rows.iter())
                .filter(|row| row[0] == r.run.index.to_string())
                .collect();
            let sites: Vec<(&str, &str)> = mine.iter().map(|row| (&row[4], &row[5])).collect();
            let mut want = vec![
                ("location", "fra"),
                ("location", "lhr"),
                ("location", "cdg"),
            ];
            if !t.upper.is_empty() {
                want.push(("upper", "upper"));
            }
            want.push(("origin", "origin"));
            assert_eq!(sites, want);
            let origin = mine.last().unwrap();
            assert_eq!(
                origin[col("origin_requests")],
                t.origin_requests.to_string()
            );
            assert_eq!(origin[col("origin_bytes")], t.origin_bytes.to_string());
            assert!(origin[col("requests")].is_empty());
            let fra = mine[0];
            let s = &t.locations[0];
            assert_eq!(fra[col("requests")], s.requests.to_string());
            assert_eq!(fra[col("hits")], s.cache.hits.to_string());
            assert_eq!(fra[col("forwarded_bytes")], s.forwarded_bytes.to_string());
            assert_eq!(fra[col("p95_ms")], (s.latency.p95 as f64 / 1e6).to_string());
            assert!(
                mine[3][col("p95_ms")].is_empty(),
                "no latency at an upper tier or the origin"
            );
        }
    }

    #[test]
    fn flat_against_tiered_says_what_the_upper_tier_cuts() {
        let (exp, mut results) = simulate("2", TIERS);
        // Runs: flat·location, flat·global, upper·location, upper·global.
        for r in &mut results {
            let tiered = r.run.index >= 2;
            match tiered {
                false => made_up(r, 1000, 100_000_000, 40.0, 80),
                true => made_up(r, 600, 60_000_000, 35.0, 95),
            }
        }
        let summary = Summary::new(&exp, &results);
        let configs = configs(&summary);
        assert_eq!(pairs(&summary, &configs), [(0, 2), (1, 3)]);
        let compared = compare(&configs, (0, 2));
        assert!(compared.pays);
        assert_eq!(
            effect(&configs, &compared),
            "the upper tier cuts origin requests by 40.0% (1000 -> 600) and origin bandwidth by 40.0% (95.4MiB -> 57.2MiB); p95 goes from 80.0 ms to 95.0 ms and the mean from 40.0 ms to 35.0 ms"
        );
        let all: Vec<Compared> = [(0, 2), (1, 3)].map(|p| compare(&configs, p)).into();
        let advice = advice(&summary, &configs, &all).unwrap();
        assert!(
            advice.starts_with(
                "**Pick tiered (upper)**: the upper tier cuts origin requests by 40.0%"
            ),
            "{advice}"
        );
        assert!(
            advice.ends_with(
                "it pays in both comparisons, cutting origin requests by 40.0% to 40.0%."
            ),
            "{advice}"
        );
        let md = super::super::markdown::render(&summary);
        assert!(md.contains("### Flat vs tiered"));
        assert!(md.contains("| upper | global | "));
    }

    #[test]
    fn tiering_that_does_not_pay_says_why() {
        let (exp, mut results) = simulate("2", TIERS);
        let keep = |results: &[RunResult]| {
            let summary = Summary::new(&exp, results);
            let configs = configs(&summary);
            let all: Vec<Compared> = (pairs(&summary, &configs).into_iter())
                .map(|p| compare(&configs, p))
                .collect();
            advice(&summary, &configs, &all).unwrap()
        };
        // Slower on average: the hop costs more than the upper hits save.
        for r in &mut results {
            match r.run.index >= 2 {
                false => made_up(r, 1000, 100_000_000, 40.0, 80),
                true => made_up(r, 600, 60_000_000, 41.5, 95),
            }
        }
        assert_eq!(
            keep(&results),
            "**Keep flat**: the extra hop costs more latency than the upper hits save (the mean rises from 40.0 ms to 41.5 ms) (in none of the 2 comparisons does it pay)."
        );
        // Faster, but the origin hardly notices.
        for r in &mut results {
            if r.run.index >= 2 {
                made_up(r, 980, 98_000_000, 39.0, 95);
            }
        }
        assert!(
            keep(&results).starts_with(
                "**Keep flat**: the origin load barely changes (origin requests fall by 2.0%)"
            ),
            "{}",
            keep(&results)
        );
        // Only with the location scope does it pay.
        made_up(&mut results[2], 500, 50_000_000, 39.0, 95);
        assert_eq!(
            keep(&results),
            "**Tiering pays in 1 of 2 comparisons**: pick tiered for `location scope` (upper); keep flat for `global scope`: the origin load barely changes (origin requests fall by 2.0%)."
        );
    }

    /// A configuration whose spread attackers got `multiple` of the limit.
    fn spread_at<'a>(spec: &'a TopologySpec, locations: f64, multiple: f64) -> TopoConfig<'a> {
        let one = |v: f64| Mean::of(&[v]);
        TopoConfig {
            candidate: 0,
            spec,
            runs: Vec::new(),
            edge_hit: None,
            upper_hit: None,
            origin_requests: one(0.0),
            origin_bytes: one(0.0),
            origin_share: one(0.0),
            mean_ms: None,
            p95_ms: None,
            spread: Some(AttackerSpread {
                locations: one(locations),
                multiple: one(multiple),
                configured_rps: 5.0,
            }),
        }
    }

    #[test]
    fn the_scope_sentence_names_who_holds_the_limit_and_what_the_lag_costs() {
        let spec = |scope: &str| {
            let text = format!("locations = {{ count = 10 }}\n{scope}");
            toml::from_str::<TopologySpec>(&text).unwrap()
        };
        let (location, global) = (
            spec(r#"limit_scope = "location""#),
            spec(r#"limit_scope = "global""#),
        );
        let lagged = spec("limit_scope = \"lagged\"\nsync = \"250ms\"");
        let rows = [
            spread_at(&location, 4.0, 4.0),
            spread_at(&location, 10.0, 9.96),
            spread_at(&global, 10.0, 1.02),
            spread_at(&lagged, 10.0, 4.04),
        ];
        let rows: Vec<&TopoConfig> = rows.iter().collect();
        assert_eq!(
            scope_sentence(&rows).unwrap(),
            "With the attacker over 10 locations, `global` holds the limit (1.0x); `location` lets it take 10.0x; lagged copies let it take 4.0x (sync 250ms): the lag costs 3.0x the limit over the exact global count."
        );
        assert_eq!(
            multiple_text(rows[1].spread.as_ref().unwrap()),
            "10.0x the configured 5/s"
        );
        let only_location = [spread_at(&location, 10.0, 9.96)];
        assert_eq!(
            scope_sentence(&only_location.iter().collect::<Vec<_>>()).unwrap(),
            "With the attacker over 10 locations, no scope holds the limit; `location` lets it take 10.0x."
        );
    }

    #[test]
    fn the_section_shows_each_configuration_and_the_recommended_per_location() {
        let (exp, results) = simulate("2", TIERS);
        let summary = Summary::new(&exp, &results);
        let md = super::super::markdown::render(&summary);
        let section = &md[md.find("## Topology").unwrap()..];
        let t = results[0].topology.as_ref().unwrap();
        let requests = t.origin_requests.to_string();
        assert!(
            section.contains(&format!(
                "| flat | location | {:.4} | – | {requests} | ",
                t.locations.iter().map(|l| l.cache.hits).sum::<u64>() as f64
                    / t.locations.iter().map(|l| l.cache.requests).sum::<u64>() as f64
            )),
            "{section}"
        );
        assert!(section.contains("### Limiter scope"));
        assert!(
            section.contains("2.0x the configured 5/s")
                || section.contains("1.9x the configured 5/s")
                || section.contains("2.1x the configured 5/s"),
            "{section}"
        );
        assert!(section.contains("### Per location: "));
        assert!(section.contains("| fra | "));
        // Without a topology, no section and no table.
        let plain = EXPERIMENT
            .split("[topology]")
            .next()
            .unwrap()
            .replace("SPREAD", "1");
        let exp = Experiment::parse(Path::new("t.toml"), plain).unwrap();
        let results = crate::runner::run(&exp, Some(1)).unwrap();
        let summary = Summary::new(&exp, &results);
        assert!(!TopologyCsv.applies(&summary));
        assert!(!super::super::markdown::render(&summary).contains("## Topology"));
    }
}
