//! Bad input: every reader stops at the first bad line with
//! file:line:column and what it expected, or skips and counts; truncated
//! binary and compressed input is an error naming the byte offset; nothing
//! panics on arbitrary bytes.

mod common;

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use edgesim::workload::trace::{self, OutputFormat, TraceFormat, TraceOptions};
use edgesim::workload::{NEVER, Request};

/// `trace stats --json FILE ARGS`: (success, stdout JSON if any, stderr).
fn stats(file: &Path, args: &[&str]) -> (bool, Option<Value>, String) {
    let out = common::edgesim()
        .args(["trace", "stats", "--json"])
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).ok(),
        stderr,
    )
}

/// Asserts that `file` fails with a message containing every one of
/// `expected`, and with `--skip-bad-lines` reads `requests` requests and
/// reports `skipped` skipped lines.
fn check_bad(file: &Path, expected: &[&str], requests: u64, skipped: u64) {
    let (success, _, err) = stats(file, &[]);
    assert!(!success, "{} should fail", file.display());
    for e in expected {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    let (success, json, err) = stats(file, &["--skip-bad-lines"]);
    assert!(success, "{err}");
    assert_eq!(json.unwrap()["requests"], requests);
    assert!(
        err.contains(&format!("skipped {skipped} bad line(s)")),
        "{err}"
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn csv_row_with_a_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "t.csv",
        b"time,key,size\n1,10,100\n2,11\n3,12,300\n",
    );
    check_bad(
        &f,
        &["t.csv:3:5:", "expected at least 3 fields, found 2"],
        2,
        1,
    );
}

#[test]
fn csv_non_numeric_size() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "t.csv",
        b"time,key,size\n1,10,100\n2,11,abc\n3,12,x\n4,13,5\n",
    );
    check_bad(
        &f,
        &["t.csv:3:6:", "expected a size in bytes", "found \"abc\""],
        2,
        2,
    );
}

#[test]
fn csv_unknown_column_names_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "t.csv", b"a,b\n1,2\n");
    let (success, _, err) = stats(&f, &["--key-column", "lbn"]);
    assert!(!success);
    assert!(
        err.contains("no column named \"lbn\"; the header has \"a\", \"b\""),
        "{err}"
    );
}

#[test]
fn log_line_with_a_malformed_date() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "access.log",
        concat!(
            "1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /a HTTP/1.0\" 200 2326\n",
            "1.2.3.4 - - [10/Okt/2000:13:55:36 -0700] \"GET /b HTTP/1.0\" 200 2326\n",
            "1.2.3.5 - - [10/Oct/2000:13:55:37 -0700] \"GET /a?x=1 HTTP/1.0\" 304 -\n",
        )
        .as_bytes(),
    );
    check_bad(
        &f,
        &[
            "access.log:2:14:",
            "expected a time such as [10/Oct/2000:13:55:36 -0700]",
        ],
        2,
        1,
    );
    let (_, json, _) = stats(&f, &["--skip-bad-lines", "--log-key", "path-without-query"]);
    assert_eq!(json.unwrap()["unique_objects"], 1);
}

#[test]
fn truncated_binary_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0u8; 24 * 3];
    bytes.extend_from_slice(&[1; 10]);
    let f = write(dir.path(), "t.oracleGeneral.bin", &bytes);
    for args in [&[][..], &["--skip-bad-lines"]] {
        let (success, _, err) = stats(&f, args);
        assert!(!success, "a truncated record is never skipped");
        assert!(
            err.contains("truncated record (10 of 24 bytes) at byte offset 72"),
            "{err}"
        );
    }
}

#[test]
fn truncated_zstd_file() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<u8> = (0..50_000u64)
        .flat_map(|i| {
            let mut r = [0u8; 24];
            r[4..12].copy_from_slice(&(i * 7919 % 1000).to_le_bytes());
            r
        })
        .collect();
    let compressed = zstd::encode_all(&records[..], 3).unwrap();
    let cut = compressed.len() / 2;
    let f = write(dir.path(), "t.oracleGeneral.zst", &compressed[..cut]);
    for args in [&[][..], &["--skip-bad-lines"]] {
        let (success, _, err) = stats(&f, args);
        assert!(!success, "a truncated frame is never a short trace");
        assert!(err.contains("truncated or corrupt zstd stream"), "{err}");
        assert!(err.contains(&format!("at byte offset {cut}")), "{err}");
    }
    let whole = write(dir.path(), "w.oracleGeneral.zst", &compressed);
    let (success, json, err) = stats(&whole, &[]);
    assert!(success, "{err}");
    assert_eq!(json.unwrap()["requests"], 50_000);
}

/// Frame boundaries of a zstd file: (start, end) of each frame.
fn zstd_frames(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]).unwrap();
        frames.push((at, at + len));
        at += len;
    }
    frames
}

#[test]
fn truncated_or_corrupt_multi_frame_zstd_file() {
    let dir = tempfile::tempdir().unwrap();
    let requests: Vec<Request> = (0..500_000u64)
        .map(|i| Request {
            time: i * 1_000_000_000,
            key: i * 7919 % 100_000,
            size: (i % 4096) as u32 + 1,
            next_access: NEVER,
            ..Request::default()
        })
        .collect();
    let path = dir.path().join("w.oracleGeneral.zst");
    trace::write(&path, &requests, &[], OutputFormat::OracleGeneral).unwrap();
    let compressed = std::fs::read(&path).unwrap();
    let frames = zstd_frames(&compressed);
    assert!(frames.len() >= 3, "{} frames", frames.len());
    // A standard zstd file: any decoder reads all frames.
    assert_eq!(
        zstd::decode_all(&compressed[..]).unwrap().len(),
        requests.len() * 24
    );
    let read = trace::read(&path, &TraceOptions::default()).unwrap();
    assert_eq!(read.requests.len(), requests.len());
    assert!(
        read.requests
            .iter()
            .zip(&requests)
            .all(|(a, b)| a.key == b.key && a.time == b.time && a.size == b.size)
    );

    // Cut inside the second frame: the error names where the input ends.
    let (start, end) = frames[1];
    let cut = (start + end) / 2;
    let f = write(dir.path(), "cut.oracleGeneral.zst", &compressed[..cut]);
    for args in [&[][..], &["--skip-bad-lines"]] {
        let (success, _, err) = stats(&f, args);
        assert!(!success, "a truncated frame is never a short trace");
        assert!(err.contains("truncated or corrupt zstd stream"), "{err}");
        assert!(err.contains(&format!("at byte offset {cut}")), "{err}");
    }

    // A damaged byte inside the second frame: the error names its start.
    let mut damaged = compressed.clone();
    damaged[cut] ^= 0x55;
    let f = write(dir.path(), "bad.oracleGeneral.zst", &damaged);
    let (success, _, err) = stats(&f, &[]);
    assert!(!success, "a corrupt frame is an error");
    assert!(err.contains("truncated or corrupt zstd stream"), "{err}");
    assert!(err.contains(&format!("at byte offset {start}")), "{err}");
}

#[test]
fn lirs_and_arc_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "t.trace", b"1\n*\n2x\n\n3\n");
    check_bad(
        &f,
        &["t.trace:3:1:", "expected a block number or `*`"],
        2,
        1,
    );
    let f = write(dir.path(), "t.lis", b"10 3 0 1\n5 x 0 2\n7 1 0\n");
    check_bad(
        &f,
        &["t.lis:2:3:", "expected the block count (an integer)"],
        3,
        2,
    );
}

#[test]
fn skipped_examples_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("key\n");
    for i in 0..20 {
        text.push_str(&format!("{i}\n\"open\n"));
    }
    let f = write(dir.path(), "t.csv", text.as_bytes());
    let read = trace::read(
        &f,
        &TraceOptions {
            skip_bad_lines: true,
            ..TraceOptions::default()
        },
    )
    .unwrap();
    assert_eq!(read.requests.len(), 20);
    assert_eq!(read.skipped.lines, 20);
    assert_eq!(read.skipped.examples.len(), 5);
    assert!(read.skipped.examples[0].contains("t.csv:3:1: unterminated quoted field"));
}

const FORMATS: [TraceFormat; 7] = [
    TraceFormat::Csv,
    TraceFormat::OracleGeneral,
    TraceFormat::Text,
    TraceFormat::Lirs,
    TraceFormat::Arc,
    TraceFormat::Combined,
    TraceFormat::Jsonl,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes (with line breaks and format-like fragments mixed in)
    /// give requests or errors in every format, never a panic.
    #[test]
    fn no_reader_panics_on_arbitrary_input(
        parts in proptest::collection::vec(
            prop_oneof![
                any::<Vec<u8>>(),
                Just(b"\n".to_vec()),
                Just(b"1.2.3.4 - - [".to_vec()),
                Just(b"10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 ".to_vec()),
                Just(b"{\"key\":".to_vec()),
                Just(b"\"".to_vec()),
                Just(b",".to_vec()),
                Just(b"4294967296 18446744073709551615 ".to_vec()),
            ],
            0..40,
        ),
        skip in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = parts.concat();
        let path = write(dir.path(), "input", &bytes);
        for format in FORMATS {
            let opts = TraceOptions {
                format: Some(format),
                skip_bad_lines: skip,
                ..TraceOptions::default()
            };
            let _ = trace::read(&path, &opts);
        }
    }
}

/// More distinct routes than `Request.route` holds stops the read at the
/// line of the 257th, even when bad lines are skipped; a named route field
/// missing from a JSON line is an ordinary bad line.
#[test]
fn more_than_256_routes_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("key,route\n");
    for i in 0..300 {
        text.push_str(&format!("{i},/r{}\n", i % 260));
    }
    let f = write(dir.path(), "many.csv", text.as_bytes());
    for skip in [false, true] {
        let opts = TraceOptions {
            route_column: Some("route".parse().unwrap()),
            skip_bad_lines: skip,
            ..TraceOptions::default()
        };
        let err = trace::read(&f, &opts).unwrap_err().to_string();
        assert!(
            err.contains("many.csv:258:5: route column has more than 256 distinct values: "),
            "{err}"
        );
        assert!(err.contains("\"/r256\""), "{err}");
    }
    let (success, _, err) = stats(&f, &["--route-column", "route"]);
    assert!(!success);
    assert!(
        err.contains("many.csv:258:5: route column has more than 256 distinct values"),
        "{err}"
    );
    // 256 distinct routes are fine.
    let mut text = String::from("key,route\n");
    for i in 0..256 {
        text.push_str(&format!("{i},/r{i}\n"));
    }
    let f = write(dir.path(), "full.csv", text.as_bytes());
    let opts = TraceOptions {
        route_column: Some("route".parse().unwrap()),
        ..TraceOptions::default()
    };
    let read = trace::read(&f, &opts).unwrap();
    assert_eq!(read.routes.len(), 256);
    assert_eq!(read.requests[255].route, 255);

    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("{{\"key\":{i},\"r\":\"/r{i}\"}}\n"));
    }
    let f = write(dir.path(), "many.jsonl", text.as_bytes());
    let opts = TraceOptions {
        route_column: Some("r".parse().unwrap()),
        ..TraceOptions::default()
    };
    let err = trace::read(&f, &opts).unwrap_err().to_string();
    assert!(
        err.contains("many.jsonl:257:") && err.contains("more than 256 distinct values"),
        "{err}"
    );
    let f = write(
        dir.path(),
        "gap.jsonl",
        b"{\"key\":1,\"r\":\"a\"}\n{\"key\":2}\n",
    );
    let err = trace::read(&f, &opts).unwrap_err().to_string();
    assert!(
        err.contains("gap.jsonl:2:1: expected a field \"r\""),
        "{err}"
    );
    let skip = TraceOptions {
        skip_bad_lines: true,
        ..opts
    };
    let read = trace::read(&f, &skip).unwrap();
    assert_eq!((read.requests.len(), read.skipped.lines), (1, 1));
}
