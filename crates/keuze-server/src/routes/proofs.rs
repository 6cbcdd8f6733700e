//! Proof: the log's signed checkpoint and keys, inclusion and consistency proofs,
//! receipts a customer can verify offline, and erasure that keeps every proof valid.

use crate::auth::{AdminScope, AuditScope, Authorized};
use crate::json::{JsonBody, QueryParams};
use crate::problem::ApiError;
use crate::wire::{EventView, SubjectRef};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use keuze_app::log::{self, TreeError};
use keuze_app::subjects::ReceiptError;
use keuze_app::AppState;
use keuze_core::merkle::hash_to_hex;
use keuze_core::receipt::Receipt;
use keuze_core::{Locale, Source};
use keuze_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

impl From<TreeError> for ApiError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Store(s) => Self::Store(s),
            TreeError::Prove(msg) => Self::Store(StoreError::Corrupt(msg)),
        }
    }
}

impl From<log::SignError> for ApiError {
    fn from(e: log::SignError) -> Self {
        match e {
            log::SignError::Store(s) | log::SignError::Tree(TreeError::Store(s)) => Self::Store(s),
            other => Self::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

/// The latest signed checkpoint (C2SP tlog-checkpoint signed note).
#[utoipa::path(
    get,
    path = "/v1/log/checkpoint",
    tag = "proof",
    responses(
        (status = 200, content_type = "text/plain", body = String, description = "The signed note"),
        (status = 404, body = crate::problem::Problem, description = "The ledger is empty"),
    )
)]
pub async fn checkpoint(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let latest = state
        .signer()
        .sign_latest(&**state.store(), state.now())
        .await?
        .ok_or_else(|| ApiError::NotFound("the ledger is empty: nothing to sign yet".into()))?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        latest.note,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogKeys {
    /// The log's name: the first line of every checkpoint, and every key's name.
    pub origin: String,
    /// The verifier key that signs new checkpoints.
    pub current: String,
    /// Every verifier key the log has used, oldest first: old checkpoints and receipts
    /// stay verifiable after a rotation.
    pub keys: Vec<String>,
}

/// The log's public keys, as C2SP signed-note verifier keys.
#[utoipa::path(get, path = "/v1/log/keys", tag = "proof", responses((status = 200, body = LogKeys)))]
pub async fn keys(State(state): State<AppState>) -> Json<LogKeys> {
    let signer = state.signer();
    Json(LogKeys {
        origin: signer.origin().to_owned(),
        current: signer.current().to_string(),
        keys: signer.verifiers().iter().map(ToString::to_string).collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InclusionQuery {
    /// The event's ledger sequence number (leaf `seq - 1`).
    pub seq: u64,
    /// The tree size to prove against; default the latest checkpoint's.
    pub size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub seq: u64,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Hex, nearest sibling first (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

async fn tree_size_or_checkpoint(state: &AppState, size: Option<u64>) -> Result<u64, ApiError> {
    let tree = state.store().tree_size().await?;
    match size {
        Some(s) if s > tree => Err(ApiError::field(
            "/size",
            format!("the tree has {tree} leaves; ask for a size up to {tree}"),
        )),
        Some(s) => Ok(s),
        None => Ok(state
            .signer()
            .sign_latest(&**state.store(), state.now())
            .await?
            .map_or(0, |c| c.size)),
    }
}

/// An inclusion proof for one event.
#[utoipa::path(
    get,
    path = "/v1/log/proof/inclusion",
    tag = "proof",
    params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 422, body = crate::problem::Problem))
)]
pub async fn inclusion(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let size = tree_size_or_checkpoint(&state, q.size).await?;
    if q.seq == 0 || q.seq > size {
        return Err(ApiError::field(
            "/seq",
            format!(
                "event {} is not in a tree of size {size}; events are numbered from 1",
                q.seq
            ),
        ));
    }
    let proof = log::inclusion_proof(&**state.store(), size, q.seq - 1).await?;
    Ok(Json(InclusionProof {
        seq: q.seq,
        leaf_index: q.seq - 1,
        tree_size: size,
        proof: proof.iter().map(hash_to_hex).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ConsistencyQuery {
    pub from: u64,
    /// Default the latest checkpoint's size.
    pub to: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// Hex (RFC 9162 §2.1.4).
    pub proof: Vec<String>,
}

/// A consistency proof between two tree sizes.
#[utoipa::path(
    get,
    path = "/v1/log/proof/consistency",
    tag = "proof",
    params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 422, body = crate::problem::Problem))
)]
pub async fn consistency(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let to = tree_size_or_checkpoint(&state, q.to).await?;
    if q.from > to {
        return Err(ApiError::field(
            "/from",
            format!("`from` ({}) must not exceed `to` ({to})", q.from),
        ));
    }
    let proof = log::consistency_proof(&**state.store(), q.from, to).await?;
    Ok(Json(ConsistencyProof {
        from: q.from,
        to,
        proof: proof.iter().map(hash_to_hex).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    pub subject: SubjectRef,
    /// The event's ledger sequence number.
    pub seq: u64,
}

/// A receipt for one of the subject's events: verifiable offline with the log's keys.
#[utoipa::path(
    post,
    path = "/v1/receipts",
    tag = "proof",
    request_body = ReceiptRequest,
    responses(
        (status = 200, description = "The receipt (see docs/receipts.md)", body = Object),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 404, body = crate::problem::Problem),
        (status = 410, body = crate::problem::Problem),
    ),
    security(("api_key" = ["audit"]))
)]
pub async fn receipt(
    State(state): State<AppState>,
    _auth: Authorized<AuditScope>,
    JsonBody(req): JsonBody<ReceiptRequest>,
) -> Result<Json<Receipt>, ApiError> {
    let subject = req.subject.resolve_in_body(&state)?;
    Ok(Json(state.receipt(&subject, req.seq).await?))
}

impl From<ReceiptError> for ApiError {
    fn from(e: ReceiptError) -> Self {
        match e {
            ReceiptError::NoEvents | ReceiptError::NotTheirs(_) => {
                ApiError::NotFound(e.to_string())
            }
            ReceiptError::Store(e) => ApiError::Store(e),
            ReceiptError::Tree(e) => e.into(),
            ReceiptError::Sign(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    pub subject: SubjectRef,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Erased {
    pub subject: String,
    /// The erasure events: one per purpose, the last the ledger ties to this subject.
    pub events: Vec<EventView>,
}

/// Erase a subject: its salt is destroyed so its ledger entries can no longer be tied to
/// it, its current state is dropped, and decisions answer `subject_erased`. Receipts
/// issued before stay verifiable.
#[utoipa::path(
    post,
    path = "/v1/subjects/erase",
    tag = "subjects",
    request_body = EraseRequest,
    responses(
        (status = 200, body = Erased),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 410, body = crate::problem::Problem, description = "Erased before"),
    ),
    security(("api_key" = ["admin"]))
)]
pub async fn erase(
    State(state): State<AppState>,
    auth: Authorized<AdminScope>,
    JsonBody(req): JsonBody<EraseRequest>,
) -> Result<Json<Erased>, ApiError> {
    let subject = req.subject.resolve_in_body(&state)?;
    let by = auth.attribution(state.now());
    let events = state
        .erase_subject(subject, Source::Api, &Locale::en(), &by)
        .await?;
    Ok(Json(Erased {
        subject: subject.to_hex(),
        events: events.iter().map(EventView::from).collect(),
    }))
}
