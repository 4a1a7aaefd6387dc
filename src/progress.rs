//! Progress bars on stderr, drawn only when stderr is a terminal, so logs
//! and CI output stay clean. Bars alive at once (the runs done, and the
//! requests of a trace streamed through them) stack, one line each.

use std::fmt;
use std::sync::LazyLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Every bar, so that two drawn at once do not overwrite each other.
static BARS: LazyLock<MultiProgress> =
    LazyLock::new(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));

pub struct Progress(ProgressBar);

impl Progress {
    /// `total` tasks (runs, say), counted one by one.
    pub fn new(what: &str, total: u64) -> Self {
        Self::drawn(
            what,
            Some(total),
            "{msg:>22} [{bar:30}] {pos}/{len} ({elapsed})",
        )
    }

    /// Requests streamed through, with their rate; a bar when the total is
    /// known, a running count when it is not (a compressed or text trace).
    pub fn requests(what: &str, total: Option<u64>) -> Self {
        let template = match total {
            Some(_) => "{msg:>12} [{bar:30}] {human_pos}/{human_len} requests ({rate}, {eta} left)",
            None => "{msg:>12} {human_pos} requests ({rate}, {elapsed})",
        };
        Self::drawn(what, total, template)
    }

    fn drawn(what: &str, total: Option<u64>, template: &str) -> Self {
        let bar = BARS.add(ProgressBar::with_draw_target(
            total,
            ProgressDrawTarget::hidden(),
        ));
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
                .with_key("rate", |state: &ProgressState, w: &mut dyn fmt::Write| {
                    // "2.7 M/s", not indicatif's "2,712,345.1234/s".
                    let _ = write!(w, "{:.1} M/s", state.per_sec() / 1e6);
                })
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        Progress(bar)
    }

    pub fn inc(&self) {
        self.0.inc(1);
    }

    pub fn inc_by(&self, n: u64) {
        self.0.inc(n);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
