//! Propagation latency: from an acknowledged withdrawal (the `201` of `POST /v1/consents`
//! in the client's hands) to its webhook arriving at a receiver and to its message
//! arriving at a JetStream consumer. Baselines measured in the same run: a bare POST from
//! this process to the same receiver, and a bare JetStream publish to the same kind of
//! consumer. Run with `cargo bench -p keuze-server --bench propagation`
//! (KEUZE_BENCH_WITHDRAWALS to resize; NATS from KEUZE_TEST_NATS_URL or 127.0.0.1:4222).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use async_nats::jetstream::{self, consumer::push::OrderedConfig, stream};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use futures_util::StreamExt;
use keuze_app::propagate::{ConfiguredWebhook, NatsConfig, PropagationConfig};
use keuze_app::{AppState, Clock, ServerParts, SystemClock};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{CatalogHistory, CatalogVersion, Pseudonymizer};
use keuze_sqlite::SqliteStore;
use keuze_store::{Outbox, Scope, Store};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Arrivals = Arc<Mutex<HashMap<u64, Instant>>>;

async fn receive(State(arrivals): State<Arrivals>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let event: Value = serde_json::from_slice(&body).unwrap();
    if let Some(seq) = event["seq"].as_u64() {
        arrivals.lock().unwrap().insert(seq, at);
    }
    StatusCode::NO_CONTENT
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&ms, 0.5), percentile(&ms, 0.99));
    println!(
        "{what:<48} n={:<5} p50 {p50:>7.3} ms   p99 {p99:>7.3} ms   max {:>7.3} ms",
        ms.len(),
        ms[ms.len() - 1]
    );
    (p50, p99)
}

async fn wait_for(arrivals: &Arrivals, seq: u64) -> Instant {
    for _ in 0..200_000 {
        if let Some(at) = arrivals.lock().unwrap().get(&seq) {
            return *at;
        }
        tokio::time::sleep(Duration::from_micros(100)).await;
    }
    panic!("seq {seq} never arrived");
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("KEUZE_BENCH_WITHDRAWALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let nats_url =
        std::env::var("KEUZE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let nats = async_nats::connect(nats_url.as_str()).await.ok();
    if nats.is_none() {
        eprintln!("!!!!!!!! no NATS at {nats_url}: only webhooks are measured !!!!!!!!");
    }

    // The receiver.
    let arrivals: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let receiver = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Arc::clone(&arrivals));
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    // The server, as `keuze serve` sets it up.
    let tag = format!("{:08x}", rand::random::<u32>());
    let (stream_name, prefix) = (format!("KEUZE_BENCH_{tag}"), format!("keuzebench.{tag}"));
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let store: Arc<dyn Store> = sqlite.clone();
    let outbox: Arc<dyn Outbox> = sqlite;
    let (catalog, _) = parse_catalog("sample", SAMPLE_CATALOG).unwrap();
    let now = SystemClock.now();
    let stored = store
        .publish_catalog(
            catalog.digest(),
            catalog.canonical_json(),
            SAMPLE_CATALOG.into(),
            &keuze_core::admin::Attribution::new(keuze_core::admin::Actor::cli(None), now),
        )
        .await
        .unwrap();
    let propagation = PropagationConfig {
        nats: nats.as_ref().map(|_| NatsConfig {
            url: nats_url.clone(),
            stream: stream_name.clone(),
            subject_prefix: prefix.clone(),
        }),
        webhooks: vec![ConfiguredWebhook {
            name: "bench".into(),
            url: hook.clone(),
            purposes: vec![],
            secret: "whsec_bench".into(),
        }],
        ..PropagationConfig::default()
    };
    let state = AppState::start(ServerParts {
        store: Arc::clone(&store),
        catalog: CatalogHistory::new(CatalogVersion {
            number: stored.number,
            digest: catalog.digest(),
            catalog,
            published_at: now,
        }),
        pseudonymizer: Pseudonymizer::new([9; 32]),
        clock: Arc::new(SystemClock),
        seed: None,
        log_key: keuze_core::checkpoint::LogKey::from_seed([5; 32], "keuze.bench/log").unwrap(),
        outbox: Some(outbox),
        propagation,
        index_snapshot: None,
        ledger_growth: None,
        tcf_vendor_list: None,
    })
    .await
    .unwrap();
    let (secret, key) = keuze_app::keys::mint_api_key(
        vec![Scope::Record],
        "bench".into(),
        now,
        &mut rand::thread_rng(),
    );
    store
        .insert_api_key(
            &key,
            &keuze_core::admin::Attribution::new(keuze_core::admin::Actor::cli(None), now),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = keuze_server::app(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();

    // The JetStream consumer: an ordered push consumer, as the example consumer uses.
    let js_arrivals: Arrivals = Arc::default();
    let mut js_ctx = None;
    if let Some(client) = &nats {
        let js = jetstream::new(client.clone());
        let stream = js
            .get_or_create_stream(stream::Config {
                name: stream_name.clone(),
                subjects: vec![format!("{prefix}.>")],
                ..Default::default()
            })
            .await
            .unwrap();
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_subject: client.new_inbox(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let arrivals = Arc::clone(&js_arrivals);
        tokio::spawn(async move {
            while let Some(Ok(m)) = messages.next().await {
                let at = Instant::now();
                let event: Value = serde_json::from_slice(&m.payload).unwrap_or_default();
                if let Some(seq) = event["seq"].as_u64() {
                    arrivals.lock().unwrap().insert(seq, at);
                } else if let Some(seq) = event["baseline"].as_u64() {
                    arrivals.lock().unwrap().insert(1_000_000_000 + seq, at);
                }
            }
        });
        js_ctx = Some(js);
    }

    // Warm up: connections, the first commit, the consumer.
    for i in 0..20 {
        record(&client, &base, &secret, &format!("warm-{i}"), "grant").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Baseline 1: a bare POST from here to the receiver, arrival time from send.
    let mut bare = Vec::new();
    for i in 0..n {
        let seq = 2_000_000_000 + i;
        let started = Instant::now();
        client
            .post(&hook)
            .json(&json!({"seq": seq}))
            .send()
            .await
            .unwrap();
        let at = wait_for(&arrivals, seq).await;
        bare.push(at.saturating_duration_since(started).as_secs_f64() * 1e3);
    }

    // Withdrawals, one at a time: acknowledged → webhook, acknowledged → JetStream.
    let mut to_webhook = Vec::new();
    let mut to_nats = Vec::new();
    let mut ack_ms = Vec::new();
    let mut early = 0;
    for i in 0..n {
        let started = Instant::now();
        let seq = record(
            &client,
            &base,
            &secret,
            &format!("customer-{i}"),
            "withdraw",
        )
        .await;
        let acked = Instant::now();
        ack_ms.push(acked.duration_since(started).as_secs_f64() * 1e3);
        let at = wait_for(&arrivals, seq).await;
        if at < acked {
            early += 1;
        }
        to_webhook.push(at.saturating_duration_since(acked).as_secs_f64() * 1e3);
        if js_ctx.is_some() {
            let at = wait_for(&js_arrivals, seq).await;
            to_nats.push(at.saturating_duration_since(acked).as_secs_f64() * 1e3);
        }
    }

    // Baseline 2: a bare JetStream publish from here to the same consumer.
    let mut bare_js = Vec::new();
    if let Some(js) = &js_ctx {
        for i in 0..n {
            let started = Instant::now();
            js.publish(
                format!("{prefix}.baseline"),
                serde_json::to_vec(&json!({"baseline": i})).unwrap().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
            let at = wait_for(&js_arrivals, 1_000_000_000 + i).await;
            bare_js.push(at.saturating_duration_since(started).as_secs_f64() * 1e3);
        }
    }

    println!("propagation latency, {n} withdrawals one at a time (release build):");
    report("withdrawal: POST /v1/consents until 201", ack_ms);
    let (bw50, _) = report("baseline: bare POST to the receiver", bare);
    let (w50, _) = report("acknowledged withdrawal -> webhook arrival", to_webhook);
    println!("  ({early} of {n} webhooks arrived before the client had the 201; counted as 0)");
    println!(
        "  ratio p50 webhook / bare POST: {:.2}",
        w50 / bw50.max(1e-9)
    );
    if let Some(js) = &js_ctx {
        let (bn50, _) = report("baseline: bare JetStream publish -> consumer", bare_js);
        let (n50, _) = report("acknowledged withdrawal -> JetStream consumer", to_nats);
        println!(
            "  ratio p50 JetStream / bare publish: {:.2}",
            n50 / bn50.max(1e-9)
        );
        js.delete_stream(&stream_name).await.unwrap();
    }
}

async fn record(client: &reqwest::Client, base: &str, key: &str, who: &str, action: &str) -> u64 {
    let res: Value = client
        .post(format!("{base}/v1/consents"))
        .bearer_auth(key)
        .json(&json!({"subject": {"id": who}, "choices": [{"purpose": "newsletter", "action": action}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["events"][0]["seq"].as_u64().unwrap()
}
