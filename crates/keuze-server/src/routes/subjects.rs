//! A subject's current state and history, and anonymous device ids. Raw identifiers go
//! in request bodies only; URLs carry pseudonyms.

use super::{parse_pseudonym, EventView, SubjectRef};
use crate::auth::{AuditScope, Authorized, DecideScope, RecordScope};
use crate::json::JsonBody;
use crate::problem::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use keuze_app::AppState;
use keuze_core::{Reason, SubjectId, SubjectKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectQuery {
    pub subject: SubjectRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectState {
    pub subject: String,
    pub catalog_version: u32,
    /// Every purpose of the current catalog, in catalog order.
    pub purposes: Vec<PurposeState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeState {
    pub purpose: String,
    pub legal_basis: String,
    /// Whether the customer can switch this purpose.
    pub switchable: bool,
    pub allowed: bool,
    pub reason: Reason,
    /// The event this status rests on.
    pub event: Option<u64>,
    /// The customer's last action for this purpose, if any.
    pub last_action: Option<String>,
    /// When that action was recorded, RFC 3339.
    pub updated_at: Option<String>,
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

pub(crate) fn state_of(state: &AppState, subject: SubjectId) -> SubjectState {
    let history = state.catalog();
    let current = history.current();
    let now = state.now();
    let index = state
        .index()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let purposes = current
        .catalog
        .purposes
        .iter()
        .map(|p| {
            let last = index.last(&subject, p.id.as_str());
            let d = index.decide(&history, &subject, p.id.as_str(), &[], now);
            PurposeState {
                purpose: p.id.to_string(),
                legal_basis: p.legal_basis.to_string(),
                switchable: p.legal_basis.is_switchable(),
                allowed: d.allowed,
                reason: d.reason,
                event: d.event,
                last_action: last.map(|l| l.action.to_string()),
                updated_at: last.map(|l| l.recorded_at.to_rfc3339()),
            }
        })
        .collect();
    SubjectState {
        subject: subject.to_hex(),
        catalog_version: current.number,
        purposes,
    }
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
    let events = state.store().history(&subject).await?;
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
    let device_id = SubjectKey::new_device_id(state.random_bytes());
    let subject = state
        .pseudonymizer()
        .pseudonym(&SubjectKey::Device(device_id.clone()));
    (
        StatusCode::CREATED,
        Json(DeviceId {
            device_id,
            subject: subject.to_hex(),
        }),
    )
}
