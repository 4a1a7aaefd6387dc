//! Plain text: one key per line (integers as they are, other strings
//! hashed); blank lines are ignored. No times or sizes: every request has
//! time 0 and size 1.

use super::Request;
use super::lines::{LineError, LineFormat, Out};

pub(super) struct Text;

impl LineFormat for Text {
    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError> {
        out.requests.push(Request {
            key: out.names.key(line.trim_ascii()),
            size: 1,
            ..Request::default()
        });
        Ok(())
    }
}
