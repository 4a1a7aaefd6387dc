//! report.md says what results.csv and results.json hold: every number of
//! its configuration and baseline tables is re-read and compared, for every
//! example experiment; and the decisions the examples promise hold.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

fn run(example: &Path, out: &Path) {
    common::edgesim()
        .arg("run")
        .arg(example)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// The rows of the markdown table under `heading`: header cells, then rows.
fn table(md: &str, heading: &str) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let start = md.find(&format!("\n{heading}\n"))?;
    let lines: Vec<&str> = md[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect();
    let cells = |l: &str| -> Vec<String> {
        l.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect()
    };
    Some((
        cells(lines[0]),
        lines[2..].iter().map(|l| cells(l)).collect(),
    ))
}

/// The metric a column header names, as results.json calls it.
fn metric(header: &str) -> Option<&'static str> {
    Some(match header {
        "hit ratio" => "hit_ratio",
        "byte hit ratio" => "byte_hit_ratio",
        "p50 (ms)" => "p50",
        "p95 (ms)" => "p95",
        "p99 (ms)" => "p99",
        "throughput (req/s)" => "throughput",
        "error ratio" => "error_ratio",
        "origin requests" => "origin_requests",
        "origin bytes" => "origin_bytes",
        "legit denied" => "legit_denied",
        "abusive allowed" => "abusive_allowed",
        "limiter state" => "state_bytes",
        "cost / month" => "cost_per_month",
        _ => return None,
    })
}

/// A printed value and half the step of its last digit: "0.4123" ->
/// (0.4123, 0.00005); "12.5%" -> (0.125, 0.0005); "1.5MiB" -> bytes.
fn number(text: &str) -> (f64, f64) {
    let text = text
        .split(" ± ")
        .next()
        .unwrap()
        .split(" (")
        .next()
        .unwrap();
    let text = text.trim_start_matches('+').replace('$', "");
    let (sign, text) = match text.strip_prefix('-') {
        Some(t) => (-1.0, t.to_string()),
        None => (1.0, text),
    };
    let step = |digits: &str| {
        let decimals = digits.split_once('.').map_or(0, |(_, d)| d.len());
        0.5 * 10f64.powi(-(decimals as i32))
    };
    for (unit, scale) in [
        ("TiB", 1u64 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ] {
        if let Some(digits) = text.strip_suffix(unit) {
            let s = scale as f64;
            let v: f64 = digits
                .parse()
                .unwrap_or_else(|_| panic!("not a size: {text:?}"));
            return (sign * v * s, step(digits) * s);
        }
    }
    if let Some(digits) = text.strip_suffix('%') {
        return (
            sign * digits.parse::<f64>().unwrap() / 100.0,
            step(digits) / 100.0,
        );
    }
    (
        sign * text
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("not a number: {text:?}")),
        step(&text),
    )
}

fn close(printed: &str, exact: f64, what: &str) {
    let (value, half_step) = number(printed);
    assert!(
        (value - exact).abs() <= half_step * 1.000001 + exact.abs() * 1e-12,
        "{what}: report.md says {printed}, results.json {exact}"
    );
}

/// Column `name` of results.csv, by run index.
fn csv_column(out: &Path, name: &str) -> Option<Vec<f64>> {
    let mut reader = csv::Reader::from_path(out.join("results.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = headers.iter().position(|h| h == name)?;
    Some(
        reader
            .records()
            .map(|r| r.unwrap()[at].parse::<f64>().unwrap_or(f64::NAN))
            .collect(),
    )
}

/// results.csv's column for a configuration metric, where it has one.
fn csv_name(metric: &str) -> Option<&'static str> {
    Some(match metric {
        "hit_ratio" => "hit_ratio",
        "byte_hit_ratio" => "byte_hit_ratio",
        "p50" => "latency_p50_ms",
        "p95" => "latency_p95_ms",
        "p99" => "latency_p99_ms",
        "throughput" => "throughput_rps",
        "error_ratio" => "error_ratio",
        "legit_denied" => "legit_denied_ratio",
        "abusive_allowed" => "abusive_allowed_ratio",
        "state_bytes" => "peak_state_bytes",
        _ => return None,
    })
}

#[test]
fn every_number_in_the_report_is_in_the_results() {
    for example in examples() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        run(&example, &out);
        let name = example.file_stem().unwrap().to_string_lossy().to_string();
        let md = fs::read_to_string(out.join("report.md")).unwrap();
        let json = common::results_json(&out);
        let configs = json["configurations"].as_array().unwrap();

        // The configurations table: one row per configuration, in order.
        let (header, rows) = table(&md, "## Configurations").expect("a configurations table");
        assert_eq!(
            rows.len(),
            configs.len(),
            "{name}: one row per configuration"
        );
        let mut graded = false;
        for (row, config) in rows.iter().zip(configs) {
            let label = row[0].trim_matches('`');
            assert!(
                label.starts_with(config["label"].as_str().unwrap()),
                "{name}: {label}"
            );
            for (cell, head) in row.iter().zip(&header).skip(1) {
                let Some(metric) = metric(head) else { continue };
                let m = &config["metrics"][metric];
                if cell == "–" {
                    assert!(m.is_null(), "{name} {label} {metric}: printed as absent");
                    continue;
                }
                close(
                    cell,
                    m["mean"].as_f64().unwrap(),
                    &format!("{name} {label} {metric}"),
                );
                // And results.json's mean is the mean of results.csv's rows.
                if let Some(column) = csv_name(metric).and_then(|c| csv_column(&out, c)) {
                    let runs: Vec<usize> = config["runs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_u64().unwrap() as usize)
                        .collect();
                    let mean = runs.iter().map(|&r| column[r]).sum::<f64>() / runs.len() as f64;
                    let exact = m["mean"].as_f64().unwrap();
                    if mean.is_nan() {
                        // Empty in results.csv: no cache (hit ratio 0) or
                        // no limiter (nobody denied).
                        assert_eq!(exact, 0.0, "{name} {label} {metric}");
                        continue;
                    }
                    assert!(
                        (mean - exact).abs() <= 1e-9 * exact.abs().max(1.0),
                        "{name} {label} {metric}: csv mean {mean}, json {exact}"
                    );
                }
            }
            let grades = row.last().unwrap();
            graded |= ["excellent", "good", "fair", "poor"]
                .iter()
                .any(|g| grades.contains(g));
        }
        assert!(graded, "{name}: grades against the baseline in report.md");

        // The baseline table: each change is the difference of two means.
        if let Some((header, rows)) = table(&md, "## Against the baseline") {
            let by_label = |l: &str| {
                configs
                    .iter()
                    .find(|c| {
                        let env = c["environment"].as_str().unwrap();
                        let full = match env {
                            "" => c["label"].as_str().unwrap().to_string(),
                            e => format!("{} @ {e}", c["label"].as_str().unwrap()),
                        };
                        full == l
                    })
                    .unwrap_or_else(|| panic!("{name}: no configuration {l}"))
            };
            for row in rows {
                let config = by_label(row[0].trim_matches('`'));
                let base = by_label(row[1].trim_matches('`'));
                for (cell, head) in row.iter().zip(&header).skip(2) {
                    let Some(metric) = metric(head) else { continue };
                    if cell == "–" {
                        continue;
                    }
                    let delta = config["metrics"][metric]["mean"].as_f64().unwrap()
                        - base["metrics"][metric]["mean"].as_f64().unwrap();
                    close(cell, delta, &format!("{name} {} {metric} change", row[0]));
                }
            }
        }

        // Every recommendation names a deployable configuration.
        for r in json["recommendations"].as_array().unwrap() {
            let pick = r["pick"].as_str().expect("a pick");
            let config = configs.iter().find(|c| c["label"] == pick).unwrap();
            assert_eq!(config["offline"], false, "{name}: recommended an oracle");
            assert!(
                md.contains(&format!("`{pick}`")),
                "{name}: pick named in report.md"
            );
        }
        if name == "policies" {
            let r = &json["recommendations"][0];
            assert!(!r["pick"].as_str().unwrap().contains("belady"));
            assert!(r["bound"].as_str().unwrap().starts_with("belady"));
        }
    }
}

#[test]
fn ttl_variants_replay_identical_requests() {
    let source = r#"
        [experiment]
        seed = 5
        [workload]
        requests = 20_000
        keys = 5000
        popularity = { dist = "zipf", alpha = 0.8 }
        rate = "100/s"
        ttl = ["10s", "60s", "300s"]
        [[cache]]
        policy = "lru"
        capacity = "10%"
    "#;
    let exp = edgesim::experiment::Experiment::parse(Path::new("t.toml"), source.into()).unwrap();
    assert_eq!(exp.workloads.len(), 3);
    let streams: Vec<Vec<edgesim::workload::Request>> = (0..3)
        .map(|w| {
            let load = &exp.loads[0].spec.load;
            let seed = exp.workload_seed(w, 0);
            edgesim::runner::generate(&exp.workloads[w].spec, load, seed, false)
                .unwrap()
                .requests
        })
        .collect();
    let without_ttl = |reqs: &[edgesim::workload::Request]| -> Vec<_> {
        reqs.iter().map(|r| (r.time, r.key, r.size)).collect()
    };
    assert_eq!(without_ttl(&streams[0]), without_ttl(&streams[1]));
    assert_eq!(without_ttl(&streams[0]), without_ttl(&streams[2]));
    assert_eq!(streams[0][0].ttl_ms, 10_000);
    assert_eq!(streams[2][0].ttl_ms, 300_000);
    // A parameter that changes the stream still changes the seed.
    let alpha = source
        .replace(r#"ttl = ["10s", "60s", "300s"]"#, "")
        .replace("alpha = 0.8", "alpha = [0.8, 0.9]");
    let exp = edgesim::experiment::Experiment::parse(Path::new("t.toml"), alpha).unwrap();
    assert_ne!(exp.workload_seed(0, 0), exp.workload_seed(1, 0));
}

#[test]
fn the_egress_price_moves_the_recommendation() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/cost.toml");
    let source = fs::read_to_string(&example).unwrap();
    let pick = |price: &str| {
        let dir = tempfile::tempdir().unwrap();
        let priced = source.replace("egress_per_gb = 0.01", &format!("egress_per_gb = {price}"));
        assert_ne!(
            priced,
            source.replace("0.01", "x"),
            "the example sets egress_per_gb = 0.01"
        );
        let out = common::run_in(dir.path(), &priced, &[]);
        let json = common::results_json(&out);
        let r = &json["recommendations"][0];
        assert_eq!(r["rule"], "cheapest");
        r["pick"].as_str().unwrap().to_string()
    };
    let cheap = pick("0.01");
    let dear = pick("0.09");
    assert_ne!(cheap, dear, "a dearer egress should buy a bigger cache");
    let size = |label: &str| {
        label
            .rsplit(' ')
            .next()
            .unwrap()
            .trim_end_matches('%')
            .parse::<f64>()
            .unwrap()
    };
    assert!(size(&dear) > size(&cheap), "{cheap} -> {dear}");
}
