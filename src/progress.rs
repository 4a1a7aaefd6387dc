//! Progress bars on stderr, drawn only when stderr is a terminal, so logs
//! and CI output stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
            Some(_) => {
                "{msg:>12} [{bar:30}] {human_pos}/{human_len} requests ({per_sec}, {eta} left)"
            }
            None => "{msg:>12} {human_pos} requests ({per_sec}, {elapsed})",
        };
        Self::drawn(what, total, template)
    }

    fn drawn(what: &str, total: Option<u64>, template: &str) -> Self {
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("valid template")
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
