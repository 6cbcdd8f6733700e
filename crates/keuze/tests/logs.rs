//! The log: one JSON object per line with `KEUZE_LOG_FORMAT=json`, and, at trace level,
//! through every customer-facing flow, refused keys and rate limits, never a customer
//! identifier, the client's IP address, an API key or a login token.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::{assert_log_names_no_customer, create_key, Server};

const EMAIL: &str = "an.de.vries@voorbeeld.nl";
const CUSTOMER_NO: &str = "KL-0048213";
/// The address the test's client connects from (any 127/8 address is loopback on Linux).
const CLIENT_IP: &str = "127.0.0.9";

fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_json_and_names_no_customer_address_key_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let key = create_key(
        dir.path(),
        "keuze-data",
        &["record", "decide", "audit", "admin"],
    );
    let server = Server::start_with_env(
        dir.path(),
        // Tight limits, so that refusals (and their log lines) happen too.
        &["--rate-limit-per-client", "30/min burst 30"],
        &log,
        &[("KEUZE_LOG_FORMAT", "json")],
    );
    let client = reqwest::Client::builder()
        .local_address(CLIENT_IP.parse::<std::net::IpAddr>().unwrap())
        .cookie_store(true)
        .build()
        .unwrap();
    let base = server.base.clone();
    let api = |path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    for id in [EMAIL, CUSTOMER_NO] {
        let subject = json!({"id": id});
        let calls = [
            (
                "/v1/consents",
                json!({"subject": subject, "all": "accept"}),
                201,
            ),
            (
                "/v1/decide",
                json!({"subject": subject, "purpose": "newsletter"}),
                200,
            ),
            ("/v1/subjects/state", json!({"subject": subject}), 200),
            ("/v1/subjects/history", json!({"subject": subject}), 200),
            ("/v1/subjects/prompt", json!({"subject": subject}), 200),
            // Refused, with the identifier in the body.
            (
                "/v1/consents",
                json!({"subject": subject, "choices": [{"purpose": "nope", "action": "grant"}]}),
                422,
            ),
            (
                "/v1/consents",
                json!({"subject": subject, "bogus": true}),
                422,
            ),
        ];
        for (path, body, status) in calls {
            assert_eq!(
                api(path, body).await.unwrap().status(),
                status,
                "{path} for {id}"
            );
        }
    }

    // The banner, as a visitor's browser uses it, then linked to the customer.
    let banner = |path: &str| {
        client
            .post(format!("{base}{path}"))
            .header("x-keuze-banner", "1")
            .header("sec-gpc", "1")
    };
    let res = banner("/v1/banner/choices")
        .json(&json!({"catalog_version": 1, "all": "reject"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let device = client
        .get(format!("{base}/v1/banner/prompt"))
        .header("x-keuze-banner", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(device.status(), 200);

    // The preference center: a link, a switch, an export, an erasure.
    let session: Value = api("/v1/sessions", json!({"subject": {"id": EMAIL}}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let page = client
        .get(format!("{base}{}", session["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf(&page);
    let res = client
        .post(format!("{base}/me/choices"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("purpose", "newsletter"),
            ("action", "withdraw"),
            ("version", "1"),
            ("lang", "nl"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection());
    assert_eq!(
        client
            .get(format!("{base}/me/export"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = client
        .post(format!("{base}/me/erase"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes"), ("lang", "nl")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    // The admin erasure of the other identifier.
    let res = api(
        "/v1/subjects/erase",
        json!({"subject": {"id": CUSTOMER_NO}}),
    )
    .await
    .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());

    // Wrong keys, and a client over its quota.
    for wrong in [
        "kz_0000000000000000_".to_owned() + &"0".repeat(64),
        "not a key".to_owned(),
    ] {
        let res = client
            .get(format!("{base}/v1/webhooks"))
            .bearer_auth(&wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let mut limited = false;
    for _ in 0..40 {
        let res = client.get(format!("{base}/privacy")).send().await.unwrap();
        limited |= res.status() == 429;
    }
    assert!(limited, "the client quota was never reached");
    assert!(server.terminate().success());

    // Structured: every line is one JSON object with a level, a target and fields.
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["target"].is_string() && v["fields"].is_object(),
            "{line}"
        );
        lines += 1;
    }
    assert!(lines > 20, "the trace log is suspiciously short: {text}");
    assert!(
        text.contains("erased a subject"),
        "the erasure left no trace: the scan proves little"
    );
    assert_log_names_no_customer(
        &log,
        &[
            EMAIL,
            CUSTOMER_NO,
            "KL-",
            "voorbeeld",
            CLIENT_IP,
            &token,
            &key,
        ],
    );
}

#[test]
fn an_unknown_log_format_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::keuze(dir.path())
        .env("KEUZE_LOG_FORMAT", "xml")
        .args(["catalog", "check", "nothing.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("KEUZE_LOG_FORMAT is `xml`; use `text` (the default) or `json`"),
        "{err}"
    );
}

/// The scan that every served test runs finds what it looks for.
#[test]
fn the_log_scan_finds_identifiers_keys_and_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let caught = |line: &str| {
        std::fs::write(&log, format!("INFO start\n{line}\nINFO end\n")).unwrap();
        std::panic::catch_unwind(|| assert_log_names_no_customer(&log, &["KL-0048213"])).is_err()
    };
    assert!(caught("recorded for jan.jansen+keuze@example.nl"));
    assert!(caught(r#"{"fields":{"subject":"klant2@example.nl"}}"#));
    assert!(caught("device dev_0123456789abcdef0123456789abcdef linked"));
    assert!(caught(&format!(
        "key kz_0123456789abcdef_{}",
        "ab".repeat(32)
    )));
    assert!(caught("GET /me?token=abc"));
    assert!(caught("customer KL-0048213"));
    // What may be logged: pseudonyms, key ids, a database URL's user and host.
    assert!(!caught(&format!("subject {}", "ab".repeat(32))));
    assert!(!caught("key id kz_0123456789abcdef created"));
    assert!(!caught("database postgres://postgres@127.0.0.1:5432/test"));
}
