//! A minimal reader of HTTP access logs in Common or Combined Log Format,
//! only for `edgesim limit` until the shared trace readers are available;
//! kept apart so it can be replaced by them without touching the command.
//!
//! Per line it takes the client (first field), the time (`[10/Oct/2000:
//! 13:55:36 -0700]`, to the second) and the request target (the key, hashed).
//! Times are made relative to the earliest line. A line that does not parse
//! is an error naming file, line and column.

use std::path::Path;

use anyhow::{Context, Result, bail};
use foldhash::fast::FixedState;
use hashbrown::HashMap;

use edgesim::engine::{SECOND, fnv1a};
use edgesim::workload::Request;

/// A log in memory: requests in file order and client names by id.
pub struct AccessLog {
    pub requests: Vec<Request>,
    pub clients: Vec<String>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch of `10/Oct/2000:13:55:36 -0700`.
fn parse_time(text: &str) -> Option<i64> {
    let (stamp, zone) = text.split_once(' ')?;
    let mut parts = stamp.splitn(4, [':', '/']);
    let day: i64 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let zone: i64 = zone.get(1..5)?.parse().ok()?;
    let offset = sign * ((zone / 100) * 3600 + (zone % 100) * 60);
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s - offset)
}

/// Reads the log at `path`.
pub fn read(path: &Path) -> Result<AccessLog> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut ids: HashMap<&str, u32, FixedState> = HashMap::default();
    let mut clients = Vec::new();
    let mut parsed = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |column: usize, what: &str| {
            format!("{}:{}:{column}: expected {what}", path.display(), n + 1)
        };
        let client = line.split(' ').next().unwrap_or("");
        if client.is_empty() {
            bail!(at(1, "the client address as the first field"));
        }
        let (Some(open), Some(close)) = (line.find('['), line.find(']')) else {
            bail!(at(
                client.len() + 2,
                "a time in brackets such as [10/Oct/2000:13:55:36 -0700]"
            ));
        };
        let Some(seconds) = line.get(open + 1..close).and_then(parse_time) else {
            bail!(at(open + 2, "a time such as 10/Oct/2000:13:55:36 -0700"));
        };
        let request = line[close..].split('"').nth(1);
        let Some(target) = request.and_then(|r| r.split(' ').nth(1).or(Some(r))) else {
            bail!(at(
                close + 2,
                "a quoted request such as \"GET /path HTTP/1.1\""
            ));
        };
        let next = clients.len() as u32;
        let id = *ids.entry(client).or_insert_with(|| {
            clients.push(client.to_string());
            next
        });
        parsed.push((seconds, id, fnv1a(target.as_bytes())));
    }
    let origin = parsed.iter().map(|p| p.0).min().unwrap_or(0);
    let requests = parsed
        .into_iter()
        .map(|(seconds, client, key)| Request {
            time: (seconds - origin) as u64 * SECOND,
            key,
            size: 1,
            client,
            ..Request::default()
        })
        .collect();
    Ok(AccessLog { requests, clients })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_times_with_their_zone() {
        assert_eq!(parse_time("01/Jan/1970:00:00:00 +0000"), Some(0));
        assert_eq!(parse_time("10/Oct/2000:13:55:36 -0700"), Some(971_211_336));
        assert_eq!(
            parse_time("25/Oct/2015:04:11:25 +0100"),
            Some(1_445_742_685)
        );
        assert_eq!(parse_time("25/Okt/2015:04:11:25 +0100"), None);
    }
}
