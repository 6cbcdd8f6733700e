//! A subject's current state and history, and anonymous device ids. Raw identifiers go
//! in request bodies only; URLs carry pseudonyms.

use crate::auth::{AuditScope, Authorized, DecideScope, RecordScope};
use crate::json::JsonBody;
use crate::problem::ApiError;
use crate::wire::{parse_pseudonym, state_of, EventView, SubjectRef, SubjectState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use keuze_app::AppState;
use keuze_core::SubjectId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectQuery {
    pub subject: SubjectRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub subject: String,
    /// Oldest first.
    pub events: Vec<EventView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceId {
    /// Keep this on the device (e.g. in a first-party cookie); send it as `subject.device_id`.
    pub device_id: String,
    pub subject: String,
}

/// A subject's current status for every purpose, named in the body.
#[utoipa::path(
    post,
    path = "/v1/subjects/state",
    tag = "subjects",
    request_body = SubjectQuery,
    responses(
        (status = 200, body = SubjectState),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn state_by_body(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(q): JsonBody<SubjectQuery>,
) -> Result<Json<SubjectState>, ApiError> {
    let subject = q.subject.resolve_in_body(&state)?;
    Ok(Json(state_of(&state, subject)))
}

/// A subject's current status for every purpose, by pseudonym.
#[utoipa::path(
    get,
    path = "/v1/subjects/{pseudonym}/state",
    tag = "subjects",
    params(("pseudonym" = String, Path, description = "64 hex digits")),
    responses(
        (status = 200, body = SubjectState),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn state_by_pseudonym(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    Path(pseudonym): Path<String>,
) -> Result<Json<SubjectState>, ApiError> {
    let subject = parse_pseudonym(&pseudonym)?;
    Ok(Json(state_of(&state, subject)))
}

async fn history_of(state: &AppState, subject: SubjectId) -> Result<History, ApiError> {
    let events = state.subject_history(&subject).await?;
    Ok(History {
        subject: subject.to_hex(),
        events: events.iter().map(EventView::from).collect(),
    })
}

/// A subject's every choice, oldest first, named in the body.
#[utoipa::path(
    post,
    path = "/v1/subjects/history",
    tag = "subjects",
    request_body = SubjectQuery,
    responses(
        (status = 200, body = History),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["audit"]))
)]
pub async fn history_by_body(
    State(state): State<AppState>,
    _auth: Authorized<AuditScope>,
    JsonBody(q): JsonBody<SubjectQuery>,
) -> Result<Json<History>, ApiError> {
    let subject = q.subject.resolve_in_body(&state)?;
    Ok(Json(history_of(&state, subject).await?))
}

/// A subject's every choice, oldest first, by pseudonym.
#[utoipa::path(
    get,
    path = "/v1/subjects/{pseudonym}/history",
    tag = "subjects",
    params(("pseudonym" = String, Path, description = "64 hex digits")),
    responses(
        (status = 200, body = History),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
    ),
    security(("api_key" = ["audit"]))
)]
pub async fn history_by_pseudonym(
    State(state): State<AppState>,
    _auth: Authorized<AuditScope>,
    Path(pseudonym): Path<String>,
) -> Result<Json<History>, ApiError> {
    let subject = parse_pseudonym(&pseudonym)?;
    Ok(Json(history_of(&state, subject).await?))
}

/// Issue an anonymous device id for a visitor who is not logged in.
#[utoipa::path(
    post,
    path = "/v1/subjects/device",
    tag = "subjects",
    responses(
        (status = 201, body = DeviceId),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
    ),
    security(("api_key" = ["record"]))
)]
pub async fn issue_device_id(
    State(state): State<AppState>,
    _auth: Authorized<RecordScope>,
) -> (StatusCode, Json<DeviceId>) {
    let device = state.new_device();
    (
        StatusCode::CREATED,
        Json(DeviceId {
            device_id: device.id,
            subject: device.subject.to_hex(),
        }),
    )
}
