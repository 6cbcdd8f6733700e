//! `keuze serve`'s limits and HTTPS, as an operator sets them.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::path::PathBuf;
use support::{keuze, Server};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../keuze-server/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn a_bad_limit_or_half_a_tls_setting_is_a_usage_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| keuze(dir.path()).arg("serve").args(args).output().unwrap();

    let out = serve(&["--rate-limit-per-key", "5/h"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`5/h` is not a rate: the unit must be `s` or `min`"),
        "{err}"
    );

    let out = serve(&["--tls-cert", &fixture("tls-cert.pem")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));

    // The key given as certificate: named, with what it lacks.
    let key = fixture("tls-key.pem");
    let out = serve(&["--tls-cert", &key, "--tls-key", &key]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tls-key.pem holds no PEM certificate"),
        "{err}"
    );

    std::fs::write(
        dir.path().join("keuze.toml"),
        "rate_limit_per_client = \"fast\"\n",
    )
    .unwrap();
    let out = serve(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`rate_limit_per_client`: `fast` is not a rate"),
        "{err}"
    );

    // Nothing was created by any of these.
    assert!(!dir.path().join("keuze-data").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keuze_serves_https_with_hsts_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let cert = fixture("tls-cert.pem");
    let server = Server::start(
        dir.path(),
        &["--tls-cert", &cert, "--tls-key", &fixture("tls-key.pem")],
        &log,
    );
    assert!(
        server.base.starts_with("https://127.0.0.1:"),
        "{}",
        server.base
    );
    let port = server.base.rsplit(':').next().unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let res = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=63072000"
    );
    assert!(server.terminate().success());
}
