//! Experiment files: the TOML schema, its validation, and the expansion of
//! sweeps into runs. Every error names the file, line and column.

mod alert;
mod sweep;

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::cache::{CapacitySpec, PolicySpec};
use crate::engine::derive_seed;
use crate::error::ConfigError;
use crate::limiter::LimiterSpec;
use crate::service::{LoadSpec, ServiceSpec};
use crate::topology::{self, TopologySpec};
use crate::workload::synthetic::SyntheticSpec;
use crate::workload::trace::{TraceOptions, TraceSpec};

mod report;

pub use alert::{AlertSpec, Condition};
pub use report::{
    Bands, Baseline, BreakingPoint, CostSpec, GradeBands, Metric, ReportSpec, Target, Targets,
};
pub use sweep::render;
use sweep::render_without;

/// A message tied to a byte range of the experiment file.
#[derive(Debug, Clone)]
pub struct Located {
    pub span: Range<usize>,
    pub message: String,
}

impl Located {
    pub fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        Located {
            span,
            message: message.into(),
        }
    }
}

/// An experiment that could not be read: `file:line:column: message`.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ExperimentError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ExperimentError {
    fn new(file: &Path, source: &str, at: Located) -> Self {
        let start = at.span.start.min(source.len());
        let before = &source[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ExperimentError {
            file: file.display().to_string(),
            line,
            column,
            message: at.message,
        }
    }
}

/// `[experiment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Names the output directory; defaults to the file name.
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "crate::units::checked::whole")]
    pub seed: u64,
    /// Independent repetitions of every configuration, each with its own seed.
    #[serde(default = "one", deserialize_with = "crate::units::checked::positive")]
    pub replications: u64,
    /// Cache-only runs of plain LRU take their counts from one
    /// stack-distance pass per workload instance (`edgesim mrc`'s), shared
    /// by every size, instead of one simulation per size: the same
    /// results, in about the time of one run.
    #[serde(default)]
    pub one_pass_lru: bool,
}

fn one() -> u64 {
    1
}

/// `[workload]`, by `kind`.
#[derive(Debug, Clone)]
pub enum WorkloadSpec {
    Synthetic(SyntheticSpec),
    /// A recorded trace; its `path` is resolved against the experiment file.
    Trace(TraceSpec),
}

/// One `[[cache]]` choice after sweeps are expanded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    pub policy: PolicySpec,
    pub capacity: CapacitySpec,
    /// Count objects instead of bytes (like libCacheSim's ignore_obj_size).
    #[serde(default)]
    pub ignore_size: bool,
}

/// Swept fields that tables show in columns of their own (`policy`,
/// `capacity`, `algorithm`), so not again among the swept values.
const OWN_COLUMNS: [&str; 3] = ["cache.policy", "cache.capacity", "limiter.algorithm"];

/// One variant of a section after sweeps are expanded: what it says, the
/// swept values that chose it and its identity, from which seeds derive.
#[derive(Debug, Clone)]
pub struct Choice<T> {
    pub spec: T,
    /// Swept values that chose this variant, as (dotted path, value).
    pub dims: Vec<(String, String)>,
    /// The variant as written, from which its seeds derive.
    pub identity: String,
}

/// One workload variant: generated once per replication and shared by all
/// the cache configurations that replay it (common random numbers). Its
/// identity is that of its request stream: fields in [`STREAM_NEUTRAL`]
/// are left out.
pub type Workload = Choice<WorkloadSpec>;

/// One `[[cache]]` choice after sweeps are expanded.
pub type CacheChoice = Choice<CacheSpec>;

/// One `[[limiter]]` choice after sweeps are expanded.
pub type LimiterChoice = Choice<LimiterSpec>;

/// Workload fields that change what a cache keeps but not which requests
/// are drawn: variants that differ only in these replay identical requests
/// (common random numbers), so their effect is not mixed with dice.
const STREAM_NEUTRAL: &[&str] = &["ttl", "spread"];

impl Workload {
    /// Locations each abusive client sends from (`[workload.clients]`).
    pub fn spread(&self) -> u64 {
        match &self.spec {
            WorkloadSpec::Synthetic(s) => s.clients.as_ref().map_or(1, |c| c.spread),
            WorkloadSpec::Trace(_) => 1,
        }
    }
}

/// One `[service]` variant after sweeps are expanded, with one
/// `[topology]` variant when the experiment has many locations (a
/// [`Choice`] but for that topology).
#[derive(Debug, Clone)]
pub struct ServiceChoice {
    pub spec: ServiceSpec,
    pub topology: Option<TopologySpec>,
    pub dims: Vec<(String, String)>,
    pub identity: String,
}

/// One `[[load]]` choice after sweeps are expanded (a [`Choice`] but for
/// the table it came from).
#[derive(Debug, Clone)]
pub struct LoadChoice {
    pub spec: LoadSpec,
    pub dims: Vec<(String, String)>,
    pub identity: String,
    /// Which `[[load]]` table it came from (a breaking point is searched
    /// among the levels of one table).
    pub table: usize,
}

/// Swept values for labels, by their last field name: "alpha=0.8".
pub fn short_dims(dims: &[(String, String)]) -> Vec<String> {
    dims.iter()
        .map(|(d, v)| format!("{}={v}", d.rsplit('.').next().unwrap_or(d)))
        .collect()
}

impl LoadChoice {
    /// A label for reports: its name, or its swept values.
    pub fn label(&self) -> String {
        let values = short_dims(&self.dims);
        match (&self.spec.name, values.is_empty()) {
            (Some(n), true) => n.clone(),
            (Some(n), false) => format!("{n} {}", values.join(" ")),
            (None, false) => values.join(" "),
            (None, true) => "default".into(),
        }
    }
}

/// One simulation: a workload variant, a cache choice (if the experiment
/// has caches), a limiter choice (if it has limiters) and a replication.
/// The default is the first run, with no service, cache or limiter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Position in the run order (also the row order of every table).
    pub index: usize,
    pub workload: usize,
    pub load: usize,
    /// Index into `services`, when the experiment has a `[service]`.
    pub service: Option<usize>,
    pub cache: Option<usize>,
    pub limiter: Option<usize>,
    pub replication: u64,
}

impl Run {
    /// Everything but the replication: runs with equal keys are one
    /// configuration, aggregated over replications.
    pub fn configuration(&self) -> (usize, usize, Option<usize>, Option<usize>, Option<usize>) {
        (
            self.workload,
            self.load,
            self.service,
            self.cache,
            self.limiter,
        )
    }
}

/// A parsed, validated and expanded experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub path: PathBuf,
    pub name: String,
    pub meta: Meta,
    pub workloads: Vec<Workload>,
    /// At least one (the workload's own times when there is no `[load]`).
    pub loads: Vec<LoadChoice>,
    /// Empty when the experiment compares no caches.
    pub caches: Vec<CacheChoice>,
    /// The cache choices in run order: an index into `caches`, or None for
    /// `policy = "none"` (and when there are no caches at all).
    pub cache_slots: Vec<Option<usize>>,
    /// Empty when the experiment compares no limiters.
    pub limiters: Vec<LimiterChoice>,
    /// Like `cache_slots`, for `algorithm = "none"`.
    pub limiter_slots: Vec<Option<usize>>,
    /// The origin behind limiter and cache, one per sweep variant of
    /// `[service]`; empty when it is not modelled.
    pub services: Vec<ServiceChoice>,
    pub report: ReportSpec,
    /// Prices, when `[cost]` is given.
    pub cost: Option<CostSpec>,
    /// `[[alert]]` rules on the time series, in file order.
    pub alerts: Vec<AlertSpec>,
    /// The file as read, echoed into results.json.
    pub source: String,
}

impl Experiment {
    /// Reads and validates the experiment at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let source = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read experiment {}: {e}", path.display()))?;
        Ok(Self::parse(path, source)?)
    }

    /// Parses `source` (read from `path`, which names it in errors).
    pub fn parse(path: &Path, source: String) -> Result<Self, ExperimentError> {
        let (experiment, baseline_span) =
            parse_sections(path, &source).map_err(|at| ExperimentError::new(path, &source, at))?;
        if let Some(b) = &experiment.report.baseline
            && let Err(why) = experiment.check_baseline(b)
        {
            let at = Located::at(baseline_span, why);
            return Err(ExperimentError::new(path, &source, at));
        }
        Ok(experiment)
    }

    /// The values that name `run`'s configuration, as a baseline names
    /// them: `policy`, `capacity`, `limiter`, `load`, then every swept
    /// value by its full name ("workload.ttl").
    pub fn config_values(&self, run: &Run) -> Vec<(String, String)> {
        let mut values = Vec::new();
        let pair = |k: &str, v: String| (k.to_string(), v);
        if !self.caches.is_empty() {
            match self.cache_of(run) {
                Some(c) => {
                    values.push(pair("policy", c.spec.policy.to_string()));
                    values.push(pair("capacity", c.spec.capacity.to_string()));
                }
                None => values.push(pair("policy", "none".into())),
            }
        }
        if !self.limiters.is_empty() {
            let limiter = self.limiter_of(run).map(|l| &l.spec);
            let label = limiter.map_or("none".into(), LimiterSpec::label);
            values.push(pair("limiter", label));
            let algorithm = limiter.map_or("none".into(), |l| l.algorithm.to_string());
            values.push(pair("algorithm", algorithm));
        }
        if self.loads.len() > 1 {
            values.push(pair("load", self.load_of(run).label()));
        }
        for (d, v) in self.swept_values(run) {
            if !["cache.policy", "cache.capacity"].contains(&d.as_str()) {
                values.push((d.clone(), v.clone()));
            }
        }
        values
    }

    /// Whether some run matches `baseline`, else what can be written.
    fn check_baseline(&self, baseline: &Baseline) -> Result<(), ConfigError> {
        if self
            .configurations()
            .any(|r| baseline.matches(&self.config_values(&r)))
        {
            return Ok(());
        }
        let mut known: Vec<String> = Vec::new();
        for r in self.configurations() {
            for (k, v) in self.config_values(&r) {
                let item = format!("{k} = {v:?}");
                if !known.contains(&item) {
                    known.push(item);
                }
            }
        }
        Err(format!(
            "no configuration matches this baseline; the configurations have: {}",
            known.join(", ")
        )
        .into())
    }

    /// How the runs multiply out, e.g. "1 workload variant(s) x 10 cache
    /// configuration(s) x 3 replication(s)" (dimensions that are absent are
    /// left out).
    pub fn run_product(&self) -> String {
        let mut parts = vec![format!("{} workload variant(s)", self.workloads.len())];
        if self.loads.len() > 1 {
            parts.push(format!("{} load level(s)", self.loads.len()));
        }
        if self.services.len() > 1 {
            parts.push(format!("{} service variant(s)", self.services.len()));
        }
        if self.cache_slots.iter().any(Option::is_some) {
            parts.push(format!("{} cache configuration(s)", self.cache_slots.len()));
        }
        if self.limiter_slots.iter().any(Option::is_some) {
            parts.push(format!(
                "{} limiter configuration(s)",
                self.limiter_slots.len()
            ));
        }
        parts.push(format!("{} replication(s)", self.meta.replications));
        parts.join(" x ")
    }

    /// How many runs [`Experiment::runs`] gives, without building them.
    pub fn run_count(&self) -> u64 {
        [
            self.workloads.len(),
            self.loads.len(),
            self.services.len().max(1),
            self.cache_slots.len(),
            self.limiter_slots.len(),
        ]
        .into_iter()
        .fold(self.meta.replications, |n, k| n.saturating_mul(k as u64))
    }

    /// One run of each configuration (its first replication), made as
    /// they are asked for: a sweep of 10^9 replications is one item.
    fn configurations(&self) -> impl Iterator<Item = Run> + '_ {
        let replications = self.meta.replications;
        (0..self.run_count() / replications).map(move |c| self.run(c * replications))
    }

    /// Run `index` in run order, without listing the others: run order is
    /// a mixed-radix number (workload variant, load level, service variant,
    /// cache choice, limiter choice, replication; the last fastest), so a
    /// run is its digits.
    pub fn run(&self, index: u64) -> Run {
        let mut rest = index;
        let mut digit = |n: u64| {
            let d = rest % n;
            rest /= n;
            d
        };
        let replication = digit(self.meta.replications);
        let limiter = self.limiter_slots[digit(self.limiter_slots.len() as u64) as usize];
        let cache = self.cache_slots[digit(self.cache_slots.len() as u64) as usize];
        let service = digit(self.services.len().max(1) as u64) as usize;
        let load = digit(self.loads.len() as u64) as usize;
        let workload = digit(self.workloads.len() as u64) as usize;
        Run {
            index: index as usize,
            workload,
            load,
            service: (!self.services.is_empty()).then_some(service),
            cache,
            limiter,
            replication,
        }
    }

    /// Every run, in run order (for experiments known to be small).
    pub fn runs(&self) -> Vec<Run> {
        (0..self.run_count()).map(|i| self.run(i)).collect()
    }

    /// The workload variant `run` replays.
    pub fn workload_of(&self, run: &Run) -> &Workload {
        &self.workloads[run.workload]
    }

    /// The load level `run` sends at.
    pub fn load_of(&self, run: &Run) -> &LoadChoice {
        &self.loads[run.load]
    }

    /// The service `run` goes through, if the experiment models one.
    pub fn service_of(&self, run: &Run) -> Option<&ServiceChoice> {
        run.service.map(|s| &self.services[s])
    }

    /// The cache choice of `run`; None without a cache.
    pub fn cache_of(&self, run: &Run) -> Option<&CacheChoice> {
        run.cache.map(|c| &self.caches[c])
    }

    /// The limiter choice of `run`; None without a limiter.
    pub fn limiter_of(&self, run: &Run) -> Option<&LimiterChoice> {
        run.limiter.map(|l| &self.limiters[l])
    }

    /// The swept values that chose `run`, by their full name: its
    /// workload's first, then its load's, service's, cache's and limiter's.
    pub fn swept_values(&self, run: &Run) -> impl Iterator<Item = &(String, String)> {
        (self.workload_of(run).dims.iter())
            .chain(&self.load_of(run).dims)
            .chain(self.service_of(run).into_iter().flat_map(|s| &s.dims))
            .chain(self.cache_of(run).into_iter().flat_map(|c| &c.dims))
            .chain(self.limiter_of(run).into_iter().flat_map(|l| &l.dims))
    }

    /// Seed of the service's random streams (service times, round trips):
    /// shared by every cache and limiter at one load level and replication,
    /// so they are compared on the same dice.
    pub fn service_seed(&self, run: &Run) -> u64 {
        let id = format!("load|{}", self.load_of(run).identity);
        derive_seed(self.workload_seed(run.workload, run.replication), &id)
    }

    /// Seed of a workload variant's replication: independent of the cache, so
    /// every cache sees identical requests.
    pub fn workload_seed(&self, workload: usize, replication: u64) -> u64 {
        let id = format!("{}#{replication}", self.workloads[workload].identity);
        derive_seed(self.meta.seed, &id)
    }

    /// Seed of a run, for randomized policies.
    pub fn run_seed(&self, run: &Run) -> u64 {
        let cache = self.cache_of(run).map_or("none", |c| c.identity.as_str());
        let id = match self.limiter_of(run) {
            None => format!("{cache}|{}", run.replication),
            Some(l) => format!("{cache}|{}|{}", l.identity, run.replication),
        };
        derive_seed(self.workload_seed(run.workload, run.replication), &id)
    }

    /// Names of the swept dimensions, in file order, for table columns:
    /// all but those in [`OWN_COLUMNS`].
    pub fn swept_dims(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let all = self
            .workloads
            .iter()
            .flat_map(|w| &w.dims)
            .chain(self.loads.iter().flat_map(|l| &l.dims))
            .chain(self.services.iter().flat_map(|s| &s.dims))
            .chain(self.caches.iter().flat_map(|c| &c.dims))
            .chain(self.limiters.iter().flat_map(|l| &l.dims));
        for (name, _) in all {
            if !names.contains(name) && !OWN_COLUMNS.contains(&name.as_str()) {
                names.push(name.clone());
            }
        }
        names
    }
}

const SECTIONS: [&str; 10] = [
    "experiment",
    "workload",
    "load",
    "cache",
    "limiter",
    "service",
    "topology",
    "report",
    "cost",
    "alert",
];

/// The tables of an array-of-tables section (`[[cache]]`, `[[limiter]]`,
/// `[[load]]`), each expanded into its sweep variants, with the index of
/// the table each came from.
fn choices<'i>(
    name: &str,
    section: &Spanned<DeValue<'i>>,
) -> Result<Vec<(usize, sweep::Variant<'i>)>, Located> {
    let tables = match section.get_ref() {
        DeValue::Array(items) => items.iter().cloned().collect::<Vec<_>>(),
        DeValue::Table(_) => vec![section.clone()],
        _ => {
            return Err(Located::at(
                section.span(),
                format!("`{name}` must be a table ([[{name}]])"),
            ));
        }
    };
    if tables.is_empty() {
        return Err(Located::at(
            section.span(),
            format!("{name}: empty list; give at least one [[{name}]] table"),
        ));
    }
    let mut variants = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        variants.extend(sweep::expand(name, table)?.into_iter().map(|v| (i, v)));
    }
    Ok(variants)
}

/// Whether a choice's `field` is the string "none": no cache, no limiter.
fn is_none(value: &Spanned<DeValue>, field: &str) -> bool {
    match value.get_ref() {
        DeValue::Table(t) => t
            .get(field)
            .is_some_and(|v| matches!(v.get_ref(), DeValue::String(s) if s == "none")),
        _ => false,
    }
}

/// Reads each sweep variant with `read`, in order, into a [`Choice`] whose
/// identity leaves out the fields named in `neutral`.
fn read_choices<'i, T>(
    variants: Vec<sweep::Variant<'i>>,
    neutral: &[&str],
    mut read: impl FnMut(&Spanned<DeValue<'i>>) -> Result<T, Located>,
) -> Result<Vec<Choice<T>>, Located> {
    variants
        .into_iter()
        .map(|v| {
            Ok(Choice {
                spec: read(&v.value)?,
                identity: render_without(v.value.get_ref(), neutral),
                dims: v.dims,
            })
        })
        .collect()
}

/// A stage's choices, and its slots in run order: an index into the
/// choices, or None for leaving the stage out.
type Stage<T> = (Vec<Choice<T>>, Vec<Option<usize>>);

/// Reads the choices of `[[name]]`, where `field = "none"` stands for
/// leaving the stage out.
fn stage_choices<T: DeserializeOwned>(
    name: &str,
    field: &str,
    section: Option<Spanned<DeValue>>,
    check: impl Fn(&T) -> Result<(), ConfigError>,
) -> Result<Stage<T>, Located> {
    let Some(section) = section else {
        return Ok((Vec::new(), vec![None]));
    };
    let mut variants = Vec::new();
    let mut slots = Vec::new();
    for (_, v) in choices(name, &section)? {
        if is_none(&v.value, field) {
            // Its other fields do not matter: one "none" per sweep.
            if !slots.contains(&None) {
                slots.push(None);
            }
            continue;
        }
        slots.push(Some(variants.len()));
        variants.push(v);
    }
    let spans: Vec<Range<usize>> = variants
        .iter()
        .map(|v| field_span(&v.value, field))
        .collect();
    let out = read_choices(variants, &[], |value| deserialize(value.clone()))?;
    // Once every field reads: what the fields mean together, refused at the
    // field naming the choice (so a broken element of a swept list is named).
    for (choice, span) in out.iter().zip(spans) {
        check(&choice.spec).map_err(|m| Located::at(span, m))?;
    }
    Ok((out, slots))
}

/// Reads every section of `source` (read from `path`; trace paths are
/// relative to its folder), with where `[report] baseline` is written, for
/// errors found once the configurations are known.
fn parse_sections(path: &Path, source: &str) -> Result<(Experiment, Range<usize>), Located> {
    let base = path.parent().unwrap_or(Path::new(""));
    let doc = DeTable::parse(source).map_err(toml_error)?;
    let whole = doc.span();
    let doc = doc.into_inner();
    for (key, _) in &doc {
        if !SECTIONS.contains(&key.get_ref().as_ref()) {
            return Err(Located::at(
                key.span(),
                format!(
                    "unknown section `{}`, expected one of: {}",
                    key.get_ref(),
                    SECTIONS.join(", ")
                ),
            ));
        }
    }
    let section = |name: &str| doc.get(name).cloned();
    let meta: Meta = match section("experiment") {
        Some(v) => deserialize(v)?,
        None => deserialize(Spanned::new(whole.clone(), DeValue::Table(DeTable::new())))?,
    };
    if let Some(name) = &meta.name
        && let Err(why) = plain_file_name(name)
    {
        let span = section("experiment").map_or(0..0, |e| field_span(&e, "name"));
        return Err(Located::at(span, why));
    }
    let report: ReportSpec = section("report")
        .map(deserialize)
        .transpose()?
        .unwrap_or_default();
    let baseline_span = section("report").map_or(0..0, |r| field_span(&r, "baseline"));
    let cost: Option<CostSpec> = section("cost").map(deserialize).transpose()?;

    let workload = section("workload").ok_or_else(|| {
        Located::at(
            0..0,
            "missing [workload] section: say what traffic to replay",
        )
    })?;
    // Traces that are not plain files (a pipe such as `<(zcat ...)`), by
    // where their path is written: they can be read only once.
    let mut read_once = Vec::new();
    let variants = sweep::expand("workload", &workload)?;
    let workloads = read_choices(variants, STREAM_NEUTRAL, |value| {
        let spec = workload_spec(value.clone(), base)?;
        if let WorkloadSpec::Trace(t) = &spec {
            // Every variant of a sweep, before any run. Metadata only:
            // opening a pipe here would take bytes from the run.
            let path_span = field_span(value, "path");
            let file = std::fs::metadata(&t.path).map_err(|e| {
                let why = format!("cannot read trace {}: {e}", t.path.display());
                Located::at(path_span.clone(), why)
            })?;
            if !file.is_file() {
                read_once.push(path_span);
            }
        }
        Ok(spec)
    })?;

    let (caches, cache_slots) = stage_choices(
        "cache",
        "policy",
        section("cache"),
        |spec: &CacheSpec| {
            match spec.capacity {
            // Caught here, so `validate` refuses it, not the run.
            CapacitySpec::Bytes(_) if spec.ignore_size => Err(format!(
                "capacity {} is in bytes, but object sizes are ignored (ignore_size): give a number of objects or a percentage",
                spec.capacity
            ).into()),
            _ => Ok(()),
        }
        },
    )?;
    let (limiters, limiter_slots) = stage_choices(
        "limiter",
        "algorithm",
        section("limiter"),
        |spec: &LimiterSpec| check_limiter(spec, section("service").is_some()),
    )?;
    let loads = match section("load") {
        None => vec![LoadChoice {
            spec: LoadSpec {
                name: None,
                load: Default::default(),
            },
            dims: vec![],
            identity: String::new(),
            table: 0,
        }],
        Some(section) => choices("load", &section)?
            .into_iter()
            .map(|(table, v)| {
                Ok(LoadChoice {
                    identity: render(v.value.get_ref()),
                    spec: deserialize(v.value)?,
                    dims: v.dims,
                    table,
                })
            })
            .collect::<Result<_, Located>>()?,
    };
    let reads = meta.replications.saturating_mul(loads.len() as u64);
    if let Some(span) = read_once.into_iter().next()
        && reads > 1
    {
        return Err(Located::at(
            span,
            format!(
                "this trace is not a plain file (a pipe?), so it can be read only once, but the experiment reads it {reads} times (replications x load levels): save it to a file first"
            ),
        ));
    }
    if section("service").is_none()
        && cache_slots
            .iter()
            .chain(&limiter_slots)
            .all(Option::is_none)
    {
        return Err(Located::at(
            0..0,
            "nothing to simulate: add [[cache]] or [[limiter]] choices to compare, or a [service] to measure",
        ));
    }
    let services = match section("service") {
        None => Vec::new(),
        Some(section) => sweep::expand("service", &section)?
            .into_iter()
            .map(|v| {
                Ok(ServiceChoice {
                    identity: render(v.value.get_ref()),
                    spec: deserialize(v.value)?,
                    topology: None,
                    dims: v.dims,
                })
            })
            .collect::<Result<Vec<_>, Located>>()?,
    };
    let services = match section("topology") {
        None => services,
        Some(section) if services.is_empty() => {
            return Err(Located::at(
                section.span(),
                "a topology needs the origin behind its locations: add a [service] (servers, service_time)",
            ));
        }
        Some(section) => {
            let slots = limiters
                .iter()
                .find(|l| crate::limiter::build(&l.spec).is_ok_and(|k| k.holds_slots()));
            with_topologies(services, &section, slots.map(|l| l.spec.label()))?
        }
    };
    if let Some(section) = section("load") {
        let cache = cache_slots.iter().any(Option::is_some);
        let limiter = limiter_slots.iter().any(Option::is_some);
        let variants: Vec<Option<&ServiceSpec>> = if services.is_empty() {
            vec![None]
        } else {
            services.iter().map(|s| Some(&s.spec)).collect()
        };
        let closed = loads
            .iter()
            .any(|l| matches!(l.spec.load, crate::service::Load::Closed { think: 0, .. }));
        let stalled = variants
            .into_iter()
            .filter(|_| closed)
            .find_map(|s| crate::service::stalls(s, cache, limiter));
        if let Some(why) = stalled {
            return Err(Located::at(section.span(), why));
        }
    }
    check_spread(&workload, &workloads, &services)?;
    let alerts = alert::parse(section("alert"), section("service").is_some())?;
    let name = meta.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .map_or("experiment".into(), |s| s.to_string_lossy().into_owned())
    });
    let experiment = Experiment {
        path: path.to_path_buf(),
        name,
        meta,
        workloads,
        loads,
        caches,
        cache_slots,
        limiters,
        limiter_slots,
        services,
        report,
        cost,
        alerts,
        source: source.to_string(),
    };
    Ok((experiment, baseline_span))
}

/// Every service variant under every `[topology]` variant (the topology's
/// dimensions vary fastest).
/// `holds_slots` names a limiter that holds a slot per request, which a
/// lagged scope cannot share (its slots are released where they are taken).
fn with_topologies(
    services: Vec<ServiceChoice>,
    section: &Spanned<DeValue>,
    holds_slots: Option<String>,
) -> Result<Vec<ServiceChoice>, Located> {
    let mut topologies = Vec::new();
    for v in sweep::expand("topology", section)? {
        let spec: TopologySpec = deserialize(v.value.clone())?;
        spec.check()
            .map_err(|(field, why)| Located::at(topology_span(&v.value, &field), why))?;
        if let Some(limiter) = &holds_slots
            && spec.limit_scope == topology::Scope::Lagged
        {
            return Err(Located::at(
                field_span(&v.value, "limit_scope"),
                format!(
                    "{limiter} holds a slot per request until it completes, and a lagged scope cannot share slots between locations: use limit_scope = \"location\" or \"global\" for it"
                ),
            ));
        }
        topologies.push((spec, v.dims, render(v.value.get_ref())));
    }
    let mut out = Vec::new();
    for s in services {
        for (spec, dims, identity) in &topologies {
            out.push(ServiceChoice {
                spec: s.spec.clone(),
                topology: Some(spec.clone()),
                dims: s.dims.iter().chain(dims).cloned().collect(),
                identity: format!("{}|{identity}", s.identity),
            });
        }
    }
    Ok(out)
}

/// Where a [`topology::Field`] is written in the `[topology]` table `value`.
fn topology_span(value: &Spanned<DeValue>, field: &topology::Field) -> Range<usize> {
    let nth = |list: &str, i: usize| match value.get_ref() {
        DeValue::Table(t) => match t.get(list).map(|l| l.get_ref()) {
            Some(DeValue::Array(items)) => items.get(i).cloned(),
            _ => None,
        },
        _ => None,
    };
    match *field {
        topology::Field::Top(name) => field_span(value, name),
        topology::Field::Location(i, name) => {
            nth("location", i).map_or_else(|| value.span(), |l| field_span(&l, name))
        }
        topology::Field::Region(i) => {
            nth("region", i).map_or_else(|| value.span(), |r| field_span(&r, "name"))
        }
    }
}

/// An attacker spreads over locations that exist: every workload variant's
/// `spread` fits every topology variant.
fn check_spread(
    section: &Spanned<DeValue>,
    workloads: &[Workload],
    services: &[ServiceChoice],
) -> Result<(), Located> {
    let Some(spread) = workloads.iter().map(Workload::spread).max() else {
        return Ok(());
    };
    let fewest = services
        .iter()
        .filter_map(|s| s.topology.as_ref())
        .map(TopologySpec::location_count)
        .min();
    let why = match fewest {
        _ if spread == 1 => return Ok(()),
        None => "abusive clients spread over locations only under a [topology]".to_string(),
        Some(n) if spread > n => {
            format!(
                "an attacker can spread over at most the {n} location(s) of the topology, found {spread}"
            )
        }
        Some(_) => return Ok(()),
    };
    let clients = match section.get_ref() {
        DeValue::Table(t) => t.get("clients").cloned(),
        _ => None,
    };
    let span = clients.map_or_else(|| section.span(), |c| field_span(&c, "spread"));
    Err(Located::at(span, why))
}

/// The experiment's name names its output directory under outputs/, so it
/// must be one plain file name: no separator, no `..`, nothing hidden.
fn plain_file_name(name: &str) -> Result<(), ConfigError> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(format!(
            "name {name:?} names the output directory outputs/<name>, so it must be a plain file name: letters, digits, '-', '_' or spaces, no '/' and not starting with '.'"
        ).into());
    }
    Ok(())
}

/// Builds the limiter `spec` describes, as each run will, so that its
/// parameters are refused before any run starts.
fn check_limiter(spec: &LimiterSpec, has_service: bool) -> Result<(), ConfigError> {
    let limiter = crate::limiter::build(spec)?;
    if limiter.holds_slots() && !has_service {
        return Err(format!("{}: {}", spec.label(), crate::service::NEEDS_ORIGIN).into());
    }
    Ok(())
}

/// Reads a `[workload]` table by its `kind` (default `synthetic`).
fn workload_spec(value: Spanned<DeValue>, base: &Path) -> Result<WorkloadSpec, Located> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        return Err(Located::at(span, "`workload` must be a table"));
    };
    let kind = match table.remove("kind") {
        None => "synthetic".to_string(),
        Some(v) => match v.get_ref() {
            DeValue::String(s) => s.to_string(),
            _ => {
                return Err(Located::at(
                    v.span(),
                    "`kind` must be a string such as \"synthetic\"",
                ));
            }
        },
    };
    let rest = Spanned::new(span.clone(), DeValue::Table(table));
    match kind.as_str() {
        "synthetic" => Ok(WorkloadSpec::Synthetic(deserialize(rest)?)),
        "trace" => trace_spec(rest, base),
        other => Err(Located::at(
            span,
            format!("unknown workload kind {other:?}, expected \"synthetic\" or \"trace\""),
        )),
    }
}

/// `kind = "trace"`: `path` (relative to `base`) plus the trace options.
fn trace_spec(value: Spanned<DeValue>, base: &Path) -> Result<WorkloadSpec, Located> {
    let span = value.span();
    let DeValue::Table(mut table) = value.into_inner() else {
        return Err(Located::at(span, "`workload` must be a table"));
    };
    let path = table.remove("path").ok_or_else(|| {
        Located::at(
            span.clone(),
            "a trace workload needs `path`, the trace file",
        )
    })?;
    let path = base.join(deserialize::<PathBuf>(path)?);
    let options: TraceOptions = deserialize(Spanned::new(span.clone(), DeValue::Table(table)))?;
    // Options the format cannot honour are refused here, so `validate`
    // catches them too (a format that cannot be guessed is left to the read).
    if let Ok(format) = options.format_for(&path) {
        options
            .check_applies(format)
            .map_err(|m| Located::at(span, m))?;
    }
    Ok(WorkloadSpec::Trace(TraceSpec { path, options }))
}

/// Where `field` of a table is written, or the whole value's place.
fn field_span(value: &Spanned<DeValue>, field: &str) -> Range<usize> {
    match value.get_ref() {
        DeValue::Table(t) => t.get(field).map(|f| f.span()),
        _ => None,
    }
    .unwrap_or_else(|| value.span())
}

fn deserialize<T: DeserializeOwned>(value: Spanned<DeValue>) -> Result<T, Located> {
    let span = value.span();
    T::deserialize(ValueDeserializer::from(value)).map_err(|e| {
        let span = e.span().unwrap_or(span);
        Located::at(span, e.message().trim().to_string())
    })
}

fn toml_error(e: toml::de::Error) -> Located {
    Located::at(e.span().unwrap_or(0..0), e.message().trim().to_string())
}
