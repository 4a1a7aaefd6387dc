//! timeseries.csv: every run of an experiment with a `[service]`, one row
//! per window of simulated time (`[report] window`): the requests sent in
//! it and how they ended, the latency of the answers given in it, and the
//! queue and cache at its end.

use anyhow::Result;

use super::csv::Table;
use super::{Cell, Export, Summary};

pub struct Timeseries;

const COLUMNS: [&str; 12] = [
    "run",
    "window_start_s",
    "requests",
    "hits",
    "denied",
    "errors",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "queue",
    "cache_objects",
    "cache_bytes",
];

impl Export for Timeseries {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }

    fn applies(&self, summary: &Summary) -> bool {
        summary.results.iter().any(|r| r.service.is_some())
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let mut out = Table::new(COLUMNS)?;
        for r in summary.results {
            let Some(service) = &r.service else { continue };
            // Seconds since the run's first send, so traces with wall-clock
            // timestamps line up with generated loads.
            let origin = service.windows.first().map_or(0, |w| w.start);
            for w in &service.windows {
                let answered = w.latency.count > 0;
                let ms = |ns: u64| {
                    if answered {
                        Cell::Real(ns as f64 / 1e6)
                    } else {
                        Cell::Empty
                    }
                };
                // Occupancy means nothing for a run without a cache.
                let cache = |n: u64| {
                    if r.run.cache.is_some() {
                        Cell::Int(n)
                    } else {
                        Cell::Empty
                    }
                };
                let row = [
                    Cell::Int(r.run.index as u64),
                    Cell::Real((w.start - origin) as f64 / 1e9),
                    Cell::Int(w.counts.requests),
                    Cell::Int(w.counts.hits),
                    Cell::Int(w.counts.denied),
                    Cell::Int(w.counts.errors()),
                    ms(w.latency.p50),
                    ms(w.latency.p95),
                    ms(w.latency.p99),
                    Cell::Int(w.sample.queue),
                    cache(w.sample.cache_objects),
                    cache(w.sample.cache_bytes),
                ];
                out.row(&row)?;
            }
        }
        out.finish()
    }
}
