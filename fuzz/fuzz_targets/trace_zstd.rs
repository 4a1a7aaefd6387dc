//! Compressed traces: zstd (frames split and decompressed in parallel on a
//! helper thread, or streamed) and gzip, in front of any reader. The first
//! option byte's top bits pick the reader (the rest are as in
//! edgesim_fuzz::Opts); byte 2 bit 7 picks gzip instead of zstd. The payload
//! is given its magic number when it lacks one, so every input reaches the
//! decompressor. The read stops after STREAM_LIMIT requests: a few bytes of
//! zstd can stand for a trace of any length.
#![no_main]

use edgesim::workload::trace::TraceFormat;
use edgesim_fuzz::{Mode, Opts, STREAM_LIMIT, read_path, scratch};
use libfuzzer_sys::fuzz_target;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

const FORMATS: [(TraceFormat, &str); 7] = [
    (TraceFormat::Csv, "csv"),
    (TraceFormat::OracleGeneral, "bin"),
    (TraceFormat::Text, "txt"),
    (TraceFormat::Lirs, "trace"),
    (TraceFormat::Arc, "lis"),
    (TraceFormat::Combined, "log"),
    (TraceFormat::Jsonl, "jsonl"),
];

fuzz_target!(|data: &[u8]| {
    let pick = data.first().map_or(0, |b| b >> 5) as usize % FORMATS.len();
    let gzip = data.get(2).is_some_and(|b| b & 0x80 != 0);
    let (format, ext) = FORMATS[pick];
    let (mut opts, payload) = Opts::split(data, format);
    // Stream, so memory stays bounded whatever the decompressed length.
    opts.mode = Mode::Stream;
    let magic: &[u8] = if gzip { &GZIP_MAGIC } else { &ZSTD_MAGIC };
    let mut file = Vec::with_capacity(payload.len() + magic.len());
    if !payload.starts_with(magic) {
        file.extend_from_slice(magic);
    }
    file.extend_from_slice(payload);
    let path = scratch(&format!("{ext}.{}", if gzip { "gz" } else { "zst" }));
    std::fs::write(&path, &file).expect("write the scratch file");
    read_path(&path, &opts, STREAM_LIMIT);
});
