//! The Jsonl trace reader on any bytes, read from a `.jsonl` file (the
//! first bytes choose reader options: see edgesim_fuzz::Opts). Errors are
//! fine; panics, hangs and runaway memory are bugs.
#![no_main]

use edgesim::workload::trace::TraceFormat;
use edgesim_fuzz::{Opts, read_trace};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (opts, bytes) = Opts::split(data, TraceFormat::Jsonl);
    read_trace(bytes, "jsonl", &opts);
});
