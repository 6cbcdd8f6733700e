//! Webhook administration (scope `admin`): create, list, delete, read dead letters,
//! replay from a ledger seq. Delivery itself is [`keuze_app::propagate`]'s.

use crate::auth::{AdminScope, Authorized};
use crate::json::JsonBody;
use crate::problem::{ApiError, FieldError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use keuze_app::propagate::{PropagationError, Propagator, WebhookStatus};
use keuze_app::AppState;
use keuze_core::admin::NewAdminEntry;
use keuze_core::PurposeId;
use keuze_store::{DeadLetter, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

const MAX_URL_LEN: usize = 2048;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed: an `http://` or `https://` URL.
    pub url: String,
    /// Only events of these purposes are sent; absent or empty: every purpose.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Start with the ledger event of this seq (and send everything after it); absent:
    /// from the next event recorded.
    pub from_seq: Option<u64>,
}

/// A webhook; `secret` only in the answer to its creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    /// Empty: every purpose.
    pub purposes: Vec<String>,
    pub created_at: String,
    /// The last ledger seq delivered or dead-lettered.
    pub delivered_seq: u64,
    /// Ledger events not yet handled: the ledger's last seq minus `delivered_seq`.
    pub lag: u64,
    /// The signing secret (`whsec_…`). Shown once, when the webhook is created: keep it
    /// to verify the `Keuze-Signature` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn new(status: WebhookStatus, head: u64) -> Self {
        Self {
            id: status.webhook.id,
            url: status.webhook.url,
            purposes: status
                .webhook
                .purposes
                .iter()
                .map(ToString::to_string)
                .collect(),
            created_at: status.webhook.created_at.to_rfc3339(),
            delivered_seq: status.delivered,
            lag: head.saturating_sub(status.delivered),
            secret: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterView {
    pub seq: u64,
    pub attempts: u32,
    /// What the last attempt got.
    pub error: String,
    pub failed_at: String,
}

impl From<DeadLetter> for DeadLetterView {
    fn from(d: DeadLetter) -> Self {
        Self {
            seq: d.seq,
            attempts: d.attempts,
            error: d.error,
            failed_at: d.failed_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub webhook: String,
    pub dead_letters: Vec<DeadLetterView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Deliver the ledger again from this seq on (1 = everything).
    pub from_seq: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replaying {
    pub webhook: String,
    pub from_seq: u64,
}

fn propagator(state: &AppState) -> Result<&Arc<Propagator>, ApiError> {
    state.propagator().ok_or_else(|| {
        ApiError::Store(StoreError::Unavailable(
            "propagation is not running: this server's store keeps no outbox".into(),
        ))
    })
}

impl From<PropagationError> for ApiError {
    fn from(e: PropagationError) -> Self {
        match e {
            PropagationError::UnknownWebhook(id) => ApiError::NotFound(format!(
                "there is no webhook `{id}`; GET /v1/webhooks lists them"
            )),
            PropagationError::Store(e) => ApiError::Store(e),
        }
    }
}

/// Checks `from_seq` against the ledger: 1 up to the next seq to be written.
fn check_from_seq(from: u64, head: u64, pointer: &str) -> Result<(), FieldError> {
    if from == 0 || from > head.saturating_add(1) {
        return Err(FieldError {
            pointer: pointer.into(),
            detail: format!(
                "must be a ledger seq from 1 to {} (the ledger's last seq is {head})",
                head.saturating_add(1)
            ),
        });
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), FieldError> {
    let err = |detail: &str| FieldError {
        pointer: "/url".into(),
        detail: detail.into(),
    };
    if url.len() > MAX_URL_LEN {
        return Err(err("must be at most 2048 characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        err(&format!(
            "is not a URL ({e}); give e.g. https://crm.example/keuze"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(err(
            "must be an http:// or https:// URL with a host, e.g. https://crm.example/keuze",
        ));
    }
    Ok(())
}

/// Create a webhook. The answer holds its signing secret, shown only this once.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    tag = "webhooks",
    request_body = NewWebhook,
    responses(
        (status = 201, body = WebhookView),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Authorized<AdminScope>,
    JsonBody(req): JsonBody<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let propagator = propagator(&state)?;
    let head = propagator.head();
    let mut errors = Vec::new();
    if let Err(e) = check_url(&req.url) {
        errors.push(e);
    }
    let catalog = state.catalog();
    let mut purposes = Vec::new();
    for (i, p) in req.purposes.iter().enumerate() {
        let pointer = format!("/purposes/{i}");
        match PurposeId::parse(p) {
            Ok(id)
                if catalog
                    .current()
                    .catalog
                    .purposes
                    .iter()
                    .any(|d| d.id == id) =>
            {
                purposes.push(id)
            }
            Ok(_) => errors.push(FieldError {
                pointer,
                detail: format!(
                    "`{p}` is not a purpose of the catalog in force; GET /v1/catalog lists them"
                ),
            }),
            Err(e) => errors.push(FieldError {
                pointer,
                detail: e.to_string(),
            }),
        }
    }
    if let Some(from) = req.from_seq {
        if let Err(e) = check_from_seq(from, head, "/from_seq") {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // Only the origin goes into the audit trail: a URL's path and query may hold a token.
    let origin = reqwest::Url::parse(&req.url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let webhook = propagator
        .create_webhook(req.url, purposes, req.from_seq)
        .await?;
    let audit =
        NewAdminEntry::webhook_created(&auth.attribution(state.now()), &webhook.id, &origin)
            .map_err(|e| {
                ApiError::field(
                    "/url",
                    format!("its origin `{origin}` cannot be recorded: {e}"),
                )
            });
    let recorded = match audit {
        Ok(entry) => state.record_admin(entry).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = recorded {
        // Not created unless audited: take it back, so the answer is the whole truth.
        if let Err(undo) = propagator.delete_webhook(&webhook.id).await {
            tracing::error!(webhook = %webhook.id, error = %undo, "a webhook whose creation could not be audited could not be deleted again");
        }
        return Err(e);
    }
    let secret = webhook.secret.clone();
    let delivered = req.from_seq.map_or(head, |s| s.saturating_sub(1));
    let mut view = WebhookView::new(WebhookStatus { webhook, delivered }, head);
    view.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// Every webhook with how far its delivery is.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "webhooks",
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn list(
    State(state): State<AppState>,
    _auth: Authorized<AdminScope>,
) -> Result<Json<WebhookList>, ApiError> {
    let propagator = propagator(&state)?;
    let head = propagator.head();
    let webhooks = propagator
        .webhooks()
        .await?
        .into_iter()
        .map(|s| WebhookView::new(s, head))
        .collect();
    Ok(Json(WebhookList { webhooks }))
}

/// Delete a webhook: delivery stops, its dead letters go with it.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: Authorized<AdminScope>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let propagator = propagator(&state)?;
    let exists = propagator
        .webhooks()
        .await?
        .iter()
        .any(|s| s.webhook.id == id);
    if exists {
        // Recorded before it is done: should the deletion then fail, the trail says it
        // was attempted, and a retry records it again; it never misses one that happened.
        let entry = NewAdminEntry::webhook_deleted(&auth.attribution(state.now()), &id)
            .map_err(|e| ApiError::NotFound(format!("no webhook `{id}`: {e}")))?;
        state.record_admin(entry).await?;
    }
    propagator.delete_webhook(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Events a webhook gave up on after its last retry, by seq.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/dead-letters",
    tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's id")),
    responses(
        (status = 200, body = DeadLetterList),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn dead_letters(
    State(state): State<AppState>,
    _auth: Authorized<AdminScope>,
    Path(id): Path<String>,
) -> Result<Json<DeadLetterList>, ApiError> {
    let letters = propagator(&state)?.dead_letters(&id).await?;
    Ok(Json(DeadLetterList {
        webhook: id,
        dead_letters: letters.into_iter().map(DeadLetterView::from).collect(),
    }))
}

/// Deliver the ledger again to a webhook from a seq on, dead letters included.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/replay",
    tag = "webhooks",
    params(("id" = String, Path, description = "The webhook's id")),
    request_body = ReplayRequest,
    responses(
        (status = 202, body = Replaying),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn replay(
    State(state): State<AppState>,
    _auth: Authorized<AdminScope>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ReplayRequest>,
) -> Result<(StatusCode, Json<Replaying>), ApiError> {
    let propagator = propagator(&state)?;
    check_from_seq(req.from_seq, propagator.head(), "/from_seq")
        .map_err(|e| ApiError::Validation(vec![e]))?;
    propagator.replay(&id, req.from_seq).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Replaying {
            webhook: id,
            from_seq: req.from_seq,
        }),
    ))
}
