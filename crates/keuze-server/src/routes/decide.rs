//! Decisions over HTTP: one question, or a batch of up to 10,000. Answered from the
//! in-memory index, which reflects every acknowledged write.

use super::SubjectRef;
use crate::auth::{Authorized, DecideScope};
use crate::json::JsonBody;
use crate::problem::{ApiError, FieldError};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use keuze_core::{CategoryId, Reason};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most questions one batch may ask.
pub const MAX_BATCH: usize = 10_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    pub subject: SubjectRef,
    pub purpose: String,
    /// The data categories you intend to use; any not declared for the purpose denies.
    #[serde(default)]
    pub categories: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub items: Vec<DecideRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub subject: String,
    pub purpose: String,
    pub allowed: bool,
    pub reason: Reason,
    /// Ledger sequence number of the event this decision rests on.
    pub event: Option<u64>,
    /// With `category_not_declared`: the categories the purpose does not declare.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undeclared: Vec<String>,
    pub catalog_version: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One decision per item, in request order.
    pub decisions: Vec<DecisionView>,
}

fn parse_categories(cats: &[String], at: &str, errors: &mut Vec<FieldError>) -> Vec<CategoryId> {
    cats.iter()
        .enumerate()
        .filter_map(|(i, c)| {
            CategoryId::parse(c)
                .map_err(|e| {
                    errors.push(FieldError {
                        pointer: format!("{at}/categories/{i}"),
                        detail: e.to_string(),
                    })
                })
                .ok()
        })
        .collect()
}

fn answer(
    state: &AppState,
    items: &[DecideRequest],
    prefix: impl Fn(usize) -> String,
) -> Result<Vec<DecisionView>, ApiError> {
    let mut errors = Vec::new();
    let parsed: Vec<_> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let at = prefix(i);
            let subject = item
                .subject
                .resolve(state, &format!("{at}/subject"))
                .map_err(|e| errors.push(e))
                .ok();
            let categories = parse_categories(&item.categories, &at, &mut errors);
            Some((subject?, item.purpose.as_str(), categories))
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let history = state.catalog();
    let version = history.current().number;
    let now = state.now();
    let index = state
        .index()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let views = parsed
        .into_iter()
        .map(|(subject, purpose, categories)| {
            let d = index.decide(&history, &subject, purpose, &categories, now);
            metrics::counter!("keuze_decisions_total", "reason" => d.reason.as_str()).increment(1);
            DecisionView {
                subject: subject.to_hex(),
                purpose: purpose.to_owned(),
                allowed: d.allowed,
                reason: d.reason,
                event: d.event,
                undeclared: d.undeclared.iter().map(ToString::to_string).collect(),
                catalog_version: version,
            }
        })
        .collect();
    Ok(views)
}

/// May data of these categories of this subject be used for this purpose now?
#[utoipa::path(
    post,
    path = "/v1/decide",
    tag = "decisions",
    request_body = DecideRequest,
    responses(
        (status = 200, body = DecisionView),
        (status = 400, body = crate::problem::Problem),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn decide_one(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(req): JsonBody<DecideRequest>,
) -> Result<Json<DecisionView>, ApiError> {
    let mut views = answer(&state, std::slice::from_ref(&req), |_| String::new())?;
    views
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::field("", "no decision could be made"))
}

/// Up to 10,000 decisions in one request, answered in order.
#[utoipa::path(
    post,
    path = "/v1/decide/batch",
    tag = "decisions",
    request_body = BatchRequest,
    responses(
        (status = 200, body = BatchResponse),
        (status = 400, body = crate::problem::Problem),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 413, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["decide"]))
)]
pub async fn decide_batch(
    State(state): State<AppState>,
    _auth: Authorized<DecideScope>,
    JsonBody(req): JsonBody<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    if req.items.len() > MAX_BATCH {
        return Err(ApiError::field(
            "/items",
            format!(
                "{} items; a batch takes at most {MAX_BATCH}: split it",
                req.items.len()
            ),
        ));
    }
    let decisions = answer(&state, &req.items, |i| format!("/items/{i}"))?;
    Ok(Json(BatchResponse { decisions }))
}
