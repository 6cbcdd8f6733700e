//! Recording choices: several purposes in one atomic request, "accept all" and "reject
//! all" as one event per purpose, withdrawal through the same endpoint as a grant.

use crate::auth::{Authorized, RecordScope};
use crate::json::JsonBody;
use crate::problem::{ApiError, FieldError};
use crate::wire::{
    answer_of, locale_of, AllInput, ChoiceInput, EventView, SourceInput, SubjectRef,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keuze_app::record::RecordChoices;
use keuze_app::AppState;
use keuze_core::Source;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    pub subject: SubjectRef,
    /// One choice per purpose. Give this or `all`.
    #[serde(default)]
    pub choices: Option<Vec<ChoiceInput>>,
    /// `accept` or `reject` every purpose the customer can switch, one event each.
    #[serde(default)]
    pub all: Option<AllInput>,
    /// Where the choice was made; default `api`.
    #[serde(default)]
    pub source: Option<SourceInput>,
    /// The locale of the notice the customer read; default `en`.
    #[serde(default)]
    pub locale: Option<String>,
    /// The catalog version whose notice the customer read; default the current one.
    #[serde(default)]
    pub catalog_version: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordResponse {
    /// The subject's pseudonym.
    pub subject: String,
    pub catalog_version: u32,
    /// The events written, one per purpose, in request order.
    pub events: Vec<EventView>,
}

/// Record a customer's choices.
#[utoipa::path(
    post,
    path = "/v1/consents",
    tag = "consents",
    request_body = RecordRequest,
    responses(
        (status = 201, description = "Durably recorded", body = RecordResponse),
        (status = 400, description = "Malformed JSON", body = crate::problem::Problem),
        (status = 401, description = "No valid API key", body = crate::problem::Problem),
        (status = 403, description = "The key lacks the `record` scope", body = crate::problem::Problem),
        (status = 409, description = "The notice shown is not the current version", body = crate::problem::Problem),
        (status = 413, description = "Body too large", body = crate::problem::Problem),
        (status = 422, description = "Invalid request; nothing was written", body = crate::problem::Problem),
    ),
    security(("api_key" = ["record"]))
)]
pub async fn record(
    State(state): State<AppState>,
    _auth: Authorized<RecordScope>,
    JsonBody(req): JsonBody<RecordRequest>,
) -> Result<(StatusCode, Json<RecordResponse>), ApiError> {
    let cmd = command(&state, &req)?;
    let subject = cmd.subject;
    let events = state.record(cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(RecordResponse {
            subject: subject.to_hex(),
            catalog_version: state.catalog().current().number,
            events: events.iter().map(EventView::from).collect(),
        }),
    ))
}

/// The command a request asks for. Every problem is reported at once: the request's
/// own (subject, locale, shape) and the application's (choices, version).
fn command(state: &AppState, req: &RecordRequest) -> Result<RecordChoices, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let subject = req
        .subject
        .resolve(state, "/subject")
        .map_err(|e| errors.push(e))
        .ok();
    let locale = locale_of(req.locale.as_deref(), "/locale")
        .map_err(|e| errors.push(e))
        .ok();
    let answer = answer_of(req.choices.as_deref(), req.all)
        .map_err(|e| errors.push(e))
        .ok();
    match (subject, locale, answer) {
        (Some(subject), Some(locale), Some(answer)) if errors.is_empty() => Ok(RecordChoices {
            subject,
            locale,
            source: req.source.map_or(Source::Api, Source::from),
            shown: req.catalog_version,
            answer,
        }),
        (_, _, answer) => {
            errors.extend(
                state
                    .check_answer(answer.as_ref(), req.catalog_version)
                    .iter()
                    .map(crate::problem::field_error),
            );
            Err(ApiError::Validation(errors))
        }
    }
}
