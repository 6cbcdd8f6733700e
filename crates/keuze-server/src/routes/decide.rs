//! Decisions over HTTP: one question, or a batch of up to 10,000. Answered from the
//! in-memory index, which reflects every acknowledged write.

use crate::auth::{Authorized, DecideScope};
use crate::json::{self, JsonBytes};
use crate::problem::{ApiError, FieldError};
use crate::wire::SubjectRef;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use keuze_app::AppState;
use keuze_core::index::Question;
use keuze_core::{CategoryId, Reason, SubjectId};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use utoipa::ToSchema;

/// The most questions one batch may ask.
pub const MAX_BATCH: usize = 10_000;

/// A question. Its texts borrow from the request body where JSON allows (no escapes),
/// so a batch of thousands allocates no string per purpose or category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest<'a> {
    pub subject: SubjectRef,
    #[serde(borrow)]
    #[schema(value_type = String)]
    pub purpose: Cow<'a, str>,
    /// The data categories you intend to use; any not declared for the purpose denies.
    #[serde(default, borrow)]
    #[schema(value_type = Vec<String>)]
    pub categories: Vec<Text<'a>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest<'a> {
    #[serde(borrow)]
    pub items: Vec<DecideRequest<'a>>,
}

/// A string in a request body, borrowed unless it has escapes.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Text<'a>(#[serde(borrow)] pub Cow<'a, str>);

/// A decision as the API shows it; borrows the question it answers, so answering a batch
/// copies no strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView<'a> {
    /// The subject's pseudonym.
    #[schema(value_type = String)]
    pub subject: Pseudonym,
    pub purpose: &'a str,
    pub allowed: bool,
    pub reason: Reason,
    /// Ledger sequence number of the event this decision rests on.
    pub event: Option<u64>,
    /// With `category_not_declared`: the categories the purpose does not declare.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub undeclared: Vec<CategoryId>,
    pub catalog_version: u32,
}

/// A pseudonym written as 64 hex digits straight into the response, without a `String`.
#[derive(Debug, Clone, Copy)]
pub struct Pseudonym(pub SubjectId);

impl Serialize for Pseudonym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 64];
        hex::encode_to_slice(self.0.as_bytes(), &mut buf).map_err(serde::ser::Error::custom)?;
        s.serialize_str(std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse<'a> {
    /// One decision per item, in request order.
    pub decisions: Vec<DecisionView<'a>>,
}

/// Parses one item's categories; `at` (the item's JSON Pointer) is only built for errors.
fn parse_categories(
    cats: &[Text<'_>],
    at: impl Fn() -> String,
    errors: &mut Vec<FieldError>,
) -> Vec<CategoryId> {
    cats.iter()
        .enumerate()
        .filter_map(|(i, c)| {
            CategoryId::parse(&c.0)
                .map_err(|e| {
                    errors.push(FieldError {
                        pointer: format!("{}/categories/{i}", at()),
                        detail: e.to_string(),
                    })
                })
                .ok()
        })
        .collect()
}

fn answer<'a>(
    state: &AppState,
    items: &'a [DecideRequest<'a>],
    prefix: impl Fn(usize) -> String,
) -> Result<Vec<DecisionView<'a>>, ApiError> {
    let mut errors = Vec::new();
    let parsed: Vec<_> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let subject = item
                .subject
                .resolve(state, "")
                .map_err(|mut e| {
                    e.pointer = format!("{}/subject{}", prefix(i), e.pointer);
                    errors.push(e);
                })
                .ok();
            let categories = parse_categories(&item.categories, || prefix(i), &mut errors);
            Some((subject?, item.purpose.as_ref(), categories))
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let history = state.catalog();
    let version = history.current().number;
    let now = state.now();
    // Counted per reason once per request: the metrics registry is not free per call.
    let mut tally: Vec<(Reason, u64)> = Vec::new();
    let views = {
        let index = state
            .index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // All questions in one call: the index overlaps their memory lookups.
        let questions: Vec<Question<'_>> = parsed
            .iter()
            .map(|(subject, purpose, categories)| Question {
                subject,
                purpose,
                categories,
            })
            .collect();
        let decisions = index.decide_many(&history, &questions, now);
        drop(questions);
        parsed
            .into_iter()
            .zip(decisions)
            .map(|((subject, purpose, _), d)| {
                match tally.iter_mut().find(|(r, _)| *r == d.reason) {
                    Some((_, n)) => *n += 1,
                    None => tally.push((d.reason, 1)),
                }
                DecisionView {
                    subject: Pseudonym(subject),
                    purpose,
                    allowed: d.allowed,
                    reason: d.reason,
                    event: d.event,
                    undeclared: d.undeclared,
                    catalog_version: version,
                }
            })
            .collect()
    };
    for (reason, n) in tally {
        metrics::counter!("keuze_decisions_total", "reason" => reason.as_str()).increment(n);
    }
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
    JsonBytes(body): JsonBytes,
) -> Result<Response, ApiError> {
    let req: DecideRequest<'_> = json::parse(&body)?;
    let mut views = answer(&state, std::slice::from_ref(&req), |_| String::new())?;
    views
        .pop()
        .map(|view| Json(view).into_response())
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
    JsonBytes(body): JsonBytes,
) -> Result<Response, ApiError> {
    let req: BatchRequest<'_> = json::parse(&body)?;
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
    Ok(Json(BatchResponse { decisions }).into_response())
}
