//! The public transparency pages. TODO(privacy): /privacy, /privacy.json, /privacy/changes.

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// The transparency routes, documented in the OpenAPI document like every other route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
