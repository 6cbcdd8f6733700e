//! Keuze's HTTP API: record choices, read state and history, decide, read the catalog;
//! health, metrics and the OpenAPI document. Handlers are thin: they extract, call the
//! domain (`keuze-core`), and map errors through [`problem::ApiError`].

pub mod auth;
pub mod cmp;
pub mod headers;
pub mod json;
pub mod language;
pub mod limits;
pub mod listen;
pub mod notice;
pub mod problem;
pub mod routes;
pub mod session;
pub mod views;
pub mod wire;

use keuze_app::AppState;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest request body accepted: a full batch of 10,000 decisions fits.
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keuze",
        description = "Consent and privacy preferences: record choices per purpose, ask for decisions, read the catalog. Errors are RFC 9457 problem details.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(problem::Problem, problem::FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "api_key",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("kz_<id>_<secret>")
                        .description(Some("An API key from `keuze key create --scope <scope>`"))
                        .build(),
                ),
            );
        }
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    use routes::{catalog, consents, decide, ops, prompt, proofs, subjects, tcf, webhooks};
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(consents::record))
        .routes(routes!(subjects::issue_device_id))
        .routes(routes!(subjects::state_by_body))
        .routes(routes!(subjects::state_by_pseudonym))
        .routes(routes!(subjects::history_by_body))
        .routes(routes!(subjects::history_by_pseudonym))
        .routes(routes!(prompt::prompt_by_body))
        .routes(routes!(prompt::prompt_by_pseudonym))
        .routes(routes!(prompt::changes_by_body))
        .routes(routes!(prompt::changes_by_pseudonym))
        .routes(routes!(decide::decide_one))
        .routes(routes!(decide::decide_batch))
        .routes(routes!(tcf::tcf_by_body))
        .routes(routes!(tcf::tcf_by_pseudonym))
        .routes(routes!(tcf::decode))
        .routes(routes!(catalog::current))
        .routes(routes!(catalog::publish))
        .routes(routes!(proofs::checkpoint))
        .routes(routes!(proofs::keys))
        .routes(routes!(proofs::inclusion))
        .routes(routes!(proofs::consistency))
        .routes(routes!(proofs::receipt))
        .routes(routes!(proofs::erase))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::dead_letters))
        .routes(routes!(webhooks::replay))
        .routes(routes!(routes::incidents::record, routes::incidents::list))
        .routes(routes!(routes::incidents::get_one))
        .routes(routes!(routes::incidents::audience))
        .routes(routes!(routes::incidents::notify))
        .routes(routes!(routes::incidents::publish))
        .routes(routes!(routes::audit::events))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
        .merge(views::privacy::routes())
        .merge(views::incidents::routes())
        .merge(views::me::routes())
        .merge(routes::banner::routes())
}

/// The OpenAPI document, built once from the same router that serves the routes, so a
/// route cannot exist without being described.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| api_router().split_for_parts().1)
}

fn openapi_json() -> String {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| openapi().to_json().unwrap_or_default())
        .clone()
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Real histograms (not summaries) for propagation latency, so they aggregate
        // across nodes: from 1 ms to 5 minutes (retries).
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("keuze_propagation_delivery_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0, 60.0, 300.0,
                ],
            )
            // Only fails for an empty bucket list.
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Only fails if another recorder is installed; then ours just stays empty.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("keuze_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("keuze_http_request_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}

/// What the server enforces at its edge, besides the body limit ([`BODY_LIMIT`]) and the
/// JSON nesting limit ([`json::MAX_DEPTH`]).
#[derive(Debug, Clone)]
pub struct Edge {
    pub limits: limits::Limits,
    /// A request not complete within this gets 408.
    pub request_timeout: std::time::Duration,
}

impl Default for Edge {
    fn default() -> Self {
        Self {
            limits: limits::Limits::default(),
            request_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// The whole application with the default [`Edge`], ready to serve.
pub fn app(state: AppState) -> Router {
    app_with(state, &Edge::default())
}

/// The whole application, ready to serve.
pub fn app_with(state: AppState, edge: &Edge) -> Router {
    let _ = metrics_handle();
    let (router, _) = api_router().split_for_parts();
    let rate_limits = std::sync::Arc::new(limits::RateLimits::new(&edge.limits));
    let transport = headers::Transport {
        trust_forwarded_proto: edge.limits.trust_forwarded_for,
    };
    router
        .layer(axum::middleware::from_fn(track))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            edge.request_timeout,
            limits::deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            rate_limits,
            limits::limit_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            transport,
            headers::security_headers,
        ))
        .layer(
            // The path only: a query can carry a one-time login token (`/me?token=`).
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |req: &axum::http::Request<axum::body::Body>| {
                    tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
                },
            ),
        )
        .with_state(state)
}
