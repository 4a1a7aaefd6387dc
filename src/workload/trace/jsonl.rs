//! JSON lines: one object per line, fields mapped by the column options
//! (which name fields here). Defaults are `key`, `time`, `size`, `client`,
//! `ttl`; a field named explicitly (and the route, host and cache status
//! fields, which have no default) must be present on every line. For
//! Cloudflare-style logs: `--key-column ClientRequestURI --time-column
//! EdgeStartTimestamp --time-unit ns --size-column EdgeResponseBytes
//! --client-column ClientIP --cache-status-column CacheCacheStatus` (see
//! experiments/cloudflare_logs.toml).

use serde_json::{Map, Value};

use super::cache_status::{self, Observed};
use super::csv::time_expected;
use super::fields::{SIZE_EXPECTED, clamp_size, client_tier, parse_size, show, tier, ttl_ms};
use super::lines::{LineError, LineFormat, LineReader, Out};
use super::source::Input;
use super::time::parse_number;
use super::{Column, Context, LogKey, Request, TimeUnit, TraceError, TraceOptions};
use crate::error::ConfigError;

/// A mapped field: its name and whether every line must have it.
struct Field {
    name: String,
    required: bool,
}

pub(super) struct Jsonl {
    key: Field,
    time: (Field, TimeUnit),
    size: Field,
    ttl: (Field, TimeUnit),
    client: Field,
    tier: Field,
    route: Option<Field>,
    op: Option<Field>,
    ops: Vec<Vec<u8>>,
    /// How the key field becomes a key (a request target unless `Path`),
    /// with the host field for `HostPath`.
    log_key: LogKey,
    host: Option<Field>,
    scratch: Vec<u8>,
    /// The cache status field, and the real cache's hits counted from it.
    cache_status: Option<(Field, Observed)>,
}

/// The field `--NAME-column` gives, or else an optional one called NAME.
fn mapped(column: &Option<Column>, name: &str) -> Result<Field, ConfigError> {
    match column {
        Some(Column::Name(field)) => Ok(Field {
            name: field.clone(),
            required: true,
        }),
        Some(Column::Index(i)) => {
            Err(format!("--{name}-column {i}: JSON lines fields have names, not positions").into())
        }
        None => Ok(Field {
            name: name.into(),
            required: false,
        }),
    }
}

/// The field `--NAME-column` gives, for one that has no default.
fn given(column: &Option<Column>, name: &str) -> Result<Option<Field>, ConfigError> {
    column.as_ref().map(|_| mapped(column, name)).transpose()
}

pub(super) fn open(
    input: Input,
    opts: &TraceOptions,
    cx: &Context,
) -> Result<LineReader<Jsonl>, TraceError> {
    let build = || -> Result<Jsonl, ConfigError> {
        let mut key = mapped(&opts.key_column, "key")?;
        key.required = true;
        Ok(Jsonl {
            key,
            time: (
                mapped(&opts.time_column, "time")?,
                opts.time_unit.unwrap_or(TimeUnit::S),
            ),
            size: mapped(&opts.size_column, "size")?,
            ttl: (
                mapped(&opts.ttl_column, "ttl")?,
                opts.ttl_unit.unwrap_or(TimeUnit::S),
            ),
            client: mapped(&opts.client_column, "client")?,
            tier: mapped(&opts.tier_column, "tier")?,
            route: given(&opts.route_column, "route")?,
            op: given(&opts.op_column, "op")?,
            ops: opts.op_filter()?,
            log_key: opts.log_key,
            host: given(&opts.host_column, "host")?,
            scratch: Vec::new(),
            cache_status: given(&opts.cache_status_column, "cache-status")?
                .map(|f| (f, Observed::default())),
        })
    };
    let format = build().map_err(|m| cx.invalid(m))?;
    Ok(LineReader::new(input, format))
}

/// A string field's bytes, or a number's decimal text.
fn text(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Number(n) => Some(n.to_string().into_bytes()),
        _ => None,
    }
}

/// Where `"name"` appears in `line` (0 if not found), to point errors at it.
fn position(line: &[u8], name: &str) -> usize {
    let quoted = format!("\"{name}\"");
    line.windows(quoted.len())
        .position(|w| w == quoted.as_bytes())
        .unwrap_or(0)
}

impl Jsonl {
    /// The value of `field` decoded by `parse`: None when absent and optional.
    fn get<T>(
        line: &[u8],
        object: &Map<String, Value>,
        field: &Field,
        parse: impl FnOnce(&[u8]) -> Option<T>,
        expected: impl FnOnce() -> String,
    ) -> Result<Option<T>, LineError> {
        match object.get(&field.name) {
            None | Some(Value::Null) if !field.required => Ok(None),
            None | Some(Value::Null) => Err(LineError::new(
                0,
                format!("expected a field {:?}", field.name),
            )),
            Some(value) => text(value)
                .and_then(|t| parse(&t))
                .map(Some)
                .ok_or_else(|| {
                    LineError::new(
                        position(line, &field.name),
                        format!(
                            "field {:?}: expected {}, found {}",
                            field.name,
                            expected(),
                            show(value.to_string().as_bytes())
                        ),
                    )
                }),
        }
    }

    /// The value of a time `field` read in `unit`, in ns.
    fn get_time(
        line: &[u8],
        object: &Map<String, Value>,
        (field, unit): &(Field, TimeUnit),
    ) -> Result<Option<u64>, LineError> {
        Self::get(
            line,
            object,
            field,
            |t| parse_number(t, *unit),
            || time_expected(*unit),
        )
    }
}

impl LineFormat for Jsonl {
    fn parse(&mut self, line: &[u8], out: Out) -> Result<(), LineError> {
        let object: Map<String, Value> = serde_json::from_slice(line).map_err(|e| {
            LineError::new(
                e.column().saturating_sub(1),
                format!("expected a JSON object: {e}"),
            )
        })?;
        if let Some(op) = &self.op {
            let value = Self::get(
                line,
                &object,
                op,
                |t| Some(t.to_vec()),
                || "a string".into(),
            )?;
            let keep = value.is_none_or(|v| {
                self.ops.is_empty() || self.ops.iter().any(|o| o.eq_ignore_ascii_case(&v))
            });
            if !keep {
                return Ok(());
            }
        }
        let string = || "a string or a number".to_string();
        let target = Self::get(line, &object, &self.key, |t| Some(t.to_vec()), string)?;
        let time = Self::get_time(line, &object, &self.time)?;
        let size = Self::get(line, &object, &self.size, parse_size, || {
            SIZE_EXPECTED.into()
        })?;
        let ttl_ns = Self::get_time(line, &object, &self.ttl)?;
        let client = Self::get(
            line,
            &object,
            &self.client,
            |t| Some((out.names.client(t), client_tier(t))),
            string,
        )?;
        let given_tier = Self::get(line, &object, &self.tier, |t| Some(tier(t)), string)?;
        let host = match &self.host {
            Some(field) => Self::get(line, &object, field, |t| Some(t.to_vec()), string)?,
            None => None,
        };
        let status = match &self.cache_status {
            Some((field, _)) => Self::get(
                line,
                &object,
                field,
                cache_status::classify,
                cache_status::expected,
            )?,
            None => None,
        };
        // Interned last, so a line refused for another reason adds no route.
        let mut route = 0;
        if let Some(field) = &self.route
            && let Some(name) = Self::get(line, &object, field, |t| Some(t.to_vec()), string)?
        {
            route = out
                .names
                .route(&name)
                .map_err(|m| LineError::fatal(position(line, &field.name), m))?;
        }
        let key = target.map(|t| {
            let host = host.as_deref().unwrap_or_default();
            out.names.key(self.log_key.of(host, &t, &mut self.scratch))
        });
        if let (Some((_, observed)), Some(status)) = (&mut self.cache_status, status) {
            observed.add(status);
        }
        out.requests.push(Request {
            time: time.unwrap_or(0),
            key: key.unwrap_or(0),
            size: size.map_or(1, clamp_size),
            ttl_ms: ttl_ms(ttl_ns.unwrap_or(0)),
            client: client.map_or(0, |c| c.0),
            tier: given_tier.or(client.map(|c| c.1)).unwrap_or(0),
            route,
            ..Request::default()
        });
        Ok(())
    }

    fn observed(&self) -> Option<Observed> {
        self.cache_status.as_ref().map(|(_, observed)| *observed)
    }
}
