//! The catalog in force, as published. Public: transparency needs no account.

use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogView {
    pub version: u32,
    /// `sha256:` and the hex digest of the catalog's canonical form.
    pub digest: String,
    /// Organisation, purposes (with texts in every locale) and the catalog's own categories.
    #[schema(value_type = Object)]
    pub catalog: serde_json::Value,
}

/// The catalog version in force.
#[utoipa::path(
    get,
    path = "/v1/catalog",
    tag = "catalog",
    responses((status = 200, body = CatalogView))
)]
pub async fn current(State(state): State<AppState>) -> Json<CatalogView> {
    let history = state.catalog();
    let current = history.current();
    Json(CatalogView {
        version: current.number,
        digest: current.digest.to_string(),
        catalog: serde_json::to_value(&current.catalog).unwrap_or_default(),
    })
}
