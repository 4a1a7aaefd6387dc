//! `edgesim limit TRACE`: replays a recorded trace or access log through one
//! limiter, prints what it would have done, and optionally writes every
//! decision, so users can see exactly which of their requests would have
//! been rejected.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use edgesim::engine::SimTime;
use edgesim::io::{refuse_overwrite, write_atomic};
use edgesim::limiter::{self, KeyBy, KeyedLimiter, LimiterSpec, check_burst};
use edgesim::service::{self, ServiceSpec, Stages};
use edgesim::units::{Duration, Rate, format_bytes, parse_duration, parse_rate};
use edgesim::workload::trace::{Trace, TraceOptions};

use super::{emit, read_trace};
use edgesim::error::ConfigError;

/// Replay a trace or access log through one limiter and print the summary.
#[derive(clap::Args)]
pub struct LimitArgs {
    /// The trace or access log to replay (format from --format or the
    /// extension; see docs/traces.md).
    pub trace: PathBuf,
    /// The algorithm, with its own parameters in parentheses, e.g. gcra,
    /// token-bucket, sliding-window-counter(count=all), aimd(timeout=200ms).
    /// `edgesim limiters` lists them all; see docs/limiters.md.
    #[arg(long)]
    pub algorithm: String,
    /// Sustained rate per key, e.g. 10/s or 600/min.
    #[arg(long, value_parser = rate)]
    pub rate: Option<Rate>,
    /// Requests admitted back to back from idle (at least 1; nginx burst=B is
    /// --burst B+1).
    #[arg(long, allow_negative_numbers = true, value_parser = burst)]
    pub burst: Option<u32>,
    /// What the limit applies to: client, client+route or global.
    #[arg(long, default_value = "client", value_parser = key)]
    pub key: KeyBy,
    /// Window of the window algorithms [default: 1s; 60s for
    /// workshop-adaptive]. workshop-adaptive also defaults the rate (100
    /// per window) and the burst (20).
    #[arg(long, value_parser = window)]
    pub window: Option<Duration>,
    /// Concurrency limiters: servers of the origin that completes requests
    /// (at least 1, as in [service]).
    #[arg(long, requires = "service_time", value_parser = clap::value_parser!(u64).range(1..))]
    pub servers: Option<u64>,
    /// Concurrency limiters: how long each request takes at the origin.
    #[arg(long, requires = "servers", value_parser = window)]
    pub service_time: Option<Duration>,
    /// Write one line per request, in input order, to this CSV file:
    /// index,time_ns,key,allowed (allowed is 1 or 0).
    #[arg(long)]
    pub decisions: Option<PathBuf>,
    #[command(flatten)]
    pub opts: TraceOptions,
}

fn rate(text: &str) -> Result<Rate, ConfigError> {
    parse_rate(text).map(Rate)
}

fn burst(text: &str) -> Result<u32, ConfigError> {
    let n: i64 = text
        .parse()
        .map_err(|_| format!("expected a whole number of requests, found {text:?}"))?;
    check_burst(n)
}

fn key(text: &str) -> Result<KeyBy, ConfigError> {
    text.parse()
}

fn window(text: &str) -> Result<Duration, ConfigError> {
    match parse_duration(text) {
        Ok(0) => Err("must be longer than zero".into()),
        Ok(ns) => Ok(Duration(ns)),
        Err(e) => Err(e),
    }
}

/// Runs the command.
pub fn run(args: LimitArgs) -> Result<()> {
    let spec = LimiterSpec {
        window: args.window,
        ..LimiterSpec::new(
            &args.algorithm,
            args.rate.map(|r| r.0),
            args.burst,
            args.key,
        )
        .map_err(|e| anyhow!("--algorithm: {e}"))?
    };
    let mut limiter = limiter::build(&spec)?;
    let service = args
        .servers
        .zip(args.service_time)
        .map(|(servers, time)| ServiceSpec::fixed(servers, time.0));
    if limiter.holds_slots() && service.is_none() {
        bail!(
            "--algorithm {}: this limiter holds a slot per request until it completes: give the origin that completes them with --servers and --service-time",
            args.algorithm
        );
    }
    if let Some(decisions) = &args.decisions {
        refuse_overwrite(&args.trace, decisions, "--decisions")?;
    }
    let route_names = args.decisions.is_some() && spec.key == KeyBy::ClientRoute;
    let log = read_trace(&args.trace, &args.opts, route_names)?;
    if log.clients.is_empty() && !log.requests.is_empty() && spec.key != KeyBy::Global {
        bail!(
            "{}: --key {} needs a client field, but the trace has none: name it with --client-column (CSV, JSON lines), or limit with --key global",
            args.trace.display(),
            spec.key
        );
    }
    // The same pipeline as `edgesim run`: requests in time order (ties in
    // file order), decisions given back in file order.
    let stages = Stages {
        limiter: Some(&mut limiter),
        caches: Vec::new(),
        layout: None,
        service: service.as_ref(),
        routes: &[],
        window: edgesim::engine::SECOND,
    };
    let outcome = service::simulate_in_time_order(&log.requests, stages, 0)?;
    let admitted: Vec<bool> = outcome.decisions.iter().map(|d| d.admitted()).collect();
    let accuracy = service::in_time_order(&log.requests, &admitted, |r, a| {
        limiter::measure_accuracy(&spec, r, a)
    })?;

    let mut summary = summarize(&args.trace, &spec, &log, &admitted, &outcome);
    if let Some(a) = accuracy {
        let _ = writeln!(
            summary,
            "  against an exact sliding log: {} request(s) decided differently ({:.4}%), mean rate error {:.2}%",
            a.misclassified,
            a.misclassified_ratio() * 100.0,
            a.mean_rate_error * 100.0
        );
    }
    if let Some(path) = &args.decisions {
        write_decisions(path, &log, &limiter, &admitted)?;
        let _ = writeln!(summary, "  decisions written to {}", path.display());
    }
    emit(&summary)
}

fn seconds(ns: SimTime) -> String {
    format!("{:.3}s", ns as f64 / 1e9)
}

fn summarize(
    trace: &Path,
    spec: &LimiterSpec,
    log: &Trace,
    admitted: &[bool],
    outcome: &service::Outcome,
) -> String {
    // Without a client field every request is client 0, with no name: the
    // per-client lines would describe nobody.
    let named = !log.clients.is_empty();
    let mut clients: Vec<Client> = (0..log.clients.len().max(1))
        .map(|_| Client {
            requests: 0,
            denied: 0,
            first: SimTime::MAX,
            first_denied: None,
        })
        .collect();
    for (req, &ok) in log.requests.iter().zip(admitted) {
        let c = &mut clients[req.client as usize];
        c.requests += 1;
        c.first = c.first.min(req.time);
        if !ok {
            c.denied += 1;
            let t = c.first_denied.get_or_insert(req.time);
            *t = (*t).min(req.time);
        }
    }
    let n = admitted.len() as u64;
    let allowed = admitted.iter().filter(|&&a| a).count() as u64;
    let delayed = outcome
        .decisions
        .iter()
        .filter(|d| matches!(d, limiter::Decision::Delay { .. }))
        .count();
    let first = log.requests.iter().map(|r| r.time).min().unwrap_or(0);
    let span = log.requests.iter().map(|r| r.time).max().unwrap_or(0) - first;
    let pct = |x: u64| edgesim::metrics::ratio(x, n) * 100.0;
    let mut s = String::new();
    let from = if named {
        format!("from {} client(s)", log.clients.len())
    } else {
        "(clients not recorded)".into()
    };
    let _ = writeln!(
        s,
        "{}: {n} requests {from} over {}",
        trace.display(),
        seconds(span)
    );
    let _ = writeln!(s, "{}, key {}", spec.label(), spec.key);
    let _ = writeln!(
        s,
        "  allowed {allowed} ({:.2}%), of which delayed {delayed}; denied {} ({:.2}%)",
        pct(allowed),
        n - allowed,
        pct(n - allowed)
    );
    if named {
        clients_denied(&mut s, log, &clients);
    }
    let _ = writeln!(
        s,
        "  peak keys {}, limiter state {}",
        outcome.peak_keys,
        format_bytes(outcome.peak_state_bytes as u64)
    );
    s
}

/// Per-client statistics of a limiter's denials.
struct Client {
    requests: u64,
    denied: u64,
    first: SimTime,
    first_denied: Option<SimTime>,
}

/// How many clients were denied, how soon, and the most denied by name.
fn clients_denied(s: &mut String, log: &Trace, clients: &[Client]) {
    let blocked: Vec<SimTime> = clients
        .iter()
        .filter_map(|c| c.first_denied.map(|d| d - c.first))
        .collect();
    let _ = write!(
        s,
        "  clients denied at least once: {} of {}",
        blocked.len(),
        log.clients.len()
    );
    if !blocked.is_empty() {
        let mean = blocked.iter().map(|&b| b as u128).sum::<u128>() / blocked.len() as u128;
        let max = blocked.iter().copied().max().unwrap_or(0);
        let _ = write!(
            s,
            "; first denial after their first request: mean {}, max {}",
            seconds(mean as SimTime),
            seconds(max)
        );
    }
    s.push('\n');
    let mut worst: Vec<(usize, &Client)> = clients
        .iter()
        .enumerate()
        .filter(|(_, c)| c.denied > 0)
        .collect();
    worst.sort_by(|a, b| b.1.denied.cmp(&a.1.denied).then(a.0.cmp(&b.0)));
    if !worst.is_empty() {
        let top: Vec<String> = worst
            .iter()
            .take(5)
            .map(|(i, c)| format!("{} ({} of {})", log.clients[*i], c.denied, c.requests))
            .collect();
        let _ = writeln!(s, "  most denied: {}", top.join(", "));
    }
}

/// `index,time_ns,key,allowed` per request in input order; the key is what
/// the limiter counted the request under: the client, the client and the
/// route (its text, or its hash when the format has none), or "global".
fn write_decisions(
    path: &Path,
    log: &Trace,
    limiter: &KeyedLimiter,
    admitted: &[bool],
) -> Result<()> {
    let mut out = String::with_capacity(admitted.len() * 32);
    out.push_str("index,time_ns,key,allowed\n");
    for (i, (req, &ok)) in log.requests.iter().zip(admitted).enumerate() {
        let client = log
            .clients
            .get(req.client as usize)
            .map_or("", String::as_str);
        let key = match limiter.key_by() {
            KeyBy::Client => client.to_string(),
            KeyBy::ClientRoute => match log.key_names.get(&req.key) {
                Some(route) => format!("{client} {route}"),
                None => format!("{client} {:016x}", req.key),
            },
            KeyBy::Global => "global".to_string(),
        };
        let _ = writeln!(out, "{i},{},{},{}", req.time, csv_field(&key), ok as u8);
    }
    write_atomic(path, out.as_bytes()).context("--decisions")
}

/// Quotes a CSV field when it needs it.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
