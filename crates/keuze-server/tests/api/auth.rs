use crate::helpers::{problem, spawn_app};
use keuze_store::Scope;
use serde_json::json;

#[tokio::test]
async fn no_key_is_401_with_a_challenge() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(format!("{}/v1/decide", app.base))
        .json(&json!({"subject": {"id": "a"}, "purpose": "newsletter"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"keuze\"");
    let body = problem(res, 401).await;
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("keuze key create"));
}

#[tokio::test]
async fn a_wrong_or_malformed_key_is_401() {
    let app = spawn_app().await;
    let real = app.key_with(&[Scope::Decide]).await;
    let tampered = format!("{}0", &real[..real.len() - 1]);
    let wrong = if tampered == real {
        format!("{}1", &real[..real.len() - 1])
    } else {
        tampered
    };
    for key in ["nonsense", "kz_0011223344556677_abc", wrong.as_str()] {
        let res = app
            .client
            .post(format!("{}/v1/decide", app.base))
            .bearer_auth(key)
            .json(&json!({"subject": {"id": "a"}, "purpose": "newsletter"}))
            .send()
            .await
            .unwrap();
        problem(res, 401).await;
    }
}

#[tokio::test]
async fn the_wrong_scope_is_403_and_names_the_scope() {
    let app = spawn_app().await;
    let decide_only = app.key_with(&[Scope::Decide]).await;
    let before = app.ledger_len().await;
    let res = app
        .client
        .post(format!("{}/v1/consents", app.base))
        .bearer_auth(&decide_only)
        .json(&json!({"subject": {"id": "a"}, "choices": [{"purpose": "newsletter", "action": "grant"}]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 403).await;
    assert!(body["detail"].as_str().unwrap().contains("`record`"));
    assert_eq!(app.ledger_len().await, before);

    // ...and the same key may decide.
    let res = app
        .client
        .post(format!("{}/v1/decide", app.base))
        .bearer_auth(&decide_only)
        .json(&json!({"subject": {"id": "a"}, "purpose": "newsletter"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // History needs `audit`.
    let res = app
        .client
        .post(format!("{}/v1/subjects/history", app.base))
        .bearer_auth(&decide_only)
        .json(&json!({"subject": {"id": "a"}}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

#[tokio::test]
async fn public_routes_need_no_key() {
    let app = spawn_app().await;
    for path in ["/healthz", "/metrics", "/v1/openapi.json", "/v1/catalog"] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}
