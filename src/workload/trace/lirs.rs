//! The LIRS paper's traces: one block number per line; `*` lines (markers
//! between phases) and blank lines are ignored. Every request has time 0
//! and size 1.

use super::Request;
use super::fields::{parse_u64, show};
use super::lines::{LineError, LineFormat, Out};

pub(super) struct Lirs;

impl LineFormat for Lirs {
    fn skips(&self, line: &[u8]) -> bool {
        matches!(line.trim_ascii(), b"" | b"*")
    }

    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError> {
        let field = line.trim_ascii();
        let key = parse_u64(field).ok_or_else(|| {
            let at = line.len() - line.trim_ascii_start().len();
            LineError::new(
                at,
                format!("expected a block number or `*`, found {}", show(field)),
            )
        })?;
        out.requests.push(Request {
            key,
            size: 1,
            ..Request::default()
        });
        Ok(())
    }
}
