//! Several `keuze serve` nodes on one PostgreSQL database (docs/scale-out.md): what one
//! node records, the others decide on within a bound; concurrent writes on every node
//! leave one gap-free ledger that verifies and a projection equal to a rebuild.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use keuze_store::Store;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{drop_schema, fresh_schema, postgres_or_skip, Cluster};

/// How soon a change recorded on one node must be what another node decides.
const BOUND: Duration = Duration::from_secs(1);

const PURPOSES: [&str; 3] = [
    "newsletter",
    "personalised_recommendations",
    "advertising_partners",
];

struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    async fn post(&self, base: &str, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{base}{path}"))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn record(&self, base: &str, customer: &str, purpose: &str, action: &str) {
        let body = json!({"subject": {"id": customer}, "choices": [{"purpose": purpose, "action": action}]});
        let (status, answer) = self.post(base, "/v1/consents", body).await;
        assert_eq!(status, 201, "{answer}");
    }

    async fn allowed(&self, base: &str, customer: &str, purpose: &str) -> bool {
        let body = json!({"subject": {"id": customer}, "purpose": purpose});
        let (status, answer) = self.post(base, "/v1/decide", body).await;
        assert_eq!(status, 200, "{answer}");
        answer["allowed"].as_bool().unwrap()
    }

    /// How long until `base` decides `allowed` for the customer, failing past `BOUND`.
    async fn until(&self, base: &str, customer: &str, purpose: &str, allowed: bool) -> Duration {
        let started = Instant::now();
        loop {
            if self.allowed(base, customer, purpose).await == allowed {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < BOUND,
                "{base} still does not decide allowed={allowed} for {purpose} after {BOUND:?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Every customer's decision on every purpose, as one node sees it.
    async fn decisions(&self, base: &str, customers: &[String]) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        for c in customers {
            for p in PURPOSES {
                out.push((c.clone(), p.to_owned(), self.allowed(base, c, p).await));
            }
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_agree_and_keep_one_verifiable_ledger() {
    let Some(url) = postgres_or_skip("two_nodes_on_one_postgres").await else {
        return;
    };
    let schema = fresh_schema("nodes");
    let cluster = Cluster::new(&url, &schema);
    let node1 = cluster.start(1);
    let node2 = cluster.start(2);
    let client = Client {
        http: reqwest::Client::new(),
        key: cluster.create_key(&["record", "decide"]),
    };
    let (one, two) = (node1.base.clone(), node2.base.clone());

    // A grant on node 1, then a withdrawal on node 1: node 2 follows within the bound.
    let mut delays = Vec::new();
    for i in 0..20 {
        let customer = format!("customer-{i}");
        client.record(&one, &customer, "newsletter", "grant").await;
        delays.push(client.until(&two, &customer, "newsletter", true).await);
        client
            .record(&one, &customer, "newsletter", "withdraw")
            .await;
        delays.push(client.until(&two, &customer, "newsletter", false).await);
    }
    // And the other way round.
    client
        .record(&two, "customer-0", "newsletter", "grant")
        .await;
    client.until(&one, "customer-0", "newsletter", true).await;
    // An erasure on node 1: node 2 answers `subject_erased` within the bound too.
    let admin = Client {
        http: client.http.clone(),
        key: cluster.create_key(&["admin"]),
    };
    let (status, answer) = admin
        .post(
            &one,
            "/v1/subjects/erase",
            json!({"subject": {"id": "customer-1"}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    // One erase entry per purpose the catalog has.
    let erased = answer["events"].as_array().map_or(0, Vec::len) as u64;
    assert!(erased > 0, "{answer}");
    let started = Instant::now();
    loop {
        let body = json!({"subject": {"id": "customer-1"}, "purpose": "newsletter"});
        let (_, answer) = client.post(&two, "/v1/decide", body).await;
        if answer["reason"] == "subject_erased" {
            break;
        }
        assert!(
            started.elapsed() < BOUND,
            "node 2 has not learnt of the erasure: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Customers told of an incident on node 1: their notice entries are gaps for node 2's
    // follower, which must go on past them.
    let incident = json!({
        "title": {"en": "A break-in", "nl": "Een inbraak"},
        "what_happened": {"en": "Someone broke into our mail service.", "nl": "Iemand brak in bij onze mailservice."},
        "window": {"from": "2026-11-02T00:00:00Z", "to": "2026-11-20T23:59:59Z"},
        "categories": ["contact.email"],
        "purposes": ["newsletter"],
        "consequences": {"en": "You may get fake mail.", "nl": "Je krijgt misschien nepmail."},
        "measures": {"en": "We closed the hole.", "nl": "We dichtten het lek."},
        "advice": {"en": "Do not click odd links.", "nl": "Klik niet op rare links."},
        "contact": "privacy@fietsenwinkel.example",
        "high_risk": false
    });
    let (status, answer) = admin.post(&one, "/v1/incidents", incident).await;
    assert_eq!(status, 201, "{answer}");
    let told: Vec<String> = (0..30).map(|i| format!("told-{i}@example.com")).collect();
    let (status, answer) = admin
        .post(&one, "/v1/incidents/1/notify", json!({"identifiers": told}))
        .await;
    assert_eq!((status, &answer["notified"]), (200, &json!(30)), "{answer}");
    client
        .record(&one, "after-notices", "newsletter", "grant")
        .await;
    delays.push(
        client
            .until(&two, "after-notices", "newsletter", true)
            .await,
    );
    let shown: Value = admin
        .http
        .get(format!("{two}/v1/incidents/1"))
        .bearer_auth(&admin.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["notified"], 30, "node 2 reads the same notices");

    delays.sort();
    eprintln!(
        "cross-node delay over {} changes: median {:?}, max {:?}",
        delays.len(),
        delays[delays.len() / 2],
        delays[delays.len() - 1]
    );

    // Concurrent writes on both nodes.
    let customers: Vec<String> = (0..40).map(|i| format!("busy-{i}")).collect();
    let mut tasks = Vec::new();
    for (t, base) in [&one, &two, &one, &two, &one, &two].into_iter().enumerate() {
        let base = base.clone();
        let customers = customers.clone();
        let client = Client {
            http: client.http.clone(),
            key: client.key.clone(),
        };
        tasks.push(tokio::spawn(async move {
            for n in 0..40 {
                let customer = &customers[(t * 7 + n * 3) % customers.len()];
                let purpose = PURPOSES[(t + n) % PURPOSES.len()];
                let action = if (t + n) % 3 == 0 {
                    "withdraw"
                } else {
                    "grant"
                };
                client.record(&base, customer, purpose, action).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Both nodes end up deciding alike on everything.
    let deadline = Instant::now() + BOUND;
    loop {
        let (a, b) = (
            client.decisions(&one, &customers).await,
            client.decisions(&two, &customers).await,
        );
        if a == b {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the nodes still disagree after {BOUND:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A node with a secret of its own would pseudonymise everyone afresh: refused.
    let stray = cluster.keuze(3, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(stray.status.code(), Some(3));
    let said = String::from_utf8_lossy(&stray.stderr);
    assert!(
        said.contains("is not the one this database was first served with"),
        "{said}"
    );
    assert!(said.contains("node3/secret.key"), "{said}");

    assert!(node1.terminate().success(), "{}", cluster.log(1));
    assert!(node2.terminate().success(), "{}", cluster.log(2));

    // One gap-free ledger holding every acknowledged write, and it verifies.
    let store = keuze_postgres::PgStore::connect_in_schema(&url, &schema)
        .await
        .unwrap();
    assert_eq!(
        store.ledger_entries(0, u32::MAX).await.unwrap().len() as u64,
        20 * 2 + 1 + erased + 1 + 6 * 40
    );
    // Between them, the admin entries: keys created, the catalog published, the erasure.
    let audit = store.admin_entries(0, 1000).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.action == keuze_core::admin::AdminAction::SubjectErased)
            .count(),
        1
    );
    let out = cluster.keuze(1, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let events = store.event_count().await.unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&format!("ok: {events} ledger entries"))
    );
    // The projection both nodes kept equals one rebuilt from the ledger.
    let kept = store.projection().await.unwrap();
    store.rebuild_projection().await.unwrap();
    assert_eq!(store.projection().await.unwrap(), kept);
    store.close().await;
    drop_schema(&url, &schema).await;
}
