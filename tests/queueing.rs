//! The service model against queueing theory: M/M/1, M/M/c (Erlang C),
//! M/D/1 (Pollaczek-Khinchine), M/M/1/K (blocking), closed loops, and
//! Little's law on every run. Fixed seeds and enough requests that the
//! sampling error sits well inside the tolerances.

use std::path::Path;

use edgesim::experiment::Experiment;
use edgesim::metrics::service::ServiceStats;
use edgesim::runner::{self, RunResult};

/// Runs an experiment given as TOML text.
fn run(toml: &str) -> Vec<RunResult> {
    let exp = Experiment::parse(Path::new("test.toml"), toml.to_string()).unwrap();
    runner::run(&exp, Some(2)).unwrap()
}

fn service(r: &RunResult) -> &ServiceStats {
    r.service
        .as_ref()
        .expect("a [service] run has service stats")
}

fn assert_close(what: &str, got: f64, want: f64, tolerance: f64) {
    let err = (got / want - 1.0).abs();
    assert!(
        err <= tolerance,
        "{what}: got {got}, want {want} (off by {:.2}%, allowed {:.1}%)",
        err * 100.0,
        tolerance * 100.0
    );
}

/// Little's law: the time-average number in the system equals the answer
/// rate times the mean time in the system.
fn assert_little(s: &ServiceStats) {
    assert_close(
        "Little's law L = lambda W",
        s.in_system_mean,
        s.answer_rate * s.sojourn_mean / 1e9,
        0.01,
    );
}

/// An open-loop Poisson workload at `rate`/s into `service` (a TOML body).
fn poisson(requests: u64, rate: f64, service: &str) -> String {
    format!(
        "[experiment]\nseed = 11\n[workload]\nrequests = {requests}\nkeys = 100\nrate = \"{rate}/s\"\n[service]\n{service}\n"
    )
}

#[test]
fn mm1_mean_and_p95_match_theory() {
    let mu = 1000.0;
    for (rho, requests) in [(0.5, 1_000_000), (0.8, 2_000_000), (0.9, 4_000_000)] {
        let lambda = rho * mu;
        let results = run(&poisson(
            requests,
            lambda,
            "servers = 1\nservice_time = { dist = \"exponential\", mean = \"1ms\" }",
        ));
        let s = service(&results[0]);
        // Sojourn time in M/M/1 is exponential with rate mu - lambda.
        let mean = 1.0 / (mu - lambda);
        assert_close(&format!("rho {rho} mean"), s.latency.mean / 1e9, mean, 0.02);
        assert_close(
            &format!("rho {rho} p95"),
            s.latency.p95 as f64 / 1e9,
            20f64.ln() * mean,
            0.03,
        );
        assert_close(
            &format!("rho {rho} utilization"),
            s.origin_utilization,
            rho,
            0.01,
        );
        assert_little(s);
    }
}

/// Erlang C: the probability that an arrival waits in M/M/c.
fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 / (1.0 - rho);
    last / (sum + last)
}

#[test]
fn mmc_waiting_probability_and_mean_match_erlang_c() {
    let (c, mu) = (4u32, 100.0);
    for lambda in [240.0, 340.0] {
        let results = run(&poisson(
            2_000_000,
            lambda,
            "servers = 4\nservice_time = { dist = \"exponential\", mean = \"10ms\" }",
        ));
        let s = service(&results[0]);
        let p_wait = erlang_c(c, lambda / mu);
        assert_close(
            &format!("lambda {lambda} P(wait)"),
            s.queued as f64 / s.origin_requests as f64,
            p_wait,
            0.02,
        );
        let mean = p_wait / (c as f64 * mu - lambda) + 1.0 / mu;
        assert_close(
            &format!("lambda {lambda} mean"),
            s.latency.mean / 1e9,
            mean,
            0.02,
        );
        assert_little(s);
    }
}

#[test]
fn md1_mean_matches_pollaczek_khinchine() {
    let (mu, lambda) = (1000.0, 800.0);
    let results = run(&poisson(
        2_000_000,
        lambda,
        "servers = 1\nservice_time = { dist = \"fixed\", time = \"1ms\" }",
    ));
    let s = service(&results[0]);
    let rho = lambda / mu;
    let mean = 1.0 / mu + rho / (2.0 * mu * (1.0 - rho));
    assert_close("M/D/1 mean", s.latency.mean / 1e9, mean, 0.02);
    assert_little(s);
}

#[test]
fn mm1k_refuses_the_blocking_probability() {
    let (mu, k) = (1000.0, 5i32);
    for lambda in [800.0, 1200.0] {
        // K in the system: one in service, K - 1 waiting.
        let results = run(&poisson(
            1_000_000,
            lambda,
            &format!(
                "servers = 1\nqueue = {}\nservice_time = {{ dist = \"exponential\", mean = \"1ms\" }}",
                k - 1
            ),
        ));
        let s = service(&results[0]);
        let rho: f64 = lambda / mu;
        let blocking = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
        assert_close(
            &format!("lambda {lambda} blocking"),
            s.counts.full as f64 / s.counts.requests as f64,
            blocking,
            0.05,
        );
        assert_eq!(s.counts.timeouts, 0);
        assert_little(s);
    }
}

#[test]
fn closed_loop_throughput_is_connections_or_servers_over_service_time() {
    for (connections, servers) in [(2, 4), (4, 4), (10, 4), (50, 8)] {
        let results = run(&format!(
            "[workload]\nkeys = 100\n[[load]]\nconnections = {connections}\nduration = \"20s\"\n[service]\nservers = {servers}\nservice_time = {{ dist = \"fixed\", time = \"10ms\" }}\n"
        ));
        let s = service(&results[0]);
        let want = connections.min(servers) as f64 / 0.010;
        assert_close(
            &format!("{connections} connections, {servers} servers"),
            s.throughput_rps,
            want,
            0.01,
        );
        assert_eq!(s.counts.errors(), 0);
        assert_little(s);
    }
}

#[test]
fn a_cache_sends_exactly_its_misses_to_the_origin() {
    let results = run(
        "[experiment]\nseed = 3\n[workload]\nrequests = 200_000\nkeys = 20_000\nrate = \"500/s\"\n\
         [[cache]]\npolicy = [\"none\", \"lru\"]\ncapacity = [\"1%\", \"10%\"]\n\
         [service]\nservers = 4\nservice_time = { dist = \"exponential\", mean = \"5ms\" }\n",
    );
    // none (once, whatever the capacities), lru 1%, lru 10%.
    assert_eq!(results.len(), 3);
    let origin: Vec<u64> = results.iter().map(|r| service(r).origin_requests).collect();
    assert_eq!(
        origin[0], 200_000,
        "without a cache every request reaches the origin"
    );
    for r in &results[1..] {
        assert_eq!(service(r).origin_requests, r.stats.misses());
        assert!(r.stats.hits > 0);
        assert_little(service(r));
    }
    assert!(
        origin[2] < origin[1],
        "a larger cache sends fewer requests: {origin:?}"
    );
    let p95: Vec<u64> = results.iter().map(|r| service(r).latency.p95).collect();
    assert!(
        p95[2] < p95[1] && p95[1] < p95[0],
        "p95 falls as the cache grows: {p95:?}"
    );
}
