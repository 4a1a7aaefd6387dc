//! Properties of experiment files (issue 13): every valid experiment that
//! can be generated validates and runs; every mutation of an example either
//! parses or fails with a clean `file:line:column: message`, never a panic.
//! Case counts are kept small for CI; `PROPTEST_CASES` raises them and
//! `PROPTEST_RNG_SEED` replays a run.

mod common;

use std::fmt::Write as _;
use std::path::Path;

use common::edgesim;
use edgesim::experiment::Experiment;
use proptest::prelude::*;
use proptest::sample::select;

/// A TOML value, or a sweep over a short list of them.
fn value_or_sweep(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(values).prop_map(str::to_string),
        1 => proptest::sample::subsequence(values, 1..=values.len().min(3))
            .prop_map(|v| format!("[{}]", v.join(", "))),
    ]
}

/// `[experiment]`.
fn meta() -> impl Strategy<Value = String> {
    (0u64..1000, 1u64..=2, any::<bool>()).prop_map(|(seed, reps, named)| {
        let mut s = String::from("[experiment]\n");
        if named {
            s.push_str("name = \"generated\"\ndescription = \"a generated experiment\"\n");
        }
        let _ = writeln!(s, "seed = {seed}\nreplications = {reps}");
        s
    })
}

/// A synthetic `[workload]` of at most 2,000 requests.
fn workload(clients: bool) -> impl Strategy<Value = String> {
    let popularity = prop_oneof![
        value_or_sweep(&["0.0", "0.6", "0.9", "1.0", "1.2"])
            .prop_map(|a| format!("{{ dist = \"zipf\", alpha = {a} }}")),
        Just("{ dist = \"uniform\" }".to_string()),
    ];
    let size = prop_oneof![
        select(&["\"4KiB\"", "1", "\"1MB\"", "100"][..])
            .prop_map(|s| format!("{{ dist = \"fixed\", size = {s} }}")),
        Just("{ dist = \"uniform\", min = \"1KiB\", max = \"64KiB\" }".to_string()),
        select(&["0.5", "1.0", "2.0"][..]).prop_map(|sigma| format!(
            "{{ dist = \"lognormal\", median = \"12KiB\", sigma = {sigma} }}"
        )),
        select(&["1.1", "1.5", "3"][..])
            .prop_map(|a| format!("{{ dist = \"pareto\", min = \"2KiB\", alpha = {a} }}")),
    ];
    let ttl = proptest::option::of(value_or_sweep(&[
        "\"1ms\"",
        "\"250ms\"",
        "\"1s\"",
        "\"1h\"",
    ]));
    (
        100u64..=2000,
        1u64..=500,
        popularity,
        size,
        select(&["\"100/s\"", "\"1000/s\"", "\"60000/min\"", "\"5/100ms\""][..]),
        ttl,
        (1u64..=50, 0u64..=3, 0u32..=2),
    )
        .prop_map(
            move |(requests, keys, popularity, size, rate, ttl, (legit, abusive, abuse))| {
                let mut s = String::from("[workload]\nkind = \"synthetic\"\n");
                let _ = writeln!(s, "requests = {requests}\nkeys = {keys}");
                let _ = writeln!(s, "popularity = {popularity}\nsize = {size}\nrate = {rate}");
                if let Some(ttl) = ttl {
                    let _ = writeln!(s, "ttl = {ttl}");
                }
                if clients {
                    let _ = writeln!(
                        s,
                        "[workload.clients]\nlegit = {legit}\nlegit_rate = \"1/s\""
                    );
                    if abusive > 0 {
                        let abuse = ["constant", "on-off", "low-and-slow"][abuse as usize];
                        let _ = writeln!(
                            s,
                            "abusive = {abusive}\nabuse = \"{abuse}\"\nabusive_rate = \"20/s\""
                        );
                    }
                }
                s
            },
        )
}

/// Online eviction policies, and Belady (offline) for runs without a service.
const POLICIES: &[&str] = &[
    "\"fifo\"",
    "\"lru\"",
    "\"random\"",
    "\"clock\"",
    "\"slru\"",
    "\"lfu\"",
    "\"lfuda\"",
    "\"2q\"",
    "\"arc\"",
    "\"lirs\"",
    "\"wtinylfu\"",
    "\"s3fifo\"",
    "\"sieve\"",
    "\"gdsf\"",
    "\"hyperbolic\"",
];

/// One `[[cache]]` table.
fn cache(belady: bool, risky: bool) -> impl Strategy<Value = String> {
    let policy = prop_oneof![
        8 => value_or_sweep(POLICIES),
        1 => Just(if belady { "\"belady\"" } else { "\"lru\"" }.to_string()),
        1 => Just("[\"none\", \"lru\"]".to_string()),
    ];
    // Sizes in bytes need object sizes: not with `ignore_size`.
    let sized = value_or_sweep(&[
        "\"1%\"",
        "\"10%\"",
        "\"50%\"",
        "100",
        "\"64KiB\"",
        "\"1MiB\"",
    ]);
    let counted = if risky {
        value_or_sweep(&["\"1%\"", "1", "100", "\"64KiB\""])
    } else {
        value_or_sweep(&["\"1%\"", "\"10%\"", "\"50%\"", "1", "100"])
    };
    let capacity = prop_oneof![
        sized.prop_map(|c| format!("capacity = {c}\n")),
        counted.prop_map(|c| format!("capacity = {c}\nignore_size = true\n")),
    ];
    (policy, capacity)
        .prop_map(|(policy, capacity)| format!("[[cache]]\npolicy = {policy}\n{capacity}"))
}

/// One `[[limiter]]` table: a rate limiter, or (with a service) a
/// concurrency limiter.
fn limiter(service: bool, risky: bool) -> impl Strategy<Value = String> {
    let rate = (
        value_or_sweep(&[
            "\"fixed-window\"",
            "\"sliding-window-log\"",
            "\"sliding-window-counter\"",
            "\"token-bucket\"",
            "\"leaky-bucket\"",
            "\"leaky-queue\"",
            "\"gcra\"",
            "\"fixed-window(count=all)\"",
        ]),
        value_or_sweep(&["\"1/s\"", "\"10/s\"", "\"600/min\""]),
        1u32..=50,
        // rate x window of at least one request (else a run-time error).
        select(if risky {
            &["\"1s\"", "\"250ms\"", "\"10ms\""][..]
        } else {
            &["\"1s\"", "\"10s\"", "\"2500ms\""][..]
        }),
        select(&["client", "global"][..]),
    )
        .prop_map(|(algorithm, rate, burst, window, key)| {
            format!(
                "[[limiter]]\nalgorithm = {algorithm}\nrate = {rate}\nburst = {burst}\nwindow = {window}\nkey = \"{key}\"\n"
            )
        });
    let concurrency = select(&["\"concurrency(max=4)\"", "\"aimd\"", "\"gradient\""][..])
        .prop_map(|a| format!("[[limiter]]\nalgorithm = {a}\nkey = \"global\"\n"));
    if service {
        prop_oneof![3 => rate, 1 => concurrency].boxed()
    } else {
        rate.boxed()
    }
}

/// `[service]`.
fn service() -> impl Strategy<Value = String> {
    let time = prop_oneof![
        select(&["\"1ms\"", "\"20ms\""][..])
            .prop_map(|t| format!("{{ dist = \"fixed\", time = {t} }}")),
        select(&["\"5ms\"", "\"16ms\""][..])
            .prop_map(|t| format!("{{ dist = \"exponential\", mean = {t} }}")),
        Just("{ dist = \"lognormal\", median = \"10ms\", sigma = 0.5 }".to_string()),
        Just("{ dist = \"lognormal\", median = \"10ms\", p99 = \"100ms\" }".to_string()),
    ];
    (
        value_or_sweep(&["1", "4", "16", "64"]),
        time,
        proptest::option::of(select(&["\"30ms\"", "\"1s\""][..])),
        proptest::option::of(0u64..=100),
        value_or_sweep(&["false", "true"]),
        any::<bool>(),
    )
        .prop_map(|(servers, time, timeout, queue, coalesce, rtt)| {
            let mut s = format!("[service]\nservers = {servers}\nservice_time = {time}\n");
            if let Some(t) = timeout {
                let _ = writeln!(s, "timeout = {t}");
            }
            if let Some(q) = queue {
                let _ = writeln!(s, "queue = {q}");
            }
            let _ = writeln!(s, "coalesce = {coalesce}");
            if rtt {
                s.push_str("rtt = { dist = \"fixed\", time = \"10ms\" }\n");
                s.push_str("origin_rtt = { dist = \"exponential\", mean = \"5ms\" }\n");
            }
            s
        })
}

/// A whole valid experiment: meta, workload, then any of caches, limiters
/// and a service (at least one of them).
fn experiment(risky: bool) -> impl Strategy<Value = String> {
    (any::<bool>(), 0usize..=2, 0usize..=1).prop_flat_map(
        move |(with_service, caches, limiters)| {
            let caches = if caches + limiters == 0 && !with_service {
                1
            } else {
                caches
            };
            (
                meta(),
                workload(limiters > 0),
                proptest::collection::vec(cache(!with_service, risky), caches),
                proptest::collection::vec(limiter(with_service, risky), limiters),
                if with_service {
                    service().prop_map(Some).boxed()
                } else {
                    Just(None).boxed()
                },
            )
                .prop_map(|(meta, workload, caches, limiters, service)| {
                    let mut s = meta + "\n" + &workload;
                    for part in caches.iter().chain(&limiters).chain(&service) {
                        s.push('\n');
                        s.push_str(part);
                    }
                    s
                })
        },
    )
}

/// `default` cases, or `PROPTEST_CASES` when set (`with_cases` alone would
/// ignore it).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// At most this many runs per generated experiment, to keep cases fast.
const MAX_RUNS: u64 = 48;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(40)))]

    /// Generated experiments parse, count their runs right and run through
    /// the library's runner (one thread, no outputs written).
    #[test]
    fn generated_experiments_validate_and_run(text in experiment(false)) {
        let exp = Experiment::parse(Path::new("generated.toml"), text.clone())
            .unwrap_or_else(|e| panic!("{e}\n--- generated.toml:\n{text}"));
        let count = exp.run_count();
        prop_assume!(count <= MAX_RUNS);
        prop_assert_eq!(exp.runs().len() as u64, count);
        let results = edgesim::runner::run(&exp, Some(1))
            .unwrap_or_else(|e| panic!("{e:#}\n--- generated.toml:\n{text}"));
        prop_assert_eq!(results.len() as u64, count);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(40)))]

    /// With settings that are sometimes wrong together (sizes in bytes
    /// with `ignore_size`, limiter windows too short for their rate): what
    /// parsing accepts runs, and what it refuses is refused at a place in
    /// the file, so `validate` never passes a file `run` then rejects.
    #[test]
    fn what_validates_runs(text in experiment(true)) {
        match Experiment::parse(Path::new("risky.toml"), text.clone()) {
            Ok(exp) => {
                prop_assume!(exp.run_count() <= MAX_RUNS);
                let run = edgesim::runner::run(&exp, Some(1));
                prop_assert!(run.is_ok(), "validated, but: {:#}\n--- risky.toml:\n{text}", run.unwrap_err());
            }
            Err(e) => {
                let place = format!("risky.toml:{}:{}: ", e.line, e.column);
                prop_assert!(e.to_string().starts_with(&place), "{e}");
                prop_assert!(e.line > 1, "{e}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(6)))]

    /// A few through the command line too: `validate`, then `run` with every
    /// report and chart written.
    #[test]
    fn generated_experiments_run_from_the_command_line(text in experiment(false)) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("generated.toml");
        std::fs::write(&file, &text).unwrap();
        let exp = Experiment::parse(&file, text.clone()).unwrap();
        prop_assume!(exp.run_count() <= MAX_RUNS);
        edgesim().arg("validate").arg(&file).assert().success();
        let out = dir.path().join("out");
        let run = edgesim()
            .args(["run", "--threads", "2", "--out"])
            .arg(&out)
            .arg(&file)
            .output()
            .unwrap();
        prop_assert!(
            run.status.success(),
            "edgesim run failed: {}\n--- generated.toml:\n{text}",
            String::from_utf8_lossy(&run.stderr)
        );
        prop_assert!(out.join("results.csv").is_file());
        prop_assert!(out.join("report.md").is_file());
    }
}

/// The example experiments, and a few small ones with every section.
fn examples() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "the examples are in {}", dir.display());
    files
}

/// One edit of a text.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteByte(usize),
    InsertByte(usize, u8),
    ReplaceByte(usize, u8),
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Swaps the values of two `key = value` lines.
    SwapValues(usize, usize),
    /// Puts a value from another line in place of this line's value.
    CopyValue(usize, usize),
}

/// Bytes worth trying in TOML: its syntax, digits, quotes, units,
/// non-ASCII, and anything.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => select(&b"[]{}=,.\"'#\n\r\t -_+0123456789eE%/:xKMGiBsmh"[..]),
        1 => Just(0xC3),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<prop::sample::Index>();
    prop_oneof![
        (at.clone()).prop_map(|i| Mutation::DeleteByte(i.index(usize::MAX))),
        (at.clone(), byte()).prop_map(|(i, b)| Mutation::InsertByte(i.index(usize::MAX), b)),
        (at.clone(), byte()).prop_map(|(i, b)| Mutation::ReplaceByte(i.index(usize::MAX), b)),
        (at.clone()).prop_map(|i| Mutation::DeleteLine(i.index(usize::MAX))),
        (at.clone()).prop_map(|i| Mutation::DuplicateLine(i.index(usize::MAX))),
        (at.clone(), at.clone())
            .prop_map(|(a, b)| Mutation::SwapValues(a.index(usize::MAX), b.index(usize::MAX))),
        (at.clone(), at)
            .prop_map(|(a, b)| Mutation::CopyValue(a.index(usize::MAX), b.index(usize::MAX))),
    ]
}

/// Splits `key = value  # comment` into (key part with ` = `, value).
fn split_value(line: &str) -> Option<(&str, &str)> {
    let eq = line.find('=')?;
    let (key, value) = line.split_at(eq + 1);
    (!key.trim_start().starts_with('#') && !value.trim().is_empty()).then_some((key, value))
}

fn apply(text: &str, m: &Mutation) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let valued: Vec<usize> = (0..lines.len())
        .filter(|&i| split_value(&lines[i]).is_some())
        .collect();
    let join = |lines: &[String]| (lines.join("\n") + "\n").into_bytes();
    match *m {
        Mutation::DeleteByte(i) if !bytes.is_empty() => {
            bytes.remove(i % bytes.len());
        }
        Mutation::InsertByte(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::ReplaceByte(i, b) if !bytes.is_empty() => {
            let n = bytes.len();
            bytes[i % n] = b;
        }
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % lines.len());
            return join(&lines);
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let i = i % lines.len();
            lines.insert(i, lines[i].clone());
            return join(&lines);
        }
        Mutation::SwapValues(a, b) | Mutation::CopyValue(a, b) if !valued.is_empty() => {
            let (a, b) = (valued[a % valued.len()], valued[b % valued.len()]);
            let (ka, va) = split_value(&lines[a])
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .unwrap();
            let (kb, vb) = split_value(&lines[b])
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .unwrap();
            lines[a] = format!("{ka}{vb}");
            if matches!(m, Mutation::SwapValues(..)) {
                lines[b] = format!("{kb}{va}");
            }
            return join(&lines);
        }
        _ => {}
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(600)))]

    /// Up to three edits of an example: parsed, or refused with
    /// `mutant.toml:line:column: message` pointing into the file.
    #[test]
    fn mutated_examples_parse_or_fail_cleanly(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(mutation(), 1..=3),
    ) {
        let examples = examples();
        let (name, text) = &examples[which.index(examples.len())];
        let mut text = text.clone();
        for m in &edits {
            // Invalid UTF-8 is not text: the loader refuses it before parsing.
            text = String::from_utf8_lossy(&apply(&text, m)).into_owned();
        }
        let path = Path::new("experiments/mutant.toml");
        let outcome = std::panic::catch_unwind(|| Experiment::parse(path, text.clone()));
        let result = outcome.unwrap_or_else(|_| {
            panic!("Experiment::parse panicked on {name} after {edits:?}:\n{text}")
        });
        match result {
            Ok(exp) => {
                if exp.run_count() <= 10_000 {
                    prop_assert_eq!(exp.runs().len() as u64, exp.run_count());
                }
                let _ = exp.run_product();
            }
            Err(e) => {
                let lines = text.matches('\n').count() + 1;
                prop_assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}: {e}", e.line);
                prop_assert!(e.column >= 1, "{e}");
                let shown = e.to_string();
                let place = format!("experiments/mutant.toml:{}:{}: ", e.line, e.column);
                prop_assert!(shown.starts_with(&place), "{shown:?} does not start with {place:?}");
                prop_assert!(!e.message.trim().is_empty(), "empty message: {shown:?}");
                prop_assert!(!shown.contains("panicked"), "{shown}");
            }
        }
    }
}

/// The command line shows the same clean error, on one line, for a
/// mutation that breaks the file.
#[test]
fn a_broken_example_is_one_clean_line_from_validate() {
    let (_, text) = &examples()[0];
    let broken = text.replacen("[workload]", "[workload", 1);
    let stderr = common::validate_error("broken.toml", &broken);
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
