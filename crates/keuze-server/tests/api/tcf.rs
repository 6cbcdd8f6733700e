//! TC strings over HTTP: a subject's string follows their own choices (and the same
//! decisions as `/v1/decide`), decodes to what the response says, and passes the vendor
//! list's checks; the decoder names the field and bit of a bad string; a server without a
//! vendor list, or a catalog without [tcf], says how to set it up.

use crate::helpers::{
    problem, sample_vendor_list, spawn_app, spawn_app_with_vendor_list, TestApp, T0,
};
use keuze_core::catalog::SAMPLE_CATALOG;
use keuze_store::Scope;
use keuze_tcf::{validate, Deciseconds, TcModel};
use serde_json::{json, Value};

const ALICE: &str = "alice@example.com";

/// The sample, with ads also opting in to special feature 1, and vendors of every kind:
/// 755 and 12 take consent for the ads purposes, 544 only through special feature 1, 431
/// and 950 never.
fn wider_catalog() -> String {
    let source = SAMPLE_CATALOG
        .replacen(
            "tcf_purposes = [1, 2, 3, 4]\n",
            "tcf_purposes = [1, 2, 3, 4]\ntcf_special_features = [1]\n",
            1,
        )
        .replacen("vendors = [755]", "vendors = [755, 12, 544, 431, 950]", 1);
    assert_ne!(source, SAMPLE_CATALOG);
    source
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

/// The subject's TC string response, and its string decoded: it must validate against the
/// sample vendor list with no finding and say what the response says.
async fn tcf_of(app: &TestApp, subject: &str) -> (Value, TcModel) {
    let res = app
        .post("/v1/subjects/tcf", &json!({"subject": {"id": subject}}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let model = TcModel::decode(body["tcString"].as_str().unwrap()).unwrap();
    assert_eq!(validate(&model, &sample_vendor_list()), []);
    let ids = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(&body["purposeConsents"]),
        model
            .purpose_consents
            .iter()
            .map(u64::from)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        ids(&body["specialFeatureOptIns"]),
        model
            .special_feature_opt_ins
            .iter()
            .map(u64::from)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        body["vendorsWithConsent"],
        model.vendor_consents.len() as u64
    );
    assert_eq!(
        body["vendorsDisclosed"],
        model.disclosed_vendors.as_ref().unwrap().len() as u64
    );
    assert_eq!(body["vendorListVersion"], 7);
    assert_eq!(body["policyVersion"], 4);
    assert_eq!(body["lastUpdated"], model.last_updated.to_string());
    assert!(model.purpose_legitimate_interests.is_empty());
    assert!(model.vendor_legitimate_interests.is_empty());
    assert!(model.is_service_specific);
    (body, model)
}

fn vendor_ids(set: &keuze_tcf::VendorSet) -> Vec<u16> {
    set.iter().collect()
}

#[tokio::test]
async fn a_subject_without_choices_gets_a_string_that_says_no_to_everything() {
    let app = spawn_app().await;
    let (body, m) = tcf_of(&app, ALICE).await;
    assert!(m.purpose_consents.is_empty());
    assert!(m.special_feature_opt_ins.is_empty());
    assert!(m.vendor_consents.is_empty());
    // The sample catalog's vendor is disclosed all the same.
    assert_eq!(vendor_ids(m.disclosed_vendors.as_ref().unwrap()), [755]);
    assert_eq!((m.cmp_id, m.cmp_version), (300, 1));
    assert_eq!(m.publisher_country_code.as_str(), "NL");
    assert_eq!(m.consent_language.as_str(), "EN");
    // No choice yet: the string is stamped with today, at midnight UTC.
    assert_eq!(m.created, Deciseconds::day(T0.utc_date()));
    assert_eq!(m.last_updated, m.created);
    assert_eq!(body["basedOn"][0]["purpose"], "advertising_partners");
    assert_eq!(body["basedOn"][0]["reason"], "not_asked");
    assert_eq!(body["basedOn"][0]["allowed"], false);
}

#[tokio::test]
async fn a_grant_gives_its_tcf_purposes_to_the_vendors_that_declare_them() {
    let app = spawn_app().await;
    assert_eq!(publish(&app, &wider_catalog()).await.status(), 201);
    // A choice that does not map to TCF changes nothing in the string.
    app.record(ALICE, &[("newsletter", "grant")]).await;
    let (_, before) = tcf_of(&app, ALICE).await;
    assert!(before.purpose_consents.is_empty());

    app.clock.set(T0.plus_days(2));
    let recorded = app
        .record(ALICE, &[("advertising_partners", "grant")])
        .await;
    let (body, m) = tcf_of(&app, ALICE).await;
    assert_eq!(m.purpose_consents.iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(m.special_feature_opt_ins.iter().collect::<Vec<_>>(), [1]);
    assert_eq!(vendor_ids(&m.vendor_consents), [12, 544, 755]);
    assert_eq!(
        vendor_ids(m.disclosed_vendors.as_ref().unwrap()),
        [12, 431, 544, 755, 950]
    );
    assert_eq!(m.last_updated, Deciseconds::day(T0.plus_days(2).utc_date()));
    assert_eq!(body["catalogVersion"], 2);
    assert_eq!(body["basedOn"][0]["reason"], "granted");
    assert_eq!(body["basedOn"][0]["event"], recorded["events"][0]["seq"]);
    assert_eq!(body["basedOn"][0]["tcfSpecialFeatures"], json!([1]));
    // The string by pseudonym, in another language, says the same but for the language.
    let pseudonym = body["subject"].as_str().unwrap();
    let res = app
        .get(&format!("/v1/subjects/{pseudonym}/tcf?lang=nl"))
        .await;
    assert_eq!(res.status(), 200);
    let by_path: Value = res.json().await.unwrap();
    assert_eq!(by_path["consentLanguage"], "NL");
    let mut nl = TcModel::decode(by_path["tcString"].as_str().unwrap()).unwrap();
    assert_eq!(nl.consent_language.as_str(), "NL");
    nl.consent_language = m.consent_language;
    assert_eq!(nl, m);
}

#[tokio::test]
async fn withdrawing_clears_the_signals() {
    let app = spawn_app().await;
    app.record(ALICE, &[("advertising_partners", "grant")])
        .await;
    let (_, m) = tcf_of(&app, ALICE).await;
    assert_eq!(m.purpose_consents.iter().collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(vendor_ids(&m.vendor_consents), [755]);

    app.clock.set(T0.plus_days(1));
    app.record(ALICE, &[("advertising_partners", "withdraw")])
        .await;
    let (body, m) = tcf_of(&app, ALICE).await;
    assert!(m.purpose_consents.is_empty());
    assert!(m.vendor_consents.is_empty());
    assert_eq!(body["vendorsWithConsent"], 0);
    assert_eq!(body["basedOn"][0]["reason"], "withdrawn");
    // The withdrawal is the latest change: the string dates from it.
    assert_eq!(m.last_updated, Deciseconds::day(T0.plus_days(1).utc_date()));
}

/// The string follows decisions, so a grant that expired consents to nothing.
#[tokio::test]
async fn an_expired_grant_is_no_consent() {
    let app = spawn_app().await;
    app.record(ALICE, &[("advertising_partners", "grant")])
        .await;
    // The sample's ads purpose asks again after 6 months.
    app.clock.set(T0.plus_days(200));
    let (body, m) = tcf_of(&app, ALICE).await;
    assert_eq!(
        app.decide(ALICE, "advertising_partners").await["reason"],
        "expired"
    );
    assert_eq!(body["basedOn"][0]["reason"], "expired");
    assert!(m.purpose_consents.is_empty());
    assert!(m.vendor_consents.is_empty());
}

#[tokio::test]
async fn a_bad_language_is_refused() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/v1/subjects/tcf",
            &json!({"subject": {"id": ALICE}, "lang": "dutch"}),
        )
        .await;
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/lang");
    let pseudonym = "ab".repeat(32);
    let res = app
        .get(&format!("/v1/subjects/{pseudonym}/tcf?lang=1"))
        .await;
    problem(res, 422).await;
}

#[tokio::test]
async fn the_decoder_shows_every_field_and_what_the_vendor_list_finds() {
    let app = spawn_app().await;
    app.record(ALICE, &[("advertising_partners", "grant")])
        .await;
    let (body, model) = tcf_of(&app, ALICE).await;
    let res = app
        .post("/v1/tcf/decode", &json!({"tcString": body["tcString"]}))
        .await;
    assert_eq!(res.status(), 200);
    let decoded: Value = res.json().await.unwrap();
    assert_eq!(decoded["model"], serde_json::to_value(&model).unwrap());
    assert_eq!(decoded["model"]["purposeConsents"], json!([1, 2, 3, 4]));
    assert_eq!(decoded["model"]["disclosedVendors"], json!([755]));
    assert_eq!(decoded["checkedAgainstVendorList"], 7);
    assert_eq!(decoded["findings"], json!([]));

    // The specification's sample: an older policy, other vendors, no disclosed vendors.
    let spec = "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA";
    let res = app.post("/v1/tcf/decode", &json!({"tcString": spec})).await;
    assert_eq!(res.status(), 200);
    let decoded: Value = res.json().await.unwrap();
    assert_eq!(decoded["model"]["cmpId"], 21);
    assert_eq!(
        decoded["model"]["publisherTc"]["consents"],
        json!([2, 4, 6, 8, 9, 10])
    );
    let fields: Vec<&str> = decoded["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"VendorListVersion"), "{fields:?}");
    assert!(fields.contains(&"DisclosedVendors"), "{fields:?}");
}

#[tokio::test]
async fn a_string_that_cannot_be_read_is_a_problem_naming_field_and_bit() {
    let app = spawn_app().await;
    let ledger = app.ledger_len().await;
    for (bad, says) in [
        ("CQuci4AQuci4AEsAB", "field ConsentScreen at bit 102"),
        ("CQuci4A!uci4AEsAB", "character '!' at position 7"),
        (
            "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA",
            "version 1 is not supported",
        ),
        ("", "is empty"),
    ] {
        let res = app.post("/v1/tcf/decode", &json!({"tcString": bad})).await;
        let body = problem(res, 422).await;
        assert_eq!(body["type"], "urn:keuze:problem:validation");
        assert_eq!(body["errors"][0]["pointer"], "/tcString");
        let detail = body["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{bad}: {detail}");
    }
    let res = app.post("/v1/tcf/decode", &json!({"tc_string": "C"})).await;
    problem(res, 422).await;
    assert_eq!(app.ledger_len().await, ledger);
}

#[tokio::test]
async fn without_a_vendor_list_the_server_says_how_to_give_one() {
    let app = spawn_app_with_vendor_list(None).await;
    let res = app
        .post("/v1/subjects/tcf", &json!({"subject": {"id": ALICE}}))
        .await;
    let body = problem(res, 409).await;
    assert_eq!(body["type"], "urn:keuze:problem:tcf-not-configured");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.contains("--tcf-vendor-list"), "{detail}");
    assert!(detail.contains("tcf_vendor_list"), "{detail}");
    // Decoding needs no list; there is just nothing to check against.
    let spec = "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA";
    let res = app.post("/v1/tcf/decode", &json!({"tcString": spec})).await;
    assert_eq!(res.status(), 200);
    let decoded: Value = res.json().await.unwrap();
    assert_eq!(decoded["findings"], Value::Null);
    assert_eq!(decoded["checkedAgainstVendorList"], Value::Null);
    assert_eq!(decoded["model"]["cmpVersion"], 7);
}

#[tokio::test]
async fn a_catalog_without_tcf_makes_no_strings_and_says_why() {
    let app = spawn_app().await;
    let plain = SAMPLE_CATALOG
        .replacen("tcf_purposes = [1, 2, 3, 4]\n", "", 1)
        .split("\n[tcf]\n")
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(publish(&app, &plain).await.status(), 201);
    let res = app
        .post("/v1/subjects/tcf", &json!({"subject": {"id": ALICE}}))
        .await;
    let body = problem(res, 409).await;
    assert_eq!(body["type"], "urn:keuze:problem:tcf-not-configured");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("(version 2) has no [tcf] table"),
        "{detail}"
    );
}

/// With a vendor list, a catalog naming a vendor the list does not have is refused, and
/// nothing is published.
#[tokio::test]
async fn a_catalog_with_a_vendor_off_the_list_is_not_published() {
    let app = spawn_app().await;
    let res = publish(
        &app,
        &SAMPLE_CATALOG.replacen("vendors = [755]", "vendors = [755, 9999]", 1),
    )
    .await;
    let body = problem(res, 422).await;
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("vendor 9999 is not on the vendor list (version 7)"),
        "{detail}"
    );
    assert_eq!(app.state.catalog().current().number, 1);
}

#[tokio::test]
async fn tc_strings_need_the_decide_scope() {
    let app = spawn_app().await;
    let key = app.key_with(&[Scope::Record, Scope::Audit]).await;
    let pseudonym = "ab".repeat(32);
    let requests = [
        app.client
            .get(format!("{}/v1/subjects/{pseudonym}/tcf", app.base)),
        app.client
            .post(format!("{}/v1/subjects/tcf", app.base))
            .json(&json!({"subject": {"id": ALICE}})),
        app.client
            .post(format!("{}/v1/tcf/decode", app.base))
            .json(&json!({"tcString": "CQuci4AQuci4AEsABANLAHEgAPAAAAAAABpYF5wAQF5gAAAA"})),
    ];
    for req in requests {
        let res = req.bearer_auth(&key).send().await.unwrap();
        let body = problem(res, 403).await;
        assert!(body["detail"].as_str().unwrap().contains("`decide` scope"));
    }
    let res = app
        .client
        .get(format!("{}/v1/subjects/{pseudonym}/tcf", app.base))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
}
