//! Zipkin's shared span ids (B3 single-id propagation, FORMATS.md §6 trap 4): the server
//! half of a call reuses its client's span id (`shared: true`). Left as is, the two halves
//! would be one span id twice and the call could not be paired, so the server half gets an
//! id of its own and the client as parent, as OTLP would have written it.
//!
//! A (trace, id) is split when it has both a CLIENT and a SERVER span (the `shared` flag is
//! not required: older exporters omit it). Children of that id that run in the server's
//! service move under the server half, the others stay under the client (Zipkin's own tree
//! builder attaches by local endpoint the same way).

use polars::prelude::PlHashMap as HashMap;

use super::walk::Checked;
use crate::ingest::otlp::ids::{parse_hex_padded, HexId, SPAN_ID_BYTES};
use crate::model::columns::kind;

/// XORed into a shared id to make the server half's id: deterministic, never equal to the
/// shared id itself, and (being a bijection) never equal to another split server's id.
/// The bytes spell "SHARED-S".
const SERVER_ID_MASK: u64 = 0x5348_4152_4544_2d53;

/// A (trace, span) id pair as numbers.
pub type Key = (u128, u64);

/// The numbers of a (trace, span) id pair, read once when the span is checked.
pub fn key(trace: &HexId, id: &HexId) -> Option<Key> {
    let t = u128::from_str_radix(trace.as_str(), 16).ok()?;
    let s = u64::from_str_radix(id.as_str(), 16).ok()?;
    Some((t, s))
}

/// The server half of a split id: its new id and its service.
struct Split {
    id: HexId,
    service: Option<String>,
}

/// Splits every shared id in `groups` (all spans of one input); returns how many.
pub fn split_shared(groups: &mut [Vec<Checked<'_>>]) -> u64 {
    let splits = find_splits(groups);
    if splits.is_empty() {
        return 0;
    }
    for c in groups.iter_mut().flatten() {
        apply(c, &splits);
    }
    splits.len() as u64
}

fn find_splits(groups: &[Vec<Checked<'_>>]) -> HashMap<Key, Split> {
    let all = || groups.iter().flatten();
    let servers: HashMap<Key, Option<&str>> = all()
        .filter(|c| c.kind == kind::SERVER)
        .filter_map(|c| Some((c.keys.0?, c.service())))
        .collect();
    let mut splits = HashMap::default();
    for c in all().filter(|c| c.kind == kind::CLIENT) {
        let Some(k) = c.keys.0 else {
            continue;
        };
        let Some(service) = servers.get(&k) else {
            continue;
        };
        let new_id = format!("{:016x}", k.1 ^ SERVER_ID_MASK);
        if let Ok(id) = parse_hex_padded(&new_id, SPAN_ID_BYTES) {
            let service = service.map(str::to_string);
            splits.insert(k, Split { id, service });
        }
    }
    splits
}

fn apply(c: &mut Checked<'_>, splits: &HashMap<Key, Split>) {
    if c.kind == kind::SERVER {
        if let Some(split) = c.keys.0.and_then(|k| splits.get(&k)) {
            c.parent = Some(c.id);
            c.id = split.id;
            return;
        }
    }
    let Some(split) = c.keys.1.and_then(|k| splits.get(&k)) else {
        return;
    };
    if split.service.is_some() && split.service.as_deref() == c.service() {
        c.parent = Some(split.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::otlp::ids::{parse_hex_padded, TRACE_ID_BYTES};

    #[test]
    fn keys_read_the_ids_as_numbers() {
        let trace = parse_hex_padded("1E223FF1F80F1C69", TRACE_ID_BYTES).unwrap();
        let id = parse_hex_padded("bf396325699c84bf", SPAN_ID_BYTES).unwrap();
        assert_eq!(
            key(&trace, &id),
            Some((0x1e22_3ff1_f80f_1c69, 0xbf39_6325_699c_84bf))
        );
    }
}
