//! The banner's endpoints as a visitor's browser meets them: a cookie jar, no API key,
//! `X-Keuze-Banner: 1` on every request.

use crate::helpers::{problem, spawn_app, spawn_app_with_vendor_list, TestApp};
use reqwest::cookie::CookieStore;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::Arc;

const CONSENT_PURPOSES: [&str; 4] = [
    "newsletter",
    "personalised_recommendations",
    "advertising_partners",
    "product_reviews",
];

/// One visitor's browser: its own cookie jar, and optionally Global Privacy Control on.
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    gpc: bool,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .build()
            .unwrap();
        Self {
            app,
            client,
            jar,
            gpc: false,
        }
    }

    fn with_gpc(app: &'a TestApp) -> Self {
        Self {
            gpc: true,
            ..Self::new(app)
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .client
            .request(method, format!("{}{path}", self.app.base))
            .header("X-Keuze-Banner", "1");
        if self.gpc {
            req.header("Sec-GPC", "1")
        } else {
            req
        }
    }

    async fn prompt(&self) -> Value {
        let res = self
            .request(reqwest::Method::GET, "/v1/banner/prompt?lang=en")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        res.json().await.unwrap()
    }

    async fn choose(&self, body: Value) -> Value {
        let res = self
            .request(reqwest::Method::POST, "/v1/banner/choices")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// The device id in the jar, as the organisation's backend reads it from the cookie.
    fn device_id(&self) -> String {
        let url = self.app.base.parse().unwrap();
        let cookies = self.jar.cookies(&url).unwrap();
        let cookies = cookies.to_str().unwrap();
        cookies
            .split(';')
            .find_map(|c| c.trim().strip_prefix("keuze_device="))
            .unwrap()
            .to_owned()
    }

    /// The API's decision for this visitor's device subject.
    async fn decide(&self, purpose: &str) -> Value {
        let res = self
            .app
            .post(
                "/v1/decide",
                &json!({"subject": {"device_id": self.device_id()}, "purpose": purpose}),
            )
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    async fn history(&self) -> Vec<Value> {
        let res = self
            .app
            .post(
                "/v1/subjects/history",
                &json!({"subject": {"device_id": self.device_id()}}),
            )
            .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        body["events"].as_array().unwrap().clone()
    }
}

fn asked(prompt: &Value) -> Vec<&str> {
    prompt["ask"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["purpose"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_first_request_issues_a_device_cookie_with_safe_flags() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/v1/banner/prompt", app.base))
        .header("X-Keuze-Banner", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    let (pair, attributes) = cookie.split_once(';').unwrap();
    let id = pair.strip_prefix("keuze_device=").unwrap();
    assert!(id.starts_with("dev_") && id.len() == 36, "{cookie}");
    let attributes: Vec<&str> = attributes.split(';').map(str::trim).collect();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(&flag), "{flag} missing in {cookie}");
    }
    let max_age: u64 = attributes
        .iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .unwrap()
        .parse()
        .unwrap();
    // About 13 months, and within the 400 days browsers keep a cookie.
    assert!(
        (390 * 86_400..=400 * 86_400).contains(&max_age),
        "{max_age}"
    );

    // A visitor with the cookie keeps it: nothing new is issued.
    let browser = Browser::new(&app);
    browser.prompt().await;
    let id = browser.device_id();
    let res = browser
        .request(reqwest::Method::GET, "/v1/banner/prompt")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(browser.device_id(), id);

    // A forged cookie is not taken: a fresh device id is issued instead.
    let res = app
        .client
        .get(format!("{}/v1/banner/prompt", app.base))
        .header("X-Keuze-Banner", "1")
        .header("Cookie", "keuze_device=alice@example.com")
        .send()
        .await
        .unwrap();
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("keuze_device=dev_"));
}

#[tokio::test]
async fn a_new_visitor_is_asked_the_four_consent_purposes() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let prompt = browser.prompt().await;
    assert_eq!(asked(&prompt), CONSENT_PURPOSES);
    for q in prompt["ask"].as_array().unwrap() {
        assert!(!q["benefit"].as_str().unwrap().is_empty(), "{q}");
        assert_eq!(q["reason"], "not_asked");
    }
    assert_eq!(prompt["gpc"], false);
    assert_eq!(prompt["texts"]["accept_all"], "Accept all");
    assert_eq!(prompt["texts"]["reject_all"], "Reject all");
    assert_eq!(prompt["texts"]["choose"], "Choose");
    assert!(prompt["texts"]["intro"]
        .as_str()
        .unwrap()
        .contains("Newsletter, Tips that suit you, Our ads on other sites and Reviews"));
    // Every Consent Mode signal is there; only what a legitimate interest covers is granted.
    let mode = prompt["consent_mode"].as_object().unwrap();
    assert_eq!(mode.len(), 7);
    for (signal, value) in mode {
        let expected = if signal == "analytics_storage" {
            "granted"
        } else {
            "denied"
        };
        assert_eq!(value, expected, "{signal}");
    }
    assert_eq!(prompt["decisions"]["newsletter"], false);
    assert_eq!(prompt["decisions"]["order_fulfilment"], true);
    // Nothing was written by asking.
    assert_eq!(app.ledger_len().await, 0);

    // The same prompt in Dutch.
    let res = browser
        .request(reqwest::Method::GET, "/v1/banner/prompt?lang=nl-NL")
        .send()
        .await
        .unwrap();
    let nl: Value = res.json().await.unwrap();
    assert_eq!(nl["locale"], "nl");
    assert_eq!(nl["texts"]["reject_all"], "Alles weigeren");
    assert_eq!(nl["ask"][0]["title"], "Nieuwsbrief");
}

#[tokio::test]
async fn reject_all_denies_every_consent_purpose_and_the_banner_asks_nothing_more() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let prompt = browser.prompt().await;
    let outcome = browser
        .choose(
            json!({"all": "reject", "locale": "en", "catalog_version": prompt["catalog_version"]}),
        )
        .await;
    for p in CONSENT_PURPOSES {
        let d = browser.decide(p).await;
        assert_eq!(
            (&d["allowed"], &d["reason"]),
            (&json!(false), &json!("withdrawn")),
            "{p}"
        );
        assert_eq!(outcome["decisions"][p], false);
    }
    assert!(outcome["consent_mode"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| v == "denied"));
    let history = browser.history().await;
    assert!(history.iter().all(|e| e["source"] == "banner"));
    // One event per switchable purpose: no bundling, even for "reject all".
    assert_eq!(history.len(), 6);
    assert_eq!(outcome["recorded"], 6);

    let next = browser.prompt().await;
    assert!(asked(&next).is_empty(), "{next}");
}

#[tokio::test]
async fn accept_all_grants_every_consent_purpose() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    let outcome = browser.choose(json!({"all": "accept"})).await;
    for p in CONSENT_PURPOSES {
        let d = browser.decide(p).await;
        assert_eq!(
            (&d["allowed"], &d["reason"]),
            (&json!(true), &json!("granted")),
            "{p}"
        );
    }
    let mode = outcome["consent_mode"].as_object().unwrap();
    for signal in [
        "ad_storage",
        "ad_user_data",
        "ad_personalization",
        "analytics_storage",
        "personalization_storage",
    ] {
        assert_eq!(mode[signal], "granted", "{signal}");
    }
    // No purpose maps these: they stay denied.
    assert_eq!(mode["functionality_storage"], "denied");
    assert_eq!(mode["security_storage"], "denied");
    assert!(asked(&browser.prompt().await).is_empty());
}

#[tokio::test]
async fn without_the_banner_header_nothing_is_written() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    let res = browser
        .client
        .post(format!("{}/v1/banner/choices", app.base))
        .json(&json!({"all": "accept"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 403).await;
    assert_eq!(body["type"], "urn:keuze:problem:not-from-banner");
    assert!(body["detail"].as_str().unwrap().contains("X-Keuze-Banner"));
    assert_eq!(app.ledger_len().await, 0);

    // Not even GPC is written, and no cookie is issued, without the header.
    let res = app
        .client
        .get(format!("{}/v1/banner/prompt", app.base))
        .header("Sec-GPC", "1")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_none());
    problem(res, 403).await;
    let res = app
        .client
        .get(format!("{}/v1/banner/decide?purpose=newsletter", app.base))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    assert_eq!(app.ledger_len().await, 0);
}

#[tokio::test]
async fn a_bad_answer_is_refused_whole() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    let res = browser
        .request(reqwest::Method::POST, "/v1/banner/choices")
        .json(&json!({"choices": [
            {"purpose": "newsletter", "action": "grant"},
            {"purpose": "order_fulfilment", "action": "withdraw"}
        ]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["pointer"], "/choices/1/action");
    // The subject may not be chosen by the page: the cookie says who it is.
    let res = browser
        .request(reqwest::Method::POST, "/v1/banner/choices")
        .json(&json!({"all": "accept", "subject": {"id": "bob@example.com"}}))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    assert_eq!(app.ledger_len().await, 0);

    // With Global Privacy Control on, a refused first answer writes nothing either: not
    // even the objections the signal brings (found by the api_bodies fuzz target).
    let gpc = Browser::with_gpc(&app);
    let res = gpc
        .request(reqwest::Method::POST, "/v1/banner/choices")
        .json(&json!({"choices": [{"purpose": "newsletter", "action": "maybe"}]}))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    assert_eq!(app.ledger_len().await, 0);
    let res = gpc
        .request(reqwest::Method::POST, "/v1/banner/choices")
        .json(&json!({"all": "reject", "catalog_version": 9}))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    assert_eq!(app.ledger_len().await, 0);
    // A good answer still brings them, first.
    gpc.choose(json!({"all": "reject"})).await;
    assert!(app.ledger_len().await > 0);
}

#[tokio::test]
async fn global_privacy_control_refuses_its_purposes_once_and_they_are_not_asked() {
    let app = spawn_app().await;
    let browser = Browser::with_gpc(&app);
    let prompt = browser.prompt().await;
    assert_eq!(prompt["gpc"], true);
    assert_eq!(
        asked(&prompt),
        [
            "newsletter",
            "personalised_recommendations",
            "product_reviews"
        ]
    );
    assert!(prompt["texts"]["gpc"]
        .as_str()
        .unwrap()
        .contains("Our ads on other sites"));
    for signal in ["ad_storage", "ad_user_data", "ad_personalization"] {
        assert_eq!(prompt["consent_mode"][signal], "denied");
    }
    let d = browser.decide("advertising_partners").await;
    assert_eq!(
        (&d["allowed"], &d["reason"]),
        (&json!(false), &json!("withdrawn"))
    );

    // Once: more requests with the signal write nothing more.
    browser.prompt().await;
    browser
        .request(
            reqwest::Method::GET,
            "/v1/banner/decide?purpose=advertising_partners",
        )
        .send()
        .await
        .unwrap();
    let history = browser.history().await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(
        (
            &history[0]["purpose"],
            &history[0]["action"],
            &history[0]["source"]
        ),
        (
            &json!("advertising_partners"),
            &json!("withdraw"),
            &json!("gpc")
        )
    );

    // "Accept all" grants what was asked, and leaves what GPC refused refused.
    let outcome = browser.choose(json!({"all": "accept"})).await;
    assert_eq!(outcome["decisions"]["newsletter"], true);
    assert_eq!(outcome["decisions"]["advertising_partners"], false);
    assert_eq!(outcome["consent_mode"]["ad_storage"], "denied");
    assert_eq!(
        outcome["consent_mode"]["personalization_storage"],
        "granted"
    );
    assert!(asked(&browser.prompt().await).is_empty());

    // An explicit yes after the signal is the visitor's own word, and is not overridden.
    browser
        .choose(json!({"choices": [{"purpose": "advertising_partners", "action": "grant"}]}))
        .await;
    let before = browser.history().await.len();
    browser.prompt().await;
    assert_eq!(browser.history().await.len(), before);
    assert_eq!(
        browser.decide("advertising_partners").await["allowed"],
        true
    );
}

#[tokio::test]
async fn the_script_passes_on_navigator_global_privacy_control() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    let res = browser
        .request(reqwest::Method::GET, "/v1/banner/prompt")
        .header("X-Keuze-GPC", "1")
        .send()
        .await
        .unwrap();
    let prompt: Value = res.json().await.unwrap();
    assert_eq!(prompt["gpc"], true);
    assert!(!asked(&prompt).contains(&"advertising_partners"));
    assert_eq!(browser.history().await[0]["source"], "gpc");
}

#[tokio::test]
async fn a_grant_given_before_the_signal_is_withdrawn_by_it() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    browser.prompt().await;
    browser.choose(json!({"all": "accept"})).await;
    // The same browser, its cookie kept, with GPC switched on later.
    browser.gpc = true;
    let prompt = browser.prompt().await;
    assert!(asked(&prompt).is_empty());
    assert_eq!(prompt["decisions"]["advertising_partners"], false);
    assert_eq!(prompt["decisions"]["newsletter"], true);
    let last = browser.history().await.pop().unwrap();
    assert_eq!(
        (&last["action"], &last["source"]),
        (&json!("withdraw"), &json!("gpc"))
    );
}

#[tokio::test]
async fn consent_mode_follows_the_purposes_mapped_to_each_signal() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    let outcome = browser
        .choose(json!({"choices": [
            {"purpose": "personalised_recommendations", "action": "grant"},
            {"purpose": "newsletter", "action": "grant"}
        ]}))
        .await;
    assert_eq!(outcome["recorded"], 2);
    assert_eq!(
        outcome["consent_mode"]["personalization_storage"],
        "granted"
    );
    for signal in ["ad_storage", "ad_user_data", "ad_personalization"] {
        assert_eq!(outcome["consent_mode"][signal], "denied", "{signal}");
    }
    // What was answered is not asked again; what was not, is.
    assert_eq!(
        asked(&browser.prompt().await),
        ["advertising_partners", "product_reviews"]
    );
    let outcome = browser
        .choose(json!({"choices": [{"purpose": "advertising_partners", "action": "grant"}]}))
        .await;
    for signal in ["ad_storage", "ad_user_data", "ad_personalization"] {
        assert_eq!(outcome["consent_mode"][signal], "granted", "{signal}");
    }
    // An objection to the legitimate interest behind analytics_storage denies it.
    let outcome = browser
        .choose(json!({"choices": [{"purpose": "service_analytics", "action": "object"}]}))
        .await;
    assert_eq!(outcome["consent_mode"]["analytics_storage"], "denied");

    let res = browser
        .request(
            reqwest::Method::GET,
            "/v1/banner/decide?purpose=advertising_partners",
        )
        .send()
        .await
        .unwrap();
    let d: Value = res.json().await.unwrap();
    assert_eq!(
        (&d["allowed"], &d["reason"]),
        (&json!(true), &json!("granted"))
    );
    let res = browser
        .request(
            reqwest::Method::GET,
            "/v1/banner/decide?purpose=no_such_purpose",
        )
        .send()
        .await
        .unwrap();
    let d: Value = res.json().await.unwrap();
    assert_eq!(
        (&d["allowed"], &d["reason"]),
        (&json!(false), &json!("unknown_purpose"))
    );
}

#[tokio::test]
async fn linking_carries_over_only_where_the_customer_has_no_choice() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    browser
        .choose(json!({"choices": [
            {"purpose": "newsletter", "action": "withdraw"},
            {"purpose": "product_reviews", "action": "grant"},
            {"purpose": "advertising_partners", "action": "withdraw"}
        ]}))
        .await;
    // The customer said yes to the newsletter before, elsewhere: that stays.
    app.record("carla@example.com", &[("newsletter", "grant")])
        .await;

    let link = json!({"device_id": browser.device_id(), "subject": {"id": "carla@example.com"}});
    let res = app.post("/v1/subjects/link", &link).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let carried: Vec<(&str, &str, &str)> = body["carried"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["purpose"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        carried,
        [
            ("product_reviews", "grant", "system"),
            ("advertising_partners", "withdraw", "system")
        ]
    );
    assert_eq!(
        app.decide("carla@example.com", "newsletter").await["allowed"],
        true
    );
    assert_eq!(
        app.decide("carla@example.com", "product_reviews").await["reason"],
        "granted"
    );
    assert_eq!(
        app.decide("carla@example.com", "advertising_partners")
            .await["reason"],
        "withdrawn"
    );
    assert_eq!(
        app.decide("carla@example.com", "personalised_recommendations")
            .await["reason"],
        "not_asked"
    );

    // Idempotent: linking again carries nothing and writes nothing.
    let before = app.ledger_len().await;
    let res = app.post("/v1/subjects/link", &link).await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["carried"], json!([]));
    assert_eq!(again["subject"], body["subject"]);
    assert_eq!(app.ledger_len().await, before);

    // The known customer's later choices win as always.
    app.record("carla@example.com", &[("product_reviews", "withdraw")])
        .await;
    app.post("/v1/subjects/link", &link).await;
    assert_eq!(
        app.decide("carla@example.com", "product_reviews").await["reason"],
        "withdrawn"
    );
}

#[tokio::test]
async fn linking_checks_what_it_is_given() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/v1/subjects/link",
            &json!({"device_id": "alice@example.com", "subject": {"device_id": "dev_00000000000000000000000000000000"}}),
        )
        .await;
    let body = problem(res, 422).await;
    let pointers: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/device_id", "/subject/device_id"]);

    // The record scope is needed.
    let key = app.key_with(&[keuze_store::Scope::Decide]).await;
    let res = app
        .client
        .post(format!("{}/v1/subjects/link", app.base))
        .bearer_auth(key)
        .json(&json!({"device_id": "dev_00000000000000000000000000000000", "subject": {"id": "a"}}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
    assert_eq!(app.ledger_len().await, 0);
}

#[tokio::test]
async fn the_script_is_small_cached_and_plain() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/banner.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/javascript; charset=utf-8"
    );
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let script = res.text().await.unwrap();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(script.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap().len();
    println!(
        "banner.js: {} bytes, {gzipped} bytes gzipped (budget 8192)",
        script.len()
    );
    assert!(gzipped <= 8192, "banner.js is {gzipped} bytes gzipped");

    // Nothing a strict Content-Security-Policy forbids, and no dependencies.
    for forbidden in [
        "eval(",
        "new Function",
        "innerHTML",
        "style=",
        "import ",
        "require(",
    ] {
        assert!(!script.contains(forbidden), "banner.js uses {forbidden}");
    }

    let res = app
        .client
        .get(format!("{}/banner.js", app.base))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn the_gpc_support_resource_is_served() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/.well-known/gpc.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    // The date the catalog that says what GPC refuses was published (T0).
    assert_eq!(body, json!({"gpc": true, "lastUpdate": "2027-01-15"}));
}

#[tokio::test]
async fn the_demo_page_embeds_the_banner_under_a_strict_policy() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(format!("{}/banner/demo?lang=nl", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<script src="/banner.js" defer></script>"#));
    assert!(html.contains(&format!(r#"<script nonce="{nonce}">"#)));
    assert!(html.contains(r#"<html lang="nl">"#));
    assert!(html.contains("Fietsenwinkel B.V."));
}

#[tokio::test]
async fn concurrent_requests_with_the_signal_refuse_once() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    // Eight requests at once from the same browser (the same cookie), GPC on.
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = browser
            .request(reqwest::Method::GET, "/v1/banner/prompt")
            .header("Sec-GPC", "1");
        requests.spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() });
    }
    while let Some(prompt) = requests.join_next().await {
        assert!(!asked(&prompt.unwrap()).contains(&"advertising_partners"));
    }
    assert_eq!(browser.history().await.len(), 1);
}

#[tokio::test]
async fn a_refused_first_answer_still_keeps_the_device() {
    let app = spawn_app().await;
    let browser = Browser::with_gpc(&app);
    // The first request fails its own check: it writes nothing, not even the GPC
    // refusal, but the browser keeps the device it was given.
    let res = browser
        .request(reqwest::Method::POST, "/v1/banner/choices")
        .json(&json!({"choices": [{"purpose": "no_such_purpose", "action": "grant"}]}))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("set-cookie").is_some());
    problem(res, 422).await;
    assert_eq!(app.ledger_len().await, 0);
    // The next banner request honours the signal, for that same device.
    browser.prompt().await;
    let history = browser.history().await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["source"], "gpc");
}

#[tokio::test]
async fn an_erased_device_starts_afresh() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    browser.prompt().await;
    browser.choose(json!({"all": "accept"})).await;
    let old = browser.device_id();
    let res = app
        .post(
            "/v1/subjects/erase",
            &json!({"subject": {"device_id": old}}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // The browser still sends the old cookie; it gets a new device, asked like a new one.
    let prompt = browser.prompt().await;
    assert_ne!(browser.device_id(), old);
    assert_eq!(asked(&prompt), CONSENT_PURPOSES);
    browser.choose(json!({"all": "reject"})).await;
    assert_eq!(browser.decide("newsletter").await["reason"], "withdrawn");
}

#[tokio::test]
async fn the_banner_carries_the_visitors_tcdata_when_the_server_makes_tc_strings() {
    let app = spawn_app().await;
    let visitor = Browser::new(&app);
    let before = visitor.prompt().await;
    let tcf = &before["tcf"];
    assert_eq!(tcf["cmpId"], 300);
    assert_eq!(tcf["gdprApplies"], true);
    assert_eq!(tcf["isServiceSpecific"], true);
    assert_eq!(tcf["publisherCC"], "NL");
    // Every purpose of the vendor list is named, none with a yes yet.
    assert_eq!(tcf["purpose"]["consents"].as_object().unwrap().len(), 11);
    assert!(tcf["purpose"]["consents"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| *v == json!(false)));
    assert_eq!(tcf["vendor"]["consents"], json!({"755": false}));
    let after = visitor.choose(json!({"all": "accept"})).await;
    let tcf = &after["tcf"];
    let model = keuze_tcf::decode(tcf["tcString"].as_str().unwrap()).unwrap();
    assert_eq!(
        model.purpose_consents.iter().collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    for id in 1..=11 {
        assert_eq!(
            tcf["purpose"]["consents"][id.to_string()],
            json!(id <= 4),
            "purpose {id}"
        );
    }
    assert_eq!(tcf["vendor"]["consents"], json!({"755": true}));
    assert!(tcf["vendor"]["legitimateInterests"]
        .as_object()
        .unwrap()
        .values()
        .all(|v| *v == json!(false)));
}

#[tokio::test]
async fn without_a_vendor_list_the_banner_offers_no_tcdata() {
    let app = spawn_app_with_vendor_list(None).await;
    let visitor = Browser::new(&app);
    let prompt = visitor.prompt().await;
    assert!(prompt.get("tcf").is_none(), "{prompt}");
    let after = visitor.choose(json!({"all": "reject"})).await;
    assert!(after.get("tcf").is_none(), "{after}");
}
