use crate::helpers::{problem, spawn_app, T0};
use serde_json::{json, Value};

#[tokio::test]
async fn batch_answers_in_order_with_reasons() {
    let app = spawn_app().await;
    app.record(
        "g",
        &[("newsletter", "grant"), ("fraud_prevention", "object")],
    )
    .await;
    let res = app
        .post(
            "/v1/decide/batch",
            &json!({"items": [
                {"subject": {"id": "g"}, "purpose": "newsletter", "categories": ["contact.email"]},
                {"subject": {"id": "g"}, "purpose": "newsletter", "categories": ["location.precise"]},
                {"subject": {"id": "g"}, "purpose": "fraud_prevention"},
                {"subject": {"id": "h"}, "purpose": "newsletter"},
                {"subject": {"id": "h"}, "purpose": "order_fulfilment"},
                {"subject": {"id": "h"}, "purpose": "service_analytics"},
                {"subject": {"id": "h"}, "purpose": "no_such_purpose"},
            ]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let reasons: Vec<&str> = body["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "granted",
            "category_not_declared",
            "objected",
            "not_asked",
            "not_required",
            "legitimate_interest",
            "unknown_purpose"
        ]
    );
    assert_eq!(
        body["decisions"][1]["undeclared"],
        json!(["location.precise"])
    );
}

#[tokio::test]
async fn a_full_batch_of_ten_thousand_is_answered_and_one_more_is_refused() {
    let app = spawn_app().await;
    let items: Vec<Value> = (0..10_000)
        .map(|i| json!({"subject": {"id": format!("user{i}")}, "purpose": "newsletter"}))
        .collect();
    let res = app.post("/v1/decide/batch", &json!({"items": items})).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["decisions"].as_array().unwrap().len(), 10_000);

    let items: Vec<Value> = (0..10_001)
        .map(|i| json!({"subject": {"id": format!("u{i}")}, "purpose": "newsletter"}))
        .collect();
    let body = problem(
        app.post("/v1/decide/batch", &json!({"items": items})).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["pointer"], "/items");
}

#[tokio::test]
async fn consent_expires_after_its_lifetime() {
    let app = spawn_app().await;
    app.record("i", &[("newsletter", "grant")]).await;
    app.clock.set(T0.plus_days(389));
    assert_eq!(app.decide("i", "newsletter").await["reason"], "granted");
    app.clock.set(T0.plus_days(390));
    assert_eq!(app.decide("i", "newsletter").await["reason"], "expired");
}

#[tokio::test]
async fn metrics_count_decisions_and_commits() {
    let app = spawn_app().await;
    app.record("j", &[("newsletter", "grant")]).await;
    app.decide("j", "newsletter").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("keuze_decisions_total{reason=\"granted\"}"),
        "{text}"
    );
    assert!(text.contains("keuze_events_committed_total"), "{text}");
    assert!(text.contains("keuze_http_requests_total"), "{text}");
}

/// Decisions borrow from the question and write the pseudonym without a `String`; the
/// document still says what a client receives.
#[tokio::test]
async fn the_decision_schema_shows_strings_for_pseudonym_and_categories() {
    let app = spawn_app().await;
    let doc: Value = app.get("/v1/openapi.json").await.json().await.unwrap();
    let view = &doc["components"]["schemas"]["DecisionView"]["properties"];
    assert_eq!(view["subject"]["type"], "string", "{view}");
    assert_eq!(view["purpose"]["type"], "string", "{view}");
    assert_eq!(view["undeclared"]["items"]["type"], "string", "{view}");
    let batch = &doc["components"]["schemas"]["BatchResponse"]["properties"]["decisions"];
    assert_eq!(
        batch["items"]["$ref"], "#/components/schemas/DecisionView",
        "{batch}"
    );
}

/// Counted once per reason per request, the metric still counts every decision.
#[tokio::test]
async fn a_batch_counts_each_decision_in_the_metrics() {
    let app = spawn_app().await;
    app.record("k", &[("newsletter", "grant")]).await;
    let items: Vec<Value> = (0..5)
        .map(|_| json!({"subject": {"id": "k"}, "purpose": "newsletter"}))
        .chain((0..3).map(|_| json!({"subject": {"id": "k"}, "purpose": "advertising_partners"})))
        .collect();
    let res = app.post("/v1/decide/batch", &json!({"items": items})).await;
    assert_eq!(res.status(), 200);
    let text = app.get("/metrics").await.text().await.unwrap();
    let count = |reason: &str| -> u64 {
        let prefix = format!("keuze_decisions_total{{reason=\"{reason}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map_or(0, |n| n.trim().parse().unwrap())
    };
    assert!(count("granted") >= 5, "{text}");
    assert!(count("not_asked") >= 3, "{text}");
}

/// Questions borrow their texts from the body; escaped texts and wrong types still
/// behave as before.
#[tokio::test]
async fn escaped_texts_are_read_and_wrong_types_are_located() {
    let app = spawn_app().await;
    app.record("m", &[("newsletter", "grant")]).await;
    let res = app
        .client
        .post(format!("{}/v1/decide", app.base))
        .bearer_auth(&app.key)
        .header("Content-Type", "application/json")
        .body(r#"{"subject": {"id": "m"}, "purpose": "news\u006cetter", "categories": ["contact\u002eemail"]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["reason"], "granted", "{body}");
    assert_eq!(body["purpose"], "newsletter", "{body}");
    let res = app
        .post(
            "/v1/decide/batch",
            &json!({"items": [{"subject": {"id": "m"}, "purpose": "newsletter", "categories": [5]}]}),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/items/0/categories/0", "{p}");
    assert_eq!(
        p["errors"][0]["detail"], "invalid type: integer `5`, expected a string",
        "{p}"
    );
}
