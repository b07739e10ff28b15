//! The tags that stand for an OTLP field (OpenTracing's and the OTel Jaeger/Zipkin
//! exporters' conventions): `span.kind`, `error`, `otel.status_code`,
//! `otel.status_description`, `otel.scope.name` and their older spellings. They become
//! `kind`, `status_code`, `status_message` and `scope`, and are left out of `attributes`.

use crate::ingest::otlp::anyvalue::{as_str, kind_of, write_kind, write_str, Kind};
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::wire::KeyValue;
use crate::model::columns::{kind, status};

/// Tags that OpenTracing bridges and the OTel Jaeger/Zipkin exporters write for what OTLP
/// has fields for; they become `kind`, `status_code`, `status_message` and `scope`.
const MAPPED_TAGS: [&str; 8] = [
    "span.kind",
    "error",
    "otel.status_code",
    "otel.status_description",
    "otel.scope.name",
    "otel.scope.version",
    "otel.library.name",
    "otel.library.version",
];

fn key_of<'v>(kv: &'v KeyValue<'_>) -> &'v str {
    kv.key.as_ref().map_or("", Text::as_str)
}

/// True for a tag that stands for an OTLP field (`span.kind`, `error`, `otel.status_code`, …).
pub fn is_mapped(key: &str) -> bool {
    MAPPED_TAGS.contains(&key)
}

/// Appends the tags that are not [mapped](is_mapped) as one JSON object.
pub fn write_kept(out: &mut String, attrs: &[KeyValue<'_>]) {
    write_object_where(out, attrs, |key| !is_mapped(key));
}

/// Appends the tags neither [mapped](is_mapped) nor carried by a normalised column of
/// `semantic` (as OTLP spans do), as one JSON object.
pub fn write_uncarried(
    out: &mut String,
    attrs: &[KeyValue<'_>],
    semantic: &crate::ingest::otlp::semconv::Semantic<'_>,
) {
    crate::ingest::otlp::anyvalue::write_object_except(out, attrs, |i| {
        semantic.carries(i) || attrs.get(i).is_some_and(|kv| is_mapped(key_of(kv)))
    });
}

/// Appends the tags whose key passes `keep` as one JSON object `{key: value}`.
pub fn write_object_where(out: &mut String, attrs: &[KeyValue<'_>], keep: impl Fn(&str) -> bool) {
    out.push('{');
    let mut first = true;
    for kv in attrs.iter().filter(|kv| keep(key_of(kv))) {
        if !first {
            out.push(',');
        }
        first = false;
        write_str(out, key_of(kv));
        out.push(':');
        write_kind(out, kind_of(&kv.value));
    }
    out.push('}');
}

/// What the mapped tags of one span say.
#[derive(Default)]
pub struct Mapped<'v> {
    /// `span.kind` as written (`server`, `client`, …).
    pub span_kind: Option<&'v str>,
    /// `otel.scope.name`, else the older `otel.library.name`.
    pub scope: Option<&'v str>,
    otel_status: Option<&'v str>,
    description: Option<&'v str>,
    /// The `error` tag: whether it means an error, and its text when it is a message.
    error: Option<(bool, Option<&'v str>)>,
}

impl<'v> Mapped<'v> {
    /// Reads the mapped tags (the last of a repeated key wins, as in a map).
    pub fn read(attrs: &'v [KeyValue<'_>]) -> Self {
        let mut m = Mapped::default();
        let mut library = None;
        for kv in attrs {
            let text = as_str(&kv.value).filter(|s| !s.is_empty());
            match key_of(kv) {
                "span.kind" => m.span_kind = text,
                "otel.scope.name" => m.scope = text,
                "otel.library.name" => library = text,
                "otel.status_code" => m.otel_status = text,
                "otel.status_description" => m.description = text,
                "error" => m.error = Some(error_tag(kind_of(&kv.value))),
                _ => {}
            }
        }
        m.scope = m.scope.or(library);
        m
    }

    /// The OTLP status: `otel.status_code` when written, else an `error` tag; the message is
    /// `otel.status_description`, else the text of an `error` tag that holds a message.
    pub fn status(&self) -> (i32, Option<&'v str>) {
        let from_error = self
            .error
            .and_then(|(is_error, text)| is_error.then_some(text));
        let code = match self.otel_status.map(str::to_ascii_uppercase).as_deref() {
            Some("ERROR") => status::ERROR,
            Some("OK") => status::OK,
            Some(_) => status::UNSET,
            None if from_error.is_some() => status::ERROR,
            None => status::UNSET,
        };
        let message = self.description.or(from_error.flatten());
        (code, message.filter(|_| code != status::UNSET))
    }
}

/// `error=true` / `"true"` / `""` mean an error; `false` / `"false"` do not; any other text
/// is an error message (Zipkin: "the error tag holds the message").
fn error_tag<'v>(value: Kind<'v, '_>) -> (bool, Option<&'v str>) {
    match value {
        Kind::Bool(b) => (b, None),
        Kind::Str("false") => (false, None),
        Kind::Str("true" | "") => (true, None),
        Kind::Str(message) => (true, Some(message)),
        _ => (true, None),
    }
}

/// The OTLP kind of a `span.kind` tag (OpenTracing's values, any case); `None` when unknown.
pub fn kind_from_tag(text: &str) -> Option<i32> {
    Some(match text.to_ascii_lowercase().as_str() {
        "client" => kind::CLIENT,
        "server" => kind::SERVER,
        "producer" => kind::PRODUCER,
        "consumer" => kind::CONSUMER,
        "internal" => kind::INTERNAL,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::jaeger::tags::Tags;

    fn tags(json: &str) -> Vec<KeyValue<'_>> {
        serde_json::from_str::<Tags>(json).unwrap().0
    }

    #[test]
    fn status_prefers_otel_status_code_then_error_tag() {
        let status_of = |json: &str| {
            let t = tags(json);
            let (code, msg) = Mapped::read(&t).status();
            (code, msg.map(String::from))
        };
        assert_eq!(
            status_of(r#"[{"key":"error","type":"bool","value":true}]"#),
            (2, None)
        );
        assert_eq!(
            status_of(r#"[{"key":"error","value":"no permission"}]"#),
            (2, Some("no permission".into()))
        );
        assert_eq!(status_of(r#"[{"key":"error","value":"false"}]"#), (0, None));
        assert_eq!(
            status_of(
                r#"[{"key":"otel.status_code","value":"ERROR"},
                    {"key":"otel.status_description","value":"Something failed"}]"#
            ),
            (2, Some("Something failed".into()))
        );
        assert_eq!(
            status_of(r#"[{"key":"otel.status_code","value":"OK"}]"#),
            (1, None)
        );
    }

    #[test]
    fn span_kind_tags_map_to_otlp_kinds() {
        assert_eq!(kind_from_tag("SERVER"), Some(kind::SERVER));
        assert_eq!(kind_from_tag("producer"), Some(kind::PRODUCER));
        assert_eq!(kind_from_tag("rpc"), None);
    }
}
