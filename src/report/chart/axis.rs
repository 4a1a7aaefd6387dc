//! Axes: the scale (linear, log, or symmetric log for data crowded near
//! zero), the range, and ticks at round values written with their unit
//! ("50 MiB", "1%", "200 ms") — or at the tested values when there are few.

/// How values map onto the axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    /// Needs positive values.
    Log,
    /// Linear within `threshold` of zero, logarithmic beyond: for values
    /// that start at zero and span decades (denial ratios).
    SymLog(f64),
}

/// What the values are, for tick labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// A number: thousands as "12k", millions as "3.4M".
    Count,
    /// A ratio between 0 and 1.
    Ratio,
    /// Percentages (0–100), written "5%".
    Percent,
    Bytes,
    /// Milliseconds, written "200 ms" (or "1.5 s" from a second up).
    Ms,
    Seconds,
}

#[derive(Debug, Clone)]
pub struct Axis {
    pub label: String,
    pub unit: Unit,
    pub scale: Scale,
    /// Ends fixed by the chart; None: fitted to the data.
    pub range: Option<(f64, f64)>,
    /// Label these values only (the tested sizes, the load levels), with
    /// their own text or None for the value in the axis unit; empty:
    /// round values.
    pub ticks: Vec<(f64, Option<String>)>,
}

/// At most this many tested values are labelled one by one.
const MAX_LISTED_TICKS: usize = 8;

impl Axis {
    pub fn new(label: impl Into<String>, unit: Unit) -> Self {
        Axis {
            label: label.into(),
            unit,
            scale: Scale::Linear,
            range: None,
            ticks: Vec::new(),
        }
    }

    pub fn scale(mut self, scale: Scale) -> Self {
        self.scale = scale;
        self
    }

    pub fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }

    /// Log when the values are positive and span a decade or more.
    pub fn log_if_wide(mut self, values: &[f64]) -> Self {
        let (lo, hi) = bounds(values.iter().copied());
        if lo > 0.0 && hi / lo >= 10.0 {
            self.scale = Scale::Log;
        }
        self
    }

    /// Ticks at `values` when there are few distinct ones.
    pub fn ticks_at(self, values: &[f64]) -> Self {
        self.ticks_named(values.iter().map(|&v| (v, None)).collect())
    }

    /// Ticks at these values, with their own text where given, when there
    /// are few distinct ones.
    pub fn ticks_named(mut self, mut ticks: Vec<(f64, Option<String>)>) -> Self {
        ticks.retain(|t| t.0.is_finite());
        ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
        ticks.dedup_by(|a, b| a.0 == b.0);
        if ticks.len() <= MAX_LISTED_TICKS {
            self.ticks = ticks;
        }
        self
    }

    /// The axis laid out for `values` (which must all be drawn).
    pub fn fit(&self, values: impl Iterator<Item = f64>) -> Fitted {
        let (mut lo, mut hi) = bounds(values.filter(|v| v.is_finite()));
        if lo > hi {
            (lo, hi) = (0.0, 1.0);
        }
        let scale = match self.scale {
            Scale::Log if lo <= 0.0 => Scale::Linear,
            s => s,
        };
        let (lo, hi) = match (self.range, scale) {
            (Some(r), _) => r,
            (None, Scale::Log) => {
                let (lo, hi) = if hi / lo < 1.5 {
                    (lo / 1.5, hi * 1.5)
                } else {
                    (lo, hi)
                };
                (lo / 1.12, hi * 1.12)
            }
            (None, _) => {
                // A ratio lies in [0, 1], whatever its interval says.
                let (lo, hi) = match self.unit {
                    Unit::Ratio => (0.0, hi.clamp(0.0, 1.0)),
                    _ => (lo.min(0.0), hi),
                };
                let hi = if hi <= lo { lo + 1.0 } else { hi };
                let step = nice_step((hi - lo) / 5.0, self.unit);
                let lo = (lo / step).floor() * step;
                (lo, (hi / step).ceil() * step)
            }
        };
        let mut fitted = Fitted {
            lo,
            hi,
            scale,
            unit: self.unit,
            ticks: Vec::new(),
        };
        let ticks = if self.ticks.is_empty() {
            fitted
                .round_ticks()
                .into_iter()
                .map(|v| (v, None))
                .collect()
        } else {
            self.ticks.clone()
        };
        let slack = 1e-9 * (hi - lo).abs();
        fitted.ticks = ticks
            .into_iter()
            .filter(|&(v, _)| v >= lo - slack && v <= hi + slack)
            .map(|(v, text)| (v, text.unwrap_or_else(|| format_value(v, self.unit))))
            .collect();
        fitted
    }
}

/// An axis with its range and ticks decided.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub lo: f64,
    pub hi: f64,
    pub scale: Scale,
    pub unit: Unit,
    pub ticks: Vec<(f64, String)>,
}

impl Fitted {
    /// Where `v` falls, from 0 (the low end) to 1 (the high end).
    pub fn position(&self, v: f64) -> f64 {
        let t = |x: f64| match self.scale {
            Scale::Linear => x,
            Scale::Log => x.max(f64::MIN_POSITIVE).log10(),
            Scale::SymLog(c) => x.signum() * (1.0 + x.abs() / c).log10(),
        };
        let (a, b) = (t(self.lo), t(self.hi));
        if b == a { 0.5 } else { (t(v) - a) / (b - a) }
    }

    /// Round values inside the range.
    fn round_ticks(&self) -> Vec<f64> {
        match self.scale {
            Scale::Linear => {
                let step = nice_step((self.hi - self.lo) / 5.0, self.unit);
                let first = (self.lo / step).ceil() as i64;
                let last = (self.hi / step).floor() as i64;
                (first..=last).map(|k| k as f64 * step).collect()
            }
            Scale::Log if self.unit == Unit::Bytes => {
                // Powers of two, as many as fit five to ten ticks.
                let (a, b) = (self.lo.log2().ceil() as i32, self.hi.log2().floor() as i32);
                let every = ((b - a) / 8 + 1).max(1);
                (a..=b)
                    .filter(|k| (k - a) % every == 0)
                    .map(|k| 2f64.powi(k))
                    .collect()
            }
            Scale::Log => decades(self.lo, self.hi),
            Scale::SymLog(c) => {
                let mut ticks = vec![0.0];
                ticks.extend(decades(c, self.hi.max(c)));
                ticks
            }
        }
    }
}

/// 1-2-5 steps across [lo, hi], or only the powers of ten when there are
/// many decades.
fn decades(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let multiples: &[f64] = match b - a {
        0..=1 => &[1.0, 2.0, 3.0, 5.0, 7.0],
        2..=3 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    (a..=b)
        .flat_map(|k| multiples.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|&v| v >= lo * 0.999 && v <= hi * 1.001)
        .collect()
}

/// A round step near `raw`: 1, 2 or 5 times a power of ten (of 1024 for
/// bytes above a KiB).
fn nice_step(raw: f64, unit: Unit) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let base = if unit == Unit::Bytes && raw >= 1024.0 {
        1024f64.powi((raw.log2() / 10.0).floor() as i32)
    } else {
        1.0
    };
    let r = raw / base;
    let magnitude = 10f64.powi(r.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= r)
        .unwrap_or(10.0 * magnitude);
    step * base
}

/// `v` with three significant digits and no trailing zeros.
pub fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let decimals = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A value as a tick label.
pub fn format_value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Count if v.abs() >= 1e6 => format!("{}M", number(v / 1e6)),
        Unit::Count if v.abs() >= 1e4 => format!("{}k", number(v / 1e3)),
        Unit::Count | Unit::Ratio => number(v),
        Unit::Percent => format!("{}%", number(v)),
        Unit::Bytes => {
            const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
            let k = if v.abs() < 1.0 {
                0
            } else {
                ((v.abs().log2() / 10.0).floor() as usize).min(UNITS.len() - 1)
            };
            format!("{} {}", number(v / 1024f64.powi(k as i32)), UNITS[k])
        }
        Unit::Ms if v.abs() >= 1000.0 => format!("{} s", number(v / 1000.0)),
        Unit::Ms => format!("{} ms", number(v)),
        Unit::Seconds => format!("{} s", number(v)),
    }
}

pub fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_units_without_needless_digits() {
        assert_eq!(format_value(50.0 * 1048576.0, Unit::Bytes), "50 MiB");
        assert_eq!(format_value(17.6 * 1048576.0, Unit::Bytes), "17.6 MiB");
        assert_eq!(format_value(1.0, Unit::Percent), "1%");
        assert_eq!(format_value(0.5, Unit::Percent), "0.5%");
        assert_eq!(format_value(200.0, Unit::Ms), "200 ms");
        assert_eq!(format_value(1500.0, Unit::Ms), "1.5 s");
        assert_eq!(format_value(1000.0, Unit::Count), "1000");
        assert_eq!(format_value(25_000.0, Unit::Count), "25k");
        assert_eq!(format_value(0.25, Unit::Ratio), "0.25");
    }

    #[test]
    fn round_ticks_span_the_data() {
        let axis = Axis::new("hit ratio", Unit::Ratio);
        let f = axis.fit([0.37, 0.83].into_iter());
        let labels: Vec<&str> = f.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        let log = Axis::new("size", Unit::Count).log_if_wide(&[400.0, 8000.0]);
        assert_eq!(log.scale, Scale::Log);
        let f = log.fit([400.0, 8000.0].into_iter());
        let values: Vec<f64> = f.ticks.iter().map(|t| t.0).collect();
        assert_eq!(values, [500.0, 1000.0, 2000.0, 5000.0]);
        assert!(f.position(400.0) > 0.0 && f.position(8000.0) < 1.0);
    }

    #[test]
    fn few_tested_values_are_the_ticks() {
        let sizes = [17.6, 35.1, 70.3, 176.0, 351.0].map(|m| m * 1048576.0);
        let axis = Axis::new("size", Unit::Bytes)
            .log_if_wide(&sizes)
            .ticks_at(&sizes);
        let f = axis.fit(sizes.into_iter());
        assert_eq!(f.ticks.len(), 5);
        assert_eq!(f.ticks[0].1, "17.6 MiB");
    }

    #[test]
    fn symlog_spreads_values_near_zero() {
        let axis = Axis::new("denied", Unit::Percent).scale(Scale::SymLog(0.1));
        let f = axis.fit([0.0, 0.4, 0.6, 40.0].into_iter());
        assert_eq!(f.position(0.0), 0.0);
        assert!(f.position(0.6) - f.position(0.4) > 0.04);
        assert_eq!(f.ticks[0].1, "0%");
    }

    #[test]
    fn degenerate_data_gets_a_usable_axis() {
        for values in [vec![], vec![0.0], vec![5.0, 5.0], vec![f64::NAN, 3.0]] {
            let f = Axis::new("x", Unit::Count).fit(values.into_iter());
            assert!(f.lo < f.hi, "{f:?}");
            assert!(!f.ticks.is_empty());
            assert!(f.ticks.iter().all(|t| t.1 != "0.0"));
        }
    }
}
