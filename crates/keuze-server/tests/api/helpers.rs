use keuze_app::propagate::PropagationConfig;
use keuze_app::{AppState, ManualClock, ServerParts};
use keuze_core::admin::{Actor, Attribution};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{CatalogHistory, CatalogVersion, Pseudonymizer, Timestamp};
use keuze_server::listen::ConnectionLimits;
use keuze_server::Edge;
use keuze_sqlite::SqliteStore;
use keuze_store::{Outbox, Scope, Store};
use serde_json::{json, Value};
use std::sync::Arc;

pub const T0: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);

/// The setup's admin entries (the first catalog published, the test key created) take
/// seqs 1 and 2 of the ledger; the first consent event is seq 3.
pub const SETUP: u64 = 2;

/// The command line at `at`: how the tests' own setup (the first catalog, keys) is
/// attributed in the audit trail.
pub fn cli_at(at: Timestamp) -> Attribution {
    Attribution::new(Actor::cli(Some("test")), at)
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// A key holding every scope.
    pub key: String,
    pub store: Arc<dyn Store>,
    /// The same store, as propagation sees it.
    pub outbox: Arc<dyn Outbox>,
    pub clock: Arc<ManualClock>,
    /// The running app's state, to put newly published catalog versions in force.
    pub state: AppState,
    _dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(PropagationConfig::default()).await
}

/// An app whose webhooks and NATS stream are set up by `propagation`.
pub async fn spawn_app_with(propagation: PropagationConfig) -> TestApp {
    spawn_app_at_edge(propagation, &Edge::default(), ConnectionLimits::default()).await
}

/// An app with the given limits, served as `keuze serve` serves it.
pub async fn spawn_app_at_edge(
    propagation: PropagationConfig,
    edge: &Edge,
    connections: ConnectionLimits,
) -> TestApp {
    spawn(propagation, edge, connections, Some(sample_vendor_list())).await
}

/// The sample Global Vendor List, which `keuze serve` uses with the sample catalog.
pub fn sample_vendor_list() -> keuze_tcf::Gvl {
    keuze_tcf::Gvl::from_json(keuze_core::tcf::SAMPLE_VENDOR_LIST).unwrap()
}

/// An app that makes TC strings for `vendor_list`, or none without one.
pub async fn spawn_app_with_vendor_list(vendor_list: Option<keuze_tcf::Gvl>) -> TestApp {
    spawn(
        PropagationConfig::default(),
        &Edge::default(),
        ConnectionLimits::default(),
        vendor_list,
    )
    .await
}

async fn spawn(
    propagation: PropagationConfig,
    edge: &Edge,
    connections: ConnectionLimits,
    vendor_list: Option<keuze_tcf::Gvl>,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let store: Arc<dyn Store> = sqlite.clone();
    let outbox: Arc<dyn Outbox> = sqlite;
    let (catalog, _) = parse_catalog("sample", SAMPLE_CATALOG).unwrap();
    let stored = store
        .publish_catalog(
            catalog.digest(),
            catalog.canonical_json(),
            SAMPLE_CATALOG.into(),
            &cli_at(T0),
        )
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let state = AppState::start(ServerParts {
        store: Arc::clone(&store),
        catalog: CatalogHistory::new(CatalogVersion {
            number: stored.number,
            digest: catalog.digest(),
            catalog,
            published_at: T0,
        }),
        pseudonymizer: Pseudonymizer::new([9; 32]),
        clock: clock.clone(),
        seed: Some([3; 32]),
        log_key: keuze_core::checkpoint::LogKey::from_seed([5; 32], "keuze.test/log").unwrap(),
        index_snapshot: None,
        outbox: Some(Arc::clone(&outbox)),
        propagation,
        ledger_growth: None,
        tcf_vendor_list: vendor_list.map(Arc::new),
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = keuze_server::app_with(state.clone(), edge);
    tokio::spawn(keuze_server::listen::serve(
        listener,
        app,
        connections,
        None,
        std::future::pending(),
    ));
    let app = TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        key: String::new(),
        store,
        outbox,
        clock,
        state,
        _dir: dir,
    };
    let key = app.key_with(&Scope::ALL).await;
    TestApp { key, ..app }
}

impl TestApp {
    pub async fn key_with(&self, scopes: &[Scope]) -> String {
        let (secret, key) = keuze_app::keys::mint_api_key(
            scopes.to_vec(),
            "test".into(),
            T0,
            &mut rand::thread_rng(),
        );
        self.store.insert_api_key(&key, &cli_at(T0)).await.unwrap();
        secret
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
    }

    /// Records choices and returns the response body, asserting 201.
    pub async fn record(&self, subject: &str, choices: &[(&str, &str)]) -> Value {
        let choices: Vec<Value> = choices
            .iter()
            .map(|(p, a)| json!({"purpose": p, "action": a}))
            .collect();
        let res = self
            .post(
                "/v1/consents",
                &json!({"subject": {"id": subject}, "choices": choices}),
            )
            .await;
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    pub async fn decide(&self, subject: &str, purpose: &str) -> Value {
        let res = self
            .post(
                "/v1/decide",
                &json!({"subject": {"id": subject}, "purpose": purpose}),
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The consent events in the ledger (admin entries, two of which the setup makes,
    /// are not counted).
    pub async fn consent_seqs(&self) -> std::collections::BTreeSet<u64> {
        let entries = self.store.ledger_entries(0, u32::MAX).await.unwrap();
        entries.iter().map(|e| e.seq).collect()
    }

    pub async fn ledger_len(&self) -> u64 {
        self.store.ledger_entries(0, u32::MAX).await.unwrap().len() as u64
    }
}

/// Asserts a problem-details response and returns its body.
pub async fn problem(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status(), status);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:keuze:problem:"));
    assert!(!body["title"].as_str().unwrap().is_empty());
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}
