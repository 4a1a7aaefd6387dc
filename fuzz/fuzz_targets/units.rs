//! Quantities as people write them: every public parser of sizes,
//! durations, rates, percentages (src/units.rs), and the small parsers built
//! on them (capacities, policies, metrics and targets, trace columns and
//! delimiters), on any text. Errors are fine; panics are bugs. Sizes must
//! also survive being written back and read again.
#![no_main]

use edgesim::cache::{CapacitySpec, PolicySpec};
use edgesim::experiment::{Metric, Target};
use edgesim::units::{self, Bytes, Duration, Rate};
use edgesim::workload::trace::{Column, Delimiter};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Quantities {
    size: Option<Bytes>,
    duration: Option<Duration>,
    rate: Option<Rate>,
    #[serde(default, deserialize_with = "units::checked::ttl")]
    ttl: Option<Duration>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(bytes) = units::parse_bytes(text) {
        let written = units::write_size(bytes);
        assert_eq!(
            units::parse_bytes(&written),
            Ok(bytes),
            "{text:?} -> {bytes} -> {written:?}"
        );
        let _ = units::format_bytes(bytes);
    }
    if let Ok(ns) = units::parse_duration(text) {
        let _ = ns;
    }
    if let Ok(rate) = units::parse_rate(text) {
        assert!(rate.is_finite() && rate > 0.0, "{text:?} -> {rate}");
    }
    if let Ok(share) = units::parse_percent(text) {
        assert!(share.is_finite() && share >= 0.0, "{text:?} -> {share}");
    }
    let _ = text.parse::<CapacitySpec>();
    let _ = text.parse::<PolicySpec>();
    let _ = text.parse::<Column>();
    let _ = text.parse::<Delimiter>();
    let _ = Target::parse(text);
    for metric in Metric::ALL {
        let _ = metric.parse_value(text);
    }
    // The serde paths, as an experiment file reaches them: the text as a
    // string, and (when it is one) as a bare TOML value.
    let quoted = toml::Value::String(text.to_string()).to_string();
    for key in ["size", "duration", "rate", "ttl"] {
        let _ = toml::from_str::<Quantities>(&format!("{key} = {quoted}"));
        if !text.contains(['\n', '\r']) {
            let _ = toml::from_str::<Quantities>(&format!("{key} = {text}"));
        }
    }
});
