//! Column builders for the spans, events and links frames (names and types from
//! [`crate::model::columns`]). Parsers push borrowed rows; `finish` yields a DataFrame.

use anyhow::{Context as _, Result};
use polars::prelude::{
    ChunkedBuilder, Column, DataFrame, Int32Type, Int64Type, IntoColumn, PrimitiveChunkedBuilder,
    StringChunkedBuilder,
};

use super::otlp::semconv::{Semantic, INT_COLUMNS, INT_SLOTS, STR_COLUMNS, STR_SLOTS};
use crate::model::columns as col;

/// One span, borrowed from the parsed input.
pub struct SpanRow<'r> {
    pub trace_id: &'r str,
    pub span_id: &'r str,
    /// `None` on a root span.
    pub parent_span_id: Option<&'r str>,
    pub service: &'r str,
    pub instance: Option<&'r str>,
    pub scope: Option<&'r str>,
    pub name: &'r str,
    pub kind: i32,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status_code: i32,
    pub status_message: Option<&'r str>,
    pub semantic: &'r Semantic<'r>,
    /// All span attributes as one JSON object.
    pub attributes: &'r str,
}

fn strings(name: &str, cap: usize) -> StringChunkedBuilder {
    StringChunkedBuilder::new(name.into(), cap)
}

fn ints32(name: &str, cap: usize) -> PrimitiveChunkedBuilder<Int32Type> {
    PrimitiveChunkedBuilder::new(name.into(), cap)
}

fn ints64(name: &str, cap: usize) -> PrimitiveChunkedBuilder<Int64Type> {
    PrimitiveChunkedBuilder::new(name.into(), cap)
}

fn frame(height: usize, columns: Vec<Column>, what: &str) -> Result<DataFrame> {
    DataFrame::new(height, columns).with_context(|| format!("building the {what} frame"))
}

/// Builders of the spans frame.
pub struct SpanColumns {
    len: usize,
    ids: [StringChunkedBuilder; 3],
    service: StringChunkedBuilder,
    instance: StringChunkedBuilder,
    scope: StringChunkedBuilder,
    name: StringChunkedBuilder,
    kind: PrimitiveChunkedBuilder<Int32Type>,
    times: [PrimitiveChunkedBuilder<Int64Type>; 3],
    status_code: PrimitiveChunkedBuilder<Int32Type>,
    status_message: StringChunkedBuilder,
    semantic_strs: Vec<StringChunkedBuilder>,
    semantic_ints: Vec<PrimitiveChunkedBuilder<Int32Type>>,
    attributes: StringChunkedBuilder,
}

impl SpanColumns {
    pub fn with_capacity(cap: usize) -> Self {
        SpanColumns {
            len: 0,
            ids: [col::TRACE_ID, col::SPAN_ID, col::PARENT_SPAN_ID].map(|n| strings(n, cap)),
            service: strings(col::SERVICE, cap),
            instance: strings(col::INSTANCE, cap),
            scope: strings(col::SCOPE, cap),
            name: strings(col::NAME, cap),
            kind: ints32(col::KIND, cap),
            times: [col::START_NS, col::END_NS, col::DURATION_NS].map(|n| ints64(n, cap)),
            status_code: ints32(col::STATUS_CODE, cap),
            status_message: strings(col::STATUS_MESSAGE, cap),
            semantic_strs: STR_COLUMNS.iter().map(|n| strings(n, cap)).collect(),
            semantic_ints: INT_COLUMNS.iter().map(|n| ints32(n, cap)).collect(),
            attributes: strings(col::ATTRIBUTES, cap),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one span; duration is `end − start` clamped at 0.
    pub fn push(&mut self, row: &SpanRow<'_>) {
        self.len += 1;
        let [trace, span, parent] = &mut self.ids;
        trace.append_value(row.trace_id);
        span.append_value(row.span_id);
        parent.append_option(row.parent_span_id);
        self.service.append_value(row.service);
        self.instance.append_option(row.instance);
        self.scope.append_option(row.scope);
        self.name.append_value(row.name);
        self.kind.append_value(row.kind);
        let [start, end, duration] = &mut self.times;
        start.append_value(row.start_ns);
        end.append_value(row.end_ns);
        duration.append_value(row.end_ns.saturating_sub(row.start_ns).max(0));
        self.status_code.append_value(row.status_code);
        self.status_message.append_option(row.status_message);
        for (i, b) in self.semantic_strs.iter_mut().enumerate().take(STR_SLOTS) {
            b.append_option(row.semantic.str(i));
        }
        for (i, b) in self.semantic_ints.iter_mut().enumerate().take(INT_SLOTS) {
            b.append_option(row.semantic.int(i));
        }
        self.attributes.append_value(row.attributes);
    }

    /// The spans frame, columns in the order of [`crate::model::columns`].
    pub fn finish(self) -> Result<DataFrame> {
        let mut columns: Vec<Column> = Vec::with_capacity(40);
        let [trace, span, parent] = self.ids;
        columns.extend([trace, span, parent].map(|b| b.finish().into_column()));
        for b in [self.service, self.instance, self.scope, self.name] {
            columns.push(b.finish().into_column());
        }
        columns.push(self.kind.finish().into_column());
        columns.extend(self.times.map(|b| b.finish().into_column()));
        columns.push(self.status_code.finish().into_column());
        columns.push(self.status_message.finish().into_column());
        columns.extend(
            self.semantic_strs
                .into_iter()
                .map(|b| b.finish().into_column()),
        );
        columns.extend(
            self.semantic_ints
                .into_iter()
                .map(|b| b.finish().into_column()),
        );
        columns.push(self.attributes.finish().into_column());
        frame(self.len, columns, "spans")
    }
}

/// Builders of the events frame.
pub struct EventColumns {
    len: usize,
    trace_id: StringChunkedBuilder,
    span_id: StringChunkedBuilder,
    time_ns: PrimitiveChunkedBuilder<Int64Type>,
    name: StringChunkedBuilder,
    exception_type: StringChunkedBuilder,
    exception_message: StringChunkedBuilder,
    attributes: StringChunkedBuilder,
}

/// One span event, borrowed.
pub struct EventRow<'r> {
    pub trace_id: &'r str,
    pub span_id: &'r str,
    pub time_ns: i64,
    pub name: &'r str,
    pub exception_type: Option<&'r str>,
    pub exception_message: Option<&'r str>,
    pub attributes: &'r str,
}

impl EventColumns {
    pub fn with_capacity(cap: usize) -> Self {
        EventColumns {
            len: 0,
            trace_id: strings(col::TRACE_ID, cap),
            span_id: strings(col::SPAN_ID, cap),
            time_ns: ints64(col::TIME_NS, cap),
            name: strings(col::NAME, cap),
            exception_type: strings(col::EXCEPTION_TYPE, cap),
            exception_message: strings(col::EXCEPTION_MESSAGE, cap),
            attributes: strings(col::ATTRIBUTES, cap),
        }
    }

    pub fn push(&mut self, row: &EventRow<'_>) {
        self.len += 1;
        self.trace_id.append_value(row.trace_id);
        self.span_id.append_value(row.span_id);
        self.time_ns.append_value(row.time_ns);
        self.name.append_value(row.name);
        self.exception_type.append_option(row.exception_type);
        self.exception_message.append_option(row.exception_message);
        self.attributes.append_value(row.attributes);
    }

    pub fn finish(self) -> Result<DataFrame> {
        let columns = vec![
            self.trace_id.finish().into_column(),
            self.span_id.finish().into_column(),
            self.time_ns.finish().into_column(),
            self.name.finish().into_column(),
            self.exception_type.finish().into_column(),
            self.exception_message.finish().into_column(),
            self.attributes.finish().into_column(),
        ];
        frame(self.len, columns, "events")
    }
}

/// Builders of the links frame.
pub struct LinkColumns {
    len: usize,
    ids: [StringChunkedBuilder; 4],
    attributes: StringChunkedBuilder,
}

impl LinkColumns {
    pub fn with_capacity(cap: usize) -> Self {
        let names = [
            col::TRACE_ID,
            col::SPAN_ID,
            col::LINKED_TRACE_ID,
            col::LINKED_SPAN_ID,
        ];
        LinkColumns {
            len: 0,
            ids: names.map(|n| strings(n, cap)),
            attributes: strings(col::ATTRIBUTES, cap),
        }
    }

    /// Appends a link from (trace, span) to (linked trace, linked span).
    pub fn push(&mut self, ids: [&str; 4], attributes: &str) {
        self.len += 1;
        for (b, id) in self.ids.iter_mut().zip(ids) {
            b.append_value(id);
        }
        self.attributes.append_value(attributes);
    }

    pub fn finish(self) -> Result<DataFrame> {
        let mut columns: Vec<Column> = self.ids.map(|b| b.finish().into_column()).into();
        columns.push(self.attributes.finish().into_column());
        frame(self.len, columns, "links")
    }
}

/// Appends `part` below `acc` (cheap: chunks are moved, not copied).
pub fn append(acc: &mut DataFrame, part: DataFrame) -> Result<()> {
    if acc.width() == 0 {
        *acc = part;
        return Ok(());
    }
    acc.vstack_mut_owned(part)
        .context("appending a parsed chunk")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::DataType;

    #[test]
    fn spans_frame_has_every_column_with_its_type() {
        let sem = Semantic::default();
        let mut b = SpanColumns::with_capacity(1);
        b.push(&SpanRow {
            trace_id: "0af7651916cd43dd8448eb211c80319c",
            span_id: "b7ad6b7169203331",
            parent_span_id: None,
            service: "checkout",
            instance: None,
            scope: Some("io.opentelemetry.http"),
            name: "GET /cart",
            kind: 2,
            start_ns: 2_000,
            end_ns: 1_000,
            status_code: 2,
            status_message: None,
            semantic: &sem,
            attributes: "{}",
        });
        let df = b.finish().unwrap();
        assert_eq!(
            df.shape(),
            (1, 3 + 4 + 1 + 3 + 2 + STR_SLOTS + INT_SLOTS + 1)
        );
        assert_eq!(
            df.column(col::DURATION_NS).unwrap().i64().unwrap().get(0),
            Some(0)
        );
        assert_eq!(df.column(col::KIND).unwrap().dtype(), &DataType::Int32);
        assert_eq!(
            df.column(col::HTTP_STATUS_CODE).unwrap().dtype(),
            &DataType::Int32
        );
        assert_eq!(df.column(col::PARENT_SPAN_ID).unwrap().null_count(), 1);
    }
}
