use crate::helpers::{spawn_app, SETUP, T0};
use serde_json::{json, Value};

const SWITCHABLE: [&str; 6] = [
    "fraud_prevention",
    "service_analytics",
    "newsletter",
    "personalised_recommendations",
    "advertising_partners",
    "product_reviews",
];

#[tokio::test]
async fn consent_purposes_are_denied_until_granted() {
    let app = spawn_app().await;
    let state: Value = app
        .post(
            "/v1/subjects/state",
            &json!({"subject": {"id": "alice@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    for p in state["purposes"].as_array().unwrap() {
        let (allowed, reason) = (
            p["allowed"].as_bool().unwrap(),
            p["reason"].as_str().unwrap(),
        );
        match p["legal_basis"].as_str().unwrap() {
            "consent" => assert_eq!((allowed, reason), (false, "not_asked"), "{p}"),
            "legitimate_interest" => assert_eq!((allowed, reason), (true, "legitimate_interest")),
            _ => assert_eq!((allowed, reason), (true, "not_required")),
        }
    }
}

#[tokio::test]
async fn grant_then_withdraw_with_the_same_single_request() {
    let app = spawn_app().await;
    let granted = app
        .record("alice@example.com", &[("newsletter", "grant")])
        .await;
    let seq = granted["events"][0]["seq"].as_u64().unwrap();
    // Read-your-writes: the decision right after the acknowledgement sees the grant.
    let d = app.decide("alice@example.com", "newsletter").await;
    assert_eq!(
        (
            d["allowed"].as_bool(),
            d["reason"].as_str(),
            d["event"].as_u64()
        ),
        (Some(true), Some("granted"), Some(seq))
    );

    // Withdrawing is the same endpoint, the same shape, one request.
    let withdrawn = app
        .record("alice@example.com", &[("newsletter", "withdraw")])
        .await;
    let seq2 = withdrawn["events"][0]["seq"].as_u64().unwrap();
    assert_eq!(seq2, seq + 1);
    let d = app.decide("alice@example.com", "newsletter").await;
    assert_eq!(
        (
            d["allowed"].as_bool(),
            d["reason"].as_str(),
            d["event"].as_u64()
        ),
        (Some(false), Some("withdrawn"), Some(seq2))
    );

    // Another subject is untouched.
    let d = app.decide("bob@example.com", "newsletter").await;
    assert_eq!(d["reason"], "not_asked");
}

#[tokio::test]
async fn accept_all_writes_one_event_per_switchable_purpose() {
    let app = spawn_app().await;
    let res = app
        .post("/v1/consents", &json!({"subject": {"id": "carol"}, "all": "accept", "source": "banner", "locale": "nl"}))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let events = body["events"].as_array().unwrap();
    let purposes: Vec<&str> = events
        .iter()
        .map(|e| e["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, SWITCHABLE);
    assert!(events
        .iter()
        .all(|e| e["action"] == "grant" && e["source"] == "banner" && e["locale"] == "nl"));
    assert_eq!(app.ledger_len().await, SWITCHABLE.len() as u64);

    // Reject all is exactly as easy: one request, one event per purpose.
    let res = app
        .post(
            "/v1/consents",
            &json!({"subject": {"id": "carol"}, "all": "reject", "source": "banner"}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let actions: Vec<(&str, &str)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["purpose"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(actions.len(), SWITCHABLE.len());
    for (p, a) in actions {
        let expected = if p.ends_with("prevention") || p.ends_with("analytics") {
            "object"
        } else {
            "withdraw"
        };
        assert_eq!(a, expected, "{p}");
    }
    let d = app.decide("carol", "service_analytics").await;
    assert_eq!(d["reason"], "objected");
}

#[tokio::test]
async fn several_purposes_in_one_request_are_one_atomic_write() {
    let app = spawn_app().await;
    let body = app
        .record(
            "dave",
            &[
                ("newsletter", "grant"),
                ("product_reviews", "grant"),
                ("fraud_prevention", "object"),
            ],
        )
        .await;
    let seqs: Vec<u64> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [SETUP + 1, SETUP + 2, SETUP + 3]);
    let e = &body["events"][0];
    assert_eq!(e["catalog_version"], 1);
    assert_eq!(e["recorded_at"], T0.to_rfc3339());
    assert!(e["notice_digest"].as_str().unwrap().starts_with("sha256:"));
}

#[tokio::test]
async fn the_notice_digest_depends_on_the_locale() {
    let app = spawn_app().await;
    let en: Value = app
        .post("/v1/consents", &json!({"subject": {"id": "e"}, "locale": "en", "choices": [{"purpose": "newsletter", "action": "grant"}]}))
        .await
        .json()
        .await
        .unwrap();
    let nl: Value = app
        .post("/v1/consents", &json!({"subject": {"id": "e"}, "locale": "nl", "choices": [{"purpose": "newsletter", "action": "grant"}]}))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(
        en["events"][0]["notice_digest"],
        nl["events"][0]["notice_digest"]
    );
}

#[tokio::test]
async fn state_and_history_by_body_and_by_pseudonym() {
    let app = spawn_app().await;
    let first = app
        .record("frank@example.com", &[("newsletter", "grant")])
        .await;
    app.clock.set(T0.plus_days(1));
    app.record("frank@example.com", &[("newsletter", "withdraw")])
        .await;
    let pseudonym = first["subject"].as_str().unwrap().to_owned();
    assert_eq!(pseudonym.len(), 64);

    let by_body: Value = app
        .post(
            "/v1/subjects/history",
            &json!({"subject": {"id": "frank@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let by_path: Value = app
        .get(&format!("/v1/subjects/{pseudonym}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_body, by_path);
    let actions: Vec<&str> = by_body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["grant", "withdraw"]);

    let state: Value = app
        .get(&format!("/v1/subjects/{pseudonym}/state"))
        .await
        .json()
        .await
        .unwrap();
    let newsletter = state["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "newsletter")
        .unwrap();
    assert_eq!(newsletter["reason"], "withdrawn");
    assert_eq!(newsletter["last_action"], "withdraw");
    assert_eq!(newsletter["updated_at"], T0.plus_days(1).to_rfc3339());
}

#[tokio::test]
async fn anonymous_devices_get_an_id_and_can_choose() {
    let app = spawn_app().await;
    let res = app.post("/v1/subjects/device", &json!({})).await;
    assert_eq!(res.status(), 201);
    let dev: Value = res.json().await.unwrap();
    let device_id = dev["device_id"].as_str().unwrap();
    assert!(device_id.starts_with("dev_"));
    let res = app
        .post("/v1/consents", &json!({"subject": {"device_id": device_id}, "choices": [{"purpose": "advertising_partners", "action": "grant"}]}))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["subject"], dev["subject"]);
    let d: Value = app
        .post(
            "/v1/decide",
            &json!({"subject": {"pseudonym": dev["subject"]}, "purpose": "advertising_partners"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["reason"], "granted");
}
