//! The banner in headless Chromium, on Keuze's demo shop page: what a visitor sees and
//! clicks, what the API decides afterwards, and what Google Consent Mode is told.

use crate::helpers::{spawn_app, TestApp};
use crate::support::Browser;
use fantoccini::key::Key;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const CONSENT_PURPOSES: [&str; 4] = [
    "newsletter",
    "personalised_recommendations",
    "advertising_partners",
    "product_reviews",
];

const DIALOG: &str = "#keuze-banner [role=dialog]";
const FIRST_LAYER: &str = "#keuze-banner .kz-row .kz-btn";

/// A Chrome DevTools Protocol command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Turns Global Privacy Control on as a browser with the setting does for scripts:
/// `navigator.globalPrivacyControl === true` in every document from now on.
async fn turn_on_gpc(browser: &Browser) {
    browser
        .client()
        .issue_cmd(Cdp {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({"source": "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});"}),
        })
        .await
        .unwrap();
}

/// Waits until the script `condition` (an expression) is truthy in the page.
async fn until(browser: &Browser, what: &str, condition: &str) {
    let started = Instant::now();
    loop {
        let v = browser
            .client()
            .execute(&format!("return !!({condition});"), vec![])
            .await
            .unwrap_or(Value::Null);
        if v == json!(true) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "waited in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The demo page has asked Keuze and shown what the shop may do.
async fn settled(browser: &Browser) {
    until(
        browser,
        "the demo's decisions",
        "document.querySelector('td[data-purpose=newsletter]').textContent !== '…'",
    )
    .await;
}

async fn device_id(browser: &Browser) -> String {
    browser
        .client()
        .get_named_cookie("keuze_device")
        .await
        .unwrap()
        .value()
        .to_owned()
}

async fn decision(app: &TestApp, device: &str, purpose: &str) -> (bool, String) {
    let res = app
        .post(
            "/v1/decide",
            &json!({"subject": {"device_id": device}, "purpose": purpose}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let d: Value = res.json().await.unwrap();
    (
        d["allowed"].as_bool().unwrap(),
        d["reason"].as_str().unwrap().to_owned(),
    )
}

/// What the page's `gtag` was told, oldest first.
async fn consent_mode_calls(browser: &Browser) -> Vec<Value> {
    let calls = browser
        .eval("return window.dataLayer.map(function (a) { return Array.from(a); });")
        .await;
    calls.as_array().unwrap().clone()
}

async fn banner_is_shown(browser: &Browser) -> bool {
    browser
        .eval("return !!document.getElementById('keuze-banner');")
        .await
        == json!(true)
}

#[tokio::test(flavor = "multi_thread")]
async fn reject_all_denies_everything_and_the_banner_stays_away() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .open(&format!("{}/banner/demo?lang=en", app.base))
        .await;
    browser.find(DIALOG).await;
    settled(&browser).await;

    // Before anything else, Consent Mode was told: everything denied, wait for Keuze.
    let calls = consent_mode_calls(&browser).await;
    assert_eq!(
        (&calls[0][0], &calls[0][1]),
        (&json!("consent"), &json!("default"))
    );
    assert_eq!(calls[0][2]["ad_storage"], "denied");
    assert_eq!(calls[0][2]["analytics_storage"], "denied");
    assert_eq!(calls[0][2]["wait_for_update"], 500);
    assert_eq!(
        (&calls[1][0], &calls[1][1]),
        (&json!("consent"), &json!("update"))
    );
    assert_eq!(calls[1][2]["ad_storage"], "denied");

    // The dialog has focus, is labelled, and offers three buttons of equal weight.
    let focused = browser
        .eval("const el = document.activeElement; return [el.getAttribute('role'), document.getElementById(el.getAttribute('aria-labelledby')).textContent];")
        .await;
    assert_eq!(focused, json!(["dialog", "Your choice"]));
    let buttons = browser.find_all(FIRST_LAYER).await;
    let mut texts = Vec::new();
    let mut sizes = Vec::new();
    for b in &buttons {
        texts.push(b.text().await.unwrap());
        let (_, _, width, height) = b.rectangle().await.unwrap();
        sizes.push((width, height));
    }
    assert_eq!(texts, ["Accept all", "Reject all", "Choose"]);
    for (w, h) in &sizes {
        assert!(
            (w - sizes[0].0).abs() < 0.5 && (h - sizes[0].1).abs() < 0.5,
            "unequal buttons: {sizes:?}"
        );
    }
    let looks = browser
        .eval("return Array.from(document.querySelectorAll('#keuze-banner .kz-row .kz-btn')).map(function (b) { const s = getComputedStyle(b); return [b.className, s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderTopWidth, s.borderTopColor]; });")
        .await;
    let looks = looks.as_array().unwrap();
    assert!(looks.iter().all(|l| l == &looks[0]), "{looks:?}");
    let path = browser.screenshot("banner").await;
    assert!(path.ends_with("target/screenshots/banner.png"));

    buttons[1].click().await.unwrap();
    until(
        &browser,
        "the banner to close",
        "!document.getElementById('keuze-banner')",
    )
    .await;
    let device = device_id(&browser).await;
    for p in CONSENT_PURPOSES {
        assert_eq!(
            decision(&app, &device, p).await,
            (false, "withdrawn".into()),
            "{p}"
        );
    }
    // The page heard of it: `keuze:change`, and Consent Mode updated.
    until(
        &browser,
        "the demo to show the refusal",
        "document.querySelector('td[data-purpose=newsletter]').textContent === 'no'",
    )
    .await;
    let last = consent_mode_calls(&browser).await.pop().unwrap();
    assert_eq!(last[1], "update");
    assert!(
        last[2].as_object().unwrap().values().all(|v| v == "denied"),
        "{last}"
    );

    // The next page load asks nothing.
    browser.client().refresh().await.unwrap();
    settled(&browser).await;
    assert!(!banner_is_shown(&browser).await);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn accept_all_grants_everything_and_the_banner_stays_away() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .open(&format!("{}/banner/demo?lang=en", app.base))
        .await;
    browser.find(DIALOG).await;
    let buttons = browser.find_all(FIRST_LAYER).await;
    assert_eq!(buttons[0].text().await.unwrap(), "Accept all");
    buttons[0].click().await.unwrap();
    until(
        &browser,
        "the banner to close",
        "!document.getElementById('keuze-banner')",
    )
    .await;
    let device = device_id(&browser).await;
    for p in CONSENT_PURPOSES {
        assert_eq!(
            decision(&app, &device, p).await,
            (true, "granted".into()),
            "{p}"
        );
    }
    until(
        &browser,
        "the demo to show the grant",
        "document.querySelector('td[data-purpose=advertising_partners]').textContent === 'yes'",
    )
    .await;
    let last = consent_mode_calls(&browser).await.pop().unwrap();
    assert_eq!(last[2]["ad_storage"], "granted");
    assert_eq!(last[2]["ad_user_data"], "granted");
    assert_eq!(last[2]["personalization_storage"], "granted");

    browser.client().refresh().await.unwrap();
    settled(&browser).await;
    assert!(!banner_is_shown(&browser).await);

    // Changing one's mind later is as easy: the shop's "Privacy settings" button.
    browser
        .find("[data-keuze-open]")
        .await
        .click()
        .await
        .unwrap();
    browser.find(DIALOG).await;
    let checked = browser
        .eval("return Array.from(document.querySelectorAll('#keuze-banner [role=switch]')).map(function (s) { return s.getAttribute('aria-checked'); });")
        .await;
    assert_eq!(checked, json!(["true", "true", "true", "true"]));
    browser
        .find("#keuze-banner [role=switch][data-purpose=advertising_partners]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .find("#keuze-banner .kz-two .kz-btn")
        .await
        .click()
        .await
        .unwrap();
    until(
        &browser,
        "the banner to close",
        "!document.getElementById('keuze-banner')",
    )
    .await;
    assert_eq!(
        decision(&app, &device, "advertising_partners").await,
        (false, "withdrawn".into())
    );
    let last = consent_mode_calls(&browser).await.pop().unwrap();
    assert_eq!(last[2]["ad_storage"], "denied");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_gpc_on_its_purposes_are_refused_and_not_asked_and_the_rest_by_keyboard() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    turn_on_gpc(&browser).await;
    browser
        .open(&format!("{}/banner/demo?lang=nl", app.base))
        .await;
    assert_eq!(
        browser.eval("return navigator.globalPrivacyControl;").await,
        json!(true)
    );
    browser.find(DIALOG).await;
    let intro = browser.text("#keuze-banner .kz").await;
    assert!(intro.contains("Global Privacy Control"), "{intro}");
    assert!(
        intro.contains("toestemming voor: Nieuwsbrief, Tips die bij je passen en Reviews."),
        "{intro}"
    );

    // Refused by the signal, once, with source `gpc`.
    let device = device_id(&browser).await;
    assert_eq!(
        decision(&app, &device, "advertising_partners").await,
        (false, "withdrawn".into())
    );
    let res = app
        .post(
            "/v1/subjects/history",
            &json!({"subject": {"device_id": device}}),
        )
        .await;
    let history: Value = res.json().await.unwrap();
    let events: Vec<(&str, &str)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["purpose"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(events, [("advertising_partners", "gpc")]);

    // By keyboard alone: Tab to "Zelf kiezen", Enter, switch one purpose on, save.
    let presses = browser
        .tab_until("the Choose button", "el.textContent === 'Zelf kiezen'")
        .await;
    assert_eq!(presses, 3, "Accept all, Reject all, Choose: in that order");
    let outline = browser
        .eval("const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)];")
        .await;
    assert_eq!(outline[0], "solid", "{outline}");
    assert!(outline[1].as_f64().unwrap() >= 2.0, "{outline}");
    browser.press(Key::Enter).await;
    until(
        &browser,
        "the switches",
        "document.querySelectorAll('#keuze-banner [role=switch]').length > 0",
    )
    .await;
    let switches = browser
        .eval("return Array.from(document.querySelectorAll('#keuze-banner [role=switch]')).map(function (s) { return [s.getAttribute('data-purpose'), s.getAttribute('aria-checked'), document.getElementById(s.getAttribute('aria-labelledby')).textContent]; });")
        .await;
    // Nothing ticked in advance, and nothing asked that GPC refused.
    assert_eq!(
        switches,
        json!([
            ["newsletter", "false", "Nieuwsbrief"],
            [
                "personalised_recommendations",
                "false",
                "Tips die bij je passen"
            ],
            ["product_reviews", "false", "Reviews"]
        ])
    );
    assert_eq!(
        browser
            .eval("return document.activeElement.getAttribute('role');")
            .await,
        json!("dialog"),
        "focus moves into the second layer"
    );
    browser.screenshot("banner-choose").await;
    browser
        .tab_until(
            "the newsletter switch",
            "el.getAttribute('data-purpose') === 'newsletter'",
        )
        .await;
    browser.press(Key::Space).await;
    assert_eq!(
        browser
            .eval("return document.activeElement.getAttribute('aria-checked');")
            .await,
        json!("true")
    );
    browser
        .tab_until("the Save button", "el.textContent === 'Opslaan'")
        .await;
    browser.press(Key::Enter).await;
    until(
        &browser,
        "the banner to close",
        "!document.getElementById('keuze-banner')",
    )
    .await;

    assert_eq!(
        decision(&app, &device, "newsletter").await,
        (true, "granted".into())
    );
    for p in ["personalised_recommendations", "product_reviews"] {
        assert_eq!(
            decision(&app, &device, p).await,
            (false, "withdrawn".into()),
            "{p}"
        );
    }
    assert_eq!(
        decision(&app, &device, "advertising_partners").await,
        (false, "withdrawn".into())
    );
    let last = consent_mode_calls(&browser).await.pop().unwrap();
    assert_eq!(last[2]["ad_storage"], "denied");

    // The signal was honoured once: later pages with it write nothing more.
    let before = app.ledger_len().await;
    browser.client().refresh().await.unwrap();
    settled(&browser).await;
    assert!(!banner_is_shown(&browser).await);
    assert_eq!(app.ledger_len().await, before);
    browser.close().await;
}

/// What the vendor script's `addEventListener` callback has been given so far.
async fn tcf_events(browser: &Browser) -> Vec<Value> {
    browser
        .eval("return window.vendorSaw;")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The true entries of a TCData signal map, as ids.
fn yes(signals: &Value) -> Vec<String> {
    signals
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| **v == json!(true))
        .map(|(k, _)| k.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ad_vendors_on_the_page_read_the_visitors_own_choices_through_tcfapi() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .open(&format!("{}/banner/demo?lang=en", app.base))
        .await;
    // A vendor's script registers as the CMP API asks, before or after the banner loads.
    browser
        .eval(
            "window.vendorSaw = []; window.__tcfapi('addEventListener', 2, function (d, ok) { \
             window.vendorSaw.push({ok: ok, status: d.eventStatus, cmp: d.cmpStatus, id: d.listenerId, \
             tc: d.tcString, purposes: d.purpose.consents, vendors: d.vendor.consents, \
             li: d.purpose.legitimateInterests, gdpr: d.gdprApplies, cc: d.publisherCC}); }); return true;",
        )
        .await;
    browser.find(DIALOG).await;
    until(
        &browser,
        "the listener's first call",
        "window.vendorSaw.length >= 1",
    )
    .await;
    let first = tcf_events(&browser).await[0].clone();
    // A new visitor: the banner is up, nothing is consented, nothing rests on legitimate
    // interest.
    assert_eq!(first["ok"], true);
    assert_eq!(first["status"], "cmpuishown");
    assert_eq!(first["cmp"], "loaded");
    assert_eq!(first["gdpr"], true);
    assert_eq!(first["cc"], "NL");
    assert!(yes(&first["purposes"]).is_empty(), "{first}");
    assert!(yes(&first["li"]).is_empty(), "{first}");
    assert_eq!(first["vendors"], json!({"755": false}));
    let model = keuze_tcf::decode(first["tc"].as_str().unwrap()).unwrap();
    assert!(model.purpose_consents.is_empty());
    let ping = browser
        .eval("var r; window.__tcfapi('ping', 2, function (p) { r = p; }); return r;")
        .await;
    assert_eq!(ping["cmpLoaded"], true);
    assert_eq!(ping["cmpStatus"], "loaded");
    assert_eq!(ping["displayStatus"], "visible");
    assert_eq!(
        (ping["cmpId"].clone(), ping["gvlVersion"].clone()),
        (json!(300), json!(7))
    );

    // Accept all: the listener hears it, with the string the API gives for this visitor.
    browser.find_all(FIRST_LAYER).await[0]
        .click()
        .await
        .unwrap();
    until(
        &browser,
        "useractioncomplete",
        "window.vendorSaw.some(function (e) { return e.status === 'useractioncomplete'; })",
    )
    .await;
    let done = tcf_events(&browser).await.pop().unwrap();
    assert_eq!(done["status"], "useractioncomplete");
    assert_eq!(done["id"], first["id"], "the same listener");
    assert_eq!(yes(&done["purposes"]), ["1", "2", "3", "4"]);
    assert_eq!(done["vendors"], json!({"755": true}));
    let device = device_id(&browser).await;
    let api: Value = app
        .post(
            "/v1/subjects/tcf",
            &json!({"subject": {"device_id": device}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["tc"], api["tcString"], "the page and the API agree");
    let model = keuze_tcf::decode(done["tc"].as_str().unwrap()).unwrap();
    assert_eq!(
        model.purpose_consents.iter().collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(model.vendor_consents.contains(755));

    // A vendor in an iframe finds the CMP through __tcfapiLocator and postMessage; its
    // script runs in the frame (WebDriver switches into it).
    browser
        .eval("var f = document.createElement('iframe'); f.name = 'vendor'; document.body.appendChild(f); return true;")
        .await;
    let frame = browser.find("iframe[name=vendor]").await;
    frame.enter_frame().await.unwrap();
    let found = browser
        .eval(
            "window.reply = null; \
             window.addEventListener('message', function (e) { window.reply = e.data; }); \
             var found = !!window.parent.frames['__tcfapiLocator']; \
             window.parent.postMessage({__tcfapiCall: {command: 'getTCData', version: 2, callId: 'c1'}}, '*'); \
             return found;",
        )
        .await;
    assert_eq!(found, json!(true), "the locator frame is there");
    until(&browser, "the cross-frame reply", "window.reply !== null").await;
    let reply = browser.eval("return window.reply;").await;
    browser.client().enter_parent_frame().await.unwrap();
    let ret = &reply["__tcfapiReturn"];
    assert_eq!(ret["callId"], "c1");
    assert_eq!(ret["success"], true);
    assert_eq!(ret["returnValue"]["tcString"], done["tc"]);

    // Changing one's mind reaches the vendor too; a removed listener hears nothing more.
    browser
        .find("[data-keuze-open]")
        .await
        .click()
        .await
        .unwrap();
    browser.find(DIALOG).await;
    browser
        .find("#keuze-banner [role=switch][data-purpose=advertising_partners]")
        .await
        .click()
        .await
        .unwrap();
    browser
        .find("#keuze-banner .kz-two .kz-btn")
        .await
        .click()
        .await
        .unwrap();
    until(
        &browser,
        "the second useractioncomplete",
        "window.vendorSaw.filter(function (e) { return e.status === 'useractioncomplete'; }).length === 2",
    )
    .await;
    let after = tcf_events(&browser).await.pop().unwrap();
    assert!(yes(&after["purposes"]).is_empty(), "{after}");
    assert_eq!(after["vendors"], json!({"755": false}));
    let removed = browser
        .eval(&format!(
            "var r; window.__tcfapi('removeEventListener', 2, function (ok) {{ r = ok; }}, {}); return r;",
            first["id"]
        ))
        .await;
    assert_eq!(removed, json!(true));
    browser.close().await;
}
