//! The ARC paper's traces: `start_block num_blocks ignored request_id` per
//! line (blank lines ignored), expanding to `num_blocks` requests for consecutive blocks. Every
//! request has time 0 and size 1.

use super::Request;
use super::fields::{parse_u64, show};
use super::lines::{LineError, LineFormat, Out};

/// A larger request is taken for a corrupt line rather than expanded.
const MAX_BLOCKS: u64 = 1 << 24;

pub(super) struct Arc;

const FIELDS: [&str; 4] = ["start block", "block count", "third field", "request id"];

impl LineFormat for Arc {
    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError> {
        let mut values = [0u64; 4];
        let mut rest = line;
        for (i, what) in FIELDS.iter().enumerate() {
            let start = rest.len() - rest.trim_ascii_start().len();
            rest = &rest[start..];
            let len = rest
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .unwrap_or(rest.len());
            let at = line.len() - rest.len();
            if len == 0 {
                return Err(LineError::new(
                    at,
                    format!("expected the {what} (an integer), found the end of the line"),
                ));
            }
            values[i] = parse_u64(&rest[..len]).ok_or_else(|| {
                LineError::new(
                    at,
                    format!(
                        "expected the {what} (an integer), found {}",
                        show(&rest[..len])
                    ),
                )
            })?;
            rest = &rest[len..];
        }
        if !rest.trim_ascii().is_empty() {
            let at = line.len() - rest.trim_ascii_start().len();
            return Err(LineError::new(
                at,
                "expected the end of the line after 4 fields",
            ));
        }
        let [start, blocks, _, _] = values;
        if blocks > MAX_BLOCKS || start.checked_add(blocks).is_none() {
            let at = line.len() - line.trim_ascii_start().len();
            return Err(LineError::new(
                at,
                format!("block count {blocks} from block {start} is out of range"),
            ));
        }
        out.requests
            .extend((start..start + blocks).map(|key| Request {
                key,
                size: 1,
                ..Request::default()
            }));
        Ok(())
    }
}
