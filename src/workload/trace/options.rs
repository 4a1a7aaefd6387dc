//! How to read a trace: one set of options shared by every command that reads
//! one (as clap flags) and by `[workload] kind = "trace"` (as TOML fields), so
//! the two can never drift apart.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::error::ConfigError;
use serde::{Deserialize, Deserializer};

/// The trace formats edgesim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    /// Delimited text with a header or column indices.
    Csv,
    /// libCacheSim's 24-byte binary records.
    OracleGeneral,
    /// One key per line.
    Text,
    /// One block number per line; `*` lines ignored.
    Lirs,
    /// `start_block num_blocks ignored request_id` per line.
    Arc,
    /// HTTP access logs in Common or Combined Log Format.
    #[value(alias = "common")]
    #[serde(alias = "common")]
    Combined,
    /// One JSON object per line, fields mapped by the column options.
    Jsonl,
}

impl TraceFormat {
    /// Guesses the format from a file name, ignoring a .zst or .gz suffix.
    pub fn guess(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let name = name
            .strip_suffix(".zst")
            .or_else(|| name.strip_suffix(".gz"))
            .unwrap_or(&name);
        let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
        Some(match ext {
            "csv" | "tsv" => TraceFormat::Csv,
            "bin" | "oraclegeneral" => TraceFormat::OracleGeneral,
            "txt" => TraceFormat::Text,
            "trace" | "lirs" => TraceFormat::Lirs,
            "lis" | "arc" => TraceFormat::Arc,
            "log" => TraceFormat::Combined,
            "jsonl" | "ndjson" => TraceFormat::Jsonl,
            _ => return None,
        })
    }
}

/// The unit of a time (or TTL) column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    S,
    Ms,
    Us,
    Ns,
    /// `2024-05-17T10:05:03.25Z` or with a `+hh:mm` offset.
    Rfc3339,
}

impl TimeUnit {
    /// The name as written in options.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
            TimeUnit::Ns => "ns",
            TimeUnit::Rfc3339 => "rfc3339",
        }
    }
}

/// Which part of an HTTP request identifies the cached object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogKey {
    /// The request target as logged, query included.
    #[default]
    Path,
    /// The request target without its `?query`.
    PathWithoutQuery,
    /// The virtual host without its port (first field of a vhost_combined
    /// log; the host column in CSV and JSON lines) and the target.
    HostPath,
}

impl LogKey {
    /// The name as written in options.
    pub fn name(self) -> &'static str {
        match self {
            LogKey::Path => "path",
            LogKey::PathWithoutQuery => "path-without-query",
            LogKey::HostPath => "host-path",
        }
    }

    /// The text that identifies the object requested at `target` on `host`
    /// (read by [`LogKey::HostPath`] only), using `scratch` when the two
    /// must be joined.
    #[inline]
    pub(super) fn of<'a>(
        self,
        host: &[u8],
        target: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> &'a [u8] {
        match self {
            LogKey::Path => target,
            LogKey::PathWithoutQuery => {
                memchr::memchr(b'?', target).map_or(target, |q| &target[..q])
            }
            LogKey::HostPath => {
                scratch.clear();
                scratch.extend_from_slice(without_port(host));
                scratch.extend_from_slice(target);
                scratch
            }
        }
    }
}

/// `host` without a trailing `:port` (`example.com:443`, `[::1]:8080`); an
/// IPv6 address without a port is left whole.
fn without_port(host: &[u8]) -> &[u8] {
    match host.iter().rposition(|&c| c == b':') {
        Some(p)
            if p + 1 < host.len()
                && host[p + 1..].iter().all(u8::is_ascii_digit)
                && (host[..p].ends_with(b"]") || !host[..p].contains(&b':')) =>
        {
            &host[..p]
        }
        _ => host,
    }
}

/// A column: a header name (CSV), a field name (JSON lines) or a 0-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    Index(usize),
    Name(String),
}

impl FromStr for Column {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty column name".into());
        }
        Ok(match text.parse() {
            Ok(i) => Column::Index(i),
            Err(_) => Column::Name(text.to_string()),
        })
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Column::Index(i) => write!(f, "column {i}"),
            Column::Name(n) => write!(f, "column {n:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Column {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Index(usize),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Index(i) => Ok(Column::Index(i)),
            Raw::Name(n) => n.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A one-byte field delimiter: `,`, `;`, `tab` (or `\t`), `space`, `|`...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiter(pub u8);

impl FromStr for Delimiter {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        match text {
            "tab" | "\\t" | "\t" => Ok(Delimiter(b'\t')),
            "space" | " " => Ok(Delimiter(b' ')),
            t if t.len() == 1 && t != "\"" => Ok(Delimiter(t.as_bytes()[0])),
            _ => Err(
                format!("delimiter {text:?}: expected one ASCII character, `tab` or `space`")
                    .into(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Delimiter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How to read a trace. On the command line these are flags
/// (`--key-column lbn`); in an experiment file the same names with
/// underscores (`key_column = "lbn"`), plus `path` and `on_error`.
#[derive(Debug, Clone, Default, clap::Args, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceOptions {
    /// Trace format [default: guessed from the file extension: .csv, .bin
    /// (oracleGeneral), .txt, .trace (LIRS), .lis (ARC), .log, .jsonl].
    #[arg(long, value_enum)]
    pub format: Option<TraceFormat>,
    /// CSV / JSON lines: request time column (header name or 0-based index)
    /// [default: `time_ns`, `time` or `timestamp` when the header has one].
    #[arg(long)]
    pub time_column: Option<Column>,
    /// Unit of the time column [default: s; ns for a `time_ns` column].
    #[arg(long, value_enum)]
    pub time_unit: Option<TimeUnit>,
    /// CSV / JSON lines: object key column; integers are used as they are,
    /// other strings hashed (FNV-1a) [default: `key`, `obj_id` or `id`; index 0
    /// without a header].
    #[arg(long)]
    pub key_column: Option<Column>,
    /// CSV / JSON lines: object size column in bytes [default: `size` or
    /// `obj_size`; otherwise every object has size 1].
    #[arg(long)]
    pub size_column: Option<Column>,
    /// CSV / JSON lines: client column (any string: IP, user, API key)
    /// [default: `client`].
    #[arg(long)]
    pub client_column: Option<Column>,
    /// CSV / JSON lines: client tier column: `premium` or `1` is a premium
    /// (tier 1) client, anything else standard [default: `tier`; where
    /// there is none, clients named `premium-...` are premium].
    #[arg(long)]
    pub tier_column: Option<Column>,
    /// CSV / JSON lines: route column (any string: endpoint, method and
    /// path); each distinct value is a route, at most 256, for per-route
    /// service metrics [default: none, every request on one route].
    #[arg(long)]
    pub route_column: Option<Column>,
    /// CSV / JSON lines: virtual host column, put before the key with
    /// `--log-key host-path` (e.g. Cloudflare's `ClientRequestHost`)
    /// [default: none].
    #[arg(long)]
    pub host_column: Option<Column>,
    /// CSV / JSON lines: the real cache's status of each request
    /// (Cloudflare's `CacheCacheStatus`, nginx's `$upstream_cache_status`),
    /// to report the observed hit ratio beside the simulated ones; read by
    /// `run`, `cache` and `trace stats` (see docs/traces.md) [default: none].
    #[arg(long)]
    pub cache_status_column: Option<Column>,
    /// CSV / JSON lines: TTL column [default: `ttl_ms` in ms, or `ttl`].
    #[arg(long)]
    pub ttl_column: Option<Column>,
    /// Unit of the TTL column [default: s; ms for a `ttl_ms` column].
    #[arg(long, value_enum)]
    pub ttl_unit: Option<TimeUnit>,
    /// CSV / JSON lines: operation column, used with --ops.
    #[arg(long)]
    pub op_column: Option<Column>,
    /// Keep only requests whose operation is one of these (comma-separated,
    /// e.g. `get,gets`); needs --op-column.
    #[arg(long)]
    pub ops: Option<String>,
    /// CSV field delimiter [default: `,`].
    #[arg(long)]
    pub delimiter: Option<Delimiter>,
    /// CSV: the first line is data, not a header (columns are then indices).
    #[arg(long)]
    pub no_header: bool,
    /// Access logs, CSV and JSON lines: what part of the request target
    /// (the key column in CSV and JSON lines) identifies the object.
    #[arg(long, value_enum, default_value_t)]
    pub log_key: LogKey,
    /// Skip lines that do not parse (and report how many) instead of stopping
    /// at the first one. In TOML: `on_error = "skip"` (default "stop").
    #[arg(long = "skip-bad-lines")]
    #[serde(rename = "on_error", deserialize_with = "on_error")]
    pub skip_bad_lines: bool,
}

fn on_error<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match String::deserialize(d)?.as_str() {
        "stop" => Ok(false),
        "skip" => Ok(true),
        other => Err(serde::de::Error::custom(format!(
            "on_error = {other:?}: expected \"stop\" or \"skip\""
        ))),
    }
}

/// How an option is written in both places it is given: `key_column` is
/// "--key-column (TOML: key_column)".
fn option_name(key: &str) -> String {
    format!("--{} (TOML: {key})", key.replace('_', "-"))
}

impl TraceOptions {
    /// The format to read `path` with: the one asked for, or a guess.
    pub fn format_for(&self, path: &Path) -> Result<TraceFormat, ConfigError> {
        self.format
            .or_else(|| TraceFormat::guess(path))
            .ok_or_else(|| {
                format!(
                "cannot tell the trace format from the name {}: pass --format (TOML: format = ...) \
                 with one of csv, oracle-general, text, lirs, arc, combined, jsonl",
                path.display()
            ).into()
            })
    }

    /// Refuses options that `format` cannot honour, rather than ignore them.
    pub fn check_applies(&self, format: TraceFormat) -> Result<(), ConfigError> {
        let columns = matches!(format, TraceFormat::Csv | TraceFormat::Jsonl);
        let name = clap::ValueEnum::to_possible_value(&format)
            .map_or_else(String::new, |v| v.get_name().to_string());
        if self.log_key != LogKey::Path && !columns && format != TraceFormat::Combined {
            return Err(format!(
                "--log-key {} (TOML: log_key) applies to access logs, CSV and JSON lines, \
                 whose keys are request targets; a {name} trace has plain keys",
                self.log_key.name()
            )
            .into());
        }
        // Options naming fields, which only formats with named fields have.
        let fields = [
            ("time_column", self.time_column.is_some()),
            ("key_column", self.key_column.is_some()),
            ("size_column", self.size_column.is_some()),
            ("client_column", self.client_column.is_some()),
            ("tier_column", self.tier_column.is_some()),
            ("route_column", self.route_column.is_some()),
            ("host_column", self.host_column.is_some()),
            ("cache_status_column", self.cache_status_column.is_some()),
            ("ttl_column", self.ttl_column.is_some()),
            ("ttl_unit", self.ttl_unit.is_some()),
            ("op_column", self.op_column.is_some()),
            ("ops", self.ops.is_some()),
        ];
        let csv_only = [
            ("delimiter", self.delimiter.is_some()),
            ("no_header", self.no_header),
        ];
        let refused = fields
            .iter()
            .filter(|_| !columns)
            .chain(csv_only.iter().filter(|_| format != TraceFormat::Csv))
            .find(|(_, given)| *given);
        if let Some((key, _)) = refused {
            let option = option_name(key);
            return Err(if csv_only.iter().any(|o| o.0 == *key) {
                format!("{option} needs a CSV trace, not {name}").into()
            } else {
                format!(
                    "{option} needs a CSV or JSON lines trace; a {name} trace has no such field (see docs/traces.md)"
                ).into()
            });
        }
        if columns && (self.log_key == LogKey::HostPath) != self.host_column.is_some() {
            return Err(if self.host_column.is_some() {
                "--host-column (TOML: host_column) is read only with --log-key host-path".into()
            } else {
                "--log-key host-path (TOML: log_key) needs --host-column (host_column), \
                 e.g. ClientRequestHost"
                    .into()
            });
        }
        Ok(())
    }

    /// The operations to keep, lower-cased; empty keeps everything.
    pub fn op_filter(&self) -> Result<Vec<Vec<u8>>, ConfigError> {
        let ops: Vec<Vec<u8>> = self
            .ops
            .iter()
            .flat_map(|s| s.split(','))
            .map(|op| op.trim().to_lowercase().into_bytes())
            .filter(|op| !op.is_empty())
            .collect();
        if !ops.is_empty() && self.op_column.is_none() {
            return Err("--ops (TOML: ops) needs --op-column (op_column)".into());
        }
        Ok(ops)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_formats_from_names() {
        let guess = |n: &str| TraceFormat::guess(Path::new(n));
        assert_eq!(
            guess("cloudPhysicsIO.oracleGeneral.bin"),
            Some(TraceFormat::OracleGeneral)
        );
        assert_eq!(
            guess("x.oracleGeneral.zst"),
            Some(TraceFormat::OracleGeneral)
        );
        assert_eq!(guess("a/2_pools.trace.gz"), Some(TraceFormat::Lirs));
        assert_eq!(guess("OLTP.lis.zst"), Some(TraceFormat::Arc));
        assert_eq!(guess("access.log"), Some(TraceFormat::Combined));
        assert_eq!(guess("t.csv.gz"), Some(TraceFormat::Csv));
        assert_eq!(guess("mystery"), None);
    }

    #[test]
    fn log_keys_normalise_targets() {
        let mut scratch = Vec::new();
        let mut key = |k: LogKey, host: &str, target: &str| {
            String::from_utf8(
                k.of(host.as_bytes(), target.as_bytes(), &mut scratch)
                    .to_vec(),
            )
            .unwrap()
        };
        assert_eq!(key(LogKey::Path, "h", "/a?b=1"), "/a?b=1");
        assert_eq!(key(LogKey::PathWithoutQuery, "h", "/a?b=1?c"), "/a");
        assert_eq!(key(LogKey::PathWithoutQuery, "h", "/a"), "/a");
        assert_eq!(
            key(LogKey::HostPath, "shop.example.com:443", "/a?b"),
            "shop.example.com/a?b"
        );
        assert_eq!(
            key(LogKey::HostPath, "shop.example.com", "/a"),
            "shop.example.com/a"
        );
        assert_eq!(
            key(LogKey::HostPath, "[2001:db8::1]:8080", "/a"),
            "[2001:db8::1]/a"
        );
        assert_eq!(
            key(LogKey::HostPath, "[2001:db8::1]", "/a"),
            "[2001:db8::1]/a"
        );
        assert_eq!(key(LogKey::HostPath, "2001:db8::1", "/a"), "2001:db8::1/a");
    }

    #[test]
    fn columns_delimiters_and_on_error() {
        assert_eq!("3".parse(), Ok(Column::Index(3)));
        assert_eq!("lbn".parse(), Ok(Column::Name("lbn".into())));
        assert_eq!("tab".parse(), Ok(Delimiter(b'\t')));
        assert!("ab".parse::<Delimiter>().is_err());
        let opts: TraceOptions = toml::from_str(
            "on_error = \"skip\"\nkey_column = 4\nformat = \"csv\"\nroute_column = \"endpoint\"",
        )
        .unwrap();
        assert!(opts.skip_bad_lines);
        assert_eq!(opts.key_column, Some(Column::Index(4)));
        assert_eq!(opts.route_column, Some(Column::Name("endpoint".into())));
        assert!(toml::from_str::<TraceOptions>("on_error = \"maybe\"").is_err());
        assert!(toml::from_str::<TraceOptions>("key_colum = 1").is_err());
    }
}
