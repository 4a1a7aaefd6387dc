//! `[report]` and `[cost]`: how results are judged. The metrics users name
//! in `rank_by`, `targets` and alerts, the baseline every configuration is
//! compared with, the workshop's grade bands, and prices.

use serde::Deserialize;

use crate::error::ConfigError;
use crate::units::{self, Duration};

/// A metric the report can rank by, set a target on, or compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    HitRatio,
    ByteHitRatio,
    P50,
    P95,
    P99,
    Throughput,
    ErrorRatio,
    OriginRequests,
    OriginBytes,
    LegitDenied,
    AbusiveAllowed,
    StateBytes,
    Cost,
}

impl Metric {
    /// In table order.
    pub const ALL: [Metric; 13] = [
        Metric::HitRatio,
        Metric::ByteHitRatio,
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::Throughput,
        Metric::ErrorRatio,
        Metric::OriginRequests,
        Metric::OriginBytes,
        Metric::LegitDenied,
        Metric::AbusiveAllowed,
        Metric::StateBytes,
        Metric::Cost,
    ];

    /// The name users write and results.json's `configurations` use.
    pub fn name(self) -> &'static str {
        match self {
            Metric::HitRatio => "hit_ratio",
            Metric::ByteHitRatio => "byte_hit_ratio",
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Throughput => "throughput",
            Metric::ErrorRatio => "error_ratio",
            Metric::OriginRequests => "origin_requests",
            Metric::OriginBytes => "origin_bytes",
            Metric::LegitDenied => "legit_denied",
            Metric::AbusiveAllowed => "abusive_allowed",
            Metric::StateBytes => "state_bytes",
            Metric::Cost => "cost_per_month",
        }
    }

    /// For sentences and table headers.
    pub fn title(self) -> &'static str {
        match self {
            Metric::HitRatio => "hit ratio",
            Metric::ByteHitRatio => "byte hit ratio",
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Throughput => "throughput",
            Metric::ErrorRatio => "error ratio",
            Metric::OriginRequests => "origin requests",
            Metric::OriginBytes => "origin bytes",
            Metric::LegitDenied => "legit denied",
            Metric::AbusiveAllowed => "abusive allowed",
            Metric::StateBytes => "limiter state",
            Metric::Cost => "cost / month",
        }
    }

    /// The workshop dashboard's `establishBaselines`: p95 500 ms,
    /// throughput 1000 req/s, error rate 1%, cache hit rate 80%; it has
    /// none for the others (so it never checks them).
    pub fn dashboard_baseline(self) -> Option<f64> {
        match self {
            Metric::P95 => Some(500.0),
            Metric::Throughput => Some(1000.0),
            Metric::ErrorRatio => Some(0.01),
            Metric::HitRatio => Some(0.8),
            _ => None,
        }
    }

    /// Whether each window of a time series has it (what alerts watch).
    pub fn windowed(self) -> bool {
        matches!(
            self,
            Metric::P50
                | Metric::P95
                | Metric::P99
                | Metric::Throughput
                | Metric::ErrorRatio
                | Metric::HitRatio
        )
    }

    pub fn is_latency(self) -> bool {
        matches!(self, Metric::P50 | Metric::P95 | Metric::P99)
    }

    fn is_ratio(self) -> bool {
        matches!(
            self,
            Metric::HitRatio
                | Metric::ByteHitRatio
                | Metric::ErrorRatio
                | Metric::LegitDenied
                | Metric::AbusiveAllowed
        )
    }

    /// The unit of its values in sentences ("" for ratios and counts).
    pub fn unit(self) -> &'static str {
        match self {
            Metric::P50 | Metric::P95 | Metric::P99 => "ms",
            Metric::Throughput => "req/s",
            _ => "",
        }
    }

    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::HitRatio | Metric::ByteHitRatio | Metric::Throughput
        )
    }

    /// A name as users write it, with the workshop dashboard's names too.
    pub fn parse(name: &str) -> Option<Metric> {
        let alias = match name {
            "cache_hit_rate" | "hit_rate" => "hit_ratio",
            "response_time_p50" | "latency_p50" => "p50",
            "response_time_p95" | "latency_p95" => "p95",
            "response_time_p99" | "latency_p99" => "p99",
            "error_rate" => "error_ratio",
            "throughput_rps" => "throughput",
            "cost" => "cost_per_month",
            other => other,
        };
        Metric::ALL.into_iter().find(|m| m.name() == alias)
    }

    /// Reads a value of this metric as users write it: latencies with a
    /// unit ("500ms"), ratios as fractions or percentages, throughput as a
    /// rate or a number per second, sizes with a unit.
    pub fn parse_value(self, text: &str) -> Result<f64, ConfigError> {
        let text = text.trim();
        let plain = text.parse::<f64>().ok();
        let value = match self {
            Metric::P50 | Metric::P95 | Metric::P99 => {
                units::parse_duration(text).map(|ns| ns as f64 / 1e6)?
            }
            Metric::HitRatio
            | Metric::ByteHitRatio
            | Metric::ErrorRatio
            | Metric::LegitDenied
            | Metric::AbusiveAllowed => match plain {
                Some(x) => x,
                None => units::parse_percent(text)?,
            },
            Metric::Throughput => match plain {
                Some(x) => x,
                None => units::parse_rate(text)?,
            },
            Metric::OriginBytes | Metric::StateBytes => units::parse_bytes(text)? as f64,
            Metric::OriginRequests | Metric::Cost => {
                plain.ok_or_else(|| format!("expected a number, found {text:?}"))?
            }
        };
        if !value.is_finite() || value < 0.0 {
            return Err(format!("expected a value of zero or more, found {text:?}").into());
        }
        if self.is_ratio() && value > 1.0 {
            return Err(format!(
                "{} is a ratio from 0 to 1 (or a percentage such as \"5%\"), found {text}",
                self.name()
            )
            .into());
        }
        Ok(value)
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Metric::parse(&name).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            serde::de::Error::custom(format!(
                "unknown metric {name:?}, expected one of: {}",
                names.join(", ")
            ))
        })
    }
}

/// `[report]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// What "best" means when no target or price decides [default: p95
    /// with a service, else hit_ratio with caches, else legit_denied].
    pub rank_by: Option<Metric>,
    /// The configuration every other is compared with, by any of its
    /// values: `{ policy = "lru", capacity = "5%" }`, `{ limiter = "none" }`,
    /// `{ ttl = "60s" }`, `{ load = "peak" }`.
    pub baseline: Option<Baseline>,
    /// What a configuration must achieve to be recommended.
    pub targets: Option<Targets>,
    /// The workshop's grade bands, overridable.
    #[serde(default)]
    pub grades: GradeBands,
    /// Width of the windows of timeseries.csv, in simulated time [default: 1s].
    #[serde(default, deserialize_with = "some_positive_duration")]
    pub window: Option<Duration>,
    /// When a load level counts as broken.
    #[serde(default)]
    pub breaking_point: BreakingPoint,
}

fn some_positive_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    let v = Duration::deserialize(d)?;
    if v.0 == 0 {
        return Err(serde::de::Error::custom("must be longer than zero"));
    }
    Ok(Some(v))
}

impl ReportSpec {
    /// Width of the time-series windows.
    pub fn window(&self) -> crate::engine::SimTime {
        self.window.map_or(crate::engine::SECOND, |w| w.0)
    }
}

/// `baseline = { field = value, ... }`: the values that pick the baseline
/// out of the configurations, in file order. Fields are checked against
/// the experiment once its choices are known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Baseline {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        if table.is_empty() {
            return Err(serde::de::Error::custom(
                "an empty baseline: name the configuration, e.g. { policy = \"lru\" }",
            ));
        }
        table
            .into_iter()
            .map(|(field, value)| {
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => {
                        return Err(serde::de::Error::custom(format!(
                            "baseline field `{field}`: expected one value, found {other}"
                        )));
                    }
                };
                Ok((field, text))
            })
            .collect::<Result<_, _>>()
            .map(Baseline)
    }
}

impl Baseline {
    /// Whether a configuration with these `values` (full names, as
    /// [`super::Experiment::config_values`] gives them) is this baseline: a
    /// field may name a value by its full name or its last part ("ttl").
    pub fn matches(&self, values: &[(String, String)]) -> bool {
        self.0.iter().all(|(field, want)| {
            values.iter().any(|(name, value)| {
                let short = name.rsplit('.').next() == Some(field.as_str());
                (name == field || short) && value == want
            })
        })
    }
}

/// `targets = ["hit_ratio >= 0.8", "p95 <= 500ms"]`, or `"workshop"` for
/// the workshop dashboard's baselines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets(pub Vec<Target>);

/// One target: `metric op value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub metric: Metric,
    /// True for `>=`, false for `<=`.
    pub at_least: bool,
    pub value: f64,
}

impl Target {
    pub fn met_by(&self, x: f64) -> bool {
        if self.at_least {
            x >= self.value
        } else {
            x <= self.value
        }
    }

    /// How far `x` is from meeting it, relative to the target (0 when met).
    pub fn shortfall(&self, x: f64) -> f64 {
        let gap = if self.at_least {
            self.value - x
        } else {
            x - self.value
        };
        gap.max(0.0) / self.value.abs().max(f64::MIN_POSITIVE)
    }

    /// "p95 <= 500ms" style text, for sentences.
    pub fn op(&self) -> &'static str {
        if self.at_least { ">=" } else { "<=" }
    }

    pub fn parse(text: &str) -> Result<Target, ConfigError> {
        let (name, at_least, value) = if let Some((n, v)) = text.split_once(">=") {
            (n, true, v)
        } else if let Some((n, v)) = text.split_once("<=") {
            (n, false, v)
        } else {
            return Err(format!(
                "target {text:?}: expected `metric >= value` or `metric <= value`, e.g. \"p95 <= 500ms\""
            ).into());
        };
        let name = name.trim();
        let metric = Metric::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            format!(
                "target {text:?}: unknown metric {name:?}, expected one of: {}",
                names.join(", ")
            )
        })?;
        let value = metric
            .parse_value(value.trim().trim_matches('"'))
            .map_err(|e| format!("target {text:?}: {e}"))?;
        Ok(Target {
            metric,
            at_least,
            value,
        })
    }

    /// The workshop dashboard's baselines as targets: p95 within 500 ms,
    /// 1000 req/s, at most 1% errors, a hit ratio of 80%.
    pub fn workshop() -> Vec<Target> {
        [
            Metric::P95,
            Metric::Throughput,
            Metric::ErrorRatio,
            Metric::HitRatio,
        ]
        .into_iter()
        .filter_map(|metric| {
            Some(Target {
                metric,
                at_least: metric.higher_is_better(),
                value: metric.dashboard_baseline()?,
            })
        })
        .collect()
    }
}

impl<'de> Deserialize<'de> for Targets {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Preset(String),
            List(Vec<String>),
        }
        let form = Form::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a list such as [\"hit_ratio >= 0.8\", \"p95 <= 500ms\"], or \"workshop\"",
            )
        })?;
        match form {
            Form::Preset(p) if p == "workshop" => Ok(Targets(Target::workshop())),
            Form::Preset(p) => Err(serde::de::Error::custom(format!(
                "unknown preset {p:?}: the only preset is \"workshop\"; or give a list such as [\"p95 <= 500ms\"]"
            ))),
            Form::List(items) => items
                .iter()
                .map(|t| Target::parse(t))
                .collect::<Result<_, _>>()
                .map(Targets)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// Lower edges of the workshop's "excellent", "good" and "fair" bands, in
/// percent (its "Workshop Assessment"): below the last is "poor".
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub excellent: f64,
    pub good: f64,
    pub fair: f64,
}

/// `[report.grades]`: one set of bands per graded improvement.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GradeBands {
    /// Reduction of p95 latency.
    pub p95: Bands,
    /// Increase of throughput.
    pub throughput: Bands,
    /// Reduction of the error ratio.
    pub error_ratio: Bands,
    /// Increase of the hit ratio.
    pub hit_ratio: Bands,
}

impl Default for GradeBands {
    fn default() -> Self {
        let b = |excellent, good, fair| Bands {
            excellent,
            good,
            fair,
        };
        GradeBands {
            p95: b(50.0, 30.0, 10.0),
            throughput: b(100.0, 50.0, 20.0),
            error_ratio: b(80.0, 50.0, 20.0),
            hit_ratio: b(40.0, 20.0, 10.0),
        }
    }
}

/// `[cost]`: prices that turn a configuration's traffic and capacity into
/// money per month (30 days) at the experiment's request rate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostSpec {
    /// Per GB (10^9 bytes) the origin sends.
    #[serde(default, deserialize_with = "crate::units::checked::non_negative")]
    pub egress_per_gb: f64,
    /// Per million requests reaching the origin.
    #[serde(default, deserialize_with = "crate::units::checked::non_negative")]
    pub origin_per_million: f64,
    /// Per GB of cache capacity, per month.
    #[serde(default, deserialize_with = "crate::units::checked::non_negative")]
    pub cache_gb_month: f64,
    /// Per million requests the edge answers.
    #[serde(default, deserialize_with = "crate::units::checked::non_negative")]
    pub edge_per_million: f64,
    /// Currency symbol for the report [default: "$"].
    pub currency: Option<String>,
}

/// `breaking_point = { error_ratio = 0.10, p95 = "500ms" }`: a load level
/// breaks when its error ratio (503s and 504s over requests) is above
/// `error_ratio` (the workshop's rule: more than 10%), or its p95 above
/// `p95` when given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakingPoint {
    #[serde(
        default = "ten_percent",
        deserialize_with = "crate::units::checked::non_negative"
    )]
    pub error_ratio: f64,
    pub p95: Option<Duration>,
}

fn ten_percent() -> f64 {
    0.10
}

impl Default for BreakingPoint {
    fn default() -> Self {
        BreakingPoint {
            error_ratio: ten_percent(),
            p95: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_units_and_aliases() {
        let t = Target::parse("p95 <= 500ms").unwrap();
        assert_eq!((t.metric, t.at_least, t.value), (Metric::P95, false, 500.0));
        let t = Target::parse("cache_hit_rate >= 80%").unwrap();
        assert_eq!(
            (t.metric, t.at_least, t.value),
            (Metric::HitRatio, true, 0.8)
        );
        let t = Target::parse("throughput >= 1000/s").unwrap();
        assert_eq!(t.value, 1000.0);
        assert!(Target::parse("p95 < 1s").unwrap_err().0.contains(">="));
        assert!(
            Target::parse("speed >= 1")
                .unwrap_err()
                .0
                .contains("unknown metric")
        );
        assert!(Target::parse("p95 <= 500").unwrap_err().0.contains("unit"));
    }

    #[test]
    fn shortfall_is_relative_and_zero_when_met() {
        let t = Target::parse("hit_ratio >= 0.8").unwrap();
        assert_eq!(t.shortfall(0.9), 0.0);
        assert!((t.shortfall(0.6) - 0.25).abs() < 1e-12);
    }
}
