//! Asking once: the *prompt* is what a customer must be asked now (never asked, asked
//! again after a material change, or expired), empty most of the time; the *changes*
//! are what changed since they last agreed, in their own language.

use crate::auth::{Authorized, DecideScope};
use crate::json::{JsonBody, QueryParams};
use crate::notice::{changes_for, prompt_for, Changes, Prompt};
use crate::problem::ApiError;
use crate::wire::{parse_pseudonym, SubjectRef};
use axum::extract::{Path, State};
use axum::Json;
use keuze_app::AppState;
use keuze_core::Locale;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The language a request names at `pointer` (`en` when it names none).
fn locale_of(raw: Option<&str>, pointer: &str) -> Result<Locale, ApiError> {
    crate::wire::locale_of(raw, pointer).map_err(|e| ApiError::Validation(vec![e]))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptRequest {
    pub subject: SubjectRef,
    /// The customer's language; default `en`.
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LangParam {
    /// The customer's language, `en` (default) or `nl`.
    pub lang: Option<String>,
}

/// What to ask this customer now; `ask` is empty when there is nothing to ask.
#[utoipa::path(
    post,
    path = "/v1/subjects/prompt",
    tag = "subjects",
    request_body = PromptRequest,
    responses((status = 200, body = Prompt), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)),
    security(("api_key" = ["decide"]))
)]
pub async fn prompt_by_body(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(req): JsonBody<PromptRequest>,
) -> Result<Json<Prompt>, ApiError> {
    let subject = req.subject.resolve_in_body(&state)?;
    let locale = locale_of(req.locale.as_deref(), "/locale")?;
    Ok(Json(prompt_for(&state, subject, &locale)))
}

/// What to ask this customer now, by pseudonym.
#[utoipa::path(
    get,
    path = "/v1/subjects/{pseudonym}/prompt",
    tag = "subjects",
    params(("pseudonym" = String, Path, description = "64 hex digits"), LangParam),
    responses((status = 200, body = Prompt), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)),
    security(("api_key" = ["decide"]))
)]
pub async fn prompt_by_pseudonym(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    Path(p): Path<String>,
    QueryParams(q): QueryParams<LangParam>,
) -> Result<Json<Prompt>, ApiError> {
    let locale = locale_of(q.lang.as_deref(), "/lang")?;
    Ok(Json(prompt_for(&state, parse_pseudonym(&p)?, &locale)))
}

/// What changed since this customer last agreed, per purpose, in plain language.
#[utoipa::path(
    post,
    path = "/v1/subjects/changes",
    tag = "subjects",
    request_body = PromptRequest,
    responses((status = 200, body = Changes), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem), (status = 422, body = crate::problem::Problem)),
    security(("api_key" = ["decide"]))
)]
pub async fn changes_by_body(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(req): JsonBody<PromptRequest>,
) -> Result<Json<Changes>, ApiError> {
    let subject = req.subject.resolve_in_body(&state)?;
    let locale = locale_of(req.locale.as_deref(), "/locale")?;
    Ok(Json(changes_for(&state, subject, &locale)))
}

/// What changed since this customer last agreed, by pseudonym.
#[utoipa::path(
    get,
    path = "/v1/subjects/{pseudonym}/changes",
    tag = "subjects",
    params(("pseudonym" = String, Path, description = "64 hex digits"), LangParam),
    responses((status = 200, body = Changes), (status = 401, body = crate::problem::Problem), (status = 403, body = crate::problem::Problem), (status = 404, body = crate::problem::Problem)),
    security(("api_key" = ["decide"]))
)]
pub async fn changes_by_pseudonym(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    Path(p): Path<String>,
    QueryParams(q): QueryParams<LangParam>,
) -> Result<Json<Changes>, ApiError> {
    let locale = locale_of(q.lang.as_deref(), "/lang")?;
    Ok(Json(changes_for(&state, parse_pseudonym(&p)?, &locale)))
}
