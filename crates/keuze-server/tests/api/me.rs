//! The preference center over plain HTTP: links that become session cookies, CSRF on
//! every form, one customer never reaching another's data, switches, presets, export,
//! receipts and erasure.

use crate::helpers::{problem, spawn_app, TestApp, SETUP, T0};
use crate::privacy::{assert_valid_html, sel, text};
use keuze_core::catalog::SAMPLE_CATALOG;
use keuze_core::Timestamp;
use reqwest::redirect::Policy;
use scraper::Html;
use serde_json::{json, Value};

/// A browser: its own cookie jar, and redirects left to the test.
struct Browser {
    client: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: app.base.clone(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// The preference center, checked for well-formed, accessible HTML.
    async fn page(&self, lang: &str) -> Html {
        let res = self.get(&format!("/me?lang={lang}")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["content-language"], lang);
        assert_valid_html(&res.text().await.unwrap())
    }
}

/// Asks for a link for `subject` as the organisation's backend does.
async fn link(app: &TestApp, subject: &str, locale: Option<&str>) -> Value {
    let mut body = json!({"subject": {"id": subject}});
    if let Some(l) = locale {
        body["locale"] = json!(l);
    }
    let res = app.post("/v1/sessions", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.unwrap()
}

/// A browser signed in to `subject`'s preference center.
async fn signed_in(app: &TestApp, subject: &str) -> Browser {
    let browser = Browser::new(app);
    let link = link(app, subject, None).await;
    let res = browser.get(link["url"].as_str().unwrap()).await;
    assert_eq!(res.status(), 303);
    browser
}

fn csrf(page: &Html) -> String {
    page.select(&sel("input[name=csrf]"))
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned()
}

/// Every switch on the page: (purpose, aria-checked, label).
fn switches(page: &Html) -> Vec<(String, String, String)> {
    page.select(&sel("form[action=\"/me/choices\"]"))
        .map(|form| {
            let purpose = form
                .select(&sel("input[name=purpose]"))
                .next()
                .unwrap()
                .value()
                .attr("value")
                .unwrap()
                .to_owned();
            let button = form.select(&sel("button[role=switch]")).next().unwrap();
            let checked = button.value().attr("aria-checked").unwrap().to_owned();
            (purpose, checked, text(button))
        })
        .collect()
}

/// The switch form for `purpose`, as the page would post it.
fn switch_form(page: &Html, purpose: &str) -> Vec<(String, String)> {
    let form = page
        .select(&sel("form[action=\"/me/choices\"]"))
        .find(|f| {
            f.select(&sel(&format!("input[name=purpose][value={purpose}]")))
                .next()
                .is_some()
        })
        .unwrap();
    let mut fields: Vec<(String, String)> = form
        .select(&sel("input[type=hidden]"))
        .map(|i| {
            let v = i.value();
            (
                v.attr("name").unwrap().to_owned(),
                v.attr("value").unwrap().to_owned(),
            )
        })
        .collect();
    let button = form.select(&sel("button")).next().unwrap().value();
    fields.push((
        button.attr("name").unwrap().to_owned(),
        button.attr("value").unwrap().to_owned(),
    ));
    fields
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

async fn reason(app: &TestApp, subject: &str, purpose: &str) -> String {
    app.decide(subject, purpose).await["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_link_becomes_a_secure_session_cookie_and_leaves_the_address_bar() {
    let app = spawn_app().await;
    let link = link(&app, "anna@example.com", Some("nl")).await;
    let token = link["token"].as_str().unwrap();
    assert_eq!(link["url"], format!("/me?token={token}&lang=nl"));
    let expires = Timestamp::from_unix_millis(T0.unix_millis() + 15 * 60 * 1000);
    assert_eq!(link["expires_at"], expires.to_rfc3339());

    let browser = Browser::new(&app);
    let res = browser.get(link["url"].as_str().unwrap()).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/me?lang=nl",
        "the token is gone"
    );
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("keuze_session="), "{cookie}");
    assert!(!cookie.contains(token), "the cookie is not the link");
    let mut attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        [
            "HttpOnly",
            "Max-Age=3600",
            "Path=/me",
            "SameSite=Strict",
            "Secure"
        ]
    );

    let page = browser.page("nl").await;
    assert_eq!(
        text(page.select(&sel("h1")).next().unwrap()),
        "Jouw privacykeuzes"
    );
    let switches = switches(&page);
    assert_eq!(
        switches.len(),
        6,
        "every consent and legitimate-interest purpose"
    );
    assert!(switches.contains(&(
        "newsletter".into(),
        "false".into(),
        "Nieuwsbrief: uit — zet aan".into()
    )));
    assert!(switches.contains(&(
        "fraud_prevention".into(),
        "true".into(),
        "Fraude tegengaan: aan — zet uit".into()
    )));
    // Contract and legal obligation: explained, not switchable.
    let always: Vec<String> = page.select(&sel(".always")).map(text).collect();
    assert_eq!(always, ["Altijd aan."; 3]);
    // Nothing was recorded by looking.
    assert_eq!(app.ledger_len().await, 0);

    // Without the cookie there is no page, in the reader's language.
    let res = Browser::new(&app).get("/me?lang=en").await;
    assert_eq!(res.status(), 401);
    let body = assert_valid_html(&res.text().await.unwrap());
    assert_eq!(
        text(body.select(&sel("h1")).next().unwrap()),
        "This link does not work"
    );
}

#[tokio::test]
async fn asking_for_a_link_needs_the_record_scope_and_a_language_we_speak() {
    let app = spawn_app().await;
    let body = json!({"subject": {"id": "anna@example.com"}});
    let res = app
        .client
        .post(format!("{}/v1/sessions", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    let decide_only = app.key_with(&[keuze_store::Scope::Decide]).await;
    let res = app
        .client
        .post(format!("{}/v1/sessions", app.base))
        .bearer_auth(decide_only)
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    let res = app
        .post(
            "/v1/sessions",
            &json!({"subject": {"id": "anna@example.com"}, "locale": "de"}),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["pointer"], "/locale");
}

#[tokio::test]
async fn expired_and_tampered_links_are_refused_and_set_nothing() {
    let app = spawn_app().await;
    let link = link(&app, "anna@example.com", Some("nl")).await;
    let url = link["url"].as_str().unwrap();
    let token = link["token"].as_str().unwrap();

    // Tampered: one character changed anywhere.
    for at in [0, token.len() / 2, token.len() - 1] {
        let mut forged: Vec<char> = token.chars().collect();
        forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        let res = Browser::new(&app)
            .get(&format!("/me?token={forged}&lang=nl"))
            .await;
        assert_eq!(res.status(), 401, "{at}");
        assert!(res.headers().get("set-cookie").is_none());
        let page = assert_valid_html(&res.text().await.unwrap());
        assert_eq!(
            text(page.select(&sel("h1")).next().unwrap()),
            "Deze link werkt niet"
        );
        assert!(text(page.select(&sel("main")).next().unwrap()).contains("niet geldig"));
    }

    // Expired: 15 minutes after it was made.
    app.clock.set(Timestamp::from_unix_millis(
        T0.unix_millis() + 15 * 60 * 1000,
    ));
    let res = Browser::new(&app).get(url).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("set-cookie").is_none());
    let page = assert_valid_html(&res.text().await.unwrap());
    assert!(text(page.select(&sel("main")).next().unwrap()).contains("verlopen"));

    // A second before that it still worked.
    app.clock.set(Timestamp::from_unix_millis(
        T0.unix_millis() + 15 * 60 * 1000 - 1000,
    ));
    assert_eq!(Browser::new(&app).get(url).await.status(), 303);

    // A session lasts an hour.
    let browser = signed_in(&app, "anna@example.com").await;
    assert_eq!(browser.get("/me").await.status(), 200);
    app.clock.set(Timestamp::from_unix_millis(
        T0.unix_millis() + 76 * 60 * 1000,
    ));
    assert_eq!(browser.get("/me").await.status(), 401);
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let browser = signed_in(&app, "anna@example.com").await;
    let page = browser.page("en").await;
    let good = switch_form(&page, "newsletter");
    let without: Vec<(String, String)> =
        good.iter().filter(|(k, _)| k != "csrf").cloned().collect();
    let wrong: Vec<(String, String)> = good
        .iter()
        .map(|(k, v)| {
            let v = if k == "csrf" {
                "AAAA".into()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    // Another session's token, even of the same customer, is not this session's.
    let other = signed_in(&app, "anna@example.com").await;
    let other_csrf = csrf(&other.page("en").await);
    assert_ne!(other_csrf, csrf(&page));
    let borrowed: Vec<(String, String)> = good
        .iter()
        .map(|(k, v)| {
            let v = if k == "csrf" {
                other_csrf.clone()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    for (path, form) in [
        ("/me/choices", &without),
        ("/me/choices", &wrong),
        ("/me/choices", &borrowed),
        ("/me/presets", &vec![("preset".into(), "everything".into())]),
        ("/me/erase", &vec![("confirm".into(), "yes".into())]),
    ] {
        let res = browser.post(path, &pairs(form)).await;
        assert_eq!(res.status(), 403, "{path} {form:?}");
        let page = assert_valid_html(&res.text().await.unwrap());
        assert_eq!(
            text(page.select(&sel("h1")).next().unwrap()),
            "Your choice was not saved"
        );
    }
    assert_eq!(app.ledger_len().await, 0);
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "not_asked"
    );

    // With the token, the same form works.
    let res = browser.post("/me/choices", &pairs(&good)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.ledger_len().await, 1);
}

#[tokio::test]
async fn a_session_for_one_customer_cannot_read_or_change_another() {
    let app = spawn_app().await;
    let bert = app
        .record("bert@example.com", &[("newsletter", "grant")])
        .await;
    let bert_pseudonym = bert["subject"].as_str().unwrap().to_owned();
    let bert_seq = bert["events"][0]["seq"].as_u64().unwrap();
    let anna = signed_in(&app, "anna@example.com").await;
    let page = anna.page("en").await;
    let html = page.html();
    assert!(!html.contains(&bert_pseudonym));
    // Anna's page says nothing about Bert's yes.
    assert!(switches(&page).contains(&(
        "newsletter".into(),
        "false".into(),
        "Newsletter: off — turn on".into()
    )));

    // No form names a subject; naming one anyway is refused, and writes nothing.
    let form = switch_form(&page, "newsletter");
    for (key, value) in [
        ("subject", "bert@example.com"),
        ("pseudonym", bert_pseudonym.as_str()),
        ("id", "bert@example.com"),
    ] {
        let mut forged = pairs(&form);
        forged.push((key, value));
        let res = anna.post("/me/choices", &forged).await;
        assert_eq!(res.status(), 400, "{key}");
    }
    assert_eq!(app.ledger_len().await, 1);

    // Bert's receipt is not Anna's to download.
    let res = anna.get(&format!("/me/receipts/{bert_seq}")).await;
    problem(res, 404).await;
    // Nor is a seq that is not a number; that too is a problem, not a plain-text 400
    // (found by fuzzing, docs/fuzzing.md).
    for seq in ["I", "-1", "18446744073709551616"] {
        let res = anna.get(&format!("/me/receipts/{seq}")).await;
        problem(res, 404).await;
    }

    // A cookie that was tampered with, or Bert's link used as a cookie, is no session.
    let mut cookie = String::new();
    let res = Browser::new(&app)
        .get(
            link(&app, "anna@example.com", None).await["url"]
                .as_str()
                .unwrap(),
        )
        .await;
    let set = res.headers()["set-cookie"].to_str().unwrap();
    cookie.push_str(
        set.split(';')
            .next()
            .unwrap()
            .trim_start_matches("keuze_session="),
    );
    let mut tampered: Vec<char> = cookie.chars().collect();
    tampered[3] = if tampered[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let bert_token = link(&app, "bert@example.com", None).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = reqwest::Client::new();
    for value in [tampered, bert_token] {
        for (method, path) in [
            ("GET", "/me"),
            ("GET", "/me/export"),
            ("POST", "/me/choices"),
        ] {
            let req = match method {
                "GET" => plain.get(format!("{}{path}", app.base)),
                _ => plain
                    .post(format!("{}{path}", app.base))
                    .form(&pairs(&form)),
            };
            let res = req
                .header("cookie", format!("keuze_session={value}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401, "{method} {path}");
            let clear = res.headers()["set-cookie"].to_str().unwrap();
            assert!(
                clear.starts_with("keuze_session=;") && clear.contains("Max-Age=0"),
                "{clear}"
            );
        }
    }
    assert_eq!(app.ledger_len().await, 1);
    assert_eq!(
        reason(&app, "bert@example.com", "newsletter").await,
        "granted"
    );
}

#[tokio::test]
async fn a_switch_is_one_click_either_way_and_the_api_agrees() {
    let app = spawn_app().await;
    let browser = signed_in(&app, "anna@example.com").await;
    let page = browser.page("nl").await;
    let res = browser
        .post("/me/choices", &pairs(&switch_form(&page, "newsletter")))
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/me?lang=nl#kz-title-newsletter");
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "granted"
    );

    let page = browser.page("nl").await;
    assert!(switches(&page).contains(&(
        "newsletter".into(),
        "true".into(),
        "Nieuwsbrief: aan — zet uit".into()
    )));
    let res = browser
        .post("/me/choices", &pairs(&switch_form(&page, "newsletter")))
        .await;
    assert_eq!(res.status(), 303);
    let decision = app.decide("anna@example.com", "newsletter").await;
    assert_eq!(decision["allowed"], false);
    assert_eq!(decision["reason"], "withdrawn");

    // A legitimate-interest purpose is switched off by objecting.
    let page = browser.page("en").await;
    browser
        .post(
            "/me/choices",
            &pairs(&switch_form(&page, "fraud_prevention")),
        )
        .await;
    assert_eq!(
        reason(&app, "anna@example.com", "fraud_prevention").await,
        "objected"
    );

    let history: Value = app
        .post(
            "/v1/subjects/history",
            &json!({"subject": {"id": "anna@example.com"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let events: Vec<(&str, &str, &str, &str)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["purpose"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
                e["locale"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("newsletter", "grant", "preference_center", "nl"),
            ("newsletter", "withdraw", "preference_center", "nl"),
            ("fraud_prevention", "object", "preference_center", "en"),
        ]
    );

    // The history on the page: newest first, in plain words, a receipt for each.
    let page = browser.page("en").await;
    let lines: Vec<String> = page.select(&sel(".history li")).map(text).collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].starts_with("15 January 2027, 08:00 UTC: Stop fraud: you objected, on this page."),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("Newsletter: you said yes, on this page."),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with(&format!("Download receipt no. {}", SETUP + 3)),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_preset_records_one_event_per_switchable_purpose() {
    let app = spawn_app().await;
    let browser = signed_in(&app, "anna@example.com").await;
    let page = browser.page("en").await;
    let presets: Vec<String> = page
        .select(&sel("form[action=\"/me/presets\"] button"))
        .map(text)
        .collect();
    assert_eq!(presets, ["Only what is needed", "Balanced", "Everything"]);
    let token = csrf(&page);
    let form = |preset: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("version", "1".to_owned()),
            ("lang", "en".to_owned()),
            ("preset", preset.to_owned()),
        ]
    };
    let post = |preset: &'static str| {
        let fields = form(preset);
        let browser = &browser;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post("/me/presets", &fields).await
        }
    };

    assert_eq!(post("balanced").await.status(), 303);
    assert_eq!(
        app.ledger_len().await,
        6,
        "one event per switchable purpose"
    );
    for (purpose, expected) in [
        ("fraud_prevention", "legitimate_interest"),
        ("service_analytics", "legitimate_interest"),
        ("newsletter", "granted"),
        ("personalised_recommendations", "withdrawn"),
        ("advertising_partners", "withdrawn"),
        ("product_reviews", "withdrawn"),
        ("order_fulfilment", "not_required"),
    ] {
        assert_eq!(
            reason(&app, "anna@example.com", purpose).await,
            expected,
            "{purpose}"
        );
    }
    let page = browser.page("en").await;
    let current: Vec<String> = page
        .select(&sel(".presets li"))
        .filter(|li| text(*li).contains("(your choice now)"))
        .map(|li| text(li.select(&sel("button")).next().unwrap()))
        .collect();
    assert_eq!(current, ["Balanced"]);

    assert_eq!(post("only_needed").await.status(), 303);
    assert_eq!(app.ledger_len().await, 12);
    assert_eq!(
        reason(&app, "anna@example.com", "fraud_prevention").await,
        "objected"
    );
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "withdrawn"
    );

    // An unknown preset writes nothing.
    assert_eq!(post("nothing_at_all").await.status(), 400);
    assert_eq!(app.ledger_len().await, 12);
}

#[tokio::test]
async fn the_export_holds_the_history_and_receipts_come_from_the_same_path_as_the_api() {
    let app = spawn_app().await;
    let browser = signed_in(&app, "anna@example.com").await;
    let page = browser.page("en").await;
    browser
        .post("/me/choices", &pairs(&switch_form(&page, "newsletter")))
        .await;
    browser
        .post(
            "/me/choices",
            &pairs(&switch_form(&page, "product_reviews")),
        )
        .await;

    let res = browser.get("/me/export").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"my-data.json\""
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let export: Value = res.json().await.unwrap();
    let history: Vec<(&str, &str)> = export["history"]
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
    assert_eq!(
        history,
        [("newsletter", "grant"), ("product_reviews", "grant")]
    );
    let second = SETUP + 2;
    assert_eq!(
        export["receipts"][1]["download"],
        format!("/me/receipts/{second}")
    );
    assert_eq!(export["organisation"], "Fietsenwinkel B.V.");
    let newsletter = export["state"]["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "newsletter")
        .unwrap();
    assert_eq!(newsletter["reason"], "granted");

    let res = browser.get(&format!("/me/receipts/{second}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"receipt-{second}.json\"").as_str()
    );
    let mine: Value = res.json().await.unwrap();
    let api: Value = app
        .post(
            "/v1/receipts",
            &json!({"subject": {"id": "anna@example.com"}, "seq": second}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine, api);
    assert_eq!(mine["event"]["source"], "preference_center");
}

#[tokio::test]
async fn erasure_needs_confirmation_then_ends_the_session() {
    let app = spawn_app().await;
    app.record("anna@example.com", &[("newsletter", "grant")])
        .await;
    let browser = signed_in(&app, "anna@example.com").await;
    let page = browser.page("en").await;
    let token = csrf(&page);

    // Not confirmed: nothing erased, and the page says why.
    let res = browser
        .post("/me/erase", &[("csrf", &token), ("lang", "en")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/me?lang=en&notice=confirm#kz-erase"
    );
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "granted"
    );
    let page = browser
        .get("/me?lang=en&notice=confirm")
        .await
        .text()
        .await
        .unwrap();
    let page = assert_valid_html(&page);
    let alert = text(page.select(&sel("[role=alert]")).next().unwrap());
    assert!(alert.starts_with("Nothing was erased."), "{alert}");

    let res = browser
        .post(
            "/me/erase",
            &[("csrf", &token), ("lang", "en"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let clear = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        clear.starts_with("keuze_session=;") && clear.contains("Max-Age=0"),
        "{clear}"
    );
    let done = assert_valid_html(&res.text().await.unwrap());
    assert_eq!(
        text(done.select(&sel("h1")).next().unwrap()),
        "Your data is erased"
    );
    let decision = app.decide("anna@example.com", "newsletter").await;
    assert_eq!(decision["reason"], "subject_erased");
    // The audit trail says a customer erased themselves, and nothing more of who.
    let trail = app.get("/v1/audit/events").await.text().await.unwrap();
    let trail: Value = serde_json::from_str(&trail).unwrap();
    let last = trail["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "subject_erased");
    assert_eq!(last["actor"], "customer");
    let pseudonym = app
        .state
        .pseudonymizer()
        .pseudonym(&keuze_core::SubjectKey::Customer("anna@example.com".into()))
        .to_hex();
    for secret in ["anna", &pseudonym] {
        assert!(!trail.to_string().contains(secret), "{secret} in {trail}");
    }
    // The browser's cookie is gone; the session is over.
    assert_eq!(browser.get("/me").await.status(), 401);
}

#[tokio::test]
async fn what_changed_since_they_agreed_and_a_page_left_open_across_a_change() {
    let app = spawn_app().await;
    let browser = signed_in(&app, "anna@example.com").await;
    let page = browser.page("en").await;
    // The same form, kept for later: a yes to version 1's notice.
    let stale_yes = switch_form(&page, "newsletter");
    browser.post("/me/choices", &pairs(&stale_yes)).await;

    // A new recipient outside the EEA: material.
    let mailjet = "[[purposes.recipients]]\nname = \"Mailjet\"\ncountry = \"FR\"\n";
    let next = SAMPLE_CATALOG.replacen(
        mailjet,
        &format!("{mailjet}\n[[purposes.recipients]]\nname = \"Klaviyo\"\ncountry = \"US\"\n"),
        1,
    );
    let res = app
        .client
        .post(format!("{}/v1/catalog/versions", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/toml")
        .body(next)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    let page = browser.page("en").await;
    let section = text(
        page.select(&sel("section[aria-labelledby=kz-changes]"))
            .next()
            .unwrap(),
    );
    assert!(
        section.contains("What changed since you last agreed"),
        "{section}"
    );
    assert!(section.contains("Klaviyo"), "{section}");
    assert!(
        section.contains("we no longer count on your earlier yes"),
        "{section}"
    );
    let card = text(page.select(&sel("section#newsletter")).next().unwrap());
    assert!(card.contains("Newsletter: off — turn on"), "{card}");
    assert!(card.contains("This changed since you said yes"), "{card}");

    // A yes from a page that showed the old text is not recorded.
    let res = browser.post("/me/choices", &pairs(&stale_yes)).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/me?lang=en&notice=changed#kz-main"
    );
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "reconsent_required"
    );
    let page = browser.get("/me?lang=en&notice=changed").await;
    let page = assert_valid_html(&page.text().await.unwrap());
    let alert = text(page.select(&sel("[role=alert]")).next().unwrap());
    assert!(alert.contains("Nothing was saved"), "{alert}");
    // Agreeing again from the new page works.
    browser
        .post("/me/choices", &pairs(&switch_form(&page, "newsletter")))
        .await;
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "granted"
    );
}

#[tokio::test]
async fn an_incident_notice_leads_the_page_and_is_acknowledged_once() {
    let app = spawn_app().await;
    let res = app.post("/v1/incidents", &crate::incidents::draft()).await;
    assert_eq!(res.status(), 201);
    let res = app
        .post(
            "/v1/incidents/1/notify",
            &json!({"identifiers": ["anna@example.com"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let anna = signed_in(&app, "anna@example.com").await;
    let bert = signed_in(&app, "bert@example.com").await;

    let page = anna.page("nl").await;
    let first = page
        .select(&sel("main > h1 + section.incident h2"))
        .next()
        .expect("the notice follows the heading")
        .text()
        .collect::<String>();
    assert_eq!(
        first,
        "Er ging iets mis met je gegevens: Er is ingebroken bij onze mailservice"
    );
    assert_eq!(page.select(&sel("section.incident")).count(), 1);
    assert!(bert
        .page("en")
        .await
        .select(&sel("section.incident"))
        .next()
        .is_none());
    let token = csrf(&page);
    let entries = || async { app.store.notice_counts(1).await.unwrap() };
    assert_eq!(entries().await.acknowledged, 0);

    // Without the session's token, for an incident not told, or by someone else: nothing.
    let res = anna.post("/me/incidents", &[("incident", "1")]).await;
    assert_eq!(res.status(), 403);
    let res = anna
        .post("/me/incidents", &[("csrf", &token), ("incident", "2")])
        .await;
    assert_eq!(res.status(), 303);
    let bert_token = csrf(&bert.page("en").await);
    let res = bert
        .post("/me/incidents", &[("csrf", &bert_token), ("incident", "1")])
        .await;
    assert_eq!(res.status(), 303);
    let res = anna
        .post("/me/incidents", &[("csrf", &token), ("incident", "x")])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(entries().await.acknowledged, 0);

    let res = anna
        .post(
            "/me/incidents",
            &[("csrf", &token), ("incident", "1"), ("lang", "nl")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/me?lang=nl#kz-main");
    let res = anna
        .post("/me/incidents", &[("csrf", &token), ("incident", "1")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(entries().await.acknowledged, 1, "acknowledged once");

    let page = anna.page("nl").await;
    assert!(page.select(&sel("section.incident")).next().is_none());
    let read = page
        .select(&sel("details#kz-incident-1 summary"))
        .next()
        .unwrap()
        .text()
        .collect::<String>();
    assert!(read.contains("Je las dit op"), "{read}");

    let export: Value = anna.get("/me/export").await.json().await.unwrap();
    let kinds: Vec<&str> = export["incident_notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["notified", "acknowledged"]);
    assert_eq!(export["incident_notices"][1]["locale"], "nl");
}
