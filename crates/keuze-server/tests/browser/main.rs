//! Browser tests: the real app, Debian's headless Chromium, and a person's clicks and key
//! presses. Screenshots land in `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

// The API tests' way of starting the app, shared rather than copied.
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
mod support;

mod banner;
mod incidents;

use fantoccini::key::Key;
use helpers::{spawn_app, TestApp};
use serde_json::json;
use support::Browser;

/// A link to `subject`'s preference center, as the organisation's backend would get it.
async fn link(app: &TestApp, subject: &str, locale: &str) -> String {
    let res = app
        .post(
            "/v1/sessions",
            &json!({"subject": {"id": subject}, "locale": locale}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    format!("{}{}", app.base, body["url"].as_str().unwrap())
}

async fn reason(app: &TestApp, subject: &str, purpose: &str) -> String {
    app.decide(subject, purpose).await["reason"]
        .as_str()
        .unwrap()
        .to_owned()
}

const NEWSLETTER_SWITCH: &str = "#newsletter button[role=switch]";

#[tokio::test(flavor = "multi_thread")]
async fn switching_a_purpose_off_by_clicking_is_denied_and_stays_off() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    app.record("anna@example.com", &[("newsletter", "grant")])
        .await;
    browser
        .open(&link(&app, "anna@example.com", "en").await)
        .await;
    assert!(
        !browser.url().await.contains("token"),
        "the token left the address bar"
    );
    assert_eq!(browser.text("h1").await, "Your privacy choices");
    assert_eq!(
        browser
            .attr(NEWSLETTER_SWITCH, "aria-checked")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        browser.text(NEWSLETTER_SWITCH).await,
        "Newsletter: on — turn off"
    );
    browser.screenshot("me-en").await;

    browser.click(NEWSLETTER_SWITCH).await;
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "withdrawn"
    );
    assert_eq!(
        browser
            .attr(NEWSLETTER_SWITCH, "aria-checked")
            .await
            .as_deref(),
        Some("false")
    );
    browser.client().refresh().await.unwrap();
    assert_eq!(
        browser
            .attr(NEWSLETTER_SWITCH, "aria-checked")
            .await
            .as_deref(),
        Some("false")
    );
    assert_eq!(
        browser.text(NEWSLETTER_SWITCH).await,
        "Newsletter: off — turn on"
    );
    let newest = browser.text(".history li").await;
    assert!(
        newest.contains("Newsletter: you said no, on this page."),
        "{newest}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_whole_flow_by_keyboard_alone() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser
        .open(&link(&app, "anna@example.com", "en").await)
        .await;

    // The first stop is the skip link, shown when focused; it leads to the content.
    browser.press(Key::Tab).await;
    let skip = browser
        .eval("const el = document.activeElement; return [el.textContent, el.getAttribute('href'), el.getBoundingClientRect().left >= 0];")
        .await;
    assert_eq!(skip, json!(["Skip to content", "#kz-main", true]));

    // Tab to the newsletter switch: its focus is clearly visible.
    browser
        .tab_until(
            "the newsletter switch",
            "el.closest('#newsletter') && el.getAttribute('role') === 'switch'",
        )
        .await;
    let outline = browser
        .eval("const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)];")
        .await;
    assert_eq!(outline[0], "solid", "{outline}");
    assert!(outline[1].as_f64().unwrap() >= 2.0, "{outline}");

    // Enter switches it on.
    browser.press_and_wait(Key::Enter).await;
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "granted"
    );

    // After the page comes back, Tab leads to the same switch again; Space switches it off.
    browser
        .tab_until(
            "the newsletter switch",
            "el.closest('#newsletter') && el.getAttribute('role') === 'switch'",
        )
        .await;
    assert_eq!(
        browser
            .eval("return document.activeElement.getAttribute('aria-checked');")
            .await,
        json!("true")
    );
    browser.press_and_wait(Key::Space).await;
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "withdrawn"
    );

    // A preset, by keyboard: one event per purpose the customer can switch.
    let before = app.ledger_len().await;
    browser.open(&format!("{}/me?lang=en", app.base)).await;
    browser
        .tab_until("the Everything preset", "el.value === 'everything'")
        .await;
    browser.press_and_wait(Key::Enter).await;
    assert_eq!(app.ledger_len().await, before + 6);
    assert_eq!(
        reason(&app, "anna@example.com", "advertising_partners").await,
        "granted"
    );

    // Erasure, by keyboard: tick the box with Space, then press the button.
    browser
        .tab_until("the erasure confirmation", "el.id === 'kz-confirm'")
        .await;
    browser.press(Key::Space).await;
    browser.press(Key::Tab).await;
    browser.press_and_wait(Key::Enter).await;
    assert_eq!(browser.text("h1").await, "Your data is erased");
    assert_eq!(
        reason(&app, "anna@example.com", "newsletter").await,
        "subject_erased"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dutch_page() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    app.record(
        "bram@example.com",
        &[("newsletter", "grant"), ("product_reviews", "withdraw")],
    )
    .await;
    browser
        .open(&link(&app, "bram@example.com", "nl").await)
        .await;
    assert_eq!(browser.attr("html", "lang").await.as_deref(), Some("nl"));
    assert_eq!(browser.text("h1").await, "Jouw privacykeuzes");
    assert_eq!(
        browser.text(NEWSLETTER_SWITCH).await,
        "Nieuwsbrief: aan — zet uit"
    );
    assert_eq!(
        browser.text("#product_reviews button[role=switch]").await,
        "Reviews: uit — zet aan"
    );
    assert!(browser
        .text("#order_fulfilment")
        .await
        .contains("Altijd aan."));
    assert_eq!(
        browser.text("header nav a").await,
        "English",
        "the other language is one link away"
    );
    browser.screenshot("me-nl").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_in_an_email_from_another_site_opens_the_page() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    // The strict session cookie is not sent on the redirect of a navigation that began
    // on another site; the preference center must still open.
    let url = link(&app, "anna@example.com", "en").await;
    let mail = format!(
        "data:text/html;charset=utf-8,<!DOCTYPE html><title>Mail</title><a id=go href=\"{url}\">Your privacy choices</a>"
    );
    browser.open(&mail).await;
    browser.click("#go").await;
    assert_eq!(browser.text("h1").await, "Your privacy choices");
    assert!(
        browser.url().await.ends_with("/me?lang=en"),
        "{}",
        browser.url().await
    );
    assert_eq!(browser.find_all("button[role=switch]").await.len(), 6);
    browser.close().await;
}

/// The pages' Content-Security-Policy allows their own styles by hash and nothing
/// inline: in a real browser the page is styled, and no policy violation is reported.
#[tokio::test]
async fn pages_are_styled_under_their_strict_policy() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    for path in [
        "/privacy".to_owned(),
        link(&app, "cas@example.com", "en").await,
    ] {
        let url = if path.starts_with("http") {
            path.clone()
        } else {
            format!("{}{path}", app.base)
        };
        browser.open(&url).await;
        // `*{box-sizing:border-box}` is the first rule of the shared <style>.
        let sizing = browser
            .client()
            .execute("return getComputedStyle(document.body).boxSizing;", vec![])
            .await
            .unwrap();
        assert_eq!(
            sizing,
            json!("border-box"),
            "{path}: the page's own style did not apply"
        );
        // An injected inline style is refused by the same policy.
        let injected = browser
            .client()
            .execute(
                "const s = document.createElement('style'); s.textContent = 'body{box-sizing:content-box}'; document.head.appendChild(s); return getComputedStyle(document.body).boxSizing;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            injected,
            json!("border-box"),
            "{path}: an injected style applied"
        );
    }
}
