//! Provable consent over HTTP: checkpoints, proofs, receipts, erasure.

use crate::helpers::{problem, spawn_app, TestApp, SETUP};
use keuze_core::checkpoint::{open, LogVerifier};
use keuze_core::merkle::{hash_from_hex, verify_consistency, verify_inclusion};
use keuze_core::receipt::{verify_receipt, Receipt};
use serde_json::{json, Value};

async fn verifiers(app: &TestApp) -> Vec<LogVerifier> {
    let keys: Value = app.get("/v1/log/keys").await.json().await.unwrap();
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| LogVerifier::parse(k.as_str().unwrap()).unwrap())
        .collect()
}

async fn receipt(app: &TestApp, subject: &str, seq: u64) -> reqwest::Response {
    app.post(
        "/v1/receipts",
        &json!({"subject": {"id": subject}, "seq": seq}),
    )
    .await
}

#[tokio::test]
async fn checkpoints_are_signed_and_consistent() {
    let app = spawn_app().await;
    // The setup's admin entries are the first leaves.
    let note0 = app.get("/v1/log/checkpoint").await.text().await.unwrap();
    assert_eq!(open(&note0, &verifiers(&app).await).unwrap().size, SETUP);
    app.record(
        "a",
        &[("newsletter", "grant"), ("product_reviews", "grant")],
    )
    .await;
    let note1 = app.get("/v1/log/checkpoint").await.text().await.unwrap();
    let keys = verifiers(&app).await;
    let cp1 = open(&note1, &keys).unwrap();
    assert_eq!(cp1.size, SETUP + 2);
    assert_eq!(cp1.origin, "keuze.test/log");

    app.record("b", &[("newsletter", "grant")]).await;
    let note2 = app.get("/v1/log/checkpoint").await.text().await.unwrap();
    let cp2 = open(&note2, &keys).unwrap();
    assert_eq!(cp2.size, SETUP + 3);

    let c: Value = app
        .get("/v1/log/proof/consistency?from=4&to=5")
        .await
        .json()
        .await
        .unwrap();
    let proof: Vec<_> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    verify_consistency(SETUP + 2, SETUP + 3, &cp1.root, &cp2.root, &proof).unwrap();

    let i: Value = app
        .get("/v1/log/proof/inclusion?seq=5")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (i["leaf_index"].as_u64(), i["tree_size"].as_u64()),
        (Some(SETUP + 2), Some(SETUP + 3))
    );
    problem(app.get("/v1/log/proof/inclusion?seq=9").await, 422).await;
}

#[tokio::test]
async fn a_receipt_verifies_offline_and_every_field_counts() {
    let app = spawn_app().await;
    app.record("anna@example.com", &[("newsletter", "grant")])
        .await;
    app.record("bert@example.com", &[("newsletter", "grant")])
        .await;
    let res = receipt(&app, "anna@example.com", SETUP + 1).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let r: Receipt = serde_json::from_str(&text).unwrap();
    let keys = verifiers(&app).await;
    let verified = verify_receipt(&r, &keys).unwrap();
    assert_eq!(verified.entry.seq, SETUP + 1);
    assert_eq!(r.controller.name, "Fietsenwinkel B.V.");
    assert_eq!(r.purpose.id.as_str(), "newsletter");
    // Nobody gets a receipt for someone else's event.
    problem(receipt(&app, "anna@example.com", SETUP + 2).await, 404).await;
    // Changing a field breaks it.
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["event"]["action"] = json!("withdraw");
    let tampered: Receipt = serde_json::from_value(v).unwrap();
    assert!(verify_receipt(&tampered, &keys).is_err());
}

#[tokio::test]
async fn erasure_forgets_the_subject_and_keeps_the_proofs() {
    let app = spawn_app().await;
    app.record("carla@example.com", &[("newsletter", "grant")])
        .await;
    app.record("dirk@example.com", &[("newsletter", "grant")])
        .await;
    let before: Receipt = receipt(&app, "carla@example.com", SETUP + 1)
        .await
        .json()
        .await
        .unwrap();
    let keys = verifiers(&app).await;

    let res = app
        .post(
            "/v1/subjects/erase",
            &json!({"subject": {"id": "carla@example.com"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let erased: Value = res.json().await.unwrap();
    assert!(erased["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == "erase"));

    let d = app.decide("carla@example.com", "newsletter").await;
    assert_eq!(
        (d["allowed"].as_bool(), d["reason"].as_str()),
        (Some(false), Some("subject_erased"))
    );
    assert_eq!(
        app.decide("dirk@example.com", "newsletter").await["reason"],
        "granted"
    );
    // Nothing more is recorded for an erased subject, and erasing twice says so.
    let res = app
        .post(
            "/v1/consents",
            &json!({"subject": {"id": "carla@example.com"}, "all": "accept"}),
        )
        .await;
    problem(res, 410).await;
    problem(
        app.post(
            "/v1/subjects/erase",
            &json!({"subject": {"id": "carla@example.com"}}),
        )
        .await,
        410,
    )
    .await;
    let history: Value = app
        .post(
            "/v1/subjects/history",
            &json!({"subject": {"id": "carla@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["events"], json!([]));

    // The receipt issued before still verifies, against the newest checkpoint too.
    verify_receipt(&before, &keys).unwrap();
    let note = app.get("/v1/log/checkpoint").await.text().await.unwrap();
    let cp = open(&note, &keys).unwrap();
    let i: Value = app
        .get(&format!(
            "/v1/log/proof/inclusion?seq={}&size={}",
            SETUP + 1,
            cp.size
        ))
        .await
        .json()
        .await
        .unwrap();
    let proof: Vec<_> = i["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = before.entry().leaf_hash();
    verify_inclusion(&leaf, SETUP, cp.size, &proof, &cp.root).unwrap();

    // And the whole ledger verifies.
    let report = keuze_app::audit::verify_ledger(&*app.store, &keys, |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.events, cp.size);
}

/// Two signers on one store, as two nodes on one database: when both sign the same tree,
/// the one that stores second takes the other's checkpoint instead of failing (sizes
/// only grow, so its own is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signers_of_two_nodes_on_one_store_both_succeed() {
    use keuze_app::log::LogSigner;
    use keuze_core::checkpoint::LogKey;
    let app = spawn_app().await;
    let signer = || {
        LogSigner::new(
            LogKey::from_seed([5; 32], "keuze.test/log").unwrap(),
            vec![],
        )
    };
    let (a, b) = (signer(), signer());
    let store = &*app.store;
    for round in 0..40 {
        let res = app
            .post(
                "/v1/consents",
                &json!({"subject": {"id": format!("c-{round}")}, "all": "accept"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let (x, y) = {
            let now = keuze_app::Clock::now(&*app.clock);
            tokio::join!(a.sign_latest(store, now), b.sign_latest(store, now))
        };
        let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
        let size = store.tree_size().await.unwrap();
        assert_eq!((x.size, y.size), (size, size), "round {round}");
    }
}
