//! Log records → the logs frame: the well-known columns, then one typed column per other
//! field (first-seen order), capped at [`MAX_EXTRA_COLUMNS`]; fields beyond the cap go into
//! one JSON-object `attributes` column.
//!
//! Column type per extra field, over all records: Int64 when every value is an integer,
//! Float64 when every value is a number, Boolean when every value is a boolean, else String
//! (numbers and booleans written as text); a record without the field gives null.

use std::borrow::Cow;

use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame, PlHashMap, PlSmallStr};
use rayon::prelude::*;

use crate::ingest::record::{FieldValue, LogRecord};
use crate::model::columns::{
    ATTRIBUTES, MESSAGE, SERVICE, SEVERITY_NUMBER, SEVERITY_TEXT, SPAN_ID, TIME_NS, TRACE_ID,
};

/// Most extra columns one logs frame gets: a logger dumping request maps into fields would
/// otherwise make thousands of sparse columns; the rest stay readable in `attributes`.
pub(crate) const MAX_EXTRA_COLUMNS: usize = 200;
/// Prefix given to an extra field whose name is a well-known column's.
const CLASH_PREFIX: &str = "field.";
/// Names the extra columns must not take.
const RESERVED: [&str; 8] = [
    TIME_NS,
    SEVERITY_NUMBER,
    SEVERITY_TEXT,
    MESSAGE,
    SERVICE,
    TRACE_ID,
    SPAN_ID,
    ATTRIBUTES,
];

/// Builds the logs frame, rows in record order.
pub(crate) fn build(records: &[LogRecord]) -> Result<DataFrame> {
    let (mut columns, extras) = rayon::join(|| well_known(records), || extra_columns(records));
    columns.extend(extras);
    DataFrame::new(records.len(), columns).context("building the logs frame")
}

/// The typed extra columns (built in parallel, kept in first-seen order), then `attributes`.
fn extra_columns(records: &[LogRecord]) -> Vec<Column> {
    let layout = Layout::of(records);
    let mut columns: Vec<Column> = layout
        .extra_values(records)
        .par_iter()
        .map(|(name, values)| typed_column(name, values, records.len()))
        .collect();
    if layout.overflows {
        columns.push(overflow_column(records, &layout));
    }
    columns
}

fn well_known(records: &[LogRecord]) -> Vec<Column> {
    let text = |name: &str, get: fn(&LogRecord) -> Option<&str>| {
        Column::new(name.into(), records.iter().map(get).collect::<Vec<_>>())
    };
    vec![
        Column::new(
            TIME_NS.into(),
            records.iter().map(|r| r.time_ns).collect::<Vec<_>>(),
        ),
        Column::new(
            SEVERITY_NUMBER.into(),
            records
                .iter()
                .map(|r| r.severity_number)
                .collect::<Vec<_>>(),
        ),
        text(SEVERITY_TEXT, |r| r.severity_text.as_deref()),
        text(MESSAGE, |r| r.message.as_deref()),
        text(SERVICE, |r| r.service.as_deref()),
        text(TRACE_ID, |r| r.trace_id.as_deref()),
        text(SPAN_ID, |r| r.span_id.as_deref()),
    ]
}

/// Field name → extra column index (or overflow), in first-seen order.
struct Layout {
    slot: PlHashMap<String, Option<usize>>,
    names: Vec<String>,
    overflows: bool,
}

impl Layout {
    fn of(records: &[LogRecord]) -> Layout {
        let mut l = Layout {
            slot: PlHashMap::default(),
            names: Vec::new(),
            overflows: false,
        };
        for (key, _) in records.iter().flat_map(|r| &r.fields) {
            if !l.slot.contains_key(key) {
                l.assign(key);
            }
        }
        l
    }

    fn assign(&mut self, key: &str) {
        if self.names.len() >= MAX_EXTRA_COLUMNS {
            self.overflows = true;
            self.slot.insert(key.to_string(), None);
            return;
        }
        let name = self.unique(column_name(key));
        self.slot.insert(key.to_string(), Some(self.names.len()));
        self.names.push(name);
    }

    /// `name`, or `name_2`, `name_3`… when two raw keys sanitise to the same name.
    fn unique(&self, name: String) -> String {
        let taken = |n: &str| self.names.iter().any(|x| x == n);
        if !taken(&name) {
            return name;
        }
        (2..)
            .map(|i| format!("{name}_{i}"))
            .find(|n| !taken(n))
            .unwrap_or(name)
    }

    /// Per extra column, its (row, value) pairs; a repeated key in one record: last wins.
    fn extra_values<'r>(
        &self,
        records: &'r [LogRecord],
    ) -> Vec<(String, Vec<(usize, &'r FieldValue)>)> {
        let mut cols: Vec<_> = self.names.iter().map(|n| (n.clone(), Vec::new())).collect();
        for (row, rec) in records.iter().enumerate() {
            for (key, value) in &rec.fields {
                if let Some(Some(i)) = self.slot.get(key) {
                    cols[*i].1.push((row, value));
                }
            }
        }
        cols
    }
}

/// The field name with characters outside `[A-Za-z0-9_.]` replaced by `_`, prefixed with
/// `field.` when it would take a well-known column's name.
fn column_name(key: &str) -> String {
    let clean: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = if clean.is_empty() {
        "_".to_string()
    } else {
        clean
    };
    if RESERVED.contains(&clean.as_str()) {
        format!("{CLASH_PREFIX}{clean}")
    } else {
        clean
    }
}

/// The narrowest type every value of a column fits.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
}

fn kind_of(values: &[(usize, &FieldValue)]) -> Kind {
    let all = |f: fn(&FieldValue) -> bool| values.iter().all(|(_, v)| f(v));
    if all(|v| matches!(v, FieldValue::Int(_))) {
        Kind::Int
    } else if all(|v| matches!(v, FieldValue::Int(_) | FieldValue::Float(_))) {
        Kind::Float
    } else if all(|v| matches!(v, FieldValue::Bool(_))) {
        Kind::Bool
    } else {
        Kind::Text
    }
}

/// A nullable column of `rows` rows from sparse (row, value) pairs.
fn typed_column(name: &str, values: &[(usize, &FieldValue)], rows: usize) -> Column {
    fn dense<'v, T: Clone>(
        values: &[(usize, &'v FieldValue)],
        rows: usize,
        f: impl Fn(&'v FieldValue) -> Option<T>,
    ) -> Vec<Option<T>> {
        let mut out = vec![None; rows];
        for (row, v) in values {
            if let Some(cell) = out.get_mut(*row) {
                *cell = f(v);
            }
        }
        out
    }
    let name = PlSmallStr::from(name);
    match kind_of(values) {
        Kind::Int => Column::new(name, dense(values, rows, as_i64)),
        Kind::Float => Column::new(name, dense(values, rows, as_f64)),
        Kind::Bool => Column::new(name, dense(values, rows, as_bool)),
        Kind::Text => {
            let cells = dense(values, rows, |v| Some(as_text(v)));
            let refs: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
            Column::new(name, refs)
        }
    }
}

fn as_i64(v: &FieldValue) -> Option<i64> {
    match v {
        FieldValue::Int(n) => Some(*n),
        _ => None,
    }
}

fn as_f64(v: &FieldValue) -> Option<f64> {
    match v {
        FieldValue::Int(n) => Some(*n as f64),
        FieldValue::Float(f) => Some(*f),
        _ => None,
    }
}

fn as_bool(v: &FieldValue) -> Option<bool> {
    match v {
        FieldValue::Bool(b) => Some(*b),
        _ => None,
    }
}

/// Text of a value, borrowed when it is text already.
fn as_text(v: &FieldValue) -> Cow<'_, str> {
    match v {
        FieldValue::Str(s) => Cow::Borrowed(s),
        FieldValue::Int(n) => Cow::Owned(n.to_string()),
        FieldValue::Float(f) => Cow::Owned(f.to_string()),
        FieldValue::Bool(b) => Cow::Owned(b.to_string()),
    }
}

/// Fields past the column cap, one JSON object per row (null when the row has none).
fn overflow_column(records: &[LogRecord], layout: &Layout) -> Column {
    let rows: Vec<Option<String>> = records
        .iter()
        .map(|r| {
            let map: serde_json::Map<String, serde_json::Value> = r
                .fields
                .iter()
                .filter(|(k, _)| matches!(layout.slot.get(k), Some(None)))
                .map(|(k, v)| (k.clone(), json_value(v)))
                .collect();
            (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
        })
        .collect();
    Column::new(ATTRIBUTES.into(), rows)
}

fn json_value(v: &FieldValue) -> serde_json::Value {
    match v {
        FieldValue::Str(s) => serde_json::Value::from(s.as_str()),
        FieldValue::Int(n) => serde_json::Value::from(*n),
        FieldValue::Float(f) => serde_json::Value::from(*f),
        FieldValue::Bool(b) => serde_json::Value::from(*b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::DataType;

    fn rec(fields: Vec<(&str, FieldValue)>) -> LogRecord {
        let fields = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        LogRecord {
            message: Some("m".into()),
            fields,
            ..LogRecord::default()
        }
    }

    #[test]
    fn frame_infers_one_type_per_extra_column() {
        use FieldValue::{Bool, Float, Int, Str};
        let records = vec![
            rec(vec![
                ("status", Int(200)),
                ("dur", Int(3)),
                ("ok", Bool(true)),
                ("code", Int(1)),
            ]),
            rec(vec![
                ("dur", Float(2.5)),
                ("ok", Bool(false)),
                ("code", Str("E42".into())),
            ]),
            rec(vec![
                ("status", Int(503)),
                ("http-route", Str("/a".into())),
                ("message", Int(1)),
            ]),
        ];
        let df = build(&records).unwrap();
        assert_eq!(df.height(), 3);
        let dtype = |n: &str| df.column(n).unwrap().dtype().clone();
        assert_eq!(dtype("status"), DataType::Int64);
        assert_eq!(dtype("dur"), DataType::Float64);
        assert_eq!(dtype("ok"), DataType::Boolean);
        assert_eq!(dtype("code"), DataType::String);
        assert_eq!(dtype("http_route"), DataType::String);
        assert_eq!(dtype("field.message"), DataType::Int64);
        let status: Vec<_> = df.column("status").unwrap().i64().unwrap().iter().collect();
        assert_eq!(status, [Some(200), None, Some(503)]);
        let code: Vec<_> = df.column("code").unwrap().str().unwrap().iter().collect();
        assert_eq!(code, [Some("1"), Some("E42"), None]);
    }

    #[test]
    fn empty_frame_has_the_well_known_columns() {
        let df = build(&[]).unwrap();
        let names: Vec<&str> = df
            .get_column_names()
            .into_iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(
            names,
            [
                TIME_NS,
                SEVERITY_NUMBER,
                SEVERITY_TEXT,
                MESSAGE,
                SERVICE,
                TRACE_ID,
                SPAN_ID
            ]
        );
        assert_eq!(df.height(), 0);
        assert_eq!(df.column(TIME_NS).unwrap().dtype(), &DataType::Int64);
        assert_eq!(
            df.column(SEVERITY_NUMBER).unwrap().dtype(),
            &DataType::Int32
        );
    }

    #[test]
    fn extra_columns_past_the_cap_go_to_attributes() {
        let many: Vec<(String, FieldValue)> = (0..MAX_EXTRA_COLUMNS + 5)
            .map(|i| (format!("f{i}"), FieldValue::Int(i as i64)))
            .collect();
        let records = vec![
            LogRecord {
                fields: many,
                ..LogRecord::default()
            },
            LogRecord {
                message: Some("no extras".into()),
                ..LogRecord::default()
            },
        ];
        let df = build(&records).unwrap();
        assert_eq!(df.width(), 7 + MAX_EXTRA_COLUMNS + 1);
        let attrs: Vec<_> = df
            .column(ATTRIBUTES)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        let first: serde_json::Value = serde_json::from_str(attrs[0].unwrap()).unwrap();
        assert_eq!(first["f204"], 204);
        assert_eq!(first.as_object().unwrap().len(), 5);
        assert_eq!(attrs[1], None);
    }
}
