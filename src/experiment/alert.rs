//! `[[alert]]`: the alert rules of the workshop's performance dashboard
//! (Exercise 3.2, `PerformanceDashboard`), read and checked here and
//! evaluated on every window of a run's time series by `report::alerts`.
//!
//! ```toml
//! [[alert]]
//! name = "slow"              # optional: "p95 above 1s" by default
//! metric = "p95"             # p50 p95 p99 throughput error_ratio hit_ratio
//! condition = "above"        # above, below or change
//! threshold = "1s"           # latencies with a unit; `change`: a fraction
//! baseline = "400ms"         # optional: the dashboard's own otherwise
//! ```

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;
use toml::de::DeValue;

use super::{Located, Metric, deserialize};
use crate::error::ConfigError;
use crate::units::parse_percent;

/// The dashboard's gauges of its host, which a simulation of requests has
/// no value for.
const HOST_METRICS: [&str; 2] = ["memory_usage", "cpu_usage"];

/// The dashboard's own names for the metrics it watches, also accepted.
const DASHBOARD_NAMES: &str =
    "response_time_p50, response_time_p95, response_time_p99, error_rate, cache_hit_rate";

/// A value of `metric` as written in a file, in the metric's unit: a
/// latency is a duration ("500ms", read as ms), a throughput a number or a
/// rate ("800/s"), a ratio a number from 0 to 1 or a percentage.
fn read(metric: Metric, written: &Written) -> Result<f64, ConfigError> {
    match written {
        Written::Number(n) if metric.is_latency() => Err(format!(
            "a latency needs a unit, found the bare number {n}: write e.g. \"{n}ms\""
        )
        .into()),
        Written::Number(n) => metric.parse_value(&non_negative(*n)?.to_string()),
        Written::Text(t) => metric.parse_value(t),
    }
}

/// A fraction as written: a number, or a percentage ("20%").
fn fraction(written: &Written) -> Result<f64, ConfigError> {
    match written {
        Written::Number(n) => non_negative(*n),
        Written::Text(t) => parse_percent(t),
    }
}

fn non_negative(n: f64) -> Result<f64, ConfigError> {
    if n.is_finite() && n >= 0.0 {
        Ok(n)
    } else {
        Err(format!("must be a number >= 0, found {n}").into())
    }
}

/// When an alert fires, as the dashboard's `checkAlerts` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The value is above the threshold.
    Above,
    /// The value is below the threshold.
    Below,
    /// The value is further from the baseline than the threshold, as a
    /// fraction of the baseline.
    Change,
}

impl Condition {
    pub fn name(self) -> &'static str {
        match self {
            Condition::Above => "above",
            Condition::Below => "below",
            Condition::Change => "change",
        }
    }
}

/// One `[[alert]]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSpec {
    /// Its `name`, or "metric condition threshold" as written.
    pub name: String,
    pub metric: Metric,
    pub condition: Condition,
    /// In the metric's unit (ms for latencies); for `change`, a fraction of
    /// the baseline.
    pub threshold: f64,
    /// In the metric's unit: the alert's `baseline`, or the dashboard's.
    pub baseline: f64,
    /// The dashboard's de-duplication key, `${name}_${metric}` with the
    /// metric as written: two alerts whose name and metric join into the
    /// same string share one 5-minute clock, as they do in the dashboard.
    pub key: String,
}

/// A threshold or baseline as written: a number, or a string with a unit.
#[derive(Debug, Clone)]
enum Written {
    Number(f64),
    Text(String),
}

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Written::Number(n) => write!(f, "{n}"),
            Written::Text(t) => f.write_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Written {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Written;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or a string such as \"500ms\" or \"5%\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Written, E> {
                Ok(Written::Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Written, E> {
                Ok(Written::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Written, E> {
                Ok(Written::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Written, E> {
                Ok(Written::Number(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// An `[[alert]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<Spanned<String>>,
    metric: Spanned<String>,
    condition: Spanned<String>,
    threshold: Spanned<Written>,
    baseline: Option<Spanned<Written>>,
}

/// Reads the `[[alert]]` tables, if any. `has_service`: whether the
/// experiment has a `[service]`, whose runs alone have a time series.
pub fn parse(
    section: Option<Spanned<DeValue>>,
    has_service: bool,
) -> Result<Vec<AlertSpec>, Located> {
    let Some(section) = section else {
        return Ok(Vec::new());
    };
    if !has_service {
        return Err(Located::at(
            section.span(),
            "[[alert]] watches the time series of a service: add a [service] section (docs/service.md)",
        ));
    }
    let tables = match section.get_ref() {
        DeValue::Array(items) => items.iter().cloned().collect(),
        DeValue::Table(_) => vec![section.clone()],
        _ => {
            return Err(Located::at(
                section.span(),
                "`alert` must be a table ([[alert]])",
            ));
        }
    };
    let mut alerts: Vec<AlertSpec> = Vec::new();
    for table in tables {
        let span = table.span();
        let alert = spec(deserialize(table)?)?;
        if alerts.iter().any(|a| a.name == alert.name) {
            return Err(Located::at(
                span,
                format!(
                    "two [[alert]] tables are named {:?}: give each its own `name`",
                    alert.name
                ),
            ));
        }
        alerts.push(alert);
    }
    Ok(alerts)
}

/// Checks one table: a known metric and condition, a threshold and a
/// baseline in the metric's unit.
fn spec(raw: Raw) -> Result<AlertSpec, Located> {
    let written = raw.metric.get_ref().as_str();
    let metric = match Metric::parse(written) {
        Some(m) if m.windowed() => m,
        _ if HOST_METRICS.contains(&written) => {
            return Err(Located::at(
                raw.metric.span(),
                format!(
                    "metric `{written}`: edgesim simulates requests, not the host's memory or CPU; use one of: {}",
                    metric_names()
                ),
            ));
        }
        _ => {
            return Err(Located::at(
                raw.metric.span(),
                format!(
                    "unknown metric `{written}`, expected one of: {}",
                    metric_names()
                ),
            ));
        }
    };
    let condition = match raw.condition.get_ref().as_str() {
        "above" => Condition::Above,
        "below" => Condition::Below,
        "change" => Condition::Change,
        other => {
            return Err(Located::at(
                raw.condition.span(),
                format!("unknown condition `{other}`, expected above, below or change"),
            ));
        }
    };
    let threshold_written = raw.threshold.get_ref();
    let threshold = match condition {
        // A fraction of the baseline, whatever the metric.
        Condition::Change => fraction(threshold_written),
        _ => read(metric, threshold_written),
    }
    .map_err(|e| Located::at(raw.threshold.span(), format!("threshold: {e}")))?;
    let baseline = match &raw.baseline {
        Some(b) => {
            let value = read(metric, b.get_ref())
                .map_err(|e| Located::at(b.span(), format!("baseline: {e}")))?;
            if value == 0.0 {
                // The dashboard skips an alert whose baseline is falsy.
                return Err(Located::at(
                    b.span(),
                    "baseline: must be above zero (with 0 the dashboard never checks the alert)",
                ));
            }
            value
        }
        None => metric.dashboard_baseline().ok_or_else(|| {
            Located::at(
                raw.metric.span(),
                format!(
                    "the dashboard has no baseline for {} (it never checks it): add one, e.g. `baseline = \"200ms\"`",
                    metric.name()
                ),
            )
        })?,
    };
    let name = raw.name.map_or_else(
        || format!("{written} {} {threshold_written}", condition.name()),
        |n| n.into_inner(),
    );
    Ok(AlertSpec {
        key: format!("{name}_{written}"),
        name,
        metric,
        condition,
        threshold,
        baseline,
    })
}

/// The metrics an alert can watch, for errors.
fn metric_names() -> String {
    let ours: Vec<&str> = Metric::ALL
        .into_iter()
        .filter(|m| m.windowed())
        .map(Metric::name)
        .collect();
    format!(
        "{} (or the dashboard's names {DASHBOARD_NAMES})",
        ours.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::de::DeTable;

    /// The alerts of `source`, or the message of its error and the text it
    /// points at.
    fn alerts(source: &str) -> Result<Vec<AlertSpec>, (String, String)> {
        let doc = DeTable::parse(source).unwrap().into_inner();
        parse(doc.get("alert").cloned(), true).map_err(|e| (e.message, source[e.span].to_string()))
    }

    #[test]
    fn reads_units_aliases_and_the_dashboard_baselines() {
        let a = alerts(
            r#"
[[alert]]
metric = "p95"
condition = "above"
threshold = "1s"

[[alert]]
name = "errors"
metric = "error_rate"
condition = "change"
threshold = "50%"

[[alert]]
metric = "throughput"
condition = "below"
threshold = "12000/min"
baseline = 400

[[alert]]
metric = "response_time_p99"
condition = "above"
threshold = "250ms"
baseline = "0.1s"
"#,
        )
        .unwrap();
        let got: Vec<(&str, Metric, f64, f64, &str)> = a
            .iter()
            .map(|a| {
                (
                    a.name.as_str(),
                    a.metric,
                    a.threshold,
                    a.baseline,
                    a.key.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "p95 above 1s",
                    Metric::P95,
                    1000.0,
                    500.0,
                    "p95 above 1s_p95"
                ),
                ("errors", Metric::ErrorRatio, 0.5, 0.01, "errors_error_rate"),
                (
                    "throughput below 12000/min",
                    Metric::Throughput,
                    200.0,
                    400.0,
                    "throughput below 12000/min_throughput"
                ),
                (
                    "response_time_p99 above 250ms",
                    Metric::P99,
                    250.0,
                    100.0,
                    "response_time_p99 above 250ms_response_time_p99"
                ),
            ]
        );
        assert_eq!(a[1].condition, Condition::Change);
    }

    #[test]
    fn errors_point_at_the_field() {
        let table = |fields: &str| format!("[[alert]]\n{fields}\n");
        let cases: [(&str, &str, &str); 9] = [
            (
                "metric = \"p95\"\ncondition = \"above\"",
                "missing field `threshold`",
                "",
            ),
            (
                "metric = \"p95\"\ncondition = \"above\"\nthreshold = \"1s\"\nwindow = \"1m\"",
                "unknown field `window`",
                "window",
            ),
            (
                "metric = \"memory_usage\"\ncondition = \"above\"\nthreshold = 80",
                "not the host's memory or CPU",
                "\"memory_usage\"",
            ),
            (
                "metric = \"latency\"\ncondition = \"above\"\nthreshold = 80",
                "unknown metric `latency`",
                "\"latency\"",
            ),
            (
                "metric = \"p95\"\ncondition = \"over\"\nthreshold = \"1s\"",
                "unknown condition `over`",
                "\"over\"",
            ),
            (
                "metric = \"p95\"\ncondition = \"above\"\nthreshold = 1000",
                "a latency needs a unit",
                "1000",
            ),
            (
                "metric = \"error_ratio\"\ncondition = \"above\"\nthreshold = 5",
                "a ratio from 0 to 1",
                "5",
            ),
            (
                "metric = \"p50\"\ncondition = \"above\"\nthreshold = \"1s\"",
                "no baseline for p50",
                "\"p50\"",
            ),
            (
                "metric = \"hit_ratio\"\ncondition = \"below\"\nthreshold = 0.7\nbaseline = 0",
                "baseline: must be above zero",
                "0",
            ),
        ];
        for (fields, message, at) in cases {
            let (got, pointed) = alerts(&table(fields)).unwrap_err();
            assert!(got.contains(message), "{got:?} lacks {message:?}");
            if !at.is_empty() {
                assert_eq!(pointed, at, "{got}");
            }
        }
        let twice = "[[alert]]\nmetric = \"p95\"\ncondition = \"above\"\nthreshold = \"1s\"\n";
        let (got, _) = alerts(&format!("{twice}{twice}")).unwrap_err();
        assert!(got.contains("two [[alert]] tables are named \"p95 above 1s\""));
    }

    #[test]
    fn an_alert_needs_a_service() {
        let doc = DeTable::parse("[[alert]]\nmetric = \"p95\"")
            .unwrap()
            .into_inner();
        let err = parse(doc.get("alert").cloned(), false).unwrap_err();
        assert!(err.message.contains("add a [service] section"));
    }
}
