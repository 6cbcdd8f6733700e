//! Operations: health, Prometheus metrics, and the OpenAPI document.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use keuze_app::AppState;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` while the database cannot be reached: decisions are still
    /// answered from memory, writes and reads of history get 503 until it is back.
    pub status: String,
    /// `ok` or `unavailable`.
    pub database: String,
    pub catalog_version: u32,
}

/// How long the health check waits for the database.
const DATABASE_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Liveness and readiness. Always 200 while the process serves: a database outage
/// degrades the server (writes wait for the database) but decisions go on.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    let reachable = tokio::time::timeout(DATABASE_CHECK, state.store().tree_size())
        .await
        .is_ok_and(|answer| answer.is_ok());
    Json(Health {
        status: if reachable { "ok" } else { "degraded" }.into(),
        database: if reachable { "ok" } else { "unavailable" }.into(),
        catalog_version: state.catalog().current().number,
    })
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics_handle().render(),
    )
}

/// This API's OpenAPI 3.1 description.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations", responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi_json(),
    )
}
