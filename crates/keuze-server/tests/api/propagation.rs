//! Propagation against real receivers: an HTTP server in this process that verifies every
//! signature, and the NATS server on this machine (JetStream on).

use crate::helpers::{problem, spawn_app_with, TestApp};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use keuze_app::propagate::webhook::{verify_signature, SIGNATURE_HEADER};
use keuze_app::propagate::{NatsConfig, PropagationConfig, RetryPolicy};
use keuze_store::Scope;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Retries in milliseconds, so tests are quick; enough attempts to outlast an outage.
fn fast_retries(max_attempts: u32) -> PropagationConfig {
    PropagationConfig {
        retry: RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
            timeout: Duration::from_secs(2),
        },
        batch: 64,
        ..PropagationConfig::default()
    }
}

#[derive(Default)]
struct Received {
    secret: Mutex<String>,
    /// Verified deliveries in arrival order.
    events: Mutex<Vec<Value>>,
    bodies: Mutex<Vec<String>>,
    bad_signatures: AtomicUsize,
    /// While set, every delivery is answered 500.
    failing: AtomicBool,
}

impl Received {
    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    fn seqs(&self) -> BTreeSet<u64> {
        self.events()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect()
    }
}

async fn receive(State(r): State<Arc<Received>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if r.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let secret = r.secret.lock().unwrap().clone();
    let signed = headers
        .get(SIGNATURE_HEADER)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| verify_signature(&secret, h, &body));
    if signed.is_none() {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        headers["keuze-event-seq"].to_str().unwrap(),
        event["seq"].to_string()
    );
    r.bodies
        .lock()
        .unwrap()
        .push(String::from_utf8(body.to_vec()).unwrap());
    r.events.lock().unwrap().push(event);
    StatusCode::NO_CONTENT
}

/// Serves the receiver on `listener`.
fn serve_receiver(listener: tokio::net::TcpListener, received: Arc<Received>) {
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(received);
    tokio::spawn(async move { axum::serve(listener, app).await });
}

async fn start_receiver() -> (String, Arc<Received>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Received::default());
    serve_receiver(listener, Arc::clone(&received));
    (url, received)
}

/// Creates a webhook through the admin API; returns its id and tells the receiver the
/// secret.
async fn create_webhook(app: &TestApp, body: Value, received: &Received) -> String {
    let res = app.post("/v1/webhooks", &body).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    *received.secret.lock().unwrap() = secret.to_owned();
    created["id"].as_str().unwrap().to_owned()
}

/// Waits up to 20 s for `done`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Per subject, the seqs in arrival order must increase.
fn assert_in_order_per_subject(events: &[Value]) {
    let mut last: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        let subject = e["subject"].as_str().unwrap().to_owned();
        let seq = e["seq"].as_u64().unwrap();
        if let Some(&before) = last.get(&subject) {
            assert!(
                seq > before,
                "subject {subject}: seq {seq} arrived after {before}"
            );
        }
        last.insert(subject, seq);
    }
}

#[tokio::test]
async fn every_event_arrives_signed_with_the_pseudonym_never_the_raw_id() {
    let app = spawn_app_with(fast_retries(5)).await;
    let (url, received) = start_receiver().await;
    let id = create_webhook(&app, json!({"url": url}), &received).await;
    let (url2, only_newsletter) = start_receiver().await;
    create_webhook(
        &app,
        json!({"url": url2, "purposes": ["newsletter"]}),
        &only_newsletter,
    )
    .await;

    for n in 0..10 {
        let customer = format!("alice{n}@example.com");
        app.record(
            &customer,
            &[("newsletter", "grant"), ("product_reviews", "grant")],
        )
        .await;
        app.record(&customer, &[("newsletter", "withdraw")]).await;
    }
    let all: BTreeSet<u64> = app.consent_seqs().await;
    eventually("every event reached the receiver", || {
        received.seqs() == all
    })
    .await;
    eventually("the newsletter webhook had its 20", || {
        only_newsletter.events().len() == 20
    })
    .await;
    assert_eq!(received.bad_signatures.load(Ordering::SeqCst), 0);
    assert_eq!(received.events().len(), 30, "each event once");
    assert!(only_newsletter
        .events()
        .iter()
        .all(|e| e["purpose"] == "newsletter"));
    assert_in_order_per_subject(&received.events());
    let first = &received.events()[0];
    assert_eq!(first["type"], "consent.grant");
    assert_eq!(first["subject"].as_str().unwrap().len(), 64);
    assert!(received
        .bodies
        .lock()
        .unwrap()
        .iter()
        .all(|b| !b.contains("example.com")));

    // The list shows how far delivery is, never the secret.
    let list: Value = app.get("/v1/webhooks").await.json().await.unwrap();
    let hook = list["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(hook.get("secret").is_none(), "{hook}");
    assert_eq!(hook["url"], url.as_str());
    eventually_async_lag_zero(&app, &id).await;

    let metrics = app.get("/metrics").await.text().await.unwrap();
    for name in [
        "keuze_outbox_lag_events",
        "keuze_propagation_delivery_seconds",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
}

async fn eventually_async_lag_zero(app: &TestApp, id: &str) {
    for _ in 0..500 {
        let list: Value = app.get("/v1/webhooks").await.json().await.unwrap();
        let lag = list["webhooks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == id)
            .map(|w| w["lag"].as_u64().unwrap());
        if lag == Some(0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("webhook {id} never caught up");
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_everything_in_order_per_subject() {
    let app = spawn_app_with(fast_retries(100_000)).await;
    // A port with nobody listening: deliveries are refused until the receiver starts.
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = reserved.local_addr().unwrap();
    drop(reserved);
    let received = Arc::new(Received::default());
    let id = create_webhook(
        &app,
        json!({"url": format!("http://{addr}/hook")}),
        &received,
    )
    .await;

    let mut writes = Vec::new();
    for round in 0..6 {
        for subject in 0..5 {
            let action = if round % 2 == 0 { "grant" } else { "withdraw" };
            writes.push((format!("customer-{subject}"), action));
        }
    }
    for (customer, action) in &writes {
        app.record(customer, &[("newsletter", action)]).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(received.events().is_empty());

    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    serve_receiver(listener, Arc::clone(&received));
    let all: BTreeSet<u64> = app.consent_seqs().await;
    eventually("everything arrived after the outage", || {
        received.seqs() == all
    })
    .await;
    assert_in_order_per_subject(&received.events());
    assert_eq!(received.bad_signatures.load(Ordering::SeqCst), 0);
    let dead: Value = app
        .get(&format!("/v1/webhooks/{id}/dead-letters"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dead["dead_letters"], json!([]));
}

#[tokio::test]
async fn deliveries_that_keep_failing_are_dead_letters_until_replayed() {
    let app = spawn_app_with(fast_retries(3)).await;
    let (url, received) = start_receiver().await;
    received.failing.store(true, Ordering::SeqCst);
    let id = create_webhook(&app, json!({"url": url}), &received).await;
    app.record("bob", &[("newsletter", "grant")]).await;
    app.record("bob", &[("newsletter", "withdraw")]).await;

    let mut letters = Value::Null;
    for _ in 0..1000 {
        letters = app
            .get(&format!("/v1/webhooks/{id}/dead-letters"))
            .await
            .json()
            .await
            .unwrap();
        if letters["dead_letters"].as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dead = letters["dead_letters"].as_array().unwrap();
    assert_eq!(dead.len(), 2, "{letters}");
    let first = *app.consent_seqs().await.first().unwrap();
    assert_eq!(dead[0]["seq"], first);
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["error"], "the receiver answered HTTP 500");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    // Ids come from the tests' fixed seed, so other tests may count under the same label.
    let failures = format!("keuze_webhook_failures_total{{webhook=\"{id}\"}} ");
    let counted: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&failures))
        .unwrap_or_else(|| panic!("{failures} not in /metrics"))
        .parse()
        .unwrap();
    assert!(
        counted >= 6.0,
        "2 events x 3 attempts failed, /metrics says {counted}"
    );

    // The receiver is fixed; replaying from seq 1 delivers both, in order.
    received.failing.store(false, Ordering::SeqCst);
    let res = app
        .post(
            &format!("/v1/webhooks/{id}/replay"),
            &json!({"from_seq": 1}),
        )
        .await;
    assert_eq!(res.status(), 202);
    eventually("the replay arrived", || received.events().len() == 2).await;
    assert_eq!(received.seqs(), BTreeSet::from([first, first + 1]));
    assert_in_order_per_subject(&received.events());
    let letters: Value = app
        .get(&format!("/v1/webhooks/{id}/dead-letters"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(letters["dead_letters"], json!([]));

    // Deleting stops delivery.
    let res = app
        .client
        .delete(format!("{}/v1/webhooks/{id}", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    app.record("bob", &[("newsletter", "grant")]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(received.events().len(), 2);
}

#[tokio::test]
async fn an_erasure_reaches_subscribers_then_its_pseudonym_is_forgotten() {
    let app = spawn_app_with(fast_retries(5)).await;
    let (url, received) = start_receiver().await;
    create_webhook(&app, json!({"url": url}), &received).await;
    let recorded = app.record("carol", &[("newsletter", "grant")]).await;
    let subject = recorded["subject"].as_str().unwrap().to_owned();
    let res = app
        .post("/v1/subjects/erase", &json!({"subject": {"id": "carol"}}))
        .await;
    assert_eq!(res.status(), 200);
    // The erase entry: the last consent event (the erasure's admin entry follows it).
    let last = *app.consent_seqs().await.last().unwrap();
    eventually("the erasure arrived", || received.seqs().contains(&last)).await;
    let erase = received
        .events()
        .into_iter()
        .find(|e| e["seq"] == last)
        .unwrap();
    assert_eq!(erase["type"], "consent.erase");
    assert_eq!(erase["subject"], subject.as_str());
    // Delivered everywhere: the outbox no longer ties the erased subject to its entries.
    let mut forgotten = false;
    for _ in 0..200 {
        let batch = app.outbox.outbox_events(0, 100).await.unwrap();
        if batch.events.is_empty() && batch.through == last {
            forgotten = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(forgotten, "the erased subject's pseudonym is still held");
}

#[tokio::test]
async fn bad_webhook_requests_are_problems_that_change_nothing() {
    let app = spawn_app_with(fast_retries(3)).await;
    for (body, pointer) in [
        (json!({"url": "ftp://example.com/x"}), "/url"),
        (json!({"url": "not a url"}), "/url"),
        (
            json!({"url": "https://ok.example/", "purposes": ["no_such_purpose"]}),
            "/purposes/0",
        ),
        (
            json!({"url": "https://ok.example/", "purposes": ["Bad-Id"]}),
            "/purposes/0",
        ),
        (
            json!({"url": "https://ok.example/", "from_seq": 99}),
            "/from_seq",
        ),
    ] {
        let body = problem(app.post("/v1/webhooks", &body).await, 422).await;
        assert_eq!(body["errors"][0]["pointer"], pointer, "{body}");
    }
    let body = problem(
        app.post(
            "/v1/webhooks",
            &json!({"url": "https://ok.example/", "secret": "x"}),
        )
        .await,
        422,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("secret"),
        "{body}"
    );
    let list: Value = app.get("/v1/webhooks").await.json().await.unwrap();
    assert_eq!(list["webhooks"], json!([]));

    problem(app.get("/v1/webhooks/wh_nope/dead-letters").await, 404).await;
    problem(
        app.post("/v1/webhooks/wh_nope/replay", &json!({"from_seq": 1}))
            .await,
        404,
    )
    .await;

    let recorder = app.key_with(&[Scope::Record]).await;
    let res = app
        .client
        .get(format!("{}/v1/webhooks", app.base))
        .bearer_auth(recorder)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

// ---- NATS JetStream ----

/// The NATS server for tests, or `None` (with a loud message) when it is not running;
/// with `KEUZE_REQUIRE_SERVICES=1` a missing server fails the test instead.
pub async fn nats_or_skip(test: &str) -> Option<(String, async_nats::Client)> {
    let url =
        std::env::var("KEUZE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let connected = tokio::time::timeout(
        Duration::from_secs(3),
        async_nats::ConnectOptions::new().connect(url.as_str()),
    )
    .await;
    match connected {
        Ok(Ok(client)) => Some((url, client)),
        Ok(Err(e)) => skip(test, &url, &e.to_string()),
        Err(_) => skip(test, &url, "timed out"),
    }
}

fn skip<T>(test: &str, url: &str, why: &str) -> Option<T> {
    if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!(
            "{test}: NATS at {url} is required (KEUZE_REQUIRE_SERVICES=1) but unreachable: {why}"
        );
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED {test}: no NATS at {url} ({why}); start nats-server -js or set KEUZE_TEST_NATS_URL !!!!!!!!\n"
    );
    None
}

/// A stream name and subject prefix no other test run uses.
pub fn unique_stream() -> (String, String) {
    let tag = hex::encode(rand::random::<[u8; 6]>());
    (format!("KEUZE_TEST_{tag}"), format!("keuzetest.{tag}"))
}

#[tokio::test]
async fn every_event_arrives_on_jetstream_exactly_once() {
    let Some((url, client)) = nats_or_skip("every_event_arrives_on_jetstream_exactly_once").await
    else {
        return;
    };
    let (stream_name, prefix) = unique_stream();
    let mut config = fast_retries(5);
    config.nats = Some(NatsConfig {
        url,
        stream: stream_name.clone(),
        subject_prefix: prefix.clone(),
    });
    let app = spawn_app_with(config).await;
    for n in 0..20 {
        let customer = format!("dave{n}");
        app.record(
            &customer,
            &[("newsletter", "grant"), ("product_reviews", "grant")],
        )
        .await;
        app.record(&customer, &[("product_reviews", "withdraw")])
            .await;
    }
    let total = app.ledger_len().await;
    assert_eq!(total, 60);

    let js = async_nats::jetstream::new(client);
    let mut stream = None;
    for _ in 0..1000 {
        if let Ok(mut s) = js.get_stream(&stream_name).await {
            if s.info().await.unwrap().state.messages == total {
                stream = Some(s);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut stream = stream.expect("the stream never held every event");
    // Nothing more arrives later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(stream.info().await.unwrap().state.messages, total);

    let mut seen = BTreeSet::new();
    for n in 1..=total {
        let msg = stream.get_raw_message(n).await.unwrap();
        let event: Value = serde_json::from_slice(&msg.payload).unwrap();
        let seq = event["seq"].as_u64().unwrap();
        assert_eq!(
            msg.headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .unwrap()
                .as_str(),
            seq.to_string()
        );
        assert_eq!(
            msg.subject.as_str(),
            format!("{prefix}.{}", event["purpose"].as_str().unwrap())
        );
        assert!(seen.insert(seq), "seq {seq} is in the stream twice");
    }
    assert_eq!(seen, app.consent_seqs().await);
    js.delete_stream(&stream_name).await.unwrap();
}
