//! Alerts: the workshop dashboard's `checkAlerts` and `triggerAlert`
//! (Exercise 3.2) run at the end of every window of every run's time
//! series; alerts.csv lists each firing, report.md sums them up.

use std::collections::BTreeMap;
use std::fmt::Write;

use anyhow::Result;

use super::csv::Table;
use super::levels::{self, ConfigKey};
use super::markdown::table_head;
use super::{Cell, Export, Summary};
use crate::engine::{SECOND, SimTime};
use crate::experiment::{AlertSpec, Condition, Experiment, Metric};
use crate::metrics::service::Window;
use crate::runner::RunResult;

/// How bad a firing is. The dashboard starts every check at "info", but
/// each of its conditions overwrites it, so an alert only ever fires as a
/// warning or a critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One time an alert fired in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// Index into the experiment's alerts.
    pub alert: usize,
    /// Start of the window it was measured over, since the run's first
    /// window (as in timeseries.csv).
    pub time: SimTime,
    /// In the metric's unit (ms for latencies).
    pub value: f64,
    pub severity: Severity,
}

/// The dashboard's de-duplication: an alert that fired less than five
/// minutes ago (here of simulated time) stays quiet.
const QUIET: SimTime = 300 * SECOND;

/// The dashboard's `checkAlerts` for one alert and one value: the severity
/// when it triggers. As in the dashboard (`if (!metricValue ||
/// !baselineValue) continue;`), a value of exactly 0 is never checked, so
/// `below` never fires on a window whose value is 0. The severity does not
/// depend on the threshold: critical beyond 1.5x (`above`) or 0.5x
/// (`below`) the baseline, or a change of more than 50%; strict
/// comparisons throughout.
pub fn check(alert: &AlertSpec, value: f64) -> Option<Severity> {
    let baseline = alert.baseline;
    if value == 0.0 || value.is_nan() || baseline == 0.0 {
        return None;
    }
    let (triggered, critical) = match alert.condition {
        Condition::Above => (value > alert.threshold, value > baseline * 1.5),
        Condition::Below => (value < alert.threshold, value < baseline * 0.5),
        Condition::Change => {
            let change = ((value - baseline) / baseline).abs();
            (change > alert.threshold, change > 0.5)
        }
    };
    triggered.then_some(if critical {
        Severity::Critical
    } else {
        Severity::Warning
    })
}

/// The value of `metric` in window `w`, which covers `seconds` of simulated
/// time; None when it has none: latencies of a window without answers, the
/// throughput of a window of no length.
fn value(metric: Metric, w: &Window, seconds: f64) -> Option<f64> {
    let ms = |ns: u64| ns as f64 / 1e6;
    let answered = w.latency.count > 0;
    match metric {
        Metric::P50 => answered.then(|| ms(w.latency.p50)),
        Metric::P95 => answered.then(|| ms(w.latency.p95)),
        Metric::P99 => answered.then(|| ms(w.latency.p99)),
        Metric::Throughput => (seconds > 0.0).then(|| w.counts.ok as f64 / seconds),
        Metric::ErrorRatio => Some(w.counts.error_ratio()),
        Metric::HitRatio => Some(w.counts.hit_ratio()),
        // Not in a window; refused when the alert is read.
        _ => None,
    }
}

/// Every firing of `alerts` in one run, whose time series is `windows`
/// (each `width` long, the last one cut at `end`, the run's last event), in
/// time order and then file order. Each run starts with a quiet slate. An
/// alert whose de-duplication key fired less than [`QUIET`] before is left
/// out, and a left-out firing does not restart the clock (the dashboard
/// records only the firings it sends). The dashboard's `lastTrigger &&`
/// only asks whether the key fired before (its wall-clock times are never
/// 0), so a firing in the first window, at time 0, counts as one here.
pub fn evaluate(
    alerts: &[AlertSpec],
    windows: &[Window],
    width: SimTime,
    end: SimTime,
) -> Vec<Firing> {
    let Some(origin) = windows.first().map(|w| w.start) else {
        return Vec::new();
    };
    let mut last: BTreeMap<&str, SimTime> = BTreeMap::new();
    let mut out = Vec::new();
    for w in windows {
        let time = w.start - origin;
        let seconds = (w.start + width).min(end).saturating_sub(w.start) as f64 / 1e9;
        for (a, alert) in alerts.iter().enumerate() {
            let Some(value) = value(alert.metric, w, seconds) else {
                continue;
            };
            let Some(severity) = check(alert, value) else {
                continue;
            };
            if last
                .get(alert.key.as_str())
                .is_some_and(|&at| time - at < QUIET)
            {
                continue;
            }
            last.insert(&alert.key, time);
            out.push(Firing {
                alert: a,
                time,
                value,
                severity,
            });
        }
    }
    out
}

/// Every firing of `exp`'s alerts in run `r` (none without a time series).
fn run_firings(exp: &Experiment, r: &RunResult) -> Vec<Firing> {
    let Some(s) = &r.service else {
        return Vec::new();
    };
    let end = s.windows.first().map_or(0, |w| w.start) + s.span;
    evaluate(&exp.alerts, &s.windows, exp.report.window(), end)
}

/// Every firing of every run with a time series, in run order.
fn firings<'a>(summary: &Summary<'a>) -> Vec<(&'a RunResult, Firing)> {
    summary
        .results
        .iter()
        .flat_map(|r| {
            run_firings(summary.experiment, r)
                .into_iter()
                .map(move |f| (r, f))
        })
        .collect()
}

/// When each alert fired in run `r`: the alerts that fired, in file order,
/// each with the start of every window it fired in (since the run's first
/// window, as in timeseries.csv and alerts.csv).
pub fn fired<'e>(exp: &'e Experiment, r: &RunResult) -> Vec<(&'e AlertSpec, Vec<SimTime>)> {
    let firings = run_firings(exp, r);
    exp.alerts
        .iter()
        .enumerate()
        .filter_map(|(a, alert)| {
            let times: Vec<SimTime> = firings
                .iter()
                .filter(|f| f.alert == a)
                .map(|f| f.time)
                .collect();
            (!times.is_empty()).then_some((alert, times))
        })
        .collect()
}

/// alerts.csv: one row per firing.
pub struct Alerts;

impl Export for Alerts {
    fn file_name(&self) -> &'static str {
        "alerts.csv"
    }

    fn applies(&self, summary: &Summary) -> bool {
        !summary.experiment.alerts.is_empty()
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let exp = summary.experiment;
        let loads = exp.loads.len() > 1;
        let mut header = vec!["run", "configuration"];
        if loads {
            header.push("load");
        }
        header.extend([
            "alert",
            "metric",
            "condition",
            "window_start_s",
            "value",
            "threshold",
            "baseline",
            "severity",
        ]);
        let mut out = Table::new(&header)?;
        for (r, f) in firings(summary) {
            let alert = &exp.alerts[f.alert];
            let mut row = vec![
                Cell::Int(r.run.index as u64),
                Cell::Text(levels::config_label(exp, ConfigKey::of(&r.run))),
            ];
            if loads {
                row.push(Cell::Text(exp.load_of(&r.run).label()));
            }
            row.extend([
                Cell::Text(alert.name.clone()),
                Cell::Text(alert.metric.name().into()),
                Cell::Text(alert.condition.name().into()),
                Cell::Real(f.time as f64 / 1e9),
                Cell::Real(f.value),
                Cell::Real(alert.threshold),
                Cell::Real(alert.baseline),
                Cell::Text(f.severity.name().into()),
            ]);
            out.row(&row)?;
        }
        out.finish()
    }
}

/// A value of `metric` for sentences: "750 ms", "0.015".
fn quantity(metric: Metric, v: f64) -> String {
    match metric.unit() {
        "" => levels::number(v),
        unit => format!("{} {unit}", levels::number(v)),
    }
}

/// An alert's rule in words, with the severities it implies. The severity
/// ignores the threshold, so a threshold beyond the critical bound makes
/// every firing critical (the workshop's p95 above 1s, with its 500 ms
/// baseline): the sentence says so.
fn rule(alert: &AlertSpec) -> String {
    let (m, b, threshold) = (alert.metric, alert.baseline, alert.threshold);
    let name = m.name();
    let baseline = quantity(m, b);
    let (trigger, critical, always) = match alert.condition {
        Condition::Above => (
            format!("{name} above {}", quantity(m, threshold)),
            format!(
                "above {} (1.5x the baseline {baseline})",
                quantity(m, b * 1.5)
            ),
            threshold >= b * 1.5,
        ),
        Condition::Below => (
            format!("{name} below {}", quantity(m, threshold)),
            format!(
                "below {} (0.5x the baseline {baseline})",
                quantity(m, b * 0.5)
            ),
            threshold <= b * 0.5,
        ),
        Condition::Change => (
            format!(
                "{name} more than {}% away from the baseline {baseline}",
                levels::number(threshold * 100.0)
            ),
            "beyond a 50% change".to_string(),
            threshold >= 0.5,
        ),
    };
    let always = if always {
        ": every firing is critical"
    } else {
        ""
    };
    format!("{trigger}; critical {critical}{always}")
}

/// Firings of one alert in one configuration at one load level.
#[derive(Default)]
struct Tally {
    critical: usize,
    warning: usize,
    first: SimTime,
    last: SimTime,
}

/// A configuration at a load level, with the tally of each alert.
struct Group {
    config: ConfigKey,
    load: usize,
    tallies: Vec<Option<Tally>>,
}

/// report.md's "Alerts" section: the rules, then per configuration how
/// often each alert fired and when first and last.
pub fn markdown(md: &mut String, summary: &Summary) {
    let exp = summary.experiment;
    if exp.alerts.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Alerts\n");
    let _ = writeln!(
        md,
        "The workshop dashboard's rules, checked at the end of every {} s window of each run \
         (`alerts.csv` lists every firing):\n",
        levels::number(exp.report.window() as f64 / 1e9)
    );
    for alert in &exp.alerts {
        let _ = writeln!(md, "- `{}`: {}", alert.name, rule(alert));
    }
    let _ = writeln!(
        md,
        "\nAs in the dashboard, an alert stays quiet for 5 minutes (of simulated time) after it \
         fires, and a window whose value is 0 is not checked.\n"
    );
    let fired = firings(summary);
    if fired.is_empty() {
        let _ = writeln!(md, "No alert fired in any run.\n");
        return;
    }
    // In run order.
    let mut groups: Vec<Group> = Vec::new();
    for r in summary.results.iter().filter(|r| r.service.is_some()) {
        let (config, load) = (ConfigKey::of(&r.run), r.run.load);
        if !groups.iter().any(|g| (g.config, g.load) == (config, load)) {
            groups.push(Group {
                config,
                load,
                tallies: exp.alerts.iter().map(|_| None).collect(),
            });
        }
    }
    for (r, f) in &fired {
        let (config, load) = (ConfigKey::of(&r.run), r.run.load);
        let Some(group) = groups
            .iter_mut()
            .find(|g| (g.config, g.load) == (config, load))
        else {
            continue;
        };
        let t = group.tallies[f.alert].get_or_insert(Tally {
            first: f.time,
            last: f.time,
            ..Tally::default()
        });
        match f.severity {
            Severity::Critical => t.critical += 1,
            Severity::Warning => t.warning += 1,
        }
        t.first = t.first.min(f.time);
        t.last = t.last.max(f.time);
    }
    if exp.meta.replications > 1 {
        let _ = writeln!(
            md,
            "Counts add up the {} replications of each configuration; first and last are the \
             earliest and latest firing in any of them, in seconds since the run's first window.\n",
            exp.meta.replications
        );
    } else {
        let _ = writeln!(md, "Times are seconds since the run's first window.\n");
    }
    let loads = exp.loads.len() > 1;
    let mut words = vec!["configuration"];
    words.extend(loads.then_some("load"));
    words.push("alert");
    let numbers = ["critical", "warning", "first (s)", "last (s)"];
    table_head(md, &words, &numbers);
    let load_label = |load: usize| format!("`{}`", exp.loads[load].label());
    let mut quiet = Vec::new();
    for g in &groups {
        let config = levels::config_label(exp, g.config);
        if g.tallies.iter().all(Option::is_none) {
            quiet.push(if loads {
                format!("{config} at {}", load_label(g.load))
            } else {
                config
            });
            continue;
        }
        let at = if loads {
            format!(" {} |", load_label(g.load))
        } else {
            String::new()
        };
        for (alert, t) in exp.alerts.iter().zip(&g.tallies) {
            let Some(t) = t else { continue };
            let _ = writeln!(
                md,
                "| {config} |{at} `{}` | {} | {} | {} | {} |",
                alert.name,
                t.critical,
                t.warning,
                levels::number(t.first as f64 / 1e9),
                levels::number(t.last as f64 / 1e9)
            );
        }
    }
    md.push('\n');
    if !quiet.is_empty() {
        let _ = writeln!(md, "No alert fired for: {}.\n", quiet.join("; "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::service::{Counts, Latency};

    fn alert(metric: Metric, condition: Condition, threshold: f64, baseline: f64) -> AlertSpec {
        let name = format!("{} {} {threshold}", metric.name(), condition.name());
        AlertSpec {
            key: format!("{name}_{}", metric.name()),
            name,
            metric,
            condition,
            threshold,
            baseline,
        }
    }

    /// A window starting at `start_s` whose answers all took `p95_ms`.
    fn latency_window(start_s: u64, p95_ms: f64) -> Window {
        let ns = (p95_ms * 1e6).round() as u64;
        Window {
            start: start_s * SECOND,
            counts: Counts::default(),
            latency: Latency {
                count: 1,
                p50: ns,
                p95: ns,
                p99: ns,
                ..Latency::default()
            },
            sample: Default::default(),
        }
    }

    fn counts_window(start_s: u64, counts: Counts) -> Window {
        Window {
            start: start_s * SECOND,
            counts,
            latency: Latency::default(),
            sample: Default::default(),
        }
    }

    #[test]
    fn above_is_critical_beyond_one_and_a_half_baselines() {
        let a = alert(Metric::P95, Condition::Above, 600.0, 500.0);
        assert_eq!(check(&a, 600.0), None);
        assert_eq!(check(&a, 600.5), Some(Severity::Warning));
        assert_eq!(check(&a, 750.0), Some(Severity::Warning));
        assert_eq!(check(&a, 750.5), Some(Severity::Critical));
        // The severity ignores the threshold: above a low threshold but
        // under the baseline, it is a warning; above a high one, critical.
        let low = alert(Metric::P95, Condition::Above, 100.0, 500.0);
        assert_eq!(check(&low, 200.0), Some(Severity::Warning));
        let high = alert(Metric::P95, Condition::Above, 2000.0, 500.0);
        assert_eq!(check(&high, 1999.0), None);
        assert_eq!(check(&high, 2001.0), Some(Severity::Critical));
    }

    #[test]
    fn below_is_critical_under_half_the_baseline() {
        let a = alert(Metric::HitRatio, Condition::Below, 0.7, 0.8);
        assert_eq!(check(&a, 0.7), None);
        assert_eq!(check(&a, 0.69), Some(Severity::Warning));
        assert_eq!(check(&a, 0.4), Some(Severity::Warning));
        assert_eq!(check(&a, 0.39), Some(Severity::Critical));
    }

    #[test]
    fn change_is_relative_to_the_baseline_and_critical_beyond_half() {
        let a = alert(Metric::P95, Condition::Change, 0.2, 500.0);
        assert_eq!(check(&a, 600.0), None);
        assert_eq!(check(&a, 400.0), None);
        assert_eq!(check(&a, 601.0), Some(Severity::Warning));
        assert_eq!(check(&a, 399.0), Some(Severity::Warning));
        assert_eq!(check(&a, 750.0), Some(Severity::Warning));
        assert_eq!(check(&a, 250.0), Some(Severity::Warning));
        assert_eq!(check(&a, 751.0), Some(Severity::Critical));
        assert_eq!(check(&a, 249.0), Some(Severity::Critical));
    }

    #[test]
    fn a_value_of_zero_is_never_checked() {
        // 0 is under any `below` threshold, yet the dashboard skips it.
        let below = alert(Metric::HitRatio, Condition::Below, 0.7, 0.8);
        assert_eq!(check(&below, 0.0), None);
        assert_eq!(check(&below, 0.01), Some(Severity::Critical));
        let change = alert(Metric::ErrorRatio, Condition::Change, 0.5, 0.01);
        assert_eq!(check(&change, 0.0), None);
        // Through windows: no requests, no errors, no answers.
        let empty = counts_window(0, Counts::default());
        let alerts = [
            below,
            change,
            alert(Metric::Throughput, Condition::Below, 800.0, 1000.0),
            alert(Metric::P95, Condition::Below, 100.0, 500.0),
        ];
        assert!(evaluate(&alerts, &[empty], SECOND, SECOND).is_empty());
    }

    #[test]
    fn each_metric_reads_its_window() {
        let counts = Counts {
            requests: 100,
            ok: 60,
            hits: 30,
            denied: 20,
            full: 15,
            timeouts: 5,
        };
        let mut w = counts_window(0, counts);
        w.latency = Latency {
            count: 60,
            p50: 10_000_000,
            p95: 40_000_000,
            p99: 90_000_000,
            ..Latency::default()
        };
        assert_eq!(value(Metric::P50, &w, 1.0), Some(10.0));
        assert_eq!(value(Metric::P95, &w, 1.0), Some(40.0));
        assert_eq!(value(Metric::P99, &w, 1.0), Some(90.0));
        assert_eq!(value(Metric::Throughput, &w, 0.5), Some(120.0));
        assert_eq!(value(Metric::Throughput, &w, 0.0), None);
        assert_eq!(value(Metric::ErrorRatio, &w, 1.0), Some(0.2));
        assert_eq!(value(Metric::HitRatio, &w, 1.0), Some(30.0 / 80.0));
        w.latency = Latency::default();
        assert_eq!(value(Metric::P95, &w, 1.0), None);
    }

    #[test]
    fn throughput_of_the_last_window_is_over_its_own_length() {
        let ok = |n| Counts {
            requests: n,
            ok: n,
            ..Counts::default()
        };
        let windows = [counts_window(0, ok(900)), counts_window(1, ok(400))];
        let a = alert(Metric::Throughput, Condition::Below, 850.0, 1000.0);
        // The run ends half-way through the second window: 800/s there.
        let f = evaluate(std::slice::from_ref(&a), &windows, SECOND, 3 * SECOND / 2);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].time, f[0].value), (SECOND, 800.0));
        // Without the cut it would read 400/s, a critical.
        let f = evaluate(&[a], &windows, SECOND, 2 * SECOND);
        assert_eq!((f[0].value, f[0].severity), (400.0, Severity::Critical));
    }

    #[test]
    fn an_alert_stays_quiet_for_five_minutes_after_it_fires() {
        let a = alert(Metric::P95, Condition::Above, 100.0, 500.0);
        let at = [0, 200, 299, 300, 599, 600];
        let windows: Vec<Window> = at.iter().map(|&s| latency_window(s, 200.0)).collect();
        let fired: Vec<SimTime> = evaluate(&[a], &windows, SECOND, 601 * SECOND)
            .iter()
            .map(|f| f.time / SECOND)
            .collect();
        // 200 and 299 are quiet after 0, without restarting its clock (else
        // 300 would be quiet too); 599 is quiet after 300.
        assert_eq!(fired, [0, 300, 600]);
    }

    #[test]
    fn a_window_that_does_not_trigger_does_not_restart_the_clock() {
        let a = alert(Metric::P95, Condition::Above, 100.0, 500.0);
        let windows = [
            latency_window(10, 200.0),
            latency_window(100, 50.0),
            latency_window(309, 200.0),
            latency_window(310, 200.0),
        ];
        let fired: Vec<SimTime> = evaluate(&[a], &windows, SECOND, 311 * SECOND)
            .iter()
            .map(|f| f.time / SECOND)
            .collect();
        // Times count from the first window (10 s): 0 fires, 299 is quiet, 300 fires.
        assert_eq!(fired, [0, 300]);
    }

    #[test]
    fn the_quiet_time_is_per_key() {
        let mut slow = alert(Metric::P95, Condition::Above, 100.0, 500.0);
        slow.name = "slow".into();
        slow.key = "slow_p95".into();
        let mut very_slow = slow.clone();
        very_slow.name = "very slow".into();
        very_slow.key = "very slow_p95".into();
        let windows = [latency_window(0, 200.0), latency_window(1, 200.0)];
        let f = evaluate(&[slow.clone(), very_slow], &windows, SECOND, 2 * SECOND);
        assert_eq!(f.iter().map(|f| f.alert).collect::<Vec<_>>(), [0, 1]);
        // Names and metrics that join into one string share a clock, as the
        // dashboard's `${name}_${metric}` keys do.
        let mut other = slow.clone();
        other.name = "slow_response_time".into();
        other.key = "slow_response_time_p95".into();
        slow.key = "slow_response_time_p95".into();
        let f = evaluate(&[slow, other], &windows, SECOND, 2 * SECOND);
        assert_eq!(f.iter().map(|f| f.alert).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn fired_groups_the_firings_of_a_run_by_alert() {
        let source = r#"
            [workload]
            keys = 10
            [[load]]
            connections = 2
            duration = "3s"
            [service]
            servers = 1
            service_time = { dist = "fixed", time = "5ms" }
            [[alert]]
            name = "slow"
            metric = "p95"
            condition = "above"
            threshold = "1ms"
            [[alert]]
            name = "never"
            metric = "p95"
            condition = "above"
            threshold = "10s"
        "#;
        let exp = Experiment::parse(std::path::Path::new("t.toml"), source.into()).unwrap();
        let results = crate::runner::run(&exp, Some(1)).unwrap();
        let fired = fired(&exp, &results[0]);
        // Every window is slow; the dashboard's quiet time keeps the first.
        assert_eq!(fired.len(), 1);
        assert_eq!(
            (fired[0].0.name.as_str(), fired[0].1.as_slice()),
            ("slow", &[0][..])
        );
    }

    #[test]
    fn the_rule_says_when_every_firing_is_critical() {
        let workshop = alert(Metric::P95, Condition::Above, 1000.0, 500.0);
        assert_eq!(
            rule(&workshop),
            "p95 above 1000 ms; critical above 750 ms (1.5x the baseline 500 ms): every firing is critical"
        );
        let hits = alert(Metric::HitRatio, Condition::Below, 0.7, 0.8);
        assert_eq!(
            rule(&hits),
            "hit_ratio below 0.7; critical below 0.4 (0.5x the baseline 0.8)"
        );
        let change = alert(Metric::Throughput, Condition::Change, 0.2, 1000.0);
        assert_eq!(
            rule(&change),
            "throughput more than 20% away from the baseline 1000 req/s; critical beyond a 50% change"
        );
    }

    #[test]
    fn an_alert_baseline_sets_its_severities() {
        let windows = [latency_window(0, 1400.0), latency_window(400, 1600.0)];
        let dashboard = alert(Metric::P95, Condition::Above, 1200.0, 500.0);
        let own = alert(Metric::P95, Condition::Above, 1200.0, 1000.0);
        let severities = |a: AlertSpec| -> Vec<Severity> {
            evaluate(&[a], &windows, SECOND, 401 * SECOND)
                .iter()
                .map(|f| f.severity)
                .collect()
        };
        assert_eq!(
            severities(dashboard),
            [Severity::Critical, Severity::Critical]
        );
        assert_eq!(severities(own), [Severity::Warning, Severity::Critical]);
        // `change` measures from the alert's baseline too.
        let change = alert(Metric::P95, Condition::Change, 0.3, 1000.0);
        assert_eq!(severities(change), [Severity::Warning, Severity::Critical]);
    }
}
