//! A trace made ready for replay in bounded memory, whatever its length.
//!
//! Most replays consume the trace as it is decoded. Some need to know all of
//! it first: sizes given as a share of the working set, `edgesim run`'s
//! batch means (which need the request count) and tables, and offline
//! policies (Belady) on a format that does not carry next-access positions.
//! Then a first pass counts the requests, the working set and the time
//! range. An oracleGeneral file (fixed records, cheap to decode) is simply
//! read again. Anything else is decoded once into a spill file ([`RECORD`]
//! bytes a request, in the temporary directory, `TMPDIR`, deleted when
//! done), next accesses are written into the spill by a pass from its end
//! backwards when needed, and the replay reads the spill. Memory is a batch
//! plus one map entry per distinct key (the working set, the next
//! accesses), never one per request; the disk holds the spill, and next
//! accesses cost one more read and write of it.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::mpsc;

use rayon::prelude::*;

use super::{BATCH, Observed, Skipped, TraceError, TraceReader};
use crate::progress::Progress;
use crate::workload::{Label, NextAccesses, Request, WorkingSet, WorkingSetTally};

/// Bytes of one spilled request.
pub const RECORD: usize = 40;

/// Requests each run replays at a time (10 MiB): enough that a run's
/// state stays in the CPU caches for a while before the next run's evicts
/// it, when the runs take turns on a core.
pub const SHARED: usize = 1 << 18;

/// Batches decoded ahead of a single run's replay, or being replayed.
const IN_FLIGHT: usize = 3;

/// Requests the backward pass reads and rewrites at a time (2.5 MiB).
const CHUNK: usize = 1 << 16;

/// Which requests a stream hands out.
type Keep = Box<dyn Fn(&Request) -> bool>;

/// What a stream does to each request it hands out (its time, say).
type Adjust = Box<dyn Fn(&mut Request)>;

/// When a stream is to end early (a signal, say).
type Until = Box<dyn Fn() -> bool>;

/// A trace read once, front to back, in batches.
pub struct Stream {
    reader: TraceReader,
    /// The spilled trace, when the replay needed all of it first and it
    /// is not cheap to read again.
    spill: Option<Spill>,
    /// What a first pass counted, when one was asked for.
    census: Option<Census>,
    progress: Progress,
    /// Which requests to hand out, when not all (a sample of the keys).
    keep: Option<Keep>,
    adjust: Option<Adjust>,
    until: Until,
    /// Requests and bytes read while `keep` filters, kept or not.
    seen: (u64, u64),
}

impl Stream {
    /// Makes `reader` ready: with its working set counted first when
    /// `working_set`, and with next-access positions when `next_access`
    /// and the format does not carry them.
    pub fn open(
        reader: TraceReader,
        working_set: bool,
        next_access: bool,
    ) -> Result<Self, TraceError> {
        Self::open_until(reader, working_set, next_access, Box::new(|| false))
    }

    /// [`Stream::open`], ending early, as if the trace ended there, once
    /// `until` says so (checked once a batch, while spilling too): the
    /// caller, which asked, knows to drop what it got.
    pub fn open_until(
        mut reader: TraceReader,
        working_set: bool,
        next_access: bool,
        until: Until,
    ) -> Result<Self, TraceError> {
        let annotate = next_access && !reader.carries_next_access();
        let (spill, census) = if annotate || (working_set && !reader.cheap_to_reread()) {
            let (spill, census) = Spill::write(&mut reader, annotate, &until)?;
            (Some(spill), Some(census))
        } else if working_set {
            let census = Census::take(&mut reader, &until, |_| Ok(()))?;
            reader = reader.reopen()?;
            (None, Some(census))
        } else {
            (None, None)
        };
        Ok(Stream {
            reader,
            spill,
            progress: Progress::requests("replaying", census.map(|c| c.requests)),
            census,
            keep: None,
            adjust: None,
            until,
            seen: (0, 0),
        })
    }

    /// Refills `out` with the next batch; false, and `out` empty, at the end
    /// of the trace. A batch is never empty before the end: where a filter
    /// hides all of one, the next is read.
    pub fn next_batch(&mut self, out: &mut Vec<Request>) -> Result<bool, TraceError> {
        loop {
            let more = if (self.until)() {
                out.clear();
                false
            } else {
                match &mut self.spill {
                    Some(spill) => spill.next_batch(out).map_err(spill_error)?,
                    None => self.reader.next_batch(out)?,
                }
            };
            self.progress.inc_by(out.len() as u64);
            // Counted only where a filter hides requests from the runs.
            if let Some(keep) = &self.keep {
                self.seen.0 += out.len() as u64;
                self.seen.1 += out.iter().map(|r| r.size as u64).sum::<u64>();
                out.retain(|r| keep(r));
            }
            if let Some(adjust) = &self.adjust {
                out.iter_mut().for_each(adjust);
            }
            if !more {
                self.progress.finish();
                return Ok(false);
            }
            if !out.is_empty() {
                return Ok(true);
            }
        }
    }

    /// From here on, hands out only the requests `keep` accepts (a sample
    /// of the keys, say); [`Stream::seen`] counts every request read while
    /// it filters.
    pub fn keep_only(&mut self, keep: impl Fn(&Request) -> bool + 'static) {
        self.keep = Some(Box::new(keep));
    }

    /// From here on, hands out each request as `adjust` changes it (its
    /// time sped up, say), after [`Stream::keep_only`]'s filter.
    pub fn adjust_each(&mut self, adjust: impl Fn(&mut Request) + 'static) {
        self.adjust = Some(Box::new(adjust));
    }

    /// The requests and bytes read since [`Stream::keep_only`], kept or not.
    pub fn seen(&self) -> (u64, u64) {
        self.seen
    }

    /// Hands the trace to each of `runs`, [`SHARED`] requests at a time, in
    /// parallel on `pool` (one task per run and slice), so the trace is
    /// decoded once for all of them; `replay` must depend only on its run
    /// and the requests for the results to be the same on any number of
    /// threads. (Decoding the next slice while the runs replay this one
    /// gained nothing measurable: the replays keep both cores busy.)
    pub fn replay_each<T: Send>(
        &mut self,
        pool: &rayon::ThreadPool,
        runs: &mut [T],
        replay: impl Fn(&mut T, &[Request]) + Sync,
    ) -> Result<(), TraceError> {
        if let [run] = runs {
            return self.replay_one(run, replay);
        }
        let mut batch = Vec::with_capacity(BATCH);
        let mut shared = Vec::with_capacity(SHARED);
        let mut more = true;
        while more {
            shared.clear();
            while shared.len() + BATCH <= SHARED {
                more = self.next_batch(&mut batch)?;
                if !more {
                    break;
                }
                shared.extend_from_slice(&batch);
            }
            pool.install(|| runs.par_iter_mut().for_each(|run| replay(run, &shared)));
        }
        Ok(())
    }

    /// One run has no turns to take: it replays each batch as it comes, on
    /// a thread of its own while this one decodes the next, so decoding
    /// costs no time when a core is free. The batches go round between the
    /// two threads ([`IN_FLIGHT`] of them), in order.
    fn replay_one<T: Send>(
        &mut self,
        run: &mut T,
        replay: impl Fn(&mut T, &[Request]) + Sync,
    ) -> Result<(), TraceError> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Request>>(IN_FLIGHT);
        let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<Request>>(IN_FLIGHT);
        for _ in 0..IN_FLIGHT {
            empty_tx.send(Vec::with_capacity(BATCH)).expect("room");
        }
        let replay = &replay;
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for batch in full_rx {
                    replay(run, &batch);
                    // The decoder may be gone (an error): nothing to hand back.
                    let _ = empty_tx.send(batch);
                }
            });
            // Owned here, so that leaving (at the end, or on an error)
            // closes the channel and the replay thread finishes what it
            // was given. A panic there closes `empty_rx` and shows at the
            // scope's end.
            let full_tx = full_tx;
            while let Ok(mut batch) = empty_rx.recv() {
                if !self.next_batch(&mut batch)? || full_tx.send(batch).is_err() {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Starts the trace over for another pass: from the spill, or by
    /// opening the file again when nothing was spilled.
    pub fn rewind(&mut self) -> Result<(), TraceError> {
        match &mut self.spill {
            Some(spill) => spill.rewind().map_err(spill_error)?,
            None => self.reader = self.reader.reopen()?,
        }
        self.progress = Progress::requests("replaying", self.census.map(|c| c.requests));
        self.seen = (0, 0);
        Ok(())
    }

    /// The distinct objects (counted only when asked for at [`Stream::open`]).
    pub fn working_set(&self) -> WorkingSet {
        self.census
            .map_or_else(WorkingSet::default, |c| c.working_set)
    }

    /// The requests in the trace, when counted at [`Stream::open`].
    pub fn requests(&self) -> Option<u64> {
        self.census.map(|c| c.requests)
    }

    /// The earliest and the latest request time, when counted at
    /// [`Stream::open`] (as read, before [`Stream::adjust_each`]).
    pub fn times(&self) -> Option<(u64, u64)> {
        self.census.map(|c| c.times)
    }

    pub fn skipped(&self) -> &Skipped {
        self.reader.skipped()
    }

    /// The real cache's hits, when the trace records its status.
    pub fn observed(&self) -> Option<Observed> {
        self.reader.observed()
    }
}

fn spill_error(source: io::Error) -> TraceError {
    TraceError::Spill {
        dir: std::env::temp_dir().display().to_string(),
        source,
    }
}

/// What a first pass over a trace counted.
#[derive(Clone, Copy)]
struct Census {
    requests: u64,
    working_set: WorkingSet,
    /// The earliest and the latest request time.
    times: (u64, u64),
}

impl Census {
    /// Reads the rest of `reader` (until `until` says so) and counts it,
    /// handing each batch to `each` too.
    fn take(
        reader: &mut TraceReader,
        until: &Until,
        mut each: impl FnMut(&[Request]) -> Result<(), TraceError>,
    ) -> Result<Census, TraceError> {
        let progress = Progress::requests("reading", None);
        let mut working_set = WorkingSetTally::default();
        let (mut requests, mut times) = (0, (u64::MAX, 0));
        let mut batch = Vec::with_capacity(BATCH);
        while !until() && reader.next_batch(&mut batch)? {
            working_set.add(&batch);
            for req in &batch {
                times = (times.0.min(req.time), times.1.max(req.time));
            }
            requests += batch.len() as u64;
            progress.inc_by(batch.len() as u64);
            each(&batch)?;
        }
        progress.finish();
        Ok(Census {
            requests,
            working_set: working_set.finish(),
            times,
        })
    }
}

/// The decoded trace in a temporary file.
struct Spill {
    file: BufReader<File>,
    requests: u64,
    /// Requests handed out so far.
    read: u64,
    bytes: Vec<u8>,
}

impl Spill {
    /// Decodes the rest of `reader` into a new spill, filling in next
    /// accesses when `annotate`, and counts it; stops early, as if the
    /// trace ended, once `until` says so.
    fn write(
        reader: &mut TraceReader,
        annotate: bool,
        until: &Until,
    ) -> Result<(Self, Census), TraceError> {
        let file = tempfile::tempfile().map_err(spill_error)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let census = Census::take(reader, until, |batch| {
            batch
                .iter()
                .try_for_each(|req| out.write_all(&encode(req)))
                .map_err(spill_error)
        })?;
        let mut file = out.into_inner().map_err(|e| spill_error(e.into_error()))?;
        if annotate {
            write_next_accesses(&mut file, census.requests).map_err(spill_error)?;
        }
        let mut spill = Spill {
            file: BufReader::with_capacity(1 << 20, file),
            requests: census.requests,
            read: 0,
            bytes: vec![0; BATCH * RECORD],
        };
        spill.rewind().map_err(spill_error)?;
        Ok((spill, census))
    }

    /// Back to the first request.
    fn rewind(&mut self) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(0))?;
        self.read = 0;
        Ok(())
    }

    fn next_batch(&mut self, out: &mut Vec<Request>) -> io::Result<bool> {
        out.clear();
        let n = (self.requests - self.read).min(BATCH as u64) as usize;
        let bytes = &mut self.bytes[..n * RECORD];
        self.file.read_exact(bytes)?;
        out.extend(bytes.chunks_exact(RECORD).map(decode));
        self.read += n as u64;
        Ok(n > 0)
    }
}

/// Fills the next-access field of every spilled request, chunk by chunk
/// from the end, as [`crate::workload::annotate_next_access`] does in memory.
fn write_next_accesses(file: &mut File, requests: u64) -> io::Result<()> {
    let mut next = NextAccesses::default();
    let mut buffer = vec![0; CHUNK * RECORD];
    let mut end = requests;
    while end > 0 {
        let start = end.saturating_sub(CHUNK as u64);
        let bytes = &mut buffer[..(end - start) as usize * RECORD];
        file.seek(SeekFrom::Start(start * RECORD as u64))?;
        file.read_exact(bytes)?;
        for (i, record) in bytes.chunks_exact_mut(RECORD).enumerate().rev() {
            let key = u64::from_le_bytes(record[8..16].try_into().expect("8 bytes"));
            let after = next.before(start + i as u64, key);
            record[16..24].copy_from_slice(&after.to_le_bytes());
        }
        file.seek(SeekFrom::Start(start * RECORD as u64))?;
        file.write_all(bytes)?;
        end = start;
    }
    Ok(())
}

fn encode(req: &Request) -> [u8; RECORD] {
    let mut r = [0; RECORD];
    r[0..8].copy_from_slice(&req.time.to_le_bytes());
    r[8..16].copy_from_slice(&req.key.to_le_bytes());
    r[16..24].copy_from_slice(&req.next_access.to_le_bytes());
    r[24..28].copy_from_slice(&req.size.to_le_bytes());
    r[28..32].copy_from_slice(&req.ttl_ms.to_le_bytes());
    r[32..36].copy_from_slice(&req.client.to_le_bytes());
    r[36] = req.tier;
    r[37] = req.route;
    r[38] = match req.label {
        Label::Legit => 0,
        Label::Abusive => 1,
    };
    r
}

fn decode(r: &[u8]) -> Request {
    let u64_at = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(r[i..i + 4].try_into().expect("4 bytes"));
    Request {
        time: u64_at(0),
        key: u64_at(8),
        next_access: u64_at(16),
        size: u32_at(24),
        ttl_ms: u32_at(28),
        client: u32_at(32),
        tier: r[36],
        route: r[37],
        label: if r[38] == 0 {
            Label::Legit
        } else {
            Label::Abusive
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_survives_the_spill() {
        let req = Request {
            time: 1 << 40,
            key: u64::MAX - 3,
            next_access: 17,
            size: 4000,
            ttl_ms: 60_000,
            client: 9,
            tier: 1,
            route: 200,
            label: Label::Abusive,
        };
        assert_eq!(decode(&encode(&req)), req);
        let legit = Request::default();
        assert_eq!(decode(&encode(&legit)), legit);
    }
}
