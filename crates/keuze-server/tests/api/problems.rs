//! Every kind of bad request gets a problem-details body that says what and where, and
//! a rejected request writes nothing.

use crate::helpers::{problem, spawn_app, TestApp};
use serde_json::{json, Value};

async fn raw(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Sends a bad `POST /v1/consents` body; asserts the status, the pointers, and that
/// the ledger did not change. Returns the problem.
async fn refused(app: &TestApp, body: Value, status: u16, pointers: &[&str]) -> Value {
    let before = app.ledger_len().await;
    let p = problem(app.post("/v1/consents", &body).await, status).await;
    let got: Vec<&str> = p["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["pointer"].as_str().unwrap()).collect())
        .unwrap_or_default();
    assert_eq!(got, pointers, "{p}");
    assert_eq!(
        app.ledger_len().await,
        before,
        "a rejected request wrote something"
    );
    p
}

#[tokio::test]
async fn malformed_json_says_where() {
    let app = spawn_app().await;
    let p = problem(
        raw(
            &app,
            "/v1/consents",
            "application/json",
            b"{\n  \"subject\": {\"id\": \"a\"},\n  \"choices\": [,]\n}".to_vec(),
        )
        .await,
        400,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("line 3, column 15"),
        "{p}"
    );
    assert_eq!(app.ledger_len().await, 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    problem(
        raw(&app, "/v1/consents", "text/plain", b"subject=a".to_vec()).await,
        415,
    )
    .await;
    assert_eq!(app.ledger_len().await, 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"subject\":{{\"id\":\"{}\"}}}}",
        "x".repeat(keuze_server::BODY_LIMIT)
    );
    problem(
        raw(&app, "/v1/consents", "application/json", big.into_bytes()).await,
        413,
    )
    .await;
    assert_eq!(app.ledger_len().await, 0);
}

#[tokio::test]
async fn unknown_purpose_says_which_and_lists_the_valid_ones() {
    let app = spawn_app().await;
    app.record("a", &[("newsletter", "grant")]).await;
    let p = refused(
        &app,
        json!({"subject": {"id": "a"}, "choices": [
            {"purpose": "newsletter", "action": "withdraw"},
            {"purpose": "newsleter", "action": "grant"}
        ]}),
        422,
        &["/choices/1/purpose"],
    )
    .await;
    let detail = p["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("unknown purpose `newsleter`"), "{detail}");
    assert!(detail.contains("did you mean `newsletter`"), "{detail}");
    assert!(
        detail.contains("order_fulfilment") && detail.contains("product_reviews"),
        "{detail}"
    );
    // The valid first choice was not written either: the request is all or nothing.
    assert_eq!(app.decide("a", "newsletter").await["reason"], "granted");
}

#[tokio::test]
async fn each_field_error_has_a_pointer() {
    let app = spawn_app().await;
    // Unknown field.
    refused(
        &app,
        json!({"subject": {"id": "a"}, "all": "accept", "colour": "red"}),
        422,
        &["/colour"],
    )
    .await;
    // Wrong type.
    refused(
        &app,
        json!({"subject": {"id": "a"}, "choices": [{"purpose": 7, "action": "grant"}]}),
        422,
        &["/choices/0/purpose"],
    )
    .await;
    // Unknown action.
    refused(
        &app,
        json!({"subject": {"id": "a"}, "choices": [{"purpose": "newsletter", "action": "maybe"}]}),
        422,
        &["/choices/0/action"],
    )
    .await;
    // Action that does not fit the legal basis; a contract purpose cannot be switched.
    let p = refused(
        &app,
        json!({"subject": {"id": "a"}, "choices": [
            {"purpose": "fraud_prevention", "action": "withdraw"},
            {"purpose": "order_fulfilment", "action": "withdraw"},
            {"purpose": "newsletter", "action": "object"}
        ]}),
        422,
        &[
            "/choices/0/action",
            "/choices/1/action",
            "/choices/2/action",
        ],
    )
    .await;
    assert!(p["errors"][1]["detail"]
        .as_str()
        .unwrap()
        .contains("cannot be switched"));
    // The same purpose twice.
    refused(
        &app,
        json!({"subject": {"id": "a"}, "choices": [{"purpose": "newsletter", "action": "grant"}, {"purpose": "newsletter", "action": "withdraw"}]}),
        422,
        &["/choices/1/purpose"],
    )
    .await;
    // Subject named twice, or not at all; a made-up device id; a bad locale.
    refused(
        &app,
        json!({"subject": {"id": "a", "device_id": "dev_x"}, "all": "accept"}),
        422,
        &["/subject"],
    )
    .await;
    refused(
        &app,
        json!({"subject": {}, "all": "accept"}),
        422,
        &["/subject"],
    )
    .await;
    refused(
        &app,
        json!({"subject": {"device_id": "dev_nope"}, "all": "accept"}),
        422,
        &["/subject/device_id"],
    )
    .await;
    refused(
        &app,
        json!({"subject": {"id": "a"}, "all": "accept", "locale": "Dutch"}),
        422,
        &["/locale"],
    )
    .await;
    // Both `choices` and `all`, and neither.
    refused(
        &app,
        json!({"subject": {"id": "a"}, "all": "accept", "choices": []}),
        422,
        &[""],
    )
    .await;
    refused(&app, json!({"subject": {"id": "a"}}), 422, &[""]).await;
    // Missing subject entirely.
    refused(&app, json!({"all": "accept"}), 422, &[""]).await;
}

#[tokio::test]
async fn an_unknown_catalog_version_is_refused() {
    let app = spawn_app().await;
    let p = refused(
        &app,
        json!({"subject": {"id": "a"}, "all": "accept", "catalog_version": 7}),
        422,
        &["/catalog_version"],
    )
    .await;
    assert!(p["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("the current version is 1"));
}

#[tokio::test]
async fn decide_rejects_malformed_categories_and_subjects() {
    let app = spawn_app().await;
    let p = problem(
        app.post(
            "/v1/decide/batch",
            &json!({"items": [
                {"subject": {"id": "a"}, "purpose": "newsletter", "categories": ["Contact Email"]},
                {"subject": {"pseudonym": "zz"}, "purpose": "newsletter"}
            ]}),
        )
        .await,
        422,
    )
    .await;
    let pointers: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        ["/items/0/categories/0", "/items/1/subject/pseudonym"]
    );
}

#[tokio::test]
async fn a_malformed_query_string_is_a_problem_that_names_the_parameter() {
    let app = spawn_app().await;
    for path in [
        "/v1/log/proof/inclusion?seq=abc",
        "/v1/log/proof/inclusion",
        "/v1/log/proof/consistency?from=-1",
    ] {
        let p = problem(app.get(path).await, 422).await;
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains("query string"), "{path}: {detail}");
    }
    let p = problem(app.get("/v1/log/proof/inclusion?seq=abc").await, 422).await;
    assert!(p["detail"].as_str().unwrap().contains("seq"), "{p}");
}
