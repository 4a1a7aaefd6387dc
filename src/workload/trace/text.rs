//! Plain text: one key per line (integers as they are, other strings
//! hashed); blank lines are ignored. No times or sizes: every request has
//! time 0 and size 1.

use super::lines::{LineError, LineFormat};
use super::{Names, Request};

pub(super) struct Text;

impl LineFormat for Text {
    fn parse(
        &mut self,
        line: &[u8],
        names: &mut Names,
        out: &mut Vec<Request>,
    ) -> Result<(), LineError> {
        out.push(Request {
            key: names.key(line.trim_ascii()),
            size: 1,
            ..Request::default()
        });
        Ok(())
    }
}
