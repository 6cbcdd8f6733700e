//! Privacy incidents through the admin API: recording one (and refusing a bad one whole),
//! selecting the affected customers by a rule on a ledger made with a fixed clock,
//! telling them through the ledger, webhooks and NATS, and the public register.

use crate::helpers::{problem, spawn_app, spawn_app_with, TestApp, T0};
use crate::propagation::{nats_or_skip, unique_stream};
use keuze_app::propagate::webhook::{verify_signature, SIGNATURE_HEADER};
use keuze_app::propagate::{NatsConfig, PropagationConfig, RetryPolicy};
use keuze_core::admin::LedgerLeaf;
use keuze_core::incident::NoticeKind;
use keuze_core::{Pseudonymizer, SubjectId, SubjectKey, Timestamp};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Day `n` after the tests' epoch, at noon.
fn day(n: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0.unix_millis() + 43_200_000).plus_days(n)
}

/// The pseudonym the test app gives a customer identifier.
fn pseudonym(id: &str) -> SubjectId {
    Pseudonymizer::new([9; 32]).pseudonym(&SubjectKey::Customer(id.to_owned()))
}

/// An incident about the newsletter, exposed from day 10 to day 20.
pub fn draft() -> Value {
    json!({
        "title": {"en": "Our mailing service was broken into", "nl": "Er is ingebroken bij onze mailservice"},
        "what_happened": {
            "en": "Someone broke into the service we use to send our newsletter. They could see e-mail addresses.",
            "nl": "Iemand brak in bij de dienst voor onze nieuwsbrief. Die persoon kon e-mailadressen zien."
        },
        "window": {"from": day(10).to_rfc3339(), "to": day(20).to_rfc3339()},
        "categories": ["contact.email"],
        "purposes": ["newsletter"],
        "recipients": ["MailPost B.V."],
        "consequences": {"en": "You may get e-mails that look like ours but are not.", "nl": "Je krijgt misschien nepmails die op de onze lijken."},
        "measures": {"en": "We closed the hole the same day.", "nl": "We hebben het lek dezelfde dag gedicht."},
        "advice": {"en": "Do not click links in e-mails you did not expect.", "nl": "Klik niet op links in mails die je niet verwacht."},
        "contact": "privacy@webwinkel.example",
        "high_risk": true
    })
}

async fn record_incident(app: &TestApp, body: &Value) -> Value {
    let res = app.post("/v1/incidents", body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn at(app: &TestApp, when: Timestamp, id: &str, choices: &[(&str, &str)]) {
    app.clock.set(when);
    app.record(id, choices).await;
}

/// The customers told of incident 1, by their pseudonyms.
async fn told(app: &TestApp) -> BTreeSet<SubjectId> {
    app.store
        .notified_subjects(1)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn a_rule_selects_who_had_granted_at_some_moment_in_the_window() {
    let app = spawn_app().await;
    // The window is days 10 to 20.
    at(&app, day(1), "before-kept", &[("newsletter", "grant")]).await;
    at(&app, day(1), "before-withdrawn", &[("newsletter", "grant")]).await;
    at(
        &app,
        day(2),
        "before-withdrawn",
        &[("newsletter", "withdraw")],
    )
    .await;
    at(&app, day(3), "withdrawn-inside", &[("newsletter", "grant")]).await;
    at(
        &app,
        day(11),
        "withdrawn-inside",
        &[("newsletter", "withdraw")],
    )
    .await;
    at(&app, day(12), "granted-inside", &[("newsletter", "grant")]).await;
    at(&app, day(14), "briefly-inside", &[("newsletter", "grant")]).await;
    at(
        &app,
        day(14),
        "briefly-inside",
        &[("newsletter", "withdraw")],
    )
    .await;
    at(
        &app,
        day(4),
        "refused-then-inside",
        &[("newsletter", "withdraw")],
    )
    .await;
    at(
        &app,
        day(19),
        "refused-then-inside",
        &[("newsletter", "grant")],
    )
    .await;
    at(&app, day(25), "granted-after", &[("newsletter", "grant")]).await;
    at(
        &app,
        day(12),
        "other-purpose",
        &[("product_reviews", "grant")],
    )
    .await;
    at(&app, day(5), "erased-since", &[("newsletter", "grant")]).await;
    app.clock.set(day(21));
    let res = app
        .post(
            "/v1/subjects/erase",
            &json!({"subject": {"id": "erased-since"}}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());

    let incident = record_incident(&app, &draft()).await;
    assert_eq!(incident["number"], 1);
    assert_eq!(incident["notified"], 0);

    let preview = app.post("/v1/incidents/1/audience", &json!({})).await;
    assert_eq!(preview.status(), 200);
    let preview: Value = preview.json().await.unwrap();
    assert_eq!(preview["granted_any_of"], json!(["newsletter"]));
    assert_eq!(preview["from"], day(10).to_rfc3339());
    assert_eq!(
        (&preview["selected"], &preview["to_notify"]),
        (&json!(5), &json!(5)),
        "{preview}"
    );
    assert!(told(&app).await.is_empty(), "a preview tells no one");

    // A narrower window through the body: days 13 to 15 only.
    let narrow = app
        .post(
            "/v1/incidents/1/audience",
            &json!({"rule": {"from": day(13).to_rfc3339(), "to": day(15).to_rfc3339()}}),
        )
        .await;
    let narrow: Value = narrow.json().await.unwrap();
    assert_eq!(
        narrow["selected"], 3,
        "before-kept, granted-inside, briefly-inside: {narrow}"
    );

    let res = app
        .post("/v1/incidents/1/notify", &json!({"rule": {}}))
        .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(
        (&done["affected"], &done["notified"]),
        (&json!(5), &json!(5))
    );
    let expected: BTreeSet<SubjectId> = [
        "before-kept",
        "withdrawn-inside",
        "granted-inside",
        "briefly-inside",
        "refused-then-inside",
    ]
    .into_iter()
    .map(pseudonym)
    .collect();
    assert_eq!(told(&app).await, expected);

    // Telling again tells no one twice.
    let again: Value = app
        .post("/v1/incidents/1/notify", &json!({"rule": {}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&again["notified"], &again["already_notified"]),
        (&json!(0), &json!(5))
    );
    let shown: Value = app.get("/v1/incidents/1").await.json().await.unwrap();
    assert_eq!(shown["notified"], 5);
    assert_eq!(shown["incident"]["window"]["to"], day(20).to_rfc3339());
}

#[tokio::test]
async fn a_bad_incident_is_refused_whole_with_every_problem_located() {
    let app = spawn_app().await;
    let before = app.store.event_count().await.unwrap();
    let mut bad = draft();
    bad["what_happened"].as_object_mut().unwrap().remove("nl");
    bad["window"] = json!({"from": day(20).to_rfc3339(), "to": day(10).to_rfc3339()});
    bad["categories"] = json!(["contact.emial"]);
    bad["purposes"] = json!(["newsletters"]);
    bad["contact"] = json!("");
    let body = problem(app.post("/v1/incidents", &bad).await, 422).await;
    let pointers: BTreeSet<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        BTreeSet::from([
            "/what_happened/nl",
            "/window",
            "/categories/0",
            "/purposes/0",
            "/contact"
        ]),
        "{body}"
    );
    let unknown_field = {
        let mut b = draft();
        b["severity"] = json!("high");
        b
    };
    problem(app.post("/v1/incidents", &unknown_field).await, 422).await;
    assert_eq!(app.store.incidents().await.unwrap(), Vec::new());
    assert_eq!(
        app.store.event_count().await.unwrap(),
        before,
        "nothing written"
    );

    // Telling about an incident that does not exist, or naming no one.
    problem(
        app.post("/v1/incidents/7/notify", &json!({"rule": {}}))
            .await,
        404,
    )
    .await;
    record_incident(&app, &draft()).await;
    let both = problem(
        app.post(
            "/v1/incidents/1/notify",
            &json!({"rule": {}, "identifiers": ["a@example.com"]}),
        )
        .await,
        422,
    )
    .await;
    assert!(both["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("exactly one"));
    problem(
        app.post(
            "/v1/incidents/1/notify",
            &json!({"rule": {"granted_any_of": ["nope"]}}),
        )
        .await,
        422,
    )
    .await;
    assert!(told(&app).await.is_empty());
}

#[tokio::test]
async fn hard_texts_are_recorded_with_the_catalogs_readability_warning() {
    let app = spawn_app().await;
    let mut hard = draft();
    hard["what_happened"]["en"] = json!("Notwithstanding comprehensive organisational countermeasures, unauthorised exfiltration of personally identifiable information, specifically electronic correspondence identifiers, materialised consequentially through compromised infrastructural credentials.");
    let recorded = record_incident(&app, &hard).await;
    let warnings = recorded["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{recorded}");
    assert!(warnings[0]
        .as_str()
        .unwrap()
        .starts_with("`what_happened.en` is hard to read (Flesch reading ease"));
    assert!(recorded["readability"].as_array().unwrap().len() >= 8);
}

#[tokio::test]
async fn only_published_incidents_are_on_the_public_register() {
    let app = spawn_app().await;
    record_incident(&app, &draft()).await;
    let mut second = draft();
    second["title"] = json!({"en": "A lost laptop", "nl": "Een verloren laptop"});
    record_incident(&app, &second).await;
    let page = |lang: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(format!("{}/privacy/incidents?lang={lang}", app.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let empty = page("en").await;
    assert!(empty.contains("There are no incidents on this list."));
    assert!(!empty.contains("broken into"));

    app.clock.set(T0.plus_days(30));
    let res = app.post("/v1/incidents/2/publish", &json!({})).await;
    assert_eq!(res.status(), 200);
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["published_at"], T0.plus_days(30).to_rfc3339());
    let en = page("en").await;
    assert!(en.contains("A lost laptop"));
    assert!(!en.contains("broken into"), "incident 1 was not published");
    assert!(en.contains("This may affect you seriously."));
    let nl = page("nl").await;
    assert!(nl.contains("Een verloren laptop"));
    assert!(nl.contains("Welke gegevens van jou"));
    assert!(nl.contains("E-mailadres"));
    problem(app.post("/v1/incidents/9/publish", &json!({})).await, 404).await;
    let trail: Vec<Value> = app
        .get("/v1/audit/events")
        .await
        .json::<Value>()
        .await
        .unwrap()["entries"]
        .as_array()
        .unwrap()
        .clone();
    let actions: Vec<&str> = trail
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.ends_with(&[
            "incident_recorded",
            "incident_recorded",
            "incident_published"
        ]),
        "{actions:?}"
    );
}

/// A webhook receiver that keeps the verified bodies.
#[derive(Default)]
struct Receiver {
    secret: Mutex<String>,
    events: Mutex<Vec<Value>>,
    raw: Mutex<String>,
}

async fn start_receiver() -> (String, Arc<Receiver>) {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    async fn receive(
        State(r): State<Arc<Receiver>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let secret = r.secret.lock().unwrap().clone();
        let ok = headers
            .get(SIGNATURE_HEADER)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| verify_signature(&secret, h, &body));
        if ok.is_none() {
            return StatusCode::UNAUTHORIZED;
        }
        r.raw
            .lock()
            .unwrap()
            .push_str(std::str::from_utf8(&body).unwrap());
        r.events
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap());
        StatusCode::NO_CONTENT
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Arc::clone(&received));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn fast() -> PropagationConfig {
    PropagationConfig {
        retry: RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
            timeout: Duration::from_secs(2),
        },
        batch: 64,
        ..PropagationConfig::default()
    }
}

/// The ledger's notice entries of incident 1 by kind: seq → the kind.
async fn ledger_notices(app: &TestApp) -> BTreeMap<u64, NoticeKind> {
    app.store
        .ledger_leaves(0, u32::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|l| match l {
            LedgerLeaf::Notice(n) if n.incident == 1 => Some((n.seq, n.kind)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn every_affected_customer_is_one_webhook_event_matching_the_ledger() {
    let app = spawn_app_with(fast()).await;
    let (url, received) = start_receiver().await;
    // A webhook filtered to another purpose still hears of incidents.
    let res = app
        .post(
            "/v1/webhooks",
            &json!({"url": url, "purposes": ["product_reviews"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    *received.secret.lock().unwrap() = created["secret"].as_str().unwrap().to_owned();

    // Some customers chose before, most never did; one has been erased since.
    app.record("cust-0003@example.com", &[("newsletter", "grant")])
        .await;
    app.record("cust-0007@example.com", &[("product_reviews", "grant")])
        .await;
    app.record("cust-0011@example.com", &[("newsletter", "grant")])
        .await;
    let res = app
        .post(
            "/v1/subjects/erase",
            &json!({"subject": {"id": "cust-0011@example.com"}}),
        )
        .await;
    assert!(res.status().is_success());
    let consent_events = {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let n = received.events.lock().unwrap().len();
            if n >= 2 || std::time::Instant::now() > deadline {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    assert_eq!(
        consent_events, 2,
        "the product_reviews grant and its erasure"
    );

    record_incident(&app, &draft()).await;
    let mut ids: Vec<String> = (0..40)
        .map(|n| format!("cust-{n:04}@example.com"))
        .collect();
    ids.push("cust-0003@example.com".into()); // listed twice
    ids.push("  cust-0005@example.com ".into()); // with spaces around
    let res = app
        .post("/v1/incidents/1/notify", &json!({"identifiers": ids}))
        .await;
    assert_eq!(res.status(), 200);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["affected"], 40);
    assert_eq!(done["erased"], 1);
    assert_eq!(done["notified"], 39);

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let notices = loop {
        let notices: Vec<Value> = received
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "incident.notified")
            .cloned()
            .collect();
        if notices.len() >= 39 || std::time::Instant::now() > deadline {
            break notices;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        received
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "incident.notified")
            .count(),
        39,
        "one event per customer told, no more"
    );
    let ledger = ledger_notices(&app).await;
    let delivered: BTreeMap<u64, &str> = notices
        .iter()
        .map(|e| (e["seq"].as_u64().unwrap(), e["subject"].as_str().unwrap()))
        .collect();
    assert_eq!(
        delivered.keys().copied().collect::<Vec<_>>(),
        ledger.keys().copied().collect::<Vec<_>>(),
        "the events are the ledger's notified entries, seq for seq"
    );
    assert!(ledger.values().all(|k| *k == NoticeKind::Notified));
    let subjects: BTreeSet<String> = delivered.values().map(|s| (*s).to_owned()).collect();
    let expected: BTreeSet<String> = (0..40)
        .filter(|n| *n != 11)
        .map(|n| pseudonym(&format!("cust-{n:04}@example.com")).to_hex())
        .collect();
    assert_eq!(subjects, expected);
    let digest = app
        .get("/v1/incidents/1")
        .await
        .json::<Value>()
        .await
        .unwrap()["digest"]
        .clone();
    for e in &notices {
        assert_eq!(e["incident"], 1);
        assert_eq!(e["notice_digest"], digest);
    }
    let raw = received.raw.lock().unwrap().clone();
    assert!(!raw.contains("@example.com"), "no identifier leaves Keuze");
}

#[tokio::test]
async fn notices_go_to_jetstream_under_their_own_subject() {
    let Some((url, client)) = nats_or_skip("notices_go_to_jetstream_under_their_own_subject").await
    else {
        return;
    };
    let (stream_name, prefix) = unique_stream();
    let mut config = fast();
    config.nats = Some(NatsConfig {
        url,
        stream: stream_name.clone(),
        subject_prefix: prefix.clone(),
    });
    let app = spawn_app_with(config).await;
    app.record("nina@example.com", &[("newsletter", "grant")])
        .await;
    record_incident(&app, &draft()).await;
    let res = app
        .post(
            "/v1/incidents/1/notify",
            &json!({"identifiers": ["nina@example.com", "otto@example.com"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let js = async_nats::jetstream::new(client);
    let mut stream = None;
    for _ in 0..1000 {
        if let Ok(mut s) = js.get_stream(&stream_name).await {
            if s.info().await.unwrap().state.messages == 3 {
                stream = Some(s);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stream = stream.expect("the stream never held the grant and both notices");
    let ledger = ledger_notices(&app).await;
    let mut seqs = Vec::new();
    for n in 2..=3 {
        let msg = stream.get_raw_message(n).await.unwrap();
        assert_eq!(msg.subject.as_str(), format!("{prefix}._incidents.1"));
        let event: Value = serde_json::from_slice(&msg.payload).unwrap();
        assert_eq!(event["type"], "incident.notified");
        seqs.push(event["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, ledger.keys().copied().collect::<Vec<_>>());
    js.delete_stream(&stream_name).await.unwrap();
}

#[tokio::test]
async fn an_incident_may_concern_a_purpose_the_catalog_has_since_dropped() {
    let app = spawn_app().await;
    at(
        &app,
        day(1),
        "vera@example.com",
        &[("product_reviews", "grant")],
    )
    .await;
    // Version 2 drops the reviews purpose (and its place in the presets).
    let start = keuze_core::catalog::SAMPLE_CATALOG
        .find("[[purposes]]\nid = \"product_reviews\"")
        .unwrap();
    let end = keuze_core::catalog::SAMPLE_CATALOG[start..]
        .find("# --- Presets")
        .unwrap()
        + start;
    let without = format!(
        "{}{}",
        &keuze_core::catalog::SAMPLE_CATALOG[..start],
        &keuze_core::catalog::SAMPLE_CATALOG[end..]
    )
    .replace(", \"product_reviews\"]", "]");
    app.clock.set(day(2));
    let res = app
        .client
        .post(format!("{}/v1/catalog/versions", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/toml")
        .body(without)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let current: Value = app.get("/v1/catalog").await.json().await.unwrap();
    assert_eq!(current["version"], 2);

    let mut reviews = draft();
    reviews["purposes"] = json!(["product_reviews"]);
    reviews["window"] = json!({"from": day(0).to_rfc3339(), "to": day(2).to_rfc3339()});
    record_incident(&app, &reviews).await;
    let preview: Value = app
        .post("/v1/incidents/1/audience", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["selected"], 1, "{preview}");
    app.post("/v1/incidents/1/publish", &json!({})).await;
    let page = app
        .client
        .get(format!("{}/privacy/incidents?lang=en", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<dd>Reviews</dd>"),
        "the purpose keeps the title it last had: {page}"
    );
}

#[tokio::test]
async fn the_mailer_reads_incidents_with_an_audit_key_and_can_change_nothing() {
    let app = spawn_app().await;
    record_incident(&app, &draft()).await;
    let audit = app.key_with(&[keuze_store::Scope::Audit]).await;
    let record = app.key_with(&[keuze_store::Scope::Record]).await;
    let get = |key: String, path: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(format!("{}{path}", app.base))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
        }
    };
    let res = get(audit.clone(), "/v1/incidents/1").await;
    assert_eq!(res.status(), 200);
    let shown: Value = res.json().await.unwrap();
    assert_eq!(
        shown["incident"]["advice"]["nl"],
        "Klik niet op links in mails die je niet verwacht."
    );
    assert_eq!(get(audit.clone(), "/v1/incidents").await.status(), 200);
    problem(get(record, "/v1/incidents/1").await, 403).await;
    let res = app
        .client
        .post(format!("{}/v1/incidents/1/notify", app.base))
        .bearer_auth(&audit)
        .json(&json!({"rule": {}}))
        .send()
        .await
        .unwrap();
    problem(res, 403).await;
}
