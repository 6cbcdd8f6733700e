//! The example against a real Keuze (in this process) publishing to the real NATS server:
//! the cache it builds from the stream answers like Keuze does.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_app::propagate::{NatsConfig, PropagationConfig};
use keuze_app::{AppState, ManualClock, ServerParts};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{CatalogHistory, CatalogVersion, Pseudonymizer, SubjectKey, Timestamp};
use keuze_example_decision_cache::{follow, DecisionCache};
use keuze_sqlite::SqliteStore;
use keuze_store::{Outbox, Scope, Store};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn the_cache_follows_grants_and_withdrawals() {
    let url =
        std::env::var("KEUZE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let client = match tokio::time::timeout(
        Duration::from_secs(3),
        async_nats::connect(url.as_str()),
    )
    .await
    {
        Ok(Ok(c)) => c,
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!(
                    "NATS at {url} is required (KEUZE_REQUIRE_SERVICES=1) but unreachable: {why}"
                );
            }
            eprintln!("\n!!!!!!!! SKIPPED the_cache_follows_grants_and_withdrawals: no NATS at {url} ({why}) !!!!!!!!\n");
            return;
        }
    };
    let tag = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let stream = format!("KEUZE_EXAMPLE_{tag}");

    let t0 = Timestamp::from_unix_millis(1_800_000_000_000);
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
            &keuze_core::admin::Attribution::new(keuze_core::admin::Actor::cli(None), t0),
        )
        .await
        .unwrap();
    let pseudonymizer = Pseudonymizer::new([9; 32]);
    let state = AppState::start(ServerParts {
        store: Arc::clone(&store),
        catalog: CatalogHistory::new(CatalogVersion {
            number: stored.number,
            digest: catalog.digest(),
            catalog,
            published_at: t0,
        }),
        pseudonymizer: pseudonymizer.clone(),
        clock: Arc::new(ManualClock::new(t0)),
        seed: Some([3; 32]),
        log_key: keuze_core::checkpoint::LogKey::from_seed([5; 32], "keuze.test/log").unwrap(),
        outbox: Some(outbox),
        propagation: PropagationConfig {
            nats: Some(NatsConfig {
                url,
                stream: stream.clone(),
                subject_prefix: format!("keuzeexample.{tag}"),
            }),
            ..PropagationConfig::default()
        },
        index_snapshot: None,
        tcf_vendor_list: None,
        ledger_growth: None,
    })
    .await
    .unwrap();
    let (key, stored_key) =
        keuze_app::keys::mint_api_key(vec![Scope::Record], "t".into(), t0, &mut rand::thread_rng());
    let by = keuze_core::admin::Attribution::new(keuze_core::admin::Actor::cli(None), t0);
    store.insert_api_key(&stored_key, &by).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = keuze_server::app(state);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let mut last = 0;
    for (who, action) in [
        ("ann", "grant"),
        ("ben", "grant"),
        ("ann", "withdraw"),
        ("cas", "grant"),
        ("cas", "withdraw"),
        ("cas", "grant"),
    ] {
        let body = format!(
            r#"{{"subject": {{"id": "{who}"}}, "choices": [{{"purpose": "newsletter", "action": "{action}"}}]}}"#
        );
        let res = http
            .post(format!("{base}/v1/consents"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        // The event's own seq: admin entries (the catalog, the key) take seqs too.
        let body: serde_json::Value = res.json().await.unwrap();
        last = body["events"][0]["seq"].as_u64().unwrap();
    }

    // The stream is created by Keuze's first publish; wait for it.
    let js = async_nats::jetstream::new(client.clone());
    for _ in 0..500 {
        if js.get_stream(&stream).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut cache = DecisionCache::default();
    let mut changes = 0;
    tokio::time::timeout(
        Duration::from_secs(20),
        follow(&client, &stream, &mut cache, Some(last), |_, _| {
            changes += 1
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(changes, 6);
    let p = |who: &str| {
        pseudonymizer
            .pseudonym(&SubjectKey::Customer(who.into()))
            .to_hex()
    };
    assert!(!cache.allowed(&p("ann"), "newsletter"));
    assert!(cache.allowed(&p("ben"), "newsletter"));
    assert!(cache.allowed(&p("cas"), "newsletter"));
    assert!(!cache.allowed(&p("dan"), "newsletter"));
    js.delete_stream(&stream).await.unwrap();
}
