//! HTTP access logs in Common or Combined Log Format (nginx, Apache):
//!
//! `client ident user [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 ["referer" "agent"]`
//!
//! with an optional leading virtual host (Apache's vhost_combined). The
//! client is the first address, the size the response bytes (`-` is 0),
//! and the key the request target, chosen by [`LogKey`].

use super::fields::{clamp_size, client_tier, parse_u64, show};
use super::lines::{LineError, LineFormat, Out};
use super::time::parse_clf;
use super::{LogKey, Request};

pub(super) struct Combined {
    key: LogKey,
    /// Scratch for host+path keys.
    scratch: Vec<u8>,
}

impl Combined {
    pub fn new(key: LogKey) -> Self {
        Combined {
            key,
            scratch: Vec::new(),
        }
    }
}

/// The next space-delimited token at or after `at`: (start, end).
fn token(line: &[u8], at: usize) -> (usize, usize) {
    let start = at + line[at..].iter().take_while(|&&b| b == b' ').count();
    let end = memchr::memchr(b' ', &line[start..]).map_or(line.len(), |p| start + p);
    (start, end)
}

impl LineFormat for Combined {
    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError> {
        let open = memchr::memchr(b'[', line).ok_or_else(|| {
            LineError::new(
                0,
                "expected `client ident user [time] \"request\" status bytes`, found no [time]",
            )
        })?;
        // Up to 4 fields before [time]; a fifth means a malformed line.
        let mut head = [(0, 0); 4];
        let mut fields = 0;
        let mut at = 0;
        loop {
            let t = token(&line[..open], at);
            if t.0 == t.1 || fields == 5 {
                break;
            }
            if fields < 4 {
                head[fields] = t;
            }
            fields += 1;
            at = t.1;
        }
        let (host, client) = match fields {
            3 => (None, head[0]),
            4 => (Some(head[0]), head[1]),
            n => {
                return Err(LineError::new(
                    0,
                    format!(
                        "expected 3 fields (client ident user) before [time], or 4 with a virtual host; found {n}"
                    ),
                ));
            }
        };
        let close = memchr::memchr(b']', &line[open..]).map_or(line.len(), |p| open + p);
        let time = parse_clf(&line[open + 1..close]).ok_or_else(|| {
            LineError::new(
                open + 1,
                format!(
                    "expected a time such as [10/Oct/2000:13:55:36 -0700], found {}",
                    show(&line[open..(close + 1).min(line.len())])
                ),
            )
        })?;
        let quote = close
            + 1
            + line
                .get(close + 1..)
                .map_or(0, |r| r.iter().take_while(|&&b| b == b' ').count());
        if line.get(quote) != Some(&b'"') {
            return Err(LineError::new(
                quote,
                "expected the quoted request \"METHOD target protocol\" after the time",
            ));
        }
        let mut end = quote + 1;
        while end < line.len() && !(line[end] == b'"' && line[end - 1] != b'\\') {
            end += 1;
        }
        if end == line.len() {
            return Err(LineError::new(quote, "unterminated quoted request"));
        }
        let request = &line[quote + 1..end];
        let mut parts = request.split(|&b| b == b' ').filter(|p| !p.is_empty());
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return Err(LineError::new(
                quote + 1,
                format!(
                    "expected a request such as \"GET /path HTTP/1.1\", found {}",
                    show(request)
                ),
            ));
        };
        if !method.iter().all(u8::is_ascii_alphabetic) {
            return Err(LineError::new(
                quote + 1,
                format!("expected an HTTP method, found {}", show(method)),
            ));
        }
        let status = token(line, end + 1);
        let status_ok = status.1 - status.0 == 3 && parse_u64(&line[status.0..status.1]).is_some();
        if !status_ok {
            return Err(LineError::new(
                status.0,
                format!(
                    "expected a 3-digit status, found {}",
                    show(&line[status.0..status.1])
                ),
            ));
        }
        let bytes = token(line, status.1);
        let size = match &line[bytes.0..bytes.1] {
            b"-" => 0,
            b => parse_u64(b).ok_or_else(|| {
                LineError::new(
                    bytes.0,
                    format!(
                        "expected the response size in bytes or -, found {}",
                        show(b)
                    ),
                )
            })?,
        };
        let host = match (self.key, host) {
            (_, Some((a, b))) => &line[a..b],
            (LogKey::HostPath, None) => {
                return Err(LineError::new(
                    0,
                    "host-path keys need a virtual host as the first field (vhost_combined)",
                ));
            }
            (_, None) => b"",
        };
        let key = out.names.key(self.key.of(host, target, &mut self.scratch));
        out.requests.push(Request {
            time,
            key,
            size: clamp_size(size),
            client: out.names.client(&line[client.0..client.1]),
            tier: client_tier(&line[client.0..client.1]),
            ..Request::default()
        });
        Ok(())
    }
}
