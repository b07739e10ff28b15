//! Reads the spans frame once, column by column, into plain vectors (frame order).
//!
//! The only place analyze touches polars for spans: every later step works on
//! [`super::table::SpanTable`]. Optional columns that are missing read as "absent";
//! a missing required column is an error naming it.

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, DataType};

use super::intern::Interner;
use crate::model::columns as col;

/// Sentinel for "no value" in the integer attribute vectors.
pub const ABSENT: i32 = -1;

/// The spans frame as vectors, in frame order.
#[derive(Debug, Default)]
pub struct RawSpans {
    pub trace_id: Vec<u128>,
    pub span_id: Vec<u64>,
    /// 0 = no parent (root).
    pub parent_id: Vec<u64>,
    pub service: Vec<u32>,
    pub name: Vec<u32>,
    pub kind: Vec<u8>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub status: Vec<u8>,
    pub http_status: Vec<i32>,
    pub grpc_status: Vec<i32>,
    pub resend: Vec<i32>,
    /// Virtual callee name (peer.service, server.address, db.system, messaging destination).
    pub peer: Vec<u32>,
    /// Instance (pod, host) of the span's service; [`Interner::NONE`] when not recorded.
    pub instance: Vec<u32>,
    pub timeout: Vec<bool>,
    pub services: Interner,
    pub names: Interner,
    pub peers: Interner,
    pub instances: Interner,
    /// Rows whose ids were not hex (kept, id read as 0).
    pub bad_ids: u64,
}

/// Reads every column analyze needs.
pub fn read_spans(df: &DataFrame) -> Result<RawSpans> {
    let mut raw = RawSpans::default();
    if df.height() == 0 {
        return Ok(raw);
    }
    read_ids(df, &mut raw).context("spans frame: ids")?;
    raw.service = intern_column(df, col::SERVICE, &mut raw.services, "unknown_service")?;
    raw.name = intern_column(df, col::NAME, &mut raw.names, "")?;
    raw.kind = int_column(df, col::KIND, true)?
        .into_iter()
        .map(|k| k.clamp(0, 5) as u8)
        .collect();
    raw.start = i64_column(df, col::START_NS)?;
    raw.end = i64_column(df, col::END_NS)?;
    raw.status = int_column(df, col::STATUS_CODE, false)?
        .into_iter()
        .map(|s| s.clamp(0, 2) as u8)
        .collect();
    raw.http_status = int_column(df, col::HTTP_STATUS_CODE, false)?;
    raw.grpc_status = int_column(df, col::GRPC_STATUS_CODE, false)?;
    raw.resend = int_column(df, col::RESEND_COUNT, false)?;
    raw.peer = read_peers(df, &mut raw.peers)?;
    raw.instance = read_optional_strings(df, col::INSTANCE, &mut raw.instances)?;
    raw.timeout = read_timeouts(df, &raw)?;
    Ok(raw)
}

fn read_ids(df: &DataFrame, raw: &mut RawSpans) -> Result<()> {
    let traces = str_column(df, col::TRACE_ID)?.context("missing trace_id column")?;
    let spans = str_column(df, col::SPAN_ID)?.context("missing span_id column")?;
    let mut bad = 0u64;
    raw.trace_id = traces
        .iter()
        .map(|s| parse_hex_u128(s.unwrap_or(""), &mut bad))
        .collect();
    raw.span_id = spans
        .iter()
        .map(|s| parse_hex_u64(s.unwrap_or(""), &mut bad))
        .collect();
    raw.parent_id = match str_column(df, col::PARENT_SPAN_ID)? {
        Some(p) => p
            .iter()
            .map(|s| match s {
                None | Some("") => 0,
                Some(s) => parse_hex_u64(s, &mut bad),
            })
            .collect(),
        None => vec![0; df.height()],
    };
    raw.bad_ids = bad;
    Ok(())
}

fn parse_hex_u128(s: &str, bad: &mut u64) -> u128 {
    u128::from_str_radix(s, 16).unwrap_or_else(|_| {
        *bad += 1;
        0
    })
}

fn parse_hex_u64(s: &str, bad: &mut u64) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| {
        *bad += 1;
        0
    })
}

/// A string column, or `None` when the frame does not have it.
fn str_column<'a>(
    df: &'a DataFrame,
    name: &str,
) -> Result<Option<&'a polars::prelude::StringChunked>> {
    match df.column(name) {
        Ok(c) => {
            Ok(Some(c.str().with_context(|| {
                format!("column {name}: expected strings")
            })?))
        }
        Err(_) => Ok(None),
    }
}

fn intern_column(
    df: &DataFrame,
    name: &str,
    into: &mut Interner,
    default: &str,
) -> Result<Vec<u32>> {
    let c = str_column(df, name)?.with_context(|| format!("missing {name} column"))?;
    Ok(c.iter()
        .map(|s| into.intern(s.unwrap_or(default)))
        .collect())
}

/// An integer column as i32 (nulls → [`ABSENT`]); a missing optional column is all absent.
fn int_column(df: &DataFrame, name: &str, required: bool) -> Result<Vec<i32>> {
    let Ok(c) = df.column(name) else {
        anyhow::ensure!(!required, "missing {name} column");
        return Ok(vec![ABSENT; df.height()]);
    };
    let c = c
        .cast(&DataType::Int64)
        .with_context(|| format!("column {name}: expected integers"))?;
    let ca = c.i64().with_context(|| format!("column {name}"))?;
    Ok(ca
        .iter()
        .map(|v| v.map_or(ABSENT, |v| v.clamp(i32::MIN as i64, i32::MAX as i64) as i32))
        .collect())
}

fn i64_column(df: &DataFrame, name: &str) -> Result<Vec<i64>> {
    let c = df
        .column(name)
        .with_context(|| format!("missing {name} column"))?
        .cast(&DataType::Int64)
        .with_context(|| format!("column {name}: expected integers"))?;
    let ca = c.i64().with_context(|| format!("column {name}"))?;
    Ok(ca.iter().map(|v| v.unwrap_or(0)).collect())
}

/// An optional string column interned (absent or empty → [`Interner::NONE`]).
fn read_optional_strings(df: &DataFrame, name: &str, into: &mut Interner) -> Result<Vec<u32>> {
    let Some(c) = str_column(df, name)? else {
        return Ok(vec![Interner::NONE; df.height()]);
    };
    Ok(c.iter()
        .map(|v| match v {
            Some(v) if !v.is_empty() => into.intern(v),
            _ => Interner::NONE,
        })
        .collect())
}

/// Virtual callee names, the first present of: peer.service; server.address with its port
/// (several services often share one host, so a host alone names none of them); the URL's
/// authority; db.system; the messaging destination (Tempo's virtual-node rule, by endpoint).
fn read_peers(df: &DataFrame, peers: &mut Interner) -> Result<Vec<u32>> {
    let ports = int_column(df, col::SERVER_PORT, false)?;
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        Ok(match str_column(df, name)? {
            Some(c) => c
                .iter()
                .map(|v| v.filter(|v| !v.is_empty()).map(str::to_string))
                .collect(),
            None => vec![None; df.height()],
        })
    };
    let (service, address, url) = (
        text(col::PEER_SERVICE)?,
        text(col::SERVER_ADDRESS)?,
        text(col::URL)?,
    );
    let (db, dest) = (text(col::DB_SYSTEM)?, text(col::MESSAGING_DESTINATION)?);
    Ok((0..df.height())
        .map(|i| {
            let endpoint = address[i].as_ref().map(|a| match ports[i] {
                p if p > 0 => format!("{a}:{p}"),
                _ => a.clone(),
            });
            let name = service[i]
                .clone()
                .or(endpoint)
                .or_else(|| url[i].as_deref().and_then(authority).map(str::to_string))
                .or_else(|| db[i].clone())
                .or_else(|| dest[i].clone());
            name.map_or(Interner::NONE, |n| peers.intern(&n))
        })
        .collect())
}

/// The authority of an absolute URL (`http://host:port/path` → `host:port`).
fn authority(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    (!auth.is_empty()).then_some(auth)
}

/// Whether each span's error looks like a timeout: `error.type` or the status message
/// mentions a timeout or deadline, gRPC DEADLINE_EXCEEDED (4), HTTP 408 or 504.
fn read_timeouts(df: &DataFrame, raw: &RawSpans) -> Result<Vec<bool>> {
    let mut out: Vec<bool> = raw
        .grpc_status
        .iter()
        .zip(&raw.http_status)
        .map(|(&g, &h)| g == GRPC_DEADLINE_EXCEEDED || h == 408 || h == 504)
        .collect();
    for name in [col::ERROR_TYPE, col::STATUS_MESSAGE] {
        let Some(c) = str_column(df, name)? else {
            continue;
        };
        for (slot, v) in out.iter_mut().zip(c.iter()) {
            *slot = *slot || v.is_some_and(mentions_timeout);
        }
    }
    Ok(out)
}

/// gRPC status code DEADLINE_EXCEEDED.
const GRPC_DEADLINE_EXCEEDED: i32 = 4;

fn mentions_timeout(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("timeout") || s.contains("timed out") || s.contains("deadline")
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn authority_of_urls() {
        assert_eq!(
            authority("http://127.0.0.1:8090/pay?x=1"),
            Some("127.0.0.1:8090")
        );
        assert_eq!(authority("https://u:p@db.local/x"), Some("db.local"));
        assert_eq!(authority("/relative/path"), None);
        assert_eq!(authority("http://"), None);
    }
}
