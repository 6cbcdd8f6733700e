//! The one error type of the HTTP layer, rendered as RFC 9457 problem details. Every
//! handler returns `Result<_, ApiError>`; nothing else turns errors into responses.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keuze_store::{Scope, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// One offending field, located by a JSON Pointer (RFC 6901) into the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

/// An RFC 9457 problem details body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:keuze:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every offending field, when the request body was at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The catalog version the server holds now (with `stale-catalog-version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_catalog_version: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no valid API key")]
    Unauthenticated(String),
    #[error("the API key lacks the `{}` scope", .0.as_str())]
    Forbidden(Scope),
    #[error("malformed JSON: {0}")]
    MalformedJson(String, Option<String>),
    #[error("the request body must be JSON")]
    UnsupportedMediaType,
    #[error("the request body must be {0}")]
    UnsupportedMediaTypeFor(&'static str),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request took longer than {0} s")]
    Timeout(u64),
    #[error("the request body nests deeper than {limit} levels")]
    TooDeep { limit: usize, at_byte: usize },
    #[error("too many requests {who}; retry in {retry_after_secs} s")]
    RateLimited {
        /// Whose quota ran out, in words: "for this API key", "from this client".
        who: &'static str,
        retry_after_secs: u64,
    },
    #[error("invalid request")]
    Validation(Vec<FieldError>),
    #[error("the catalog version {requested} has changed materially for {purposes:?}")]
    StaleCatalogVersion {
        requested: u32,
        current: u32,
        purposes: Vec<String>,
    },
    #[error("not found: {0}")]
    NotFound(String),
    /// TC strings cannot be made as the server is set up; the text says how to set it up.
    #[error("TC strings are not configured: {0}")]
    TcfNotConfigured(String),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
}

impl ApiError {
    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError {
            pointer: pointer.into(),
            detail: detail.into(),
        }])
    }

    fn problem(&self) -> Problem {
        let (status, slug, title, detail, errors, current) = match self {
            Self::Unauthenticated(why) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "No valid API key",
                format!("{why}. Send `Authorization: Bearer kz_...`; create a key with `keuze key create --scope <scope>`."),
                vec![],
                None,
            ),
            Self::Forbidden(scope) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "The API key lacks a scope",
                format!(
                    "this endpoint needs the `{0}` scope; create a key with `keuze key create --scope {0}`",
                    scope.as_str()
                ),
                vec![],
                None,
            ),
            Self::MalformedJson(msg, pointer) => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The request body is not valid JSON",
                msg.clone(),
                pointer
                    .iter()
                    .map(|p| FieldError {
                        pointer: p.clone(),
                        detail: msg.clone(),
                    })
                    .collect(),
                None,
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The request body must be JSON",
                "send the body with `Content-Type: application/json`".to_owned(),
                vec![],
                None,
            ),
            Self::UnsupportedMediaTypeFor(media) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Wrong media type",
                format!("send the body with `Content-Type: {media}`"),
                vec![],
                None,
            ),
            Self::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "The request body is too large",
                format!("the body exceeds the limit of {limit} bytes; split the request (batch decisions take up to 10000 items)"),
                vec![],
                None,
            ),
            Self::Timeout(secs) => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "The request took too long",
                format!("the request did not complete within {secs} s (a body sent too slowly, or a server too busy); if it was a write, read the state to see whether it was recorded, then retry"),
                vec![],
                None,
            ),
            Self::TooDeep { limit, at_byte } => (
                StatusCode::BAD_REQUEST,
                "json-too-deep",
                "The request body nests too deeply",
                format!("arrays and objects nest more than {limit} levels deep at byte {at_byte}; no Keuze request needs more than a few levels"),
                vec![],
                None,
            ),
            Self::RateLimited { who, retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!("too many requests {who}; nothing was done. Retry after {retry_after_secs} s (the Retry-After header), and spread requests out or use the batch endpoints"),
                vec![],
                None,
            ),
            Self::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request is not valid",
                errors
                    .iter()
                    .map(|e| {
                        if e.pointer.is_empty() {
                            e.detail.clone()
                        } else {
                            format!("{}: {}", e.pointer, e.detail)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                errors.clone(),
                None,
            ),
            Self::StaleCatalogVersion { requested, current, purposes } => (
                StatusCode::CONFLICT,
                "stale-catalog-version",
                "The notice shown has changed since",
                format!(
                    "the customer was shown catalog version {requested}, but what it says about {} has changed materially since; version {current} is current: show its notice and ask again",
                    purposes.join(", ")
                ),
                vec![FieldError {
                    pointer: "/catalog_version".into(),
                    detail: format!("use {current}"),
                }],
                Some(*current),
            ),
            Self::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                what.clone(),
                vec![],
                None,
            ),
            Self::TcfNotConfigured(how) => (
                StatusCode::CONFLICT,
                "tcf-not-configured",
                "TC strings are not configured",
                how.clone(),
                vec![],
                None,
            ),
            Self::Store(StoreError::Erased) => (
                StatusCode::GONE,
                "subject-erased",
                "The subject was erased",
                "this customer's data was erased at their request; nothing more is recorded for them. A new identifier starts afresh".to_owned(),
                vec![],
                None,
            ),
            Self::Store(e) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage-unavailable",
                "Storage is unavailable",
                format!("{e}; nothing was written, retry later"),
                vec![],
                None,
            ),
        };
        Problem {
            kind: format!("urn:keuze:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            current_catalog_version: current,
        }
    }
}

impl ApiError {
    /// The storage error worth logging: an erased subject is an answer, not a failure.
    fn without_erased(&self) -> Option<&StoreError> {
        match self {
            Self::Store(StoreError::Erased) => None,
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        if let Some(e) = self.without_erased() {
            tracing::error!(error = %e, "storage error");
        }
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Self::RateLimited {
            retry_after_secs, ..
        } = self
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if matches!(self, Self::Unauthenticated(_)) {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"keuze\""),
            );
        }
        res
    }
}

/// Where a problem the application found is, as a JSON Pointer into the request bodies
/// that carry choices (`POST /v1/consents`, `POST /v1/banner/choices`).
pub fn field_error(e: &keuze_app::record::Invalid) -> FieldError {
    use keuze_app::record::Field;
    FieldError {
        pointer: match e.at {
            Field::Answer => "/choices".into(),
            Field::Choice { index, field } => format!("/choices/{index}/{field}"),
            Field::Preset => "/preset".into(),
            Field::CatalogVersion => "/catalog_version".into(),
        },
        detail: e.message.clone(),
    }
}

impl From<keuze_app::record::RecordError> for ApiError {
    fn from(e: keuze_app::record::RecordError) -> Self {
        use keuze_app::record::RecordError;
        match e {
            RecordError::Invalid(errors) => {
                ApiError::Validation(errors.iter().map(field_error).collect())
            }
            RecordError::StaleNotice {
                requested,
                current,
                purposes,
            } => ApiError::StaleCatalogVersion {
                requested,
                current,
                purposes: purposes.iter().map(ToString::to_string).collect(),
            },
            RecordError::Store(e) => ApiError::Store(e),
        }
    }
}
