//! Inputs that once crashed, hung or exhausted memory (found by fuzzing or
//! by the property tests of tests/properties.rs), each fed exactly as found
//! and required to give a clean error. See docs/fuzzing.md.

mod common;

use std::path::Path;
use std::time::Instant;

use edgesim::experiment::Experiment;

/// Parses `text` as `name`, expecting an error; returns its text.
fn parse_error(name: &str, text: &str) -> String {
    let started = Instant::now();
    let result = Experiment::parse(Path::new(name), text.to_string());
    assert!(
        started.elapsed().as_secs() < 5,
        "parsing took {:?}",
        started.elapsed()
    );
    match result {
        Ok(exp) => panic!("{name} parsed, with {} runs", exp.run_count()),
        Err(e) => e.to_string(),
    }
}

/// Eight lists of ten values in one `[[cache]]` table: 10^8 variants. The
/// sweep expansion built them all (and ran out of memory) before the
/// unknown fields could be reported.
const SWEEP_BOMB: &str = r#"[workload]
requests = 1000
keys = 100
[[cache]]
policy = ["lru","fifo","lru","fifo","lru","fifo","lru","fifo","lru","fifo"]
capacity = [1,2,3,4,5,6,7,8,9,10]
a = [1,2,3,4,5,6,7,8,9,10]
b = [1,2,3,4,5,6,7,8,9,10]
c = [1,2,3,4,5,6,7,8,9,10]
d = [1,2,3,4,5,6,7,8,9,10]
e = [1,2,3,4,5,6,7,8,9,10]
f = [1,2,3,4,5,6,7,8,9,10]
"#;

#[test]
fn a_sweep_of_too_many_variants_is_an_error_at_the_list_that_crosses_the_limit() {
    let e = parse_error("bomb.toml", SWEEP_BOMB);
    assert!(e.starts_with("bomb.toml:9:5: cache.c: "), "{e}");
    assert!(
        e.contains("100000 variants, more than the 10000 allowed"),
        "{e}"
    );
}

#[test]
fn a_sweep_of_too_many_variants_is_one_clean_line_from_the_command_line() {
    common::assert_rejected(SWEEP_BOMB, &["bad.toml:9:5:", "cache.c", "10000 allowed"]);
}

/// Values of one list that are lists themselves sweep too: the sum over
/// the items is limited like a product.
#[test]
fn nested_sweeps_are_limited_too() {
    let ten = "[1,2,3,4,5,6,7,8,9,10]";
    let table = format!("{{ a = {ten}, b = {ten}, c = {ten}, d = {ten} }}");
    let text = format!(
        "[workload]\nrequests = 10\nkeys = 10\nrate = [{table}, {table}]\n[[cache]]\npolicy = \"lru\"\ncapacity = 1\n"
    );
    let e = parse_error("nested.toml", &text);
    assert!(e.starts_with("nested.toml:4:"), "{e}");
    assert!(e.contains("workload.rate: "), "{e}");
    assert!(e.contains("more than the 10000 allowed"), "{e}");
}

/// Sections under the sweep limit whose product (with the replications) is
/// astronomical: with a baseline, parsing built every run to look for it.
/// It now parses at once (the runs are counted, not built); `run` refuses it
/// with --max-runs.
#[test]
fn too_many_runs_are_counted_not_allocated() {
    let text = r#"[experiment]
replications = 100000000000
[workload]
requests = 10
keys = 10
[[cache]]
policy = "lru"
capacity = 1
[report]
baseline = { policy = "lru" }
"#;
    let exp = Experiment::parse(Path::new("runs.toml"), text.into()).unwrap();
    assert_eq!(exp.run_count(), 100_000_000_000);
}

/// The largest sweep allowed still parses.
#[test]
fn a_sweep_at_the_limit_parses() {
    let capacities: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let policies = vec!["\"lru\""; 100];
    let text = format!(
        "[workload]\nrequests = 10\nkeys = 10\n[[cache]]\npolicy = [{}]\ncapacity = [{}]\n",
        policies.join(","),
        capacities.join(",")
    );
    let exp = Experiment::parse(Path::new("limit.toml"), text).unwrap();
    assert_eq!(exp.caches.len(), 10_000);
    assert_eq!(exp.run_count(), 10_000);
}

/// A count of 301 digits made `parse_rate` return an infinite rate, and a
/// rate of one per million days one no simulation can send a request at:
/// `run` then reported 0 requests of the 100 asked for, without an error.
#[test]
fn rates_beyond_the_clock_are_errors() {
    let huge = format!("1{}/s", "0".repeat(300));
    let e = edgesim::units::parse_rate(&huge).unwrap_err().0;
    assert!(e.ends_with("is too large"), "{e}");
    let tiny = format!("0.{}1/s", "0".repeat(320));
    let e = edgesim::units::parse_rate(&tiny).unwrap_err().0;
    assert!(
        e.contains("is too slow: less than one event in 584 years"),
        "{e}"
    );
    let e = edgesim::units::parse_rate("0.000001/d").unwrap_err().0;
    assert!(e.contains("too slow"), "{e}");
    // The slowest and fastest rates that still make sense are kept.
    assert!(edgesim::units::parse_rate("1/d").is_ok());
    assert!(edgesim::units::parse_rate("1000000000/ns").is_ok());

    let text = "[workload]\nrequests = 100\nkeys = 10\nrate = \"0.000001/d\"\n[[cache]]\npolicy = \"lru\"\ncapacity = 1\n";
    let e = parse_error("slow.toml", text);
    assert!(e.starts_with("slow.toml:4:8: "), "{e}");
    assert!(e.contains("too slow"), "{e}");
}

/// Found by tests/properties.rs: `validate` passed these, `run` refused
/// them after generating the workloads. Now parsing refuses them at the
/// table, with the same reason.
#[test]
fn validate_refuses_what_run_would() {
    let bytes_without_sizes = r#"[workload]
requests = 100
keys = 23
[[cache]]
policy = ["random"]
capacity = "1MiB"
ignore_size = true
"#;
    let e = parse_error("sizes.toml", bytes_without_sizes);
    assert!(
        e.starts_with("sizes.toml:5:11: capacity 1MiB is in bytes, but object sizes are ignored"),
        "{e}"
    );

    let window_too_short = r#"[workload]
requests = 904
keys = 242
[[limiter]]
algorithm = "fixed-window"
rate = "1/s"
burst = 29
window = "250ms"
key = "global"
"#;
    let e = parse_error("window.toml", window_too_short);
    assert!(
        e.starts_with(
            "window.toml:5:13: limiter fixed-window: rate x window is below one request per window"
        ),
        "{e}"
    );
    common::assert_rejected(
        window_too_short,
        &["bad.toml:5:13:", "below one request per window"],
    );
}
