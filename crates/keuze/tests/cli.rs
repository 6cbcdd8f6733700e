//! The `keuze` binary as a user runs it: catalog checks, init, serve, keys, and what
//! survives a kill. Each test works in its own temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;

fn keuze(cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keuze"));
    c.current_dir(cwd)
        .env_remove("KEUZE_DATA")
        .env_remove("KEUZE_CATALOG")
        .env_remove("KEUZE_LISTEN")
        .env_remove("KEUZE_CONFIG");
    c
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    keuze(cwd).args(args).output().unwrap()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `keuze serve` on a free port in `cwd` with extra args; stderr goes to `log`.
    fn start(cwd: &Path, args: &[&str], log: &Path) -> Self {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = keuze(cwd)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("KEUZE_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("keuze listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            })
            .to_owned();
        Self { child, base }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

fn create_key(cwd: &Path, data: &str, scopes: &[&str]) -> String {
    let mut args = vec!["key", "create", "--data", data];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    let out = run(cwd, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

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
    ] {
        let out = run(dir.path(), cmd);
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{cmd:?}"
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
    assert_eq!(
        post("/v1/consents", json!({"subject": subject, "all": "accept"}))
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(post("/v1/consents", json!({"subject": subject, "choices": [{"purpose": "newsletter", "action": "withdraw"}]})).await.unwrap().status(), 201);
    assert_eq!(
        post(
            "/v1/decide",
            json!({"subject": subject, "purpose": "newsletter"})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        post("/v1/subjects/state", json!({"subject": subject}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post("/v1/subjects/history", json!({"subject": subject}))
            .await
            .unwrap()
            .status(),
        200
    );
    // A bad request that echoes fields back must not echo the identifier either.
    assert_eq!(
        post(
            "/v1/consents",
            json!({"subject": subject, "choices": [{"purpose": "nope", "action": "grant"}]})
        )
        .await
        .unwrap()
        .status(),
        422
    );
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
