//! edgesim: a deterministic discrete-event simulator for cache and
//! rate-limit policies at the edge of a web service.
//!
//! Data flows one way: an [`experiment`] expands into runs; the [`runner`]
//! replays each run's [`workload`] through the [`cache`] models, collecting
//! [`metrics`]; the [`report`] turns results into tables, charts and a
//! recommendation.

pub mod cache;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod io;
pub mod limiter;
pub mod machine;
pub mod metrics;
pub mod progress;
pub mod report;
pub mod runner;
pub mod service;
pub mod spec;
pub mod topology;
pub mod units;
pub mod workload;

/// docs/extending.md, whose examples `cargo test --doc` compiles and runs,
/// so the guide to adding a policy keeps up with the code.
#[cfg(doctest)]
#[doc = include_str!("../docs/extending.md")]
pub struct ExtendingDocs;
