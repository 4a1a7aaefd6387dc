//! Plain text: one key per line (integers as they are, other strings
//! hashed); blank lines are ignored. No times or sizes: every request has
//! time 0 and size 1.

use super::fields::key_of;
use super::lines::{LineError, LineFormat};
use super::{Clients, Request};

pub(super) struct Text;

impl LineFormat for Text {
    fn parse(
        &mut self,
        line: &[u8],
        _: &mut Clients,
        out: &mut Vec<Request>,
    ) -> Result<(), LineError> {
        let key = line.trim_ascii();
        if !key.is_empty() {
            out.push(Request {
                key: key_of(key),
                size: 1,
                ..Request::default()
            });
        }
        Ok(())
    }
}
