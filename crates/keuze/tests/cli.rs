//! The `keuze` binary as a user runs it: catalog checks, init, serve, keys, and what
//! survives a kill. Each test works in its own temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

mod support;
use support::{create_key, keuze, run, Server};

#[test]
fn catalog_check_accepts_the_sample_and_locates_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["init", "."]);
    assert!(out.status.success());
    let out = run(
        dir.path(),
        &["catalog", "check", "catalog.toml", "--strict"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok, 9 purposes"));

    let bad = std::fs::read_to_string(dir.path().join("catalog.toml"))
        .unwrap()
        .replacen("\"contact.email\"", "\"contact.emial\"", 1)
        .replacen(
            "legal_basis = \"contract\"",
            "legal_basis = \"contrakt\"",
            1,
        );
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = run(dir.path(), &["catalog", "check", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:20:"), "{err}");
    assert!(err.contains("did you mean `contact.email`"), "{err}");
    assert!(err.contains("bad.toml has 2 errors"), "{err}");

    let out = run(dir.path(), &["catalog", "check", "missing.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not read the catalog missing.toml")
    );
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    assert!(run(dir.path(), &["init", "shop"]).status.success());
    std::fs::write(dir.path().join("shop/catalog.toml"), "# mine").unwrap();
    let out = run(dir.path(), &["init", "shop"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("shop/catalog.toml")).unwrap(),
        "# mine"
    );
}

#[test]
fn usage_errors_exit_2_and_every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run(dir.path(), &["key", "create", "--scope", "root"])
            .status
            .code(),
        Some(2)
    );
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["init", "--help"],
        &["catalog", "check", "--help"],
        &["ledger", "rebuild", "--help"],
        &["key", "create", "--help"],
        &["key", "list", "--help"],
        &["catalog", "publish", "--help"],
        &["catalog", "diff", "--help"],
        &["tcf", "decode", "--help"],
        &["tcf", "encode", "--help"],
    ] {
        let out = run(dir.path(), cmd);
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{cmd:?}"
        );
    }
}

/// A database setting that cannot work is a usage error, said plainly, before anything
/// is created: no data directory, no secret.
#[test]
fn a_bad_database_setting_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--database", "mysql://root:hunter2@db/keuze"],
            "`mysql://` is not supported",
        ),
        (&["--database", "keuze.db"], "not a URL"),
        (
            &[
                "--database",
                "postgres://127.0.0.1/test",
                "--database-schema",
                "Bad-Name",
            ],
            "--database-schema Bad-Name: use lower-case letters",
        ),
        (
            &["--database-schema", "keuze"],
            "needs --database postgres://",
        ),
    ];
    for (args, said) in cases {
        let out = keuze(dir.path())
            .args(["serve", "--data", "d", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("hunter2"),
            "the password is not repeated: {stderr}"
        );
        assert!(
            !dir.path().join("d").exists(),
            "{args:?} created the data directory"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_no_arguments_uses_the_sample_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &dir.path().join("log"));
    let health: Value = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let catalog: Value = reqwest::get(format!("{}/v1/catalog", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["version"], 1);
    assert_eq!(
        catalog["catalog"]["organisation"]["name"],
        "Fietsenwinkel B.V."
    );
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let secret = dir.path().join("keuze-data/secret.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(std::fs::read(&secret).unwrap().len(), 32);
}

/// Writers hammer the server, it is killed with SIGKILL mid-stream, and after a restart
/// every write that was acknowledged is in the ledger with the right action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let key = create_key(dir.path(), "keuze-data", &["record", "audit"]);
    let server = Server::start(dir.path(), &[], &log);
    let client = reqwest::Client::new();
    let acked = Arc::new(std::sync::Mutex::new(Vec::<(usize, u64, String)>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..64usize {
        let (client, base, key, acked, stop) = (
            client.clone(),
            server.base.clone(),
            key.clone(),
            acked.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 400 {
                let action = if i.is_multiple_of(2) { "grant" } else { "withdraw" };
                let res = client
                    .post(format!("{base}/v1/consents"))
                    .bearer_auth(&key)
                    .json(&json!({"subject": {"id": format!("writer-{w}")}, "choices": [{"purpose": "newsletter", "action": action}]}))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != 201 {
                    break;
                }
                let Ok(body) = res.json::<Value>().await else { break };
                let seq = body["events"][0]["seq"].as_u64().unwrap();
                acked.lock().unwrap().push((w, seq, action.to_owned()));
                i += 1;
            }
        }));
    }
    // Let the writers get going, then pull the plug while they are still writing.
    while acked.lock().unwrap().len() < 1500 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 1500);

    let server = Server::start(dir.path(), &[], &log);
    let mut found = 0;
    for w in 0..64usize {
        let history: Value = client
            .post(format!("{}/v1/subjects/history", server.base))
            .bearer_auth(&key)
            .json(&json!({"subject": {"id": format!("writer-{w}")}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let events = history["events"].as_array().unwrap();
        for (_, seq, action) in acked.iter().filter(|(aw, _, _)| *aw == w) {
            let e = events.iter().find(|e| e["seq"].as_u64() == Some(*seq));
            let e = e.unwrap_or_else(|| panic!("acknowledged write {seq} of writer {w} is lost"));
            assert_eq!(e["action"], action.as_str());
            found += 1;
        }
    }
    assert_eq!(found, acked.len());
    assert!(server.terminate().success());
}

/// A known e-mail address used as identifier appears in no file of the data directory
/// and in no log line, even at trace level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_identifiers_are_never_stored_or_logged() {
    const EMAIL: &str = "jan.jansen+keuze@example.nl";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let key = create_key(dir.path(), "keuze-data", &["record", "decide", "audit"]);
    let server = Server::start(dir.path(), &[], &log);
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", server.base))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let subject = json!({"id": EMAIL});
    // Every kind of request that names the customer, including a refused one whose
    // problem echoes fields back: none may echo the identifier.
    let requests = [
        (
            "/v1/consents",
            json!({"subject": subject, "all": "accept"}),
            201,
        ),
        (
            "/v1/consents",
            json!({"subject": subject, "choices": [{"purpose": "newsletter", "action": "withdraw"}]}),
            201,
        ),
        (
            "/v1/decide",
            json!({"subject": subject, "purpose": "newsletter"}),
            200,
        ),
        ("/v1/subjects/state", json!({"subject": subject}), 200),
        ("/v1/subjects/history", json!({"subject": subject}), 200),
        (
            "/v1/consents",
            json!({"subject": subject, "choices": [{"purpose": "nope", "action": "grant"}]}),
            422,
        ),
    ];
    for (path, body, status) in requests {
        let res = post(path, body).await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert!(
            !res.text().await.unwrap().contains(EMAIL),
            "{path} echoed the identifier"
        );
    }
    // A one-time login link for the preference center must not reach the log either.
    let session: Value = post("/v1/sessions", json!({"subject": subject}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects
        .get(format!("{}/me?token={token}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(server.terminate().success());

    let mut checked = 0;
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        let found = bytes.windows(EMAIL.len()).any(|w| w == EMAIL.as_bytes())
            || bytes.windows(8).any(|w| w == b"jansen+k");
        assert!(!found, "the raw identifier is in {}", entry.display());
        checked += 1;
    }
    assert!(
        checked >= 3,
        "expected the database, the secret and the log; saw {checked} files"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.contains(&token), "the login token is in the log");
    assert!(
        logged.lines().count() > 5,
        "the log is suspiciously short: {logged}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn with_us_recipient(sample: &str) -> String {
    let edited = sample.replacen(
        "name = \"Mailjet\"\ncountry = \"FR\"\n",
        "name = \"Mailjet\"\ncountry = \"FR\"\n\n[[purposes.recipients]]\nname = \"Klaviyo\"\ncountry = \"US\"\n",
        1,
    );
    assert_ne!(edited, sample);
    edited
}

#[test]
fn publish_and_diff_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init", "."]).status.success());
    let sample = std::fs::read_to_string(d.join("catalog.toml")).unwrap();
    std::fs::write(d.join("v2.toml"), with_us_recipient(&sample)).unwrap();
    std::fs::write(
        d.join("bad.toml"),
        sample.replacen("retention = \"2 years\"", "retention = \"forever\"", 1),
    )
    .unwrap();

    let out = run(d, &["catalog", "publish", "catalog.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("as version 1"));
    let out = run(d, &["catalog", "publish", "catalog.toml"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing was published"));

    let out = run(d, &["catalog", "publish", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:") && err.contains("nothing was published"),
        "{err}"
    );

    let out = run(d, &["catalog", "publish", "v2.toml"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("as version 2") && stdout.contains("[material: recipient_outside_eea]"),
        "{stdout}"
    );

    // Version numbers and files mix; both languages by default.
    let out = run(d, &["catalog", "diff", "1", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("outside the EEA") && text.contains("buiten de EER"),
        "{text}"
    );
    let out = run(
        d,
        &[
            "catalog",
            "diff",
            "catalog.toml",
            "v2.toml",
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["materially_changed"], json!(["newsletter"]));
    let out = run(d, &["catalog", "diff", "1", "7"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no published version 7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_adopts_a_version_published_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init", "."]).status.success());
    let server = Server::start(d, &[], &d.join("log"));
    let sample = std::fs::read_to_string(d.join("catalog.toml")).unwrap();
    std::fs::write(d.join("v2.toml"), with_us_recipient(&sample)).unwrap();
    let out = run(d, &["catalog", "publish", "v2.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut version = 0;
    for _ in 0..50 {
        let catalog: Value = reqwest::get(format!("{}/v1/catalog", server.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        version = catalog["version"].as_u64().unwrap();
        if version == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(version, 2);
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_flags_then_environment_then_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("conf")).unwrap();
    std::fs::write(
        d.join("conf/keuze.toml"),
        "data = \"from-config\"\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    // The config file's data directory is relative to the file.
    let out = run(
        d,
        &[
            "key",
            "create",
            "--config",
            "conf/keuze.toml",
            "--scope",
            "audit",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.join("conf/from-config/keuze.db").exists());
    // The environment overrides the file, and a flag overrides the environment.
    let out = keuze(d)
        .args([
            "key",
            "create",
            "--config",
            "conf/keuze.toml",
            "--scope",
            "audit",
        ])
        .env("KEUZE_DATA", "from-env")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(d.join("from-env/keuze.db").exists());
    let out = keuze(d)
        .args([
            "key",
            "create",
            "--config",
            "conf/keuze.toml",
            "--data",
            "from-flag",
            "--scope",
            "audit",
        ])
        .env("KEUZE_DATA", "from-env")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(d.join("from-flag/keuze.db").exists());
    // An unknown key in the config file is an error that names it.
    std::fs::write(d.join("bad.toml"), "dat = \"x\"\n").unwrap();
    let out = run(d, &["key", "list", "--config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown key `dat`"));
}

/// A data directory with 40 events over several subjects and purposes after 2 admin
/// entries (the key created, the sample catalog published), and checkpoints at several
/// sizes; returns (dir, a receipt for event 5, the log's verifier keys).
async fn proven_ledger() -> (tempfile::TempDir, Value, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = create_key(d, "keuze-data", &["record", "audit", "admin"]);
    let server = Server::start(d, &[], &d.join("log"));
    let client = reqwest::Client::new();
    let purposes = [
        "newsletter",
        "product_reviews",
        "personalised_recommendations",
        "advertising_partners",
    ];
    for i in 0..40usize {
        let action = if i % 3 == 0 { "withdraw" } else { "grant" };
        let res = client
            .post(format!("{}/v1/consents", server.base))
            .bearer_auth(&key)
            .json(&json!({"subject": {"id": format!("klant{}@example.nl", i % 7)}, "choices": [{"purpose": purposes[i % 4], "action": action}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        if i % 9 == 4 {
            let res = client
                .get(format!("{}/v1/log/checkpoint", server.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
    }
    let receipt: Value = client
        .post(format!("{}/v1/receipts", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "klant2@example.nl"}, "seq": 5}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Value = client
        .get(format!("{}/v1/log/keys", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<String> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    assert!(server.terminate().success());
    (dir, receipt, keys)
}

fn verify_receipt_file(d: &Path, receipt: &Value, keys: &[String]) -> Output {
    std::fs::write(
        d.join("receipt.json"),
        serde_json::to_string_pretty(receipt).unwrap(),
    )
    .unwrap();
    let mut args = vec![
        "receipt".to_owned(),
        "verify".to_owned(),
        "receipt.json".to_owned(),
    ];
    for k in keys {
        args.push("--key".into());
        args.push(k.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(d, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_verifies_offline_and_any_change_to_it_fails() {
    let (dir, receipt, keys) = proven_ledger().await;
    let d = dir.path();
    // The server is stopped: this needs nothing but the file and the key.
    let out = verify_receipt_file(d, &receipt, &keys);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: event 5"));

    let changes: [(&str, Value); 6] = [
        ("/event/action", json!("withdraw")),
        ("/purpose/title", json!("Something else")),
        ("/controller/name", json!("Another B.V.")),
        ("/notice/catalog_version", json!(2)),
        (
            "/event/recorded_at_ms",
            json!(receipt["event"]["recorded_at_ms"].as_i64().unwrap() + 1),
        ),
        ("/proof/leaf_index", json!(6)),
    ];
    for (pointer, value) in changes {
        let mut changed = receipt.clone();
        *changed.pointer_mut(pointer).unwrap() = value;
        let out = verify_receipt_file(d, &changed, &keys);
        assert_eq!(
            out.status.code(),
            Some(1),
            "changing {pointer} went unnoticed"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("does not verify"),
            "{pointer}"
        );
    }
    // A key the log never used does not vouch for it.
    let other = "keuze.log/other+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned();
    let out = verify_receipt_file(d, &receipt, &[other]);
    assert_ne!(out.status.code(), Some(0));
}

/// Flips one byte somewhere in a copy of the database, with the append-only triggers
/// dropped as an attacker with the file would; returns what `ledger verify` must name.
async fn tamper(db: &Path, rng: &mut rand::rngs::StdRng, events: i64) -> String {
    use rand::Rng;
    use sqlx::{Connection, Row};
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let triggers: Vec<String> =
        sqlx::query("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
    for t in triggers {
        sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let consent: Vec<i64> = sqlx::query("SELECT seq FROM events ORDER BY seq")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected = match rng.gen_range(0..10) {
        6 => {
            // An admin entry of the audit trail: who did it, or what to.
            let admin: Vec<i64> = sqlx::query("SELECT seq FROM admin_events ORDER BY seq")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let seq = admin[rng.gen_range(0..admin.len())];
            let col = ["actor", "target", "recorded_at"][rng.gen_range(0..3)];
            let sql = match col {
                "recorded_at" => {
                    "UPDATE admin_events SET recorded_at = recorded_at + 1 WHERE seq = ?"
                }
                "actor" => "UPDATE admin_events SET actor = 'cli:someone' WHERE seq = ?",
                _ => "UPDATE admin_events SET target = target || '0' WHERE seq = ?",
            };
            sqlx::query(sql).bind(seq).execute(&mut conn).await.unwrap();
            format!("event {seq}:")
        }
        0..=5 => {
            let seq = consent[rng.gen_range(0..consent.len())];
            let columns = [
                "subject_commitment",
                "purpose",
                "action",
                "source",
                "catalog_version",
                "notice_digest",
                "locale",
                "recorded_at",
                "context_digest",
            ];
            let col = columns[rng.gen_range(0..columns.len())];
            let row = sqlx::query(&format!("SELECT {col} FROM events WHERE seq = ?"))
                .bind(seq)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            match col {
                "catalog_version" | "recorded_at" => {
                    let v: i64 = row.get(0);
                    sqlx::query(&format!("UPDATE events SET {col} = ? WHERE seq = ?"))
                        .bind(v ^ (1 << rng.gen_range(0..8)))
                        .bind(seq)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                "purpose" | "action" | "source" | "locale" => {
                    let mut v: Vec<u8> = row.get::<String, _>(0).into_bytes();
                    let i = rng.gen_range(0..v.len());
                    let old = v[i];
                    v[i] = loop {
                        let c = rng.gen_range(b'a'..=b'z');
                        if c != old {
                            break c;
                        }
                    };
                    sqlx::query(&format!("UPDATE events SET {col} = ? WHERE seq = ?"))
                        .bind(String::from_utf8(v).unwrap())
                        .bind(seq)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                _ => {
                    let mut v: Vec<u8> = row.get(0);
                    let i = rng.gen_range(0..v.len());
                    v[i] ^= rng.gen_range(1..=255u8);
                    sqlx::query(&format!("UPDATE events SET {col} = ? WHERE seq = ?"))
                        .bind(v)
                        .bind(seq)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
            format!("event {seq}:")
        }
        7 => {
            // A leaf in the stored tree.
            let idx = rng.gen_range(0..events);
            let mut v: Vec<u8> =
                sqlx::query("SELECT hash FROM tree_nodes WHERE level = 0 AND idx = ?")
                    .bind(idx)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .get(0);
            let i = rng.gen_range(0..32);
            v[i] ^= rng.gen_range(1..=255u8);
            sqlx::query("UPDATE tree_nodes SET hash = ? WHERE level = 0 AND idx = ?")
                .bind(v)
                .bind(idx)
                .execute(&mut conn)
                .await
                .unwrap();
            format!("event {}:", idx + 1)
        }
        _ => {
            let sizes: Vec<i64> = sqlx::query("SELECT size FROM checkpoints")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let size = sizes[rng.gen_range(0..sizes.len())];
            if rng.gen_bool(0.5) {
                let note: String = sqlx::query("SELECT note FROM checkpoints WHERE size = ?")
                    .bind(size)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .get(0);
                let mut v = note.into_bytes();
                // Somewhere in the text or the signature line, never the line structure.
                let i = loop {
                    let i = rng.gen_range(0..v.len());
                    if v[i].is_ascii_alphanumeric() {
                        break i;
                    }
                };
                v[i] = if v[i] == b'A' { b'B' } else { b'A' };
                sqlx::query("UPDATE checkpoints SET note = ? WHERE size = ?")
                    .bind(String::from_utf8(v).unwrap())
                    .bind(size)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            } else {
                let mut v: Vec<u8> = sqlx::query("SELECT root FROM checkpoints WHERE size = ?")
                    .bind(size)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
                    .get(0);
                v[rng.gen_range(0..32)] ^= 0x5a;
                sqlx::query("UPDATE checkpoints SET root = ? WHERE size = ?")
                    .bind(v)
                    .bind(size)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            format!("checkpoint at size {size}:")
        }
    };
    conn.close().await.unwrap();
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_verify_finds_every_changed_byte_and_names_the_event() {
    use rand::SeedableRng;
    let (dir, _, _) = proven_ledger().await;
    let d = dir.path();
    let out = run(d, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = String::from_utf8_lossy(&out.stdout);
    assert!(
        ok.contains(
            "ok: 42 ledger entries (40 consent events, 2 admin actions, 0 incident notices)"
        ) && ok.contains("checkpoints verified"),
        "{ok}"
    );

    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for round in 0..50 {
        let copy = d.join(format!("tampered-{round}"));
        std::fs::create_dir(&copy).unwrap();
        for f in std::fs::read_dir(d.join("keuze-data")).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, copy.join(f.file_name().unwrap())).unwrap();
        }
        let expected = tamper(&copy.join("keuze.db"), &mut rng, 42).await;
        let out = run(d, &["ledger", "verify", "--data", copy.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "round {round}: a change ({expected}) went unnoticed: {err}"
        );
        assert!(
            err.contains(&expected),
            "round {round}: expected the report to name `{expected}`, got: {err}"
        );
        std::fs::remove_dir_all(&copy).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_erasure_the_ledger_and_old_receipts_still_verify_and_the_subject_is_gone() {
    let (dir, receipt, keys) = proven_ledger().await;
    let d = dir.path();
    let admin = create_key(d, "keuze-data", &["admin", "decide"]);
    let server = Server::start(d, &[], &d.join("log"));
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/v1/subjects/erase", server.base))
        .bearer_auth(&admin)
        .json(&json!({"subject": {"id": "klant2@example.nl"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let d2: Value = client
        .post(format!("{}/v1/decide", server.base))
        .bearer_auth(&admin)
        .json(&json!({"subject": {"id": "klant2@example.nl"}, "purpose": "newsletter"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d2["reason"], "subject_erased");
    let cp = client
        .get(format!("{}/v1/log/checkpoint", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(cp.status(), 200);
    assert!(server.terminate().success());

    let out = run(d, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verify_receipt_file(d, &receipt, &keys);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Neither the identifier nor the salt that tied the ledger to it is on disk any more.
    let salt = hex::decode(receipt["subject"]["salt"].as_str().unwrap()).unwrap();
    for file in walk(&d.join("keuze-data")) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(17).any(|w| w == b"klant2@example.nl"),
            "{}",
            file.display()
        );
        assert!(
            !bytes.windows(32).any(|w| w == salt.as_slice()),
            "the salt is still in {}",
            file.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_key_rotation_old_and_new_checkpoints_and_receipts_verify() {
    let (dir, old_receipt, old_keys) = proven_ledger().await;
    let d = dir.path();
    let out = run(d, &["log", "rotate-key"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(!old_keys.contains(&new_key));

    let key = create_key(d, "keuze-data", &["record", "audit"]);
    let server = Server::start(d, &[], &d.join("log"));
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/v1/consents", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "nieuw@example.nl"}, "all": "accept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let keys: Value = client
        .get(format!("{}/v1/log/keys", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["current"], new_key.as_str());
    assert!(old_keys
        .iter()
        .all(|k| keys["keys"].as_array().unwrap().contains(&json!(k))));
    let new_receipt: Value = client
        .post(format!("{}/v1/receipts", server.base))
        .bearer_auth(&key)
        // 42 entries, the rotation's and the new key's admin entries, then these.
        .json(&json!({"subject": {"id": "nieuw@example.nl"}, "seq": 45}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(server.terminate().success());

    // The new receipt is signed by the new key only; the old one by the old key.
    assert!(
        verify_receipt_file(d, &new_receipt, std::slice::from_ref(&new_key))
            .status
            .success()
    );
    assert_ne!(
        verify_receipt_file(d, &new_receipt, &old_keys)
            .status
            .code(),
        Some(0)
    );
    assert!(verify_receipt_file(d, &old_receipt, &old_keys)
        .status
        .success());
    // The ledger, with checkpoints under both keys, verifies.
    let out = run(d, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(d, &["log", "keys"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
}

/// A graceful stop saves the decision index; the next start loads it and replays only
/// the ledger after it, even when the stop before was a kill. A damaged snapshot is set
/// aside, and an erasure removes the snapshot that still held the subject's choices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loads_the_index_snapshot_and_replays_the_ledger_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = create_key(d, "keuze-data", &["record", "decide", "admin"]);
    let snapshot = d.join("keuze-data").join("index.snapshot");
    let log = d.join("log");
    let client = reqwest::Client::new();
    let record = |base: String, who: &'static str, action: &'static str| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let res = client
                .post(format!("{base}/v1/consents"))
                .bearer_auth(&key)
                .json(&json!({"subject": {"id": who}, "choices": [{"purpose": "newsletter", "action": action}]}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }
    };
    let reason = |base: String, who: &'static str| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let v: Value = client
                .post(format!("{base}/v1/decide"))
                .bearer_auth(&key)
                .json(&json!({"subject": {"id": who}, "purpose": "newsletter"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["reason"].as_str().unwrap().to_owned()
        }
    };

    let server = Server::start(d, &[], &log);
    record(server.base.clone(), "a@example.nl", "grant").await;
    assert!(server.terminate().success());
    assert!(snapshot.exists(), "a graceful stop saves the index");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&snapshot).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the snapshot is for the server's user only"
        );
    }
    let saved = std::fs::read(&snapshot).unwrap();

    // Changes after the snapshot, then a kill: no new snapshot is written.
    let server = Server::start(d, &[], &log);
    record(server.base.clone(), "a@example.nl", "withdraw").await;
    record(server.base.clone(), "b@example.nl", "grant").await;
    server.kill();
    assert_eq!(std::fs::read(&snapshot).unwrap(), saved);

    let server = Server::start(d, &[], &log);
    assert_eq!(
        reason(server.base.clone(), "a@example.nl").await,
        "withdrawn"
    );
    assert_eq!(reason(server.base.clone(), "b@example.nl").await, "granted");
    server.kill();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("decision index loaded from its snapshot"),
        "{text}"
    );

    // One flipped byte: the snapshot is refused and the index rebuilt from the projection.
    let mut damaged = saved.clone();
    let mid = damaged.len() / 2;
    damaged[mid] ^= 0x40;
    std::fs::write(&snapshot, &damaged).unwrap();
    let server = Server::start(d, &[], &log);
    assert_eq!(
        reason(server.base.clone(), "a@example.nl").await,
        "withdrawn"
    );
    assert_eq!(reason(server.base.clone(), "b@example.nl").await, "granted");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("checksum does not match"), "{text}");

    let res = client
        .post(format!("{}/v1/subjects/erase", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "b@example.nl"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!snapshot.exists(), "an erasure removes the snapshot");
    assert!(server.terminate().success());
    let (index, _) =
        keuze_core::DecisionIndex::from_snapshot(std::fs::read(&snapshot).unwrap()).unwrap();
    assert_eq!(index.subject_count(), 1, "only a@ is in the new snapshot");
}

/// The NATS server for tests, or `None` with a loud message; under
/// `KEUZE_REQUIRE_SERVICES=1` a missing server fails instead.
async fn nats_or_skip(test: &str) -> Option<(String, async_nats::Client)> {
    let url =
        std::env::var("KEUZE_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());
    let connected = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        async_nats::ConnectOptions::new().connect(url.as_str()),
    )
    .await;
    let why = match connected {
        Ok(Ok(client)) => return Some((url, client)),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!(
            "{test}: NATS at {url} is required (KEUZE_REQUIRE_SERVICES=1) but unreachable: {why}"
        );
    }
    eprintln!("\n!!!!!!!! SKIPPED {test}: no NATS at {url} ({why}) !!!!!!!!\n");
    None
}

/// What the webhook receiver got: every delivery's seq and subject, in arrival order.
struct Deliveries {
    events: std::sync::Mutex<Vec<(u64, String)>>,
    bad_signatures: std::sync::atomic::AtomicUsize,
    /// After this many deliveries, requests hang until `open` turns true: the server is
    /// then certainly in the middle of dispatching when it is killed.
    pass_first: usize,
    open: tokio::sync::watch::Sender<bool>,
    hanging: std::sync::atomic::AtomicUsize,
}

async fn receive(
    axum::extract::State(d): axum::extract::State<Arc<Deliveries>>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    if d.events.lock().unwrap().len() >= d.pass_first && !*d.open.borrow() {
        d.hanging.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut open = d.open.subscribe();
        let _ = open.wait_for(|o| *o).await;
    }
    let signed = headers
        .get("keuze-signature")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| keuze_app::propagate::webhook::verify_signature("whsec_cli_test", h, &body));
    if signed.is_none() {
        d.bad_signatures
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        return axum::http::StatusCode::UNAUTHORIZED;
    }
    let event: Value = serde_json::from_slice(&body).unwrap();
    d.events.lock().unwrap().push((
        event["seq"].as_u64().unwrap(),
        event["subject"].as_str().unwrap().to_owned(),
    ));
    axum::http::StatusCode::NO_CONTENT
}

/// The server is killed with SIGKILL while it is delivering to a webhook and to NATS;
/// after a restart every event reaches both, in order per subject, and JetStream holds
/// each exactly once although the restarted server publishes everything again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagation_loses_nothing_when_killed_mid_dispatch() {
    let test = "propagation_loses_nothing_when_killed_mid_dispatch";
    let nats = nats_or_skip(test).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");

    let deliveries = Arc::new(Deliveries {
        events: Default::default(),
        bad_signatures: Default::default(),
        pass_first: 20,
        open: tokio::sync::watch::Sender::new(false),
        hanging: Default::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(Arc::clone(&deliveries));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let tag = format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let (stream, prefix) = (format!("KEUZE_CLI_{tag}"), format!("keuzecli.{tag}"));
    let mut config = String::from(
        "data = \"keuze-data\"\n\
         webhook_max_attempts = 100000\nwebhook_retry_base_ms = 5\nwebhook_retry_max_ms = 50\n",
    );
    if let Some((url, _)) = &nats {
        config.push_str(&format!(
            "nats = \"{url}\"\nnats_stream = \"{stream}\"\nnats_subject_prefix = \"{prefix}\"\n"
        ));
    }
    config.push_str(&format!(
        "[[webhook]]\nname = \"rx\"\nurl = \"{hook}\"\nsecret = \"whsec_cli_test\"\n"
    ));
    std::fs::write(dir.path().join("keuze.toml"), config).unwrap();

    let key = create_key(dir.path(), "keuze-data", &["record", "audit"]);
    let server = Server::start(dir.path(), &[], &log);
    let client = reqwest::Client::new();
    let acked = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let mut writers = Vec::new();
    for w in 0..8usize {
        let (client, base, key, acked) = (
            client.clone(),
            server.base.clone(),
            key.clone(),
            acked.clone(),
        );
        writers.push(tokio::spawn(async move {
            for i in 0..40u64 {
                let action = if i.is_multiple_of(2) { "grant" } else { "withdraw" };
                let subject = format!("writer-{w}-{}", i % 3);
                let res = client
                    .post(format!("{base}/v1/consents"))
                    .bearer_auth(&key)
                    .json(&json!({"subject": {"id": subject}, "choices": [{"purpose": "newsletter", "action": action}]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let body = res.json::<Value>().await.unwrap();
                acked
                    .lock()
                    .unwrap()
                    .push(body["events"][0]["seq"].as_u64().unwrap());
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    // The restart must find publishes to repeat: wait until the stream holds some (the
    // sink connects lazily, which can take a while on a loaded machine).
    if let Some((_, client)) = &nats {
        let js = async_nats::jetstream::new(client.clone());
        let mut published = 0;
        for _ in 0..3000 {
            if let Ok(mut s) = js.get_stream(&stream).await {
                published = s.info().await.unwrap().state.messages;
                if published > 0 {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(published > 0, "the first server never published to NATS");
    }
    // Kill while deliveries are in flight: the receiver holds them.
    while deliveries.hanging.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    server.kill();
    let acked = acked.lock().unwrap().clone();
    let delivered_before = deliveries.events.lock().unwrap().len();
    assert_eq!(acked.len(), 320);
    // Concurrent requests may slip past the gate together; most are still undelivered.
    assert!(
        delivered_before < 100,
        "{delivered_before} delivered before the kill"
    );
    deliveries.open.send_replace(true);

    // As if no publish had been acknowledged before the kill: everything goes out again,
    // and JetStream must drop what it already has.
    if nats.is_some() {
        let db = dir.path().join("keuze-data").join("keuze.db");
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}",
            db.display()
        ))
        .await
        .unwrap();
        sqlx::query("UPDATE outbox_cursors SET delivered = 0 WHERE sink LIKE 'nats:%'")
            .execute(&mut conn)
            .await
            .unwrap();
    }

    let server = Server::start(dir.path(), &[], &log);
    // One more write after the restart: its seq is the ledger's length.
    let res: Value = client
        .post(format!("{}/v1/consents", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "after-restart"}, "choices": [{"purpose": "newsletter", "action": "grant"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = res["events"][0]["seq"].as_u64().unwrap();
    // Every consent event up to it; the seqs of admin entries (the key, the catalog) are
    // not for webhooks.
    let db = dir.path().join("keuze-data").join("keuze.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        db.display()
    ))
    .await
    .unwrap();
    let all: std::collections::BTreeSet<u64> =
        sqlx::query_scalar::<_, i64>("SELECT seq FROM events WHERE seq <= ?")
            .bind(total as i64)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s as u64)
            .collect();
    assert_eq!(
        all.len(),
        321,
        "the acknowledged writes and the one after the restart"
    );
    let mut arrived = false;
    for _ in 0..3000 {
        let got: std::collections::BTreeSet<u64> = deliveries
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|(s, _)| *s)
            .collect();
        if got == all {
            arrived = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        arrived,
        "not every event reached the webhook after the restart"
    );
    for seq in &acked {
        assert!(all.contains(seq));
    }
    assert_eq!(
        deliveries
            .bad_signatures
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    // In order per subject: each event's first arrival comes after its predecessors'.
    let mut first_seen: std::collections::HashMap<String, u64> = Default::default();
    let mut seen = std::collections::BTreeSet::new();
    for (seq, subject) in deliveries.events.lock().unwrap().iter() {
        if seen.insert(*seq) {
            let last = first_seen.entry(subject.clone()).or_insert(0);
            assert!(
                *seq > *last,
                "subject {subject}: {seq} first arrived after {last}"
            );
            *last = *seq;
        }
    }

    if let Some((_, client)) = nats {
        let js = async_nats::jetstream::new(client);
        let mut count = 0;
        for _ in 0..3000 {
            if let Ok(mut s) = js.get_stream(&stream).await {
                count = s.info().await.unwrap().state.messages;
                if count >= total {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Everything was published again after the restart; wait for that to finish.
        let metrics_url = format!("{}/metrics", server.base);
        let mut duplicates = 0.0;
        for _ in 0..3000 {
            let metrics = client_text(&client_for_metrics(), &metrics_url).await;
            duplicates = metric(&metrics, "keuze_nats_duplicates_total");
            let lag = metric(
                &metrics,
                &format!("keuze_outbox_lag_events{{sink=\"nats:{stream}\"}}"),
            );
            if duplicates > 0.0 && lag == 0.0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(
            duplicates > 0.0,
            "the restarted server published nothing again"
        );
        let stream_info = js
            .get_stream(&stream)
            .await
            .unwrap()
            .info()
            .await
            .unwrap()
            .clone();
        let events = all.len() as u64;
        assert_eq!(
            stream_info.state.messages, events,
            "JetStream must hold each event once"
        );
        let s = js.get_stream(&stream).await.unwrap();
        let mut ids = std::collections::BTreeSet::new();
        for n in 1..=events {
            let msg = s.get_raw_message(n).await.unwrap();
            let id: u64 = msg
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .unwrap()
                .as_str()
                .parse()
                .unwrap();
            assert!(ids.insert(id), "seq {id} is in the stream twice");
        }
        assert_eq!(ids, all);
        let _ = count;
        js.delete_stream(&stream).await.unwrap();
    }
    assert!(server.terminate().success());
}

fn client_for_metrics() -> reqwest::Client {
    reqwest::Client::new()
}

async fn client_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// The value of a metric line `name value` (0 if absent).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// `keuze key revoke` refuses the key at a running server, `keuze key list` shows it as
/// revoked, `keuze audit list` shows who created and revoked it, and the ledger, admin
/// entries and all, verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_and_the_audit_trail_says_who() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = create_key(d, "keuze-data", &["decide", "audit"]);
    let id = &key[3..19];
    let server = Server::start(d, &[], &d.join("log"));
    let client = reqwest::Client::new();
    let decide = || {
        client
            .post(format!("{}/v1/decide", server.base))
            .bearer_auth(&key)
            .json(&json!({"subject": {"id": "a"}, "purpose": "newsletter"}))
            .send()
    };
    assert_eq!(decide().await.unwrap().status(), 200);

    let mut revoke = keuze(d);
    revoke
        .args(["key", "revoke", "--data", "keuze-data", id])
        .env("USER", "ops");
    let out = revoke.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("revoked API key {id}")));
    // Refused within the documented bound (the key cache's 5 s).
    let started = std::time::Instant::now();
    loop {
        let status = decide().await.unwrap().status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(7),
            "a revoked key still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(server.terminate().success());

    // Twice, or an unknown key: refused, exit 1, nothing written.
    let again = run(d, &["key", "revoke", "--data", "keuze-data", id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("revoked already"));
    let unknown = run(
        d,
        &["key", "revoke", "--data", "keuze-data", "0000000000000000"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("keuze key list"));

    let list = run(d, &["key", "list", "--data", "keuze-data"]);
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains(id) && list.contains("\trevoked "), "{list}");

    let audit = run(d, &["audit", "list", "--data", "keuze-data"]);
    assert!(audit.status.success());
    let lines: Vec<Vec<String>> = String::from_utf8_lossy(&audit.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    let summary: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l[2].as_str(), l[4].as_str(), l[0].as_str()))
        .collect();
    let target = format!("key:{id}");
    assert_eq!(
        summary,
        [
            ("key_created", target.as_str(), "1"),
            ("catalog_published", "catalog:1", "2"),
            ("key_revoked", target.as_str(), "3"),
        ]
    );
    assert_eq!(lines[2][3], "cli:ops", "the revoking user");
    assert!(lines[1][3].starts_with("cli"));

    let out = run(d, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(
            "ok: 3 ledger entries (0 consent events, 3 admin actions, 0 incident notices)"
        ),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
