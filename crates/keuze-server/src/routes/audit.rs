//! The audit trail: admin actions as the ledger records them, for keys with the `audit`
//! scope. Each entry is a leaf of the same Merkle tree as consent events, so the
//! inclusion proof of its seq (`GET /v1/log/proof/inclusion?seq=`) ties it to a signed
//! checkpoint like any other leaf.

use crate::auth::{AuditScope, Authorized};
use crate::json::QueryParams;
use crate::problem::ApiError;
use axum::extract::State;
use axum::Json;
use keuze_app::AppState;
use keuze_core::admin::AdminEntry;
use keuze_core::merkle::hash_to_hex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// Entries per page unless asked otherwise, and at most.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries with a larger seq (default 0: from the start).
    pub after: Option<u64>,
    /// At most this many entries, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

/// One admin action.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// The entry's ledger sequence number, shared with consent events (leaf `seq - 1`).
    pub seq: u64,
    /// `key_created`, `key_revoked`, `catalog_published`, `subject_erased`,
    /// `webhook_created`, `webhook_deleted` or `log_key_rotated`.
    pub action: String,
    /// `key:<key id>` (an API call), `cli` or `cli:<user>` (the command line), or
    /// `customer` (a customer's own erasure at `/me`).
    pub actor: String,
    /// `key:<id>`, `catalog:<version>`, `webhook:<id>`, `ledger:<first>-<last>` (an
    /// erasure's entries) or `log_key:<key id>`.
    pub target: String,
    /// Further facts: `scopes`, `digest`, `entries`, `origin`, `previous`.
    pub detail: BTreeMap<String, String>,
    /// RFC 3339, UTC, milliseconds.
    pub recorded_at: String,
    pub recorded_at_ms: i64,
    /// The RFC 9162 leaf hash of the entry's canonical bytes (docs/receipts.md), hex.
    pub leaf_hash: String,
    /// Whether the latest signed checkpoint covers the entry, so that
    /// `GET /v1/log/proof/inclusion?seq=<seq>` proves it is in the log.
    pub provable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntries {
    /// Oldest first.
    pub entries: Vec<AuditEntryView>,
    /// The tree size of the latest signed checkpoint.
    pub checkpoint_size: u64,
    /// Pass as `after` for the next page; absent when this page is the last.
    pub next_after: Option<u64>,
}

impl AuditEntryView {
    fn new(entry: &AdminEntry, checkpoint_size: u64) -> Self {
        Self {
            seq: entry.seq,
            action: entry.action.as_str().to_owned(),
            actor: entry.actor.to_string(),
            target: entry.target.to_string(),
            detail: entry
                .detail
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_string()))
                .collect(),
            recorded_at: entry.recorded_at.to_rfc3339(),
            recorded_at_ms: entry.recorded_at.unix_millis(),
            leaf_hash: hash_to_hex(&entry.leaf_hash()),
            provable: entry.seq <= checkpoint_size,
        }
    }
}

/// The audit trail: admin actions (API keys created and revoked, catalogs published,
/// subjects erased, webhooks created and deleted, log key rotations), oldest first.
#[utoipa::path(
    get,
    path = "/v1/audit/events",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, body = AuditEntries),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["audit"]))
)]
pub async fn events(
    State(state): State<AppState>,
    _auth: Authorized<AuditScope>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> Result<Json<AuditEntries>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "/limit",
            format!("must be 1 to {MAX_LIMIT}; page on with `after`"),
        ));
    }
    let store = state.store();
    let entries = store.admin_entries(q.after.unwrap_or(0), limit).await?;
    // Signed now if the tree grew since the last checkpoint, so the entries just listed
    // are provable at once.
    let checkpoint_size = state
        .signer()
        .sign_latest(&**store, state.now())
        .await?
        .map_or(0, |c| c.size);
    let next_after = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditEntries {
        entries: entries
            .iter()
            .map(|e| AuditEntryView::new(e, checkpoint_size))
            .collect(),
        checkpoint_size,
        next_after,
    }))
}
