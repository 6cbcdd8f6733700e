//! The server's edge: rate limits (429 with Retry-After), the JSON nesting limit, slow
//! clients, security headers on every kind of response, HSTS over TLS.

use crate::helpers::{spawn_app, spawn_app_at_edge, TestApp};
use keuze_app::propagate::PropagationConfig;
use keuze_server::limits::Limits;
use keuze_server::listen::ConnectionLimits;
use keuze_server::Edge;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn edge(limits: Limits) -> Edge {
    Edge {
        limits,
        ..Edge::default()
    }
}

async fn app_with(limits: Limits) -> TestApp {
    spawn_app_at_edge(
        PropagationConfig::default(),
        &edge(limits),
        ConnectionLimits::default(),
    )
    .await
}

/// A client that connects from `ip` (any 127.0.0.0/8 address is loopback on Linux).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn event_count(app: &TestApp) -> u64 {
    app.store.event_count().await.unwrap()
}

async fn assert_rate_limited(res: reqwest::Response, who: &str) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["type"], "urn:keuze:problem:rate-limited");
    assert_eq!(problem["status"], 429);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(who), "{detail}");
    assert!(
        detail.contains(&format!("Retry after {retry} s")),
        "{detail}"
    );
}

#[tokio::test]
async fn an_api_key_over_its_quota_gets_429_and_nothing_is_written() {
    let app = app_with(Limits {
        per_key: "1/min burst 3".parse().unwrap(),
        ..Limits::default()
    })
    .await;
    let other = app.key_with(&keuze_store::Scope::ALL).await;
    let body = json!({"subject": {"id": "c-1"}, "choices": [{"purpose": "newsletter", "action": "grant"}]});
    for _ in 0..3 {
        assert_eq!(app.post("/v1/consents", &body).await.status(), 201);
    }
    let before = event_count(&app).await;
    let res = app.post("/v1/consents", &body).await;
    assert_rate_limited(res, "for this API key").await;
    assert_eq!(event_count(&app).await, before, "a refused write wrote");
    // Reads count too, and another key has a quota of its own.
    assert_eq!(app.get("/v1/webhooks").await.status(), 429);
    let res = app
        .client
        .post(format!("{}/v1/consents", app.base))
        .bearer_auth(&other)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_client_without_a_key_over_its_quota_gets_429_and_others_do_not() {
    let app = app_with(Limits {
        per_client: "1/min burst 2".parse().unwrap(),
        ..Limits::default()
    })
    .await;
    let one = client_from("127.0.0.2");
    let get = |c: &reqwest::Client, path: &str| c.get(format!("{}{path}", app.base)).send();
    assert_eq!(get(&one, "/privacy").await.unwrap().status(), 200);
    assert_eq!(get(&one, "/banner.js").await.unwrap().status(), 200);
    assert_rate_limited(get(&one, "/privacy").await.unwrap(), "from this client").await;
    // The banner's endpoints are customer-facing too.
    let res = one
        .get(format!("{}/v1/banner/prompt", app.base))
        .header("x-keuze-banner", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // Another address has its own quota; a backend with a key is not charged as a client.
    let two = client_from("127.0.0.3");
    assert_eq!(get(&two, "/privacy").await.unwrap().status(), 200);
    let res = one
        .get(format!("{}/v1/catalog", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_client_that_keeps_presenting_wrong_keys_is_refused_for_a_while() {
    let app = app_with(Limits {
        failed_auth: "1/min burst 2".parse().unwrap(),
        ..Limits::default()
    })
    .await;
    let guesser = client_from("127.0.0.4");
    let with_key = |c: &reqwest::Client, key: &str| {
        c.get(format!("{}/v1/webhooks", app.base))
            .bearer_auth(key)
            .send()
    };
    for _ in 0..3 {
        let res = with_key(&guesser, "kz_nosuchkey_0000").await.unwrap();
        assert_eq!(res.status(), 401);
    }
    // Past the quota even a right key from that client waits, unread.
    let res = with_key(&guesser, &app.key).await.unwrap();
    assert_rate_limited(res, "after too many wrong API keys").await;
    let honest = client_from("127.0.0.5");
    assert_eq!(with_key(&honest, &app.key).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_made_up_key_on_a_public_route_does_not_escape_the_client_quota() {
    let app = app_with(Limits {
        per_client: "1/min burst 2".parse().unwrap(),
        ..Limits::default()
    })
    .await;
    let client = client_from("127.0.0.6");
    let statuses =
        statuses_with_made_up_key(&client, &format!("{}/privacy.json", app.base), 4).await;
    // Two within the quota, the third charged after the fact, then refused unread.
    assert_eq!(statuses, [200, 200, 200, 429], "{statuses:?}");
}

async fn statuses_with_made_up_key(client: &reqwest::Client, url: &str, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        let res = client
            .get(url)
            .bearer_auth("kz_made_up")
            .send()
            .await
            .unwrap();
        out.push(res.status().as_u16());
    }
    out
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let app = app_with(Limits {
        per_key: "off".parse().unwrap(),
        per_client: "off".parse().unwrap(),
        ..Limits::default()
    })
    .await;
    for _ in 0..300 {
        assert_eq!(app.get("/v1/catalog").await.status(), 200);
    }
    for _ in 0..300 {
        let res = app
            .client
            .get(format!("{}/privacy.json", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn a_body_nested_too_deep_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let before = event_count(&app).await;
    let body = format!(
        r#"{{"subject": {{"id": "c-1"}}, "choices": [{{"purpose": "newsletter", "action": "grant"}}], "extra": {}}}"#,
        nested(40)
    );
    for path in ["/v1/consents", "/v1/decide", "/v1/decide/batch"] {
        let res = app
            .client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&app.key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{path}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["type"], "urn:keuze:problem:json-too-deep", "{path}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("more than 32 levels"), "{detail}");
        // The offset of the 33rd bracket: 32 brackets in, counting the body's own object.
        let at = body.find(&nested(40)).unwrap() + 31;
        assert!(detail.contains(&format!("at byte {at}")), "{detail}");
    }
    assert_eq!(event_count(&app).await, before);
    // 32 levels are parsed (and refused for what they say, not how deep they are).
    let body = format!(r#"{{"subject": {}}}"#, nested(31));
    let res = app
        .client
        .post(format!("{}/v1/consents", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn a_client_that_dribbles_its_request_head_is_disconnected() {
    let app = spawn_app_at_edge(
        PropagationConfig::default(),
        &Edge::default(),
        ConnectionLimits {
            header_read_timeout: Duration::from_millis(300),
            ..ConnectionLimits::default()
        },
    )
    .await;
    let addr = app.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    // The server ends the connection (possibly after a 408); it never answers 200.
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was still open after 5 s");
    assert!(started.elapsed() < Duration::from_secs(3));
    let text = String::from_utf8_lossy(&buf);
    assert!(!text.contains("200 OK"), "{text}");
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_408() {
    let app = spawn_app_at_edge(
        PropagationConfig::default(),
        &Edge {
            request_timeout: Duration::from_millis(400),
            ..Edge::default()
        },
        ConnectionLimits::default(),
    )
    .await;
    let before = event_count(&app).await;
    let addr = app.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/consents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"subject\":",
        app.key
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf))
        .await
        .expect("no answer within 5 s")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("urn:keuze:problem:request-timeout"), "{text}");
    assert_eq!(event_count(&app).await, before);
}

/// The headers every response carries, whatever it is.
fn assert_secure(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let get = |name: &str| {
        h.get(name)
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("cross-origin-opener-policy"), "same-origin", "{what}");
    assert!(get("permissions-policy").contains("camera=()"), "{what}");
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("base-uri 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert!(h.get("cache-control").is_some(), "{what}: no cache-control");
    assert!(
        h.get("strict-transport-security").is_none(),
        "{what}: HSTS over plain HTTP"
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let session = app
        .post("/v1/sessions", &json!({"subject": {"id": "c-9"}}))
        .await;
    assert_eq!(session.status(), 201);
    let url: String = session.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = format!("{}{}", app.base, url.trim_start_matches(&app.base));
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "the notice",
            app.client.get(format!("{}/privacy", app.base)),
        ),
        (
            "the notice's JSON",
            app.client.get(format!("{}/privacy.json", app.base)),
        ),
        (
            "/me without a session",
            app.client.get(format!("{}/me", app.base)),
        ),
        ("/me from a link", app.client.get(&link)),
        (
            "the banner demo",
            app.client.get(format!("{}/banner/demo", app.base)),
        ),
        (
            "the banner script",
            app.client.get(format!("{}/banner.js", app.base)),
        ),
        (
            "an API read",
            app.client
                .get(format!("{}/v1/catalog", app.base))
                .bearer_auth(&app.key),
        ),
        ("a 401", app.client.get(format!("{}/v1/catalog", app.base))),
        (
            "a 404",
            app.client.get(format!("{}/nothing/here", app.base)),
        ),
        ("health", app.client.get(format!("{}/healthz", app.base))),
        (
            "the OpenAPI document",
            app.client.get(format!("{}/v1/openapi.json", app.base)),
        ),
    ];
    for (what, req) in cases {
        let res = req.send().await.unwrap();
        assert_secure(&res, what);
        // Only the banner script is for other (sibling) hosts to load.
        let corp = res.headers()["cross-origin-resource-policy"]
            .to_str()
            .unwrap();
        let expected = if what == "the banner script" {
            "same-site"
        } else {
            "same-origin"
        };
        assert_eq!(corp, expected, "{what}");
    }
}

/// Every `<style>` element of a page is allowed by its hash, so the page looks as meant,
/// and nothing but those elements is.
#[tokio::test]
async fn pages_allow_exactly_their_own_styles() {
    use base64::Engine as _;
    let app = spawn_app().await;
    for path in ["/privacy", "/privacy/changes", "/me"] {
        let res = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let page = res.text().await.unwrap();
        let doc = scraper::Html::parse_document(&page);
        let styles: Vec<String> = doc
            .select(&scraper::Selector::parse("style").unwrap())
            .map(|s| s.text().collect())
            .collect();
        assert!(!styles.is_empty(), "{path} has no style element");
        let style_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("style-src "))
            .unwrap_or_else(|| panic!("{path}: no style-src in {csp}"));
        let allowed: Vec<&str> = style_src.split_whitespace().skip(1).collect();
        assert_eq!(allowed.len(), styles.len(), "{path}: {style_src}");
        for css in styles {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&css));
            assert!(
                allowed.contains(&format!("'sha256-{hash}'").as_str()),
                "{path}: {style_src}"
            );
        }
    }
}

#[tokio::test]
async fn hsts_only_when_the_client_reached_us_over_https() {
    let untrusting = spawn_app().await;
    let res = untrusting
        .client
        .get(format!("{}/healthz", untrusting.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());

    let behind_proxy = app_with(Limits {
        trust_forwarded_for: true,
        ..Limits::default()
    })
    .await;
    let get = |proto: &'static str| {
        behind_proxy
            .client
            .get(format!("{}/healthz", behind_proxy.base))
            .header("x-forwarded-proto", proto)
            .send()
    };
    let res = get("https").await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        keuze_server::headers::HSTS
    );
    let res = get("http").await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn over_tls_every_response_says_to_stay_on_https() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let cert = std::path::Path::new(dir).join("tests/fixtures/tls-cert.pem");
    let key = std::path::Path::new(dir).join("tests/fixtures/tls-key.pem");
    let tls = keuze_server::listen::Tls::from_pem_files(&cert, &key).unwrap();
    let app = spawn_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(keuze_server::listen::serve(
        listener,
        keuze_server::app(app.state.clone()),
        ConnectionLimits::default(),
        Some(tls),
        std::future::pending(),
    ));
    let root = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    let res = client
        .get(format!("https://localhost:{}/privacy", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["strict-transport-security"],
        keuze_server::headers::HSTS
    );
    // Plain HTTP on the TLS port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}/privacy"))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
}

#[test]
fn a_certificate_file_without_a_certificate_is_refused_clearly() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let key = std::path::Path::new(dir).join("tests/fixtures/tls-key.pem");
    let err = keuze_server::listen::Tls::from_pem_files(&key, &key).unwrap_err();
    assert!(
        err.to_string().contains("holds no PEM certificate"),
        "{err}"
    );
    let cert = std::path::Path::new(dir).join("tests/fixtures/tls-cert.pem");
    let err = keuze_server::listen::Tls::from_pem_files(&cert, &cert).unwrap_err();
    assert!(
        err.to_string().contains("holds no PEM private key"),
        "{err}"
    );
}
