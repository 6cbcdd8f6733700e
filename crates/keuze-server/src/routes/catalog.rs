//! The catalog in force, as published (public: transparency needs no account), and
//! publishing a new version (admin).

use crate::auth::{AdminScope, Authorized};
use crate::problem::{ApiError, FieldError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use keuze_app::catalogs::{self, PublishError, Published};
use keuze_app::AppState;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogView {
    pub version: u32,
    /// `sha256:` and the hex digest of the catalog's canonical form.
    pub digest: String,
    /// Organisation, purposes (with texts in every locale) and the catalog's own categories.
    #[schema(value_type = Object)]
    pub catalog: serde_json::Value,
}

/// The catalog version in force.
#[utoipa::path(
    get,
    path = "/v1/catalog",
    tag = "catalog",
    responses((status = 200, body = CatalogView))
)]
pub async fn current(State(state): State<AppState>) -> Json<CatalogView> {
    let history = state.catalog();
    let current = history.current();
    Json(CatalogView {
        version: current.number,
        digest: current.digest.to_string(),
        catalog: serde_json::to_value(&current.catalog).unwrap_or_default(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishResult {
    pub version: u32,
    pub digest: String,
    /// True when the catalog was identical to the version in force: nothing was stored.
    pub unchanged: bool,
    /// Purposes whose consents are no longer relied on: customers are asked again.
    pub materially_changed: Vec<String>,
    /// The changes against the previous version, each with its materiality and rule.
    #[schema(value_type = Object)]
    pub diff: Option<serde_json::Value>,
}

/// Publish a catalog version. The body is the catalog's TOML.
#[utoipa::path(
    post,
    path = "/v1/catalog/versions",
    tag = "catalog",
    request_body(content = String, content_type = "application/toml", description = "The catalog, as TOML"),
    responses(
        (status = 201, description = "Published as a new version", body = PublishResult),
        (status = 200, description = "Identical to the version in force; nothing stored", body = PublishResult),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 413, body = crate::problem::Problem),
        (status = 415, body = crate::problem::Problem),
        (status = 422, description = "The catalog has errors; nothing stored", body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn publish(
    State(state): State<AppState>,
    auth: Authorized<AdminScope>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PublishResult>), ApiError> {
    let toml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| matches!(m.trim(), "application/toml" | "text/plain" | "text/x-toml"));
    if !toml {
        return Err(ApiError::UnsupportedMediaTypeFor("application/toml"));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(crate::BODY_LIMIT)
        } else {
            ApiError::field("", format!("could not read the body: {e}"))
        }
    })?;
    let source = std::str::from_utf8(&body)
        .map_err(|e| ApiError::field("", format!("the catalog is not UTF-8 text: {e}")))?;
    let history = state.catalog();
    let outcome = catalogs::publish(
        &**state.store(),
        Some(history.current()),
        "catalog.toml",
        source,
        state.vendor_list().map(|gvl| &**gvl),
        &auth.attribution(state.now()),
    )
    .await
    .map_err(|e| match e {
        PublishError::Invalid(report) => ApiError::Validation(
            report
                .errors()
                .map(|d| {
                    let (line, col) = report.line_column(d);
                    FieldError {
                        pointer: String::new(),
                        detail: match &d.help {
                            Some(h) => format!("catalog.toml:{line}:{col}: {}; {h}", d.message),
                            None => format!("catalog.toml:{line}:{col}: {}", d.message),
                        },
                    }
                })
                .collect(),
        ),
        PublishError::BrokenPromise(e) => ApiError::field("", e.to_string()),
        PublishError::Store(e) => ApiError::Store(e),
    })?;
    match outcome {
        Published::Unchanged { number } => Ok((
            StatusCode::OK,
            Json(PublishResult {
                version: number,
                digest: history.current().digest.to_string(),
                unchanged: true,
                materially_changed: Vec::new(),
                diff: None,
            }),
        )),
        Published::New { version, diff } => {
            let result = PublishResult {
                version: version.number,
                digest: version.digest.to_string(),
                unchanged: false,
                materially_changed: diff
                    .iter()
                    .flat_map(|d| d.materially_changed().map(ToString::to_string))
                    .collect(),
                diff: diff
                    .as_ref()
                    .and_then(|d| serde_json::to_value(keuze_words::changes::DiffJson(d)).ok()),
            };
            state
                .adopt(vec![*version])
                .map_err(|e| ApiError::field("", e.to_string()))?;
            Ok((StatusCode::CREATED, Json(result)))
        }
    }
}
