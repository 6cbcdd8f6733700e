//! Recording choices: several purposes in one atomic request, "accept all" and "reject
//! all" as one event per purpose, withdrawal through the same endpoint as a grant.

use super::{EventView, SubjectRef};
use crate::auth::{Authorized, RecordScope};
use crate::json::JsonBody;
use crate::problem::{ApiError, FieldError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use keuze_app::AppState;
use keuze_core::choice::{all_choices, events_for, resolve_choices, AllAnswer, RequestedChoice};
use keuze_core::{Action, Locale, PurposeId, Source};
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceInput {
    pub purpose: String,
    pub action: ActionInput,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionInput {
    Grant,
    Withdraw,
    Object,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllInput {
    Accept,
    Reject,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceInput {
    PreferenceCenter,
    Banner,
    Api,
    Gpc,
    Import,
    System,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordResponse {
    /// The subject's pseudonym.
    pub subject: String,
    pub catalog_version: u32,
    /// The events written, one per purpose, in request order.
    pub events: Vec<EventView>,
}

impl From<ActionInput> for Action {
    fn from(a: ActionInput) -> Self {
        match a {
            ActionInput::Grant => Action::Grant,
            ActionInput::Withdraw => Action::Withdraw,
            ActionInput::Object => Action::Object,
        }
    }
}

impl From<SourceInput> for Source {
    fn from(s: SourceInput) -> Self {
        match s {
            SourceInput::PreferenceCenter => Source::PreferenceCenter,
            SourceInput::Banner => Source::Banner,
            SourceInput::Api => Source::Api,
            SourceInput::Gpc => Source::Gpc,
            SourceInput::Import => Source::Import,
            SourceInput::System => Source::System,
        }
    }
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
    let recorded = record_request(&state, req, |_, _| true).await?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

/// Checks a request and records it: the one path every recorded choice takes (the API,
/// the banner). `keep` may drop planned choices before anything is checked against the
/// notice shown, e.g. the banner's "accept all" leaves purposes refused by GPC alone.
pub(crate) async fn record_request(
    state: &AppState,
    req: RecordRequest,
    keep: impl Fn(&PurposeId, Action) -> bool,
) -> Result<RecordResponse, ApiError> {
    let (subject, events) = plan_request(state, &req, keep)?;
    let committed = state.writer().append(events).await?;
    metrics::counter!("keuze_consent_events_total").increment(committed.len() as u64);
    Ok(RecordResponse {
        subject: subject.to_hex(),
        catalog_version: state.catalog().current().number,
        events: committed.iter().map(EventView::from).collect(),
    })
}

/// Checks a request and gives the events it would record, writing nothing: every
/// refusal `record_request` can make before it writes.
pub(crate) fn plan_request(
    state: &AppState,
    req: &RecordRequest,
    keep: impl Fn(&PurposeId, Action) -> bool,
) -> Result<(keuze_core::SubjectId, Vec<keuze_core::NewEvent>), ApiError> {
    let history = state.catalog();
    let current = history.current();
    let mut errors: Vec<FieldError> = Vec::new();
    let subject = req
        .subject
        .resolve(state, "/subject")
        .map_err(|e| errors.push(e))
        .ok();
    let locale = match req.locale.as_deref() {
        None => Some(Locale::en()),
        Some(l) => Locale::parse(l)
            .map_err(|e| {
                errors.push(FieldError {
                    pointer: "/locale".into(),
                    detail: e.to_string(),
                })
            })
            .ok(),
    };
    let planned = match (&req.choices, req.all) {
        (Some(choices), None) => {
            let requested: Vec<RequestedChoice> = choices
                .iter()
                .map(|c| RequestedChoice {
                    purpose: c.purpose.clone(),
                    action: c.action.into(),
                })
                .collect();
            resolve_choices(&current.catalog, &requested)
                .map_err(|errs| {
                    errors.extend(errs.into_iter().map(|e| FieldError {
                        pointer: match e.index {
                            Some(i) => format!("/choices/{i}/{}", e.field),
                            None => "/choices".into(),
                        },
                        detail: e.message,
                    }))
                })
                .ok()
        }
        (None, Some(all)) => Some(all_choices(
            &current.catalog,
            match all {
                AllInput::Accept => AllAnswer::Accept,
                AllInput::Reject => AllAnswer::Reject,
            },
        )),
        _ => {
            errors.push(FieldError {
                pointer: "".into(),
                detail: "give either `choices` (one per purpose) or `all` (`accept` or `reject`), not both and not neither".into(),
            });
            None
        }
    };
    let shown = match req.catalog_version {
        None => Some(current),
        Some(v) => {
            let found = history.version(v);
            if found.is_none() {
                errors.push(FieldError {
                    pointer: "/catalog_version".into(),
                    detail: format!(
                        "there is no catalog version {v}; the current version is {}",
                        current.number
                    ),
                });
            }
            found
        }
    };
    let (Some(subject), Some(locale), Some(planned), Some(shown), true) =
        (subject, locale, planned, shown, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    let planned: Vec<(PurposeId, Action)> = planned
        .into_iter()
        .filter(|(p, action)| keep(p, *action))
        .collect();
    let source = req.source.map_or(Source::Api, Source::from);
    let events = events_for(
        &history,
        shown,
        subject,
        &locale,
        source,
        planned,
        state.now(),
    )
    .map_err(|stale| ApiError::StaleCatalogVersion {
        requested: shown.number,
        current: current.number,
        purposes: stale.purposes.iter().map(ToString::to_string).collect(),
    })?;
    Ok((subject, events))
}
