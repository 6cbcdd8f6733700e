//! Clear communication of changes, over HTTP: a material change asks again, a minor one
//! carries consent forward, and nobody records consent to a text the customer did not see.

use crate::helpers::{problem, spawn_app, TestApp};
use keuze_core::catalog::SAMPLE_CATALOG;
use serde_json::{json, Value};

const MAILJET: &str = "[[purposes.recipients]]\nname = \"Mailjet\"\ncountry = \"FR\"\n";

fn with_new_newsletter_recipient() -> String {
    let edited = SAMPLE_CATALOG.replacen(
        MAILJET,
        &format!("{MAILJET}\n[[purposes.recipients]]\nname = \"Klaviyo\"\ncountry = \"US\"\n"),
        1,
    );
    assert_ne!(edited, SAMPLE_CATALOG);
    edited
}

fn with_reworded_newsletter() -> String {
    let edited = SAMPLE_CATALOG.replacen(
        "It has news, tips and deals.",
        "It has news, tips and offers.",
        1,
    );
    assert_ne!(edited, SAMPLE_CATALOG);
    edited
}

async fn publish(app: &TestApp, toml: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/catalog/versions", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/toml")
        .body(toml.to_owned())
        .send()
        .await
        .unwrap()
}

async fn prompt(app: &TestApp, subject: &str, locale: &str) -> Value {
    let res = app
        .post(
            "/v1/subjects/prompt",
            &json!({"subject": {"id": subject}, "locale": locale}),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn asked(prompt: &Value) -> Vec<(String, String)> {
    prompt["ask"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["purpose"].as_str().unwrap().to_owned(),
                q["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_material_change_asks_again_and_explains_why() {
    let app = spawn_app().await;
    // Before anything: every consent purpose is asked, nothing else.
    let first = prompt(&app, "anna", "en").await;
    assert_eq!(
        asked(&first)
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        [
            "newsletter",
            "personalised_recommendations",
            "advertising_partners",
            "product_reviews"
        ]
    );
    assert!(first["ask"][0]["benefit"]
        .as_str()
        .unwrap()
        .contains("new bikes"));

    app.post(
        "/v1/consents",
        &json!({"subject": {"id": "anna"}, "all": "accept", "catalog_version": 1}),
    )
    .await;
    assert!(
        asked(&prompt(&app, "anna", "en").await).is_empty(),
        "asked again for nothing"
    );
    assert_eq!(app.decide("anna", "newsletter").await["reason"], "granted");

    // v2: the newsletter gets a recipient in the United States.
    let res = publish(&app, &with_new_newsletter_recipient()).await;
    assert_eq!(res.status(), 201);
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["version"], 2);
    assert_eq!(published["materially_changed"], json!(["newsletter"]));

    let d = app.decide("anna", "newsletter").await;
    assert_eq!(
        (d["allowed"].as_bool(), d["reason"].as_str()),
        (Some(false), Some("reconsent_required"))
    );
    // Other purposes carry on.
    assert_eq!(
        app.decide("anna", "product_reviews").await["reason"],
        "granted"
    );

    let p = prompt(&app, "anna", "en").await;
    assert_eq!(
        asked(&p),
        [("newsletter".to_owned(), "reconsent_required".to_owned())]
    );
    assert_eq!(p["catalog_version"], 2);
    let why = p["ask"][0]["changes"].to_string();
    assert!(
        why.contains("Klaviyo") && why.contains("outside the EEA"),
        "{why}"
    );

    let nl = prompt(&app, "anna", "nl").await;
    let waarom = nl["ask"][0]["changes"].to_string();
    assert!(
        waarom.contains("Klaviyo") && waarom.contains("buiten de EER"),
        "{waarom}"
    );
    assert_eq!(nl["ask"][0]["title"], "Nieuwsbrief");

    let changes: Value = app
        .post(
            "/v1/subjects/changes",
            &json!({"subject": {"id": "anna"}, "locale": "nl"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let purposes = changes["purposes"].as_array().unwrap();
    assert_eq!(purposes.len(), 1, "{changes}");
    assert_eq!(purposes[0]["purpose"], "newsletter");
    assert_eq!(purposes[0]["agreed_under"], 1);
    assert_eq!(purposes[0]["material"], true);
    assert!(
        purposes[0]["changes"]
            .to_string()
            .contains("Verenigde Staten"),
        "{changes}"
    );

    // Granting again under v2 settles it.
    app.post("/v1/consents", &json!({"subject": {"id": "anna"}, "catalog_version": 2, "choices": [{"purpose": "newsletter", "action": "grant"}]}))
        .await;
    assert_eq!(app.decide("anna", "newsletter").await["reason"], "granted");
    assert!(asked(&prompt(&app, "anna", "en").await).is_empty());
}

#[tokio::test]
async fn a_minor_change_carries_consent_forward_and_asks_nothing() {
    let app = spawn_app().await;
    app.post(
        "/v1/consents",
        &json!({"subject": {"id": "bert"}, "all": "accept"}),
    )
    .await;
    assert!(asked(&prompt(&app, "bert", "en").await).is_empty());

    let res = publish(&app, &with_reworded_newsletter()).await;
    assert_eq!(res.status(), 201);
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["materially_changed"], json!([]));

    assert_eq!(app.decide("bert", "newsletter").await["reason"], "granted");
    assert!(asked(&prompt(&app, "bert", "en").await).is_empty());
    // The rewording is still told, as a minor change.
    let changes: Value = app
        .post("/v1/subjects/changes", &json!({"subject": {"id": "bert"}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changes["purposes"][0]["material"], false, "{changes}");
}

#[tokio::test]
async fn a_grant_against_a_materially_changed_notice_is_409_but_no_is_always_accepted() {
    let app = spawn_app().await;
    assert_eq!(
        publish(&app, &with_new_newsletter_recipient())
            .await
            .status(),
        201
    );
    let before = app.ledger_len().await;
    let res = app
        .post(
            "/v1/consents",
            &json!({"subject": {"id": "cees"}, "catalog_version": 1, "choices": [
                {"purpose": "product_reviews", "action": "grant"},
                {"purpose": "newsletter", "action": "grant"}
            ]}),
        )
        .await;
    let p = problem(res, 409).await;
    assert_eq!(p["current_catalog_version"], 2);
    assert!(p["detail"].as_str().unwrap().contains("newsletter"));
    assert!(!p["detail"].as_str().unwrap().contains("product_reviews"));
    assert_eq!(
        app.ledger_len().await,
        before,
        "a refused request wrote something"
    );

    // Consent for a purpose that did not change, shown in v1, is fine.
    let res = app
        .post("/v1/consents", &json!({"subject": {"id": "cees"}, "catalog_version": 1, "choices": [{"purpose": "product_reviews", "action": "grant"}]}))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["events"][0]["catalog_version"], 1);

    // Saying no is never refused, whatever the customer was shown.
    let res = app
        .post("/v1/consents", &json!({"subject": {"id": "cees"}, "catalog_version": 1, "choices": [{"purpose": "newsletter", "action": "withdraw"}]}))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn publishing_refuses_bad_catalogs_and_ignores_identical_ones() {
    let app = spawn_app().await;
    let res = publish(&app, SAMPLE_CATALOG).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["unchanged"].as_bool(), body["version"].as_u64()),
        (Some(true), Some(1))
    );

    let bad = SAMPLE_CATALOG.replacen("legal_basis = \"consent\"", "legal_basis = \"consnet\"", 1);
    let p = problem(publish(&app, &bad).await, 422).await;
    assert!(
        p["detail"].as_str().unwrap().contains("catalog.toml:89:"),
        "{p}"
    );
    assert_eq!(app.store.latest_catalog().await.unwrap().unwrap().number, 1);

    // Lowering a revision breaks a promise and is refused too.
    let raised = SAMPLE_CATALOG.replacen(
        "id = \"newsletter\"\n",
        "id = \"newsletter\"\nrevision = 2\n",
        1,
    );
    assert_eq!(publish(&app, &raised).await.status(), 201);
    let p = problem(publish(&app, SAMPLE_CATALOG).await, 422).await;
    assert!(p["detail"].as_str().unwrap().contains("revision"), "{p}");
    assert_eq!(app.store.latest_catalog().await.unwrap().unwrap().number, 2);

    // Only admins publish.
    let key = app.key_with(&[keuze_store::Scope::Record]).await;
    let res = app
        .client
        .post(format!("{}/v1/catalog/versions", app.base))
        .bearer_auth(key)
        .header("content-type", "application/toml")
        .body(with_reworded_newsletter())
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}

#[tokio::test]
async fn expired_consent_is_asked_again() {
    let app = spawn_app().await;
    app.record("dirk", &[("newsletter", "grant")]).await;
    app.clock.set(crate::helpers::T0.plus_days(390));
    let p = prompt(&app, "dirk", "en").await;
    assert!(asked(&p).contains(&("newsletter".to_owned(), "expired".to_owned())));
}
