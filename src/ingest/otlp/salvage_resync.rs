//! After damage in a salvaged record: how much the damaged stretch held, where reading
//! resumes (the next object that shows what it is), and whether a damaged resource can
//! still place its spans.

use serde::de::IgnoredAny;

use super::{
    count_any, value, Ctx, Entry, Fail, Resume, Walker, RESOURCE_BOUNDARY, RESOURCE_SPANS_KEYS,
    SCOPE_BOUNDARY, SCOPE_KEYS, SCOPE_SPANS_KEYS, SPAN_KEYS, SPAN_START_KEYS,
};
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::error_class;
use crate::ingest::otlp::scalar::Field;
use crate::ingest::otlp::wire::{KeyValue, Resource, Span};

impl<'s> Walker<'s, '_, '_> {
    /// Counts what the damaged stretch from `fail.at` held and finds where to go on.
    pub(super) fn resync(&mut self, fail: Fail) -> Option<Resume> {
        self.first_damage.get_or_insert(fail.at);
        let found = self.next_start(fail.at);
        let end = found.as_ref().map_or(self.s.len(), |r| match r {
            Resume::Span(q) | Resume::Scope(q) | Resume::Resource(q) => *q,
        });
        let stretch = self.s.get(fail.at..end).unwrap_or_default();
        let held = count_any(stretch, &SPAN_START_KEYS);
        let lost = if fail.in_span { held.max(1) } else { held };
        if lost > 0 {
            self.spans_seen = true;
            let reason = format!("span lost in damaged JSON ({})", fail.why);
            let place = self.line_of(fail.at);
            self.part
                .diag
                .add_n(Level::Skip, &reason, lost as u64, || place);
        }
        let own_key = usize::from(fail.resource_kept);
        let crossed_resource =
            self.entry.is_none() || count_any(stretch, &RESOURCE_BOUNDARY) > own_key;
        let crossed_scope = crossed_resource || count_any(stretch, &SCOPE_BOUNDARY) > 0;
        match found? {
            Resume::Span(q) => {
                if crossed_resource {
                    self.close_entry();
                    self.entry = Some(Entry::damaged());
                }
                if crossed_scope {
                    self.open_scope(Ctx::Damaged);
                }
                Some(Resume::Span(q))
            }
            Resume::Scope(q) => {
                if crossed_resource {
                    self.close_entry();
                    self.entry = Some(Entry::damaged());
                }
                Some(Resume::Scope(q))
            }
            Resume::Resource(q) => {
                self.close_entry();
                Some(Resume::Resource(q))
            }
        }
    }

    /// The next object after `from` that shows what it is, right after a `,` or a `[`.
    pub(super) fn next_start(&self, from: usize) -> Option<Resume> {
        let bytes = self.s.as_bytes();
        let starts = memchr::memchr_iter(b'{', bytes.get(from + 1..)?).map(|i| from + 1 + i);
        starts
            .filter(|&q| {
                let before = bytes[..q].iter().rposition(|b| !b.is_ascii_whitespace());
                before.is_some_and(|i| matches!(bytes[i], b',' | b'['))
            })
            .find_map(|q| self.classify(q))
    }

    /// What the object at `q` is, by its first key (after an optional `schemaUrl`).
    pub(super) fn classify(&self, q: usize) -> Option<Resume> {
        let mut p = q + 1;
        for _ in 0..2 {
            let (key, v) = self.key(p).ok()?;
            let key = key.as_ref();
            if RESOURCE_SPANS_KEYS.contains(&key) {
                return None;
            }
            if key == "resource" || SCOPE_SPANS_KEYS.contains(&key) {
                return Some(Resume::Resource(q));
            }
            if SCOPE_KEYS.contains(&key) || key == "spans" {
                return Some(Resume::Scope(q));
            }
            if SPAN_KEYS.contains(&key) {
                return self.is_span(q).then_some(Resume::Span(q));
            }
            if !matches!(key, "schemaUrl" | "schema_url") {
                return None;
            }
            let (_, end) = value::<IgnoredAny>(self.s, v).ok()?;
            p = self.ws(end);
            if self.byte(p) != Some(b',') {
                return None;
            }
            p += 1;
        }
        None
    }

    /// A whole span at `q` with ids and a start time, followed by `,` or `]`.
    pub(super) fn is_span(&self, q: usize) -> bool {
        let Ok((span, end)) = value::<Span<'_>>(self.s, q) else {
            return false;
        };
        let next = self.byte(self.ws(end));
        span.trace_id.is_some()
            && span.span_id.is_some()
            && !matches!(span.start, Field::Missing)
            && matches!(next, Some(b',' | b']'))
    }

    pub(super) fn fail(&self, p: usize, e: &serde_json::Error, in_span: bool) -> Fail {
        // The value was parsed from `p`; a one-line record's column is the byte after it.
        let at = if e.line() == 1 {
            p + e.column().saturating_sub(1)
        } else {
            p
        };
        let why = if self.ws(p) >= self.s.len() {
            "truncated".to_string()
        } else {
            error_class(e)
        };
        Fail {
            at: if in_span { p } else { at.max(p) },
            in_span,
            resource_kept: false,
            why,
        }
    }

    pub(super) fn syntax(&self, p: usize, what: &str) -> Fail {
        let why = if p >= self.s.len() {
            "truncated".to_string()
        } else {
            format!("syntax error: {what}")
        };
        Fail {
            at: p,
            in_span: false,
            resource_kept: false,
            why,
        }
    }

    /// A damaged resource whose spans can still be placed: the attributes spans take from
    /// it (`service.name` and the instance keys), found intact between its start `p` and its
    /// entry's `scopeSpans`. `None` when `service.name` is not among them, or when the
    /// damaged stretch around `at` (between the intact attributes either side) may have been
    /// one of them: a span is never given a service or instance that is not surely its own.
    pub(super) fn salvage_resource(&self, p: usize, at: usize) -> Option<Resource<'s>> {
        let bytes = self.s.as_bytes();
        let region = bytes.get(p..)?;
        let end = RESOURCE_BOUNDARY
            .iter()
            .filter_map(|k| memchr::memmem::find(region, k.as_bytes()))
            .min()
            .map_or(self.s.len(), |i| p + i);
        let (mut attributes, mut before, mut after) = (Vec::new(), p, end);
        let mut last_end = p;
        for q in memchr::memchr_iter(b'{', bytes.get(p..end)?).map(|i| p + i) {
            if q < last_end {
                continue;
            }
            let Ok((kv, kv_end)) = value::<KeyValue<'s>>(self.s, q) else {
                continue;
            };
            let Some(key) = kv.key.as_ref().map(|k| k.as_str().to_owned()) else {
                continue;
            };
            last_end = kv_end;
            if kv_end <= at {
                before = kv_end;
            } else if q > at {
                after = after.min(q);
            }
            if PLACING.contains(&key.as_str()) {
                attributes.push(kv);
            }
        }
        let gap = self.s.get(before..after.max(before)).unwrap_or_default();
        let unsure = may_be_placing(gap);
        let has_service = attributes.iter().any(|kv| {
            kv.key
                .as_ref()
                .is_some_and(|k| k.as_str() == "service.name")
        });
        (has_service && !unsure).then_some(Resource { attributes })
    }
}

/// The resource attributes spans take their service and instance from.
const PLACING: [&str; 4] = [
    "service.name",
    "service.instance.id",
    "k8s.pod.name",
    "host.name",
];

/// Whether the damaged attribute in `gap` may have been a placing one: its key cannot be
/// found, or it is one, or one byte changed (a different byte, or a quote ending it early
/// or late) would make it one.
fn may_be_placing(gap: &str) -> bool {
    let Some(i) = gap.find("\"key\":\"") else {
        return true;
    };
    let rest = &gap[i + 7..];
    let key = rest.split('"').next().unwrap_or(rest);
    PLACING.iter().any(|p| {
        let near =
            p.len() == key.len() && p.bytes().zip(key.bytes()).filter(|(a, b)| a != b).count() <= 1;
        near || p.starts_with(key) || key.starts_with(p)
    })
}
