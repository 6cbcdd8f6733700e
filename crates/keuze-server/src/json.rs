//! The JSON body extractor: parses with the path of the offending field, so every bad
//! request gets a problem with a JSON Pointer, and enforces the body limit as a 413 and
//! the nesting limit ([`MAX_DEPTH`]) as a 400.

use crate::problem::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The deepest nesting of arrays and objects a request body may have. Keuze's own
/// bodies need four levels; the limit keeps a hostile body from costing the parser (or a
/// later consumer of a stored value) deep recursion.
pub const MAX_DEPTH: usize = 32;

/// A JSON request body of type `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse(&bytes).map(JsonBody)
    }
}

/// A JSON request body, its media type and size checked, not parsed yet: for handlers
/// that parse it with [`parse`] into types that borrow from it.
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let limit = crate::BODY_LIMIT;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(limit)
            } else {
                ApiError::MalformedJson(format!("could not read the body: {e}"), None)
            }
        })?;
        if let Some(at_byte) = nests_deeper_than(&bytes, MAX_DEPTH) {
            return Err(ApiError::TooDeep {
                limit: MAX_DEPTH,
                at_byte,
            });
        }
        Ok(JsonBytes(bytes))
    }
}

/// The offset of the first bracket that opens a level deeper than `limit`, if any.
/// Brackets inside strings do not count. It does not validate: the parser does that next.
pub fn nests_deeper_than(bytes: &[u8], limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Parses `bytes` as `T`, locating any error by line, column and JSON Pointer.
pub fn parse<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ApiError> {
    // Tracking the path costs on every value; most bodies are valid, so parse without it
    // first and parse again with it only to explain an error.
    if let Ok(v) = T::deserialize(&mut serde_json::Deserializer::from_slice(bytes)) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    let err = match result {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let pointer = pointer(err.path());
    let inner = err.inner();
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => Err(ApiError::MalformedJson(
            format!(
                "malformed JSON at line {}, column {}: {}",
                inner.line(),
                inner.column(),
                strip_position(&inner.to_string())
            ),
            None,
        )),
        Category::Data => Err(ApiError::field(pointer, strip_position(&inner.to_string()))),
    }
}

/// serde_json appends " at line L column C"; the pointer says where more usefully.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_owned(),
        None => msg.to_owned(),
    }
}

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Enum { variant } => {
                out.push('/');
                out.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Query-string parameters of type `T`; a malformed query is a problem-details 422 that
/// names the parameter, like a malformed body, never a plain-text rejection.
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| QueryParams(q.0))
            .map_err(|e| {
                ApiError::field(
                    "",
                    format!(
                        "the query string is not valid: {}; see /v1/openapi.json for this endpoint's parameters",
                        e.body_text()
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert_eq!(nests_deeper_than(br#"{"a":[1,{"b":2}]}"#, 3), None);
        assert_eq!(nests_deeper_than(br#"{"a":[1,{"b":2}]}"#, 2), Some(8));
        assert_eq!(nests_deeper_than(br#"{"a":"[[[[{{{{"}"#, 1), None);
        // An escaped quote does not end the string; the brackets after it are text.
        assert_eq!(nests_deeper_than(br#"["\"[[[["]"#, 1), None);
        assert_eq!(nests_deeper_than(br#"["\\",[[]]]"#, 2), Some(7));
        let deep = "[".repeat(33) + &"]".repeat(33);
        assert_eq!(nests_deeper_than(deep.as_bytes(), MAX_DEPTH), Some(32));
        let fine = "[".repeat(32) + &"]".repeat(32);
        assert_eq!(nests_deeper_than(fine.as_bytes(), MAX_DEPTH), None);
    }

    #[test]
    fn type_errors_carry_a_pointer() {
        match parse::<Outer>(br#"{"items":[{"n":1},{"n":"x"}]}"#) {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].pointer, "/items/1/n"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_say_where() {
        match parse::<Outer>(b"{\n  \"items\": [,]\n}") {
            Err(ApiError::MalformedJson(m, _)) => assert!(m.contains("line 2, column 13"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
