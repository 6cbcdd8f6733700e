//! Every API request body, and every query string, against the real application: the
//! axum router from `keuze_server::app` over a real SQLite store in a temporary
//! directory, called in-process. Properties, for any input:
//!
//! - never a 5xx, never a panic;
//! - every 4xx from a JSON route is an RFC 9457 problem (`application/problem+json` with
//!   a `urn:keuze:problem:` type and the same status); a form route under `/me` may
//!   answer with its own HTML page instead;
//! - a refused request (4xx) changes nothing: ledger size, catalog versions, webhooks,
//!   erased subjects and API keys are as before; a GET never changes them.
//!
//! The routes come from the OpenAPI document, so a new route cannot escape: the body
//! target has a template per body-taking route and a test fails when one is missing; the
//! query target walks every GET route the document lists.

use crate::mutate::{apply, apply_bytes, ByteEdit, JsonEdit};
use arbitrary::Arbitrary;
use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use keuze_app::propagate::{PropagationConfig, RetryPolicy};
use keuze_app::session::CustomerSession;
use keuze_app::{AppState, ManualClock, ServerParts};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::checkpoint::LogKey;
use keuze_core::{CatalogHistory, CatalogVersion, Pseudonymizer, SubjectId, SubjectKey, Timestamp};
use keuze_server::session::SessionCookie;
use keuze_sqlite::SqliteStore;
use keuze_store::{Outbox, Scope, Store};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt as _;

/// The server's clock stands still here.
pub const T0: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);

/// Where created webhooks point: the discard port on this machine, so nothing leaves it.
const WEBHOOK_URL: &str = "http://127.0.0.1:9/keuze-fuzz";

/// What a route's body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
    Toml,
    /// The route takes no body (it is fuzzed anyway: it must ignore one).
    Empty,
}

/// A body-taking route and the valid bodies fuzzing starts from.
pub struct BodyRoute {
    pub method: Method,
    /// As the OpenAPI document writes it, `{id}` and all.
    pub path: &'static str,
    pub kind: BodyKind,
}

/// A valid incident about the sample catalog's newsletter.
fn incident_draft() -> Value {
    json!({
        "title": {"en": "A break-in", "nl": "Een inbraak"},
        "what_happened": {"en": "Someone broke into our mail service.", "nl": "Iemand brak in bij onze mailservice."},
        "window": {"from": "2026-11-02T00:00:00Z", "to": "2026-11-20T23:59:59Z"},
        "discovered_at": "2026-11-21T08:30:00+01:00",
        "categories": ["contact.email", "contact.name"],
        "purposes": ["newsletter"],
        "recipients": ["MailPost B.V."],
        "consequences": {"en": "You may get fake mail.", "nl": "Je krijgt misschien nepmail."},
        "measures": {"en": "We closed the hole.", "nl": "We dichtten het lek."},
        "advice": {"en": "Do not click odd links.", "nl": "Klik niet op rare links."},
        "contact": "privacy@fietsenwinkel.example",
        "high_risk": true
    })
}

/// Every route that takes a body, as the fuzz target knows them. A test checks this list
/// against the OpenAPI document.
pub const BODY_ROUTES: &[BodyRoute] = &[
    route(Method::POST, "/v1/consents", BodyKind::Json),
    route(Method::POST, "/v1/subjects/device", BodyKind::Empty),
    route(Method::POST, "/v1/subjects/state", BodyKind::Json),
    route(Method::POST, "/v1/subjects/history", BodyKind::Json),
    route(Method::POST, "/v1/subjects/prompt", BodyKind::Json),
    route(Method::POST, "/v1/subjects/changes", BodyKind::Json),
    route(Method::POST, "/v1/subjects/erase", BodyKind::Json),
    route(Method::POST, "/v1/subjects/link", BodyKind::Json),
    route(Method::POST, "/v1/decide", BodyKind::Json),
    route(Method::POST, "/v1/decide/batch", BodyKind::Json),
    route(Method::POST, "/v1/subjects/tcf", BodyKind::Json),
    route(Method::POST, "/v1/tcf/decode", BodyKind::Json),
    route(Method::POST, "/v1/catalog/versions", BodyKind::Toml),
    route(Method::POST, "/v1/receipts", BodyKind::Json),
    route(Method::POST, "/v1/sessions", BodyKind::Json),
    route(Method::POST, "/v1/banner/choices", BodyKind::Json),
    route(Method::POST, "/v1/webhooks", BodyKind::Json),
    route(Method::POST, "/v1/webhooks/{id}/replay", BodyKind::Json),
    route(Method::POST, "/me/choices", BodyKind::Form),
    route(Method::POST, "/me/presets", BodyKind::Form),
    route(Method::POST, "/me/erase", BodyKind::Form),
    route(Method::POST, "/v1/incidents", BodyKind::Json),
    route(
        Method::POST,
        "/v1/incidents/{number}/audience",
        BodyKind::Json,
    ),
    route(
        Method::POST,
        "/v1/incidents/{number}/notify",
        BodyKind::Json,
    ),
    route(
        Method::POST,
        "/v1/incidents/{number}/publish",
        BodyKind::Empty,
    ),
    route(Method::POST, "/me/incidents", BodyKind::Form),
];

const fn route(method: Method, path: &'static str, kind: BodyKind) -> BodyRoute {
    BodyRoute { method, path, kind }
}

/// Every operation in the OpenAPI document that takes a body (it documents one, or it is
/// a POST, PUT or PATCH), as `METHOD path`.
pub fn documented_body_routes() -> Vec<String> {
    let doc = serde_json::to_value(keuze_server::openapi()).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let writes = matches!(method.as_str(), "post" | "put" | "patch");
            if writes || op.get("requestBody").is_some() {
                out.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    out.sort();
    out
}

/// Every GET route in the OpenAPI document, with the names of its path parameters.
pub fn documented_get_routes() -> Vec<String> {
    let doc = serde_json::to_value(keuze_server::openapi()).unwrap();
    let mut out: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, item)| item.get("get").is_some())
        .map(|(path, _)| path.clone())
        .collect();
    out.sort();
    out
}

/// Body-taking routes the OpenAPI document lists that [`BODY_ROUTES`] does not cover.
pub fn uncovered_body_routes() -> Vec<String> {
    documented_body_routes()
        .into_iter()
        .filter(|r| {
            !BODY_ROUTES
                .iter()
                .any(|b| format!("{} {}", b.method, b.path) == *r)
        })
        .collect()
}

/// What can be counted in the store: a refused request leaves all of it as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    pub events: u64,
    pub catalog: Option<u32>,
    pub webhooks: usize,
    pub erased: usize,
    pub api_keys: usize,
    pub incidents: usize,
}

/// The running application and what a fuzz input needs to make valid requests.
pub struct ApiTarget {
    rt: tokio::runtime::Runtime,
    app: App,
}

struct App {
    router: Router,
    state: AppState,
    store: Arc<dyn Store>,
    outbox: Arc<dyn Outbox>,
    /// A key with every scope.
    key: String,
    /// One key per scope, in [`Scope::ALL`] order.
    scoped: Vec<String>,
    /// A webhook made at start, for `/v1/webhooks/{id}/…`.
    webhook: String,
    /// A customer's TC string, made at start, for `/v1/tcf/decode`.
    tc_string: String,
    _dir: tempfile::TempDir,
}

/// A response: status, content type, body.
pub type Answer = (StatusCode, Option<String>, Vec<u8>);

#[derive(Debug, Clone, Arbitrary)]
pub enum AuthInput {
    Full,
    Scope(u8),
    Missing,
    /// Anything in `Authorization`: the API key parser's input.
    Raw(String),
    /// `Bearer ` and anything.
    Bearer(String),
}

#[derive(Debug, Clone, Arbitrary)]
pub enum ContentTypeInput {
    /// What the route expects.
    Right,
    Json,
    Form,
    Toml,
    Missing,
    Raw(String),
}

#[derive(Debug, Clone, Arbitrary)]
pub enum CookieInput {
    /// The customer's valid session (and, for the banner, their device id).
    Session,
    Missing,
    /// Anything in `Cookie`: the session cookie parser's input.
    Raw(String),
    /// `keuze_session=` and anything.
    SessionValue(String),
}

#[derive(Debug, Clone, Arbitrary)]
pub enum BodyInput {
    /// A valid body for the route, changed by structure-aware edits.
    Template {
        which: u8,
        edits: Vec<JsonEdit>,
    },
    /// A valid body's bytes, changed byte by byte.
    Bytes {
        which: u8,
        edits: Vec<ByteEdit>,
    },
    Raw(Vec<u8>),
}

#[derive(Debug, Clone, Arbitrary)]
pub enum PathInput {
    Real,
    Raw(String),
}

#[derive(Debug, Clone, Arbitrary)]
pub struct Headers {
    pub auth: AuthInput,
    pub cookie: CookieInput,
    pub accept_language: Option<String>,
    pub banner: bool,
    pub gpc: bool,
}

/// One request with a body.
#[derive(Debug, Clone, Arbitrary)]
pub struct BodyRequest {
    pub route: u8,
    /// Which customer the request is about (their id, device id, session).
    pub customer: u8,
    pub body: BodyInput,
    pub content_type: ContentTypeInput,
    pub path: PathInput,
    pub headers: Headers,
}

/// One GET with a query string.
#[derive(Debug, Clone, Arbitrary)]
pub struct QueryRequest {
    pub route: u8,
    pub customer: u8,
    pub query: QueryInput,
    pub path: PathInput,
    pub headers: Headers,
}

#[derive(Debug, Clone, Arbitrary)]
pub enum QueryInput {
    None,
    /// Raw bytes after `?`, percent-encoded where a URI needs it.
    Raw(Vec<u8>),
    /// Pairs with names the routes use.
    Pairs(Vec<(u8, String)>),
}

/// Query parameter names the routes read.
const QUERY_NAMES: &[&str] = &[
    "lang",
    "token",
    "notice",
    "purpose",
    "index",
    "seq",
    "size",
    "old_size",
    "new_size",
    "from",
    "after",
    "limit",
    "locale",
    "since",
    "version",
    "categories",
    "category",
];

fn customer_id(n: u8) -> String {
    format!("customer-{n}")
}

fn device_id(n: u8) -> String {
    format!("dev_{:032x}", u128::from(n))
}

/// Percent-encodes everything but unreserved characters.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A JSON document as a form: an object's members as fields (arrays repeat the field,
/// other values as their JSON text); anything else as its JSON text.
fn form_encode(doc: &Value) -> Vec<u8> {
    let Value::Object(m) = doc else {
        return doc.to_string().into_bytes();
    };
    let mut pairs = Vec::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    for (k, v) in m {
        match v {
            Value::Array(items) => {
                for item in items {
                    pairs.push(format!(
                        "{}={}",
                        encode(k.as_bytes()),
                        encode(text(item).as_bytes())
                    ));
                }
            }
            other => pairs.push(format!(
                "{}={}",
                encode(k.as_bytes()),
                encode(text(other).as_bytes())
            )),
        }
    }
    pairs.join("&").into_bytes()
}

impl Default for ApiTarget {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiTarget {
    /// Starts the application over a fresh SQLite store in a temporary directory, with a
    /// little history, an API key per scope and one webhook.
    pub fn new() -> Self {
        // One worker for the server's background tasks (the group-commit writer,
        // propagation); requests are driven from the calling thread.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let app = rt.block_on(App::start());
        Self { rt, app }
    }

    /// The target the CI smoke runs: the same as the long runs'. (It once retried a
    /// webhook delete that failed with 503, the finding in docs/fuzzing.md, since fixed.)
    pub fn for_smoke() -> Self {
        Self::new()
    }

    /// What the store holds now.
    pub fn counts(&self) -> Counts {
        self.rt.block_on(self.app.counts())
    }

    pub fn body_request(&self, input: &BodyRequest) {
        self.rt.block_on(self.app.body_request(input));
    }

    pub fn query_request(&self, input: &QueryRequest) {
        self.rt.block_on(self.app.query_request(input));
    }

    /// Sends one request as it is and returns the answer (for regression tests).
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, String)],
    ) -> Answer {
        self.rt.block_on(self.app.send(method, path, body, headers))
    }

    /// The full-scope API key, for `Authorization: Bearer`.
    pub fn key(&self) -> &str {
        &self.app.key
    }
}

impl App {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
        let store: Arc<dyn Store> = sqlite.clone();
        let outbox: Arc<dyn Outbox> = sqlite;
        let (catalog, _) = parse_catalog("sample", SAMPLE_CATALOG).unwrap();
        let setup =
            keuze_core::admin::Attribution::new(keuze_core::admin::Actor::cli(Some("fuzz")), T0);
        let stored = store
            .publish_catalog(
                catalog.digest(),
                catalog.canonical_json(),
                SAMPLE_CATALOG.into(),
                &setup,
            )
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(T0));
        let propagation = PropagationConfig {
            retry: RetryPolicy {
                max_attempts: 1,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(10),
                timeout: Duration::from_millis(100),
            },
            ..PropagationConfig::default()
        };
        let state = AppState::start(ServerParts {
            store: Arc::clone(&store),
            catalog: CatalogHistory::new(CatalogVersion {
                number: stored.number,
                digest: catalog.digest(),
                catalog,
                published_at: T0,
            }),
            pseudonymizer: Pseudonymizer::new([9; 32]),
            clock,
            seed: Some([3; 32]),
            log_key: LogKey::from_seed([5; 32], "keuze.fuzz/api").unwrap(),
            index_snapshot: None,
            outbox: Some(Arc::clone(&outbox)),
            propagation,
            ledger_growth: None,
            tcf_vendor_list: Some(Arc::new(
                keuze_core::tcf::Gvl::from_json(keuze_core::tcf::SAMPLE_VENDOR_LIST).unwrap(),
            )),
        })
        .await
        .unwrap();
        // The handlers are the target, not the rate limiter: with quotas every input past
        // the first few hundred would be a 429.
        let off = keuze_server::limits::Limit(None);
        let edge = keuze_server::Edge {
            limits: keuze_server::limits::Limits {
                per_key: off,
                per_client: off,
                failed_auth: off,
                trust_forwarded_for: false,
            },
            ..keuze_server::Edge::default()
        };
        let router = keuze_server::app_with(state.clone(), &edge);
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let (key, full) =
            keuze_app::keys::mint_api_key(Scope::ALL.to_vec(), "fuzz".into(), T0, &mut rng);
        store.insert_api_key(&full, &setup).await.unwrap();
        let mut scoped = Vec::new();
        for scope in Scope::ALL {
            let (secret, k) =
                keuze_app::keys::mint_api_key(vec![scope], "fuzz".into(), T0, &mut rng);
            store.insert_api_key(&k, &setup).await.unwrap();
            scoped.push(secret);
        }
        let mut app = Self {
            router,
            state,
            store,
            outbox,
            key,
            scoped,
            webhook: String::new(),
            tc_string: String::new(),
            _dir: dir,
        };
        // Some history to read, a TC string to decode, and a webhook to replay.
        for n in 0..4u8 {
            let body = json!({"subject": {"id": customer_id(n)}, "choices": [
                {"purpose": "newsletter", "action": "grant"},
                {"purpose": "service_analytics", "action": "object"},
                {"purpose": "advertising_partners", "action": "grant"}
            ]});
            let res = app
                .send(
                    Method::POST,
                    "/v1/consents",
                    Some(("application/json", body.to_string().into_bytes())),
                    &[],
                )
                .await;
            assert_eq!(
                res.0,
                StatusCode::CREATED,
                "{}",
                String::from_utf8_lossy(&res.2)
            );
        }
        let body = incident_draft().to_string().into_bytes();
        let res = app
            .send(
                Method::POST,
                "/v1/incidents",
                Some(("application/json", body)),
                &[],
            )
            .await;
        assert_eq!(
            res.0,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.2)
        );
        let body = json!({"url": WEBHOOK_URL}).to_string().into_bytes();
        let res = app
            .send(
                Method::POST,
                "/v1/webhooks",
                Some(("application/json", body)),
                &[],
            )
            .await;
        assert_eq!(
            res.0,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&res.2)
        );
        let created: Value = serde_json::from_slice(&res.2).unwrap();
        app.webhook = created["id"].as_str().unwrap().to_owned();
        let body = json!({"subject": {"id": customer_id(0)}}).to_string();
        let res = app
            .send(
                Method::POST,
                "/v1/subjects/tcf",
                Some(("application/json", body.into_bytes())),
                &[],
            )
            .await;
        assert_eq!(res.0, StatusCode::OK, "{}", String::from_utf8_lossy(&res.2));
        let made: Value = serde_json::from_slice(&res.2).unwrap();
        app.tc_string = made["tcString"].as_str().unwrap().to_owned();
        app
    }

    async fn counts(&self) -> Counts {
        Counts {
            events: self.store.event_count().await.unwrap(),
            catalog: self.store.latest_catalog().await.unwrap().map(|c| c.number),
            webhooks: self.outbox.webhooks().await.unwrap().len(),
            erased: self.store.erased_subjects().await.unwrap().len(),
            api_keys: self.store.list_api_keys().await.unwrap().len(),
            incidents: self.store.incidents().await.unwrap().len(),
        }
    }

    /// One request with the full-scope key unless `headers` has an `authorization`.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, String)],
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.key));
        }
        for (k, v) in headers {
            // A value no header may hold is not a request a client can send.
            if let Ok(v) = HeaderValue::from_str(v) {
                req = req.header(*k, v);
            }
        }
        let body = match body {
            Some((content_type, bytes)) => {
                if !content_type.is_empty() {
                    if let Ok(v) = HeaderValue::from_str(content_type) {
                        req = req.header(header::CONTENT_TYPE, v);
                    }
                }
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let req = req.body(body).unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        (status, content_type, bytes)
    }

    fn session(&self, customer: u8) -> CustomerSession {
        let subject: SubjectId = self
            .state
            .pseudonymizer()
            .pseudonym(&SubjectKey::Customer(customer_id(customer)));
        CustomerSession::start(&self.state, subject)
    }

    /// Valid bodies for a route, as JSON documents (a form's fields as an object, a TOML
    /// body as one string).
    fn templates(&self, path: &str, customer: u8, session: &CustomerSession) -> Vec<Value> {
        let id = customer_id(customer);
        let other = customer_id(customer.wrapping_add(1));
        let dev = device_id(customer);
        let pseudonym = self
            .state
            .pseudonymizer()
            .pseudonym(&SubjectKey::Customer(id.clone()))
            .to_hex();
        let subjects = [
            json!({"id": id}),
            json!({"device_id": dev}),
            json!({"pseudonym": pseudonym}),
        ];
        let csrf = session.csrf_token(&self.state);
        let by_subject = |extra: Value| -> Vec<Value> {
            subjects
                .iter()
                .map(|s| {
                    let mut v = json!({"subject": s});
                    if let (Value::Object(m), Value::Object(e)) = (&mut v, &extra) {
                        m.extend(e.clone());
                    }
                    v
                })
                .collect()
        };
        match path {
            "/v1/consents" => {
                let mut t = by_subject(json!({"choices": [
                    {"purpose": "newsletter", "action": "grant"},
                    {"purpose": "service_analytics", "action": "object"},
                    {"purpose": "product_reviews", "action": "withdraw"}
                ], "source": "api", "locale": "nl", "catalog_version": 1}));
                t.push(json!({"subject": {"id": id}, "all": "accept"}));
                t.push(json!({"subject": {"device_id": dev}, "all": "reject", "source": "banner"}));
                t
            }
            "/v1/subjects/device" => vec![json!({})],
            "/v1/subjects/state" | "/v1/subjects/history" | "/v1/subjects/erase" => {
                by_subject(json!({}))
            }
            "/v1/subjects/prompt" | "/v1/subjects/changes" => by_subject(json!({"locale": "nl"})),
            "/v1/subjects/link" => vec![
                json!({"device_id": dev, "subject": {"id": id}}),
                json!({"device_id": dev, "subject": {"pseudonym": pseudonym}}),
            ],
            "/v1/decide" => {
                let mut t = by_subject(json!({"purpose": "newsletter"}));
                t.push(json!({"subject": {"id": id}, "purpose": "newsletter", "categories": ["contact.email"]}));
                t
            }
            "/v1/decide/batch" => vec![json!({"items": [
                {"subject": {"id": id}, "purpose": "newsletter", "categories": ["contact.email"]},
                {"subject": {"device_id": dev}, "purpose": "service_analytics"},
                {"subject": {"pseudonym": pseudonym}, "purpose": "product_reviews", "categories": ["location.precise"]}
            ]})],
            "/v1/subjects/tcf" => {
                let mut t = by_subject(json!({"lang": "nl"}));
                t.push(json!({"subject": {"id": id}}));
                t
            }
            "/v1/tcf/decode" => vec![
                json!({"tcString": self.tc_string}),
                // The specification's service-specific sample: core and publisher TC.
                json!({"tcString": "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA"}),
            ],
            "/v1/catalog/versions" => vec![Value::from(SAMPLE_CATALOG)],
            "/v1/receipts" => vec![
                json!({"subject": {"id": id}, "seq": 1}),
                json!({"subject": {"id": other}, "seq": u64::from(customer % 8) + 1}),
            ],
            "/v1/sessions" => by_subject(json!({"locale": "nl"})),
            "/v1/banner/choices" => vec![
                json!({"choices": [{"purpose": "newsletter", "action": "grant"}], "locale": "nl", "catalog_version": 1}),
                json!({"all": "accept"}),
                json!({"all": "reject", "subject": {"id": id}}),
            ],
            "/v1/webhooks" => vec![
                json!({"url": WEBHOOK_URL, "purposes": ["newsletter"], "from_seq": 1}),
                json!({"url": WEBHOOK_URL}),
            ],
            "/v1/webhooks/{id}/replay" => vec![json!({"from_seq": 1})],
            "/me/choices" => vec![
                json!({"csrf": csrf, "purpose": "newsletter", "action": "grant", "version": "1", "lang": "nl"}),
                json!({"csrf": csrf, "purpose": "service_analytics", "action": "object"}),
            ],
            "/me/presets" => vec![
                json!({"csrf": csrf, "preset": "balanced", "version": "1", "lang": "en"}),
                json!({"csrf": csrf, "preset": "everything"}),
            ],
            "/me/erase" => vec![
                json!({"csrf": csrf, "confirm": "yes", "lang": "nl"}),
                json!({"csrf": csrf}),
            ],
            "/v1/incidents" => vec![incident_draft()],
            "/v1/incidents/{number}/audience" => vec![
                json!({}),
                json!({"rule": {"granted_any_of": ["newsletter", "advertising_partners"], "from": "2026-01-01T00:00:00Z", "to": "2027-12-31T23:59:59+01:00"}}),
            ],
            "/v1/incidents/{number}/notify" => vec![
                json!({"rule": {}}),
                json!({"rule": {"granted_any_of": ["advertising_partners"]}}),
                json!({"identifiers": [id, other]}),
            ],
            "/v1/incidents/{number}/publish" => vec![json!({})],
            "/me/incidents" => vec![
                json!({"csrf": csrf, "incident": "1", "lang": "nl"}),
                json!({"csrf": csrf, "incident": "1"}),
            ],
            _ => vec![json!({})],
        }
    }

    fn headers(
        &self,
        h: &Headers,
        customer: u8,
        session: &CustomerSession,
    ) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match &h.auth {
            AuthInput::Full => {}
            AuthInput::Scope(i) => out.push((
                "authorization",
                format!(
                    "Bearer {}",
                    self.scoped[usize::from(*i) % self.scoped.len()]
                ),
            )),
            // An empty value: no key at all.
            AuthInput::Missing => out.push(("authorization", String::new())),
            AuthInput::Raw(s) => out.push(("authorization", s.clone())),
            AuthInput::Bearer(s) => out.push(("authorization", format!("Bearer {s}"))),
        }
        match &h.cookie {
            CookieInput::Session => {
                let cookie = session.cookie(&self.state);
                let value = cookie.split(';').next().unwrap_or_default().to_owned();
                out.push((
                    "cookie",
                    format!("{value}; keuze_device={}", device_id(customer)),
                ));
            }
            CookieInput::Missing => {}
            CookieInput::Raw(s) => out.push(("cookie", s.clone())),
            CookieInput::SessionValue(s) => out.push(("cookie", format!("keuze_session={s}"))),
        }
        if let Some(l) = &h.accept_language {
            out.push(("accept-language", l.clone()));
        }
        if h.banner {
            out.push(("x-keuze-banner", "1".into()));
        }
        if h.gpc {
            out.push(("sec-gpc", "1".into()));
        }
        out
    }

    fn path(&self, template: &str, path: &PathInput, customer: u8) -> String {
        let value = match path {
            PathInput::Real => None,
            PathInput::Raw(s) => Some(encode(s.as_bytes())),
        };
        let pseudonym = self
            .state
            .pseudonymizer()
            .pseudonym(&SubjectKey::Customer(customer_id(customer)))
            .to_hex();
        template
            .replace("{id}", value.as_deref().unwrap_or(&self.webhook))
            .replace("{pseudonym}", value.as_deref().unwrap_or(&pseudonym))
            .replace("{number}", value.as_deref().unwrap_or("1"))
            .replace(
                "{seq}",
                value
                    .as_deref()
                    .unwrap_or(&(u64::from(customer % 8) + 1).to_string()),
            )
    }

    async fn body_request(&self, input: &BodyRequest) {
        let route = &BODY_ROUTES[usize::from(input.route) % BODY_ROUTES.len()];
        let session = self.session(input.customer);
        let templates = self.templates(route.path, input.customer, &session);
        let encode_doc = |doc: &Value| -> Vec<u8> {
            match route.kind {
                BodyKind::Form => form_encode(doc),
                BodyKind::Toml => match doc {
                    Value::String(s) => s.clone().into_bytes(),
                    other => other.to_string().into_bytes(),
                },
                BodyKind::Json | BodyKind::Empty => doc.to_string().into_bytes(),
            }
        };
        let mut body = match &input.body {
            BodyInput::Template { which, edits } => {
                let mut doc = templates[usize::from(*which) % templates.len()].clone();
                for e in edits {
                    apply(&mut doc, e, &templates);
                }
                encode_doc(&doc)
            }
            BodyInput::Bytes { which, edits } => {
                let mut bytes = encode_doc(&templates[usize::from(*which) % templates.len()]);
                for e in edits {
                    apply_bytes(&mut bytes, e);
                }
                bytes
            }
            BodyInput::Raw(bytes) => bytes.clone(),
        };
        if route.path == "/v1/webhooks" {
            body = keep_webhooks_home(body);
        }
        let right = match route.kind {
            BodyKind::Json | BodyKind::Empty => "application/json",
            BodyKind::Form => "application/x-www-form-urlencoded",
            BodyKind::Toml => "application/toml",
        };
        let content_type = match &input.content_type {
            ContentTypeInput::Right => right.to_owned(),
            ContentTypeInput::Json => "application/json".into(),
            ContentTypeInput::Form => "application/x-www-form-urlencoded".into(),
            ContentTypeInput::Toml => "application/toml".into(),
            ContentTypeInput::Missing => String::new(),
            ContentTypeInput::Raw(s) => s.clone(),
        };
        let path = self.path(route.path, &input.path, input.customer);
        let headers = self.headers(&input.headers, input.customer, &session);
        let before = self.counts().await;
        let answer = self
            .send(
                route.method.clone(),
                &path,
                Some((&content_type, body)),
                &headers,
            )
            .await;
        let after = self.counts().await;
        let what = format!("{} {path}", route.method);
        let raw_path = matches!(input.path, PathInput::Raw(_)) && route.path.contains('{');
        check_answer(&what, route.kind == BodyKind::Form, raw_path, &answer);
        if answer.0.is_client_error() {
            assert_eq!(
                before, after,
                "{what} answered {} but changed the store",
                answer.0
            );
        }
        // A created webhook is removed at once, so nothing is ever delivered to it.
        if route.path == "/v1/webhooks" && answer.0 == StatusCode::CREATED {
            let created: Value = serde_json::from_slice(&answer.2).unwrap();
            let id = created["id"].as_str().unwrap();
            let res = self
                .send(Method::DELETE, &format!("/v1/webhooks/{id}"), None, &[])
                .await;
            assert!(
                res.0.is_success(),
                "could not delete webhook {id}: {} {}",
                res.0,
                String::from_utf8_lossy(&res.2)
            );
        }
    }

    async fn query_request(&self, input: &QueryRequest) {
        let routes = documented_get_routes();
        let template = &routes[usize::from(input.route) % routes.len()];
        let session = self.session(input.customer);
        let mut path = self.path(template, &input.path, input.customer);
        match &input.query {
            QueryInput::None => {}
            QueryInput::Raw(bytes) => {
                // Keep what a URI may hold as it is, so `&`, `=` and `%` reach the parser.
                let q: String = bytes
                    .iter()
                    .map(|&b| {
                        if b.is_ascii_graphic() && b != b'#' {
                            char::from(b).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect();
                path = format!("{path}?{q}");
            }
            QueryInput::Pairs(pairs) => {
                let q: Vec<String> = pairs
                    .iter()
                    .map(|(n, v)| {
                        format!(
                            "{}={}",
                            QUERY_NAMES[usize::from(*n) % QUERY_NAMES.len()],
                            encode(v.as_bytes())
                        )
                    })
                    .collect();
                path = format!("{path}?{}", q.join("&"));
            }
        }
        // A URI that does not parse is not a request a client can send.
        if path.parse::<axum::http::Uri>().is_err() {
            return;
        }
        let headers = self.headers(&input.headers, input.customer, &session);
        let before = self.counts().await;
        let answer = self.send(Method::GET, &path, None, &headers).await;
        let after = self.counts().await;
        let what = format!("GET {path}");
        let raw_path = matches!(input.path, PathInput::Raw(_)) && template.contains('{');
        let page = template.starts_with("/me") || !template.starts_with("/v1");
        check_answer(&what, page, raw_path, &answer);
        // A GET changes nothing, except that the banner records a browser's Global
        // Privacy Control signal as objections the first time it sees it.
        let gpc_recorded = input.headers.gpc
            && template.starts_with("/v1/banner/")
            && answer.0.is_success()
            && after.events >= before.events;
        if gpc_recorded {
            assert_eq!(
                Counts {
                    events: before.events,
                    ..after
                },
                before,
                "{what}"
            );
        } else {
            assert_eq!(
                before, after,
                "{what} answered {} but changed the store",
                answer.0
            );
        }
    }
}

/// Points any webhook URL a fuzzed body would create at this machine's discard port, so
/// fuzzing never sends events anywhere; everything else about the body is kept.
fn keep_webhooks_home(body: Vec<u8>) -> Vec<u8> {
    let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let Some(Value::String(url)) = doc.get_mut("url") else {
        return body;
    };
    if url == WEBHOOK_URL {
        return body;
    }
    *url = format!("{WEBHOOK_URL}/{}", encode(url.as_bytes()));
    doc.to_string().into_bytes()
}

/// Never a 5xx; a 4xx is a problem document (or, for pages, HTML).
fn check_answer(what: &str, page: bool, raw_path: bool, (status, content_type, body): &Answer) {
    let text = String::from_utf8_lossy(body);
    // A fuzzed path segment can make the path match no route (an empty one, a `/` in
    // it): that is the router's plain 404, as for any unknown path.
    if raw_path && *status == StatusCode::NOT_FOUND && content_type.is_none() && body.is_empty() {
        return;
    }
    assert!(
        !status.is_server_error(),
        "{what} answered {status}: {text}"
    );
    if !status.is_client_error() {
        return;
    }
    let ct = content_type.as_deref().unwrap_or("");
    if ct == "application/problem+json" {
        let problem: Value = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("{what}: a problem that is not JSON ({e}): {text}"));
        assert_eq!(problem["status"], status.as_u16(), "{what}: {text}");
        assert!(
            problem["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:keuze:problem:")),
            "{what}: {text}"
        );
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {text}"
        );
        return;
    }
    assert!(
        page && ct.starts_with("text/html"),
        "{what} answered {status} as `{ct}`, not as a problem: {text}"
    );
}
