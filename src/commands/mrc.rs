//! `edgesim mrc TRACE [--size LIST] [--sample RATE | --sample-size N]`:
//! the miss-ratio curve of LRU at many sizes from one pass over the trace
//! (exact, or from a SHARDS sample), as a table, JSON, CSV or a chart. The
//! trace streams (see `trace::Stream`): memory follows the distinct keys,
//! not the requests; a second pass simulates the sizes one pass cannot
//! answer.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use edgesim::cache::mrc::{self, Curve, CurveBuilder, Method, Sampling};
use edgesim::cache::{self, CapacitySpec, Replay};
use edgesim::io::{refuse_overwrite, write_atomic};
use edgesim::metrics::CacheStats;
use edgesim::workload::trace::{self, Stream, TraceOptions};

use super::{Misses, aligned, emit, four_places, report_skipped, unit_name};

#[derive(Args)]
pub struct MrcArgs {
    /// The trace.
    trace: PathBuf,
    /// Cache sizes, comma-separated, all in objects (`1000`) or all in bytes
    /// (`64MiB`), or shares of the working set (`10%`). Default: 100 sizes
    /// spaced evenly on a log scale up to the working set (its objects
    /// with --ignore-size, else its bytes), from a ten-thousandth of it, or
    /// sampled, from ten times the sample's resolution (1/rate objects).
    #[arg(long, value_delimiter = ',')]
    size: Vec<CapacitySpec>,
    /// Estimate from a SHARDS sample of this share of the keys: `0.01` or
    /// `1%`.
    #[arg(long, conflicts_with = "sample_size")]
    sample: Option<String>,
    /// Estimate from a SHARDS sample of at most this many keys (the rate
    /// falls as needed).
    #[arg(long)]
    sample_size: Option<usize>,
    /// Count objects, not bytes (every object has size 1).
    #[arg(long)]
    ignore_size: bool,
    /// Print a JSON array, one object per size.
    #[arg(long)]
    json: bool,
    /// Also write the points as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Also draw the curve to FILE (.png or .svg).
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
    #[command(flatten)]
    opts: TraceOptions,
}

/// One size of the curve; the JSON and CSV field names are documented.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    misses: Misses,
    /// `stack`, `simulated` (both exact) or `sampled` (an estimate).
    method: Method,
}

pub fn run(args: MrcArgs) -> Result<()> {
    let sampling = sampling(&args)?;
    let chart_svg = args.chart.as_deref().map(chart_is_svg).transpose()?;
    for (output, flag) in [(&args.csv, "--csv"), (&args.chart, "--chart")] {
        if let Some(output) = output {
            refuse_overwrite(&args.trace, output, flag)?;
        }
    }
    let needs_working_set =
        args.size.is_empty() || args.size.iter().any(CapacitySpec::needs_working_set);
    // Sizes one pass cannot answer take a second pass, which a pipe cannot
    // give: it is spilled to be read again.
    let pipe = !std::fs::metadata(&args.trace).is_ok_and(|m| m.is_file());
    let spill = needs_working_set || (pipe && matches!(sampling, Sampling::All));
    let mut stream = Stream::open(trace::open(&args.trace, &args.opts)?, spill, false)?;
    let working_set = stream.working_set();
    let (grid, count_objects) = if args.size.is_empty() {
        let grid = mrc::default_grid(working_set, args.ignore_size, sampling);
        (grid, args.ignore_size)
    } else {
        mrc::resolve_sizes(&args.size, working_set, args.ignore_size).context("--size")?
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .context("cannot start the worker threads")?;
    let mut builder = CurveBuilder::new(&grid, count_objects, sampling);
    stream.replay_each(&pool, std::slice::from_mut(&mut builder), CurveBuilder::add)?;
    report_skipped(&args.trace, stream.skipped());
    let sizes = builder.to_simulate();
    let mut runs = Vec::with_capacity(sizes.len());
    for &size in &sizes {
        let lru = cache::build(&"lru".parse()?, size, count_objects, 0)?;
        runs.push((lru, Replay::new(count_objects)));
    }
    if !runs.is_empty() {
        stream.rewind()?;
        stream.replay_each(&pool, &mut runs, |(lru, state), batch| {
            lru.replay_dyn(batch, state)
        })?;
    }
    let simulated: Vec<CacheStats> = runs.iter().map(|(_, state)| state.stats).collect();
    let curve = builder.finish(&simulated)?;
    explain(&args.trace, &curve);
    let rows = rows(&curve);
    if let Some(path) = &args.csv {
        write_csv(path, &rows)?;
    }
    if let (Some(path), Some(svg)) = (&args.chart, chart_svg) {
        let name = args.trace.file_name().unwrap_or_default().to_string_lossy();
        let image = edgesim::report::mrc_chart(&curve, &name, svg)?;
        write_atomic(path, &image).context("--chart")?;
    }
    if args.json {
        emit(&(serde_json::to_string_pretty(&rows)? + "\n"))
    } else {
        emit(&table(&rows))
    }
}

/// The sampling the flags ask for.
fn sampling(args: &MrcArgs) -> Result<Sampling> {
    Ok(match (&args.sample, args.sample_size) {
        (Some(rate), _) => Sampling::rate(rate).context("--sample")?,
        (None, Some(0)) => bail!("--sample-size must be at least 1"),
        (None, Some(keys)) => Sampling::Keys(keys),
        (None, None) => Sampling::All,
    })
}

/// Whether `--chart` names an SVG (else a PNG); refused before any work
/// when it is neither.
fn chart_is_svg(path: &Path) -> Result<bool> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => Ok(true),
        Some("png") => Ok(false),
        _ => bail!("--chart {}: name a .png or .svg file", path.display()),
    }
}

/// Says on stderr which sizes were simulated or estimated, and why.
fn explain(path: &Path, curve: &Curve) {
    let simulated = curve
        .points
        .iter()
        .filter(|p| p.method == Method::Simulated)
        .count();
    if simulated > 0 {
        eprintln!(
            "{}: {simulated} of {} sizes simulated, where one pass could differ from LRU: {}",
            path.display(),
            curve.points.len(),
            curve.exactness
        );
    }
    if curve.points.iter().any(|p| p.method == Method::Sampled) {
        eprintln!(
            "{}: estimated from {} of {} requests (SHARDS, rate {:.6} at the end)",
            path.display(),
            curve.sampled,
            curve.requests,
            curve.rate
        );
    }
}

fn rows(curve: &Curve) -> Vec<Row> {
    curve
        .points
        .iter()
        .map(|p| Row {
            misses: Misses {
                size: p.size,
                unit: unit_name(curve.count_objects),
                requests: curve.requests,
                misses: p.misses,
                miss_ratio: p.miss_ratio,
                byte_misses: p.byte_misses,
                byte_miss_ratio: p.byte_miss_ratio,
            },
            method: p.method,
        })
        .collect()
}

/// The table's columns.
fn header() -> Vec<&'static str> {
    Misses::COLUMNS.into_iter().chain(["method"]).collect()
}

/// A row's cells, its ratios written by `ratio`.
fn cells(row: &Row, ratio: fn(f64) -> String) -> Vec<String> {
    let method = row.method.name().to_string();
    row.misses
        .cells(ratio)
        .into_iter()
        .chain([method])
        .collect()
}

fn write_csv(path: &Path, rows: &[Row]) -> Result<()> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(header())?;
    for row in rows {
        out.write_record(cells(row, |ratio| ratio.to_string()))?;
    }
    write_atomic(path, &out.into_inner()?).context("--csv")
}

/// Rows as an aligned text table.
fn table(rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cells(r, four_places)).collect();
    aligned(&header(), 0, &cells)
}
