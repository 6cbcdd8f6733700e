//! An incident notice in the preference center, in headless Chromium: it leads the page
//! until the customer says they have read it; that is recorded in the ledger, and the
//! notice then moves down to the incidents they were told about.

use crate::helpers::{spawn_app, T0};
use crate::link;
use crate::support::Browser;
use keuze_core::admin::LedgerLeaf;
use keuze_core::incident::NoticeKind;
use keuze_core::{Pseudonymizer, SubjectKey};
use serde_json::{json, Value};

/// The first thing in `<main>` after the page's heading: `[tag, class, id]`.
const FIRST_AFTER_HEADING: &str =
    "const el = document.querySelector('main > h1').nextElementSibling; \
     return [el.tagName, el.className, el.id];";

#[tokio::test(flavor = "multi_thread")]
async fn the_notice_leads_the_page_until_it_is_acknowledged() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    app.record("rosa@example.com", &[("newsletter", "grant")])
        .await;
    let body = json!({
        "title": {"en": "Our mailing service was broken into", "nl": "Er is ingebroken bij onze mailservice"},
        "what_happened": {"en": "Someone broke into the service that sends our newsletter.", "nl": "Iemand brak in bij de dienst die onze nieuwsbrief verstuurt."},
        "window": {"from": T0.to_rfc3339(), "to": T0.plus_days(1).to_rfc3339()},
        "categories": ["contact.email"],
        "purposes": ["newsletter"],
        "consequences": {"en": "You may get fake e-mails.", "nl": "Je krijgt misschien nepmails."},
        "measures": {"en": "We closed the hole.", "nl": "We hebben het lek gedicht."},
        "advice": {"en": "Do not click links you did not expect.", "nl": "Klik niet op links die je niet verwacht."},
        "contact": "privacy@webwinkel.example",
        "high_risk": true
    });
    let res = app.post("/v1/incidents", &body).await;
    assert_eq!(res.status(), 201);
    let digest = res.json::<Value>().await.unwrap()["digest"].clone();
    let res = app
        .post(
            "/v1/incidents/1/notify",
            &json!({"identifiers": ["rosa@example.com"]}),
        )
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["notified"], 1);

    browser
        .open(&link(&app, "rosa@example.com", "en").await)
        .await;
    assert_eq!(
        browser.eval(FIRST_AFTER_HEADING).await,
        json!(["SECTION", "incident", "kz-incident-1"]),
        "the notice comes right after the page's heading, before anything else"
    );
    assert_eq!(
        browser.text("main > section.incident h2").await,
        "Something went wrong with your data: Our mailing service was broken into"
    );
    let text = browser.text("main > section.incident").await;
    assert!(text.contains("This may affect you seriously."), "{text}");
    assert!(
        text.contains("Do not click links you did not expect."),
        "{text}"
    );
    browser.screenshot("me-incident-notice").await;

    let subject =
        Pseudonymizer::new([9; 32]).pseudonym(&SubjectKey::Customer("rosa@example.com".into()));
    let before = app.store.notices(&subject).await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].notice.kind, NoticeKind::Notified);

    let read_at = keuze_core::Timestamp::from_unix_millis(T0.unix_millis() + 600_000);
    app.clock.set(read_at);
    browser.click("main > section.incident form button").await;

    // Recorded: an acknowledged entry in the ledger, committing to what was shown.
    let after = app.store.notices(&subject).await.unwrap();
    assert_eq!(after.len(), 2, "{after:?}");
    let ack = &after[1];
    assert_eq!(ack.notice.kind, NoticeKind::Acknowledged);
    assert_eq!(ack.notice.recorded_at, read_at);
    assert_eq!(json!(ack.notice.notice_digest.to_string()), digest);
    assert_eq!(ack.notice.locale.as_str(), "en");
    let leaves = app.store.ledger_leaves(ack.seq - 1, 1).await.unwrap();
    assert!(
        matches!(&leaves[..], [LedgerLeaf::Notice(n)] if n.kind == NoticeKind::Acknowledged),
        "the acknowledgement is a leaf of the ledger's tree: {leaves:?}"
    );
    let counts = app.store.notice_counts(1).await.unwrap();
    assert_eq!((counts.notified, counts.acknowledged), (1, 1));

    // The notice no longer leads the page; it is listed further down, read.
    assert!(browser.find_all("section.incident").await.is_empty());
    let first = browser.eval(FIRST_AFTER_HEADING).await;
    assert_ne!(first[1], "incident", "{first}");
    let read = browser.text("details#kz-incident-1 summary").await;
    assert!(
        read.starts_with("Our mailing service was broken into (We told you on"),
        "{read}"
    );
    assert!(read.contains("You read this on"), "{read}");
    browser.screenshot("me-incident-read").await;

    // Acknowledging again (a second tab, a replayed form) writes nothing.
    browser.client().back().await.unwrap();
    browser.client().refresh().await.unwrap();
    assert!(browser.find_all("section.incident").await.is_empty());
    assert_eq!(app.store.notices(&subject).await.unwrap().len(), 2);
    browser.close().await;
}
