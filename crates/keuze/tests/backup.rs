//! `keuze backup` and `keuze restore` as an operator runs them: a backup taken while a
//! server takes writes restores into a data directory that verifies and serves every
//! write acknowledged before the backup began; damaged backups and occupied directories
//! are refused without writing anything; erasures recorded after a backup survive a
//! restore over the directory that recorded them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::{create_key, run, Server};

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &std::process::Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

async fn post(client: &reqwest::Client, url: &str, key: &str, body: Value) -> (u16, Value) {
    let res = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn record(client: &reqwest::Client, base: &str, key: &str, who: &str, action: &str) -> u64 {
    let (status, answer) = post(
        client,
        &format!("{base}/v1/consents"),
        key,
        json!({"subject": {"id": who}, "choices": [{"purpose": "newsletter", "action": action}]}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    answer["events"][0]["seq"].as_u64().unwrap()
}

async fn reason(client: &reqwest::Client, base: &str, key: &str, who: &str) -> String {
    let (status, answer) = post(
        client,
        &format!("{base}/v1/decide"),
        key,
        json!({"subject": {"id": who}, "purpose": "newsletter"}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    answer["reason"].as_str().unwrap().to_owned()
}

/// A data directory with a few choices (and its keys), served once and stopped.
async fn small_data_dir(dir: &Path, key: &str) {
    let server = Server::start(dir, &[], &dir.join("log"));
    let client = reqwest::Client::new();
    for who in ["backup-a", "backup-b", "backup-c"] {
        record(&client, &server.base, key, who, "grant").await;
    }
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_every_write_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(
        dir.path(),
        "keuze-data",
        &["record", "audit", "decide", "admin"],
    );
    let server = Server::start(dir.path(), &[], &dir.path().join("log"));
    let client = reqwest::Client::new();
    // One subject erased before the backup: it must stay erased in the restored copy.
    record(&client, &server.base, &key, "erased-before", "grant").await;
    let (status, answer) = post(
        &client,
        &format!("{}/v1/subjects/erase", server.base),
        &key,
        json!({"subject": {"id": "erased-before"}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    let acked = Arc::new(Mutex::new(Vec::<(String, u64, &'static str)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, base, key, acked, stop) = (
            client.clone(),
            server.base.clone(),
            key.clone(),
            acked.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let who = format!("writer-{w}-{}", i % 7);
                let action = if i.is_multiple_of(3) {
                    "withdraw"
                } else {
                    "grant"
                };
                let seq = record(&client, &base, &key, &who, action).await;
                acked.lock().unwrap().push((who, seq, action));
                i += 1;
            }
        }));
    }
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Everything acknowledged before the backup begins must be in it.
    let before = acked.lock().unwrap().clone();
    let cwd = dir.path().to_path_buf();
    let backup =
        tokio::task::spawn_blocking(move || run(&cwd, &["backup", "bk", "--data", "keuze-data"]))
            .await
            .unwrap();
    let during = acked.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(server.terminate().success());
    let said = ok(&backup);
    assert!(said.starts_with("backed up "), "{said}");
    assert!(
        during > before.len(),
        "the writers went on while the backup ran ({} before, {during} after)",
        before.len()
    );

    let bk = dir.path().join("bk");
    assert_eq!(
        names(&bk),
        ["keuze.db", "log.key", "manifest.json", "secret.key"],
        "exactly the database, the keys and the manifest: no index snapshot, no WAL"
    );
    #[cfg(unix)]
    for name in ["keuze.db", "log.key", "secret.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(bk.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} is readable by its owner only");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(bk.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], 1);
    assert_eq!(manifest["ledger"]["erased_subjects"], 1);
    let entries = manifest["ledger"]["entries"].as_u64().unwrap();
    let max_before = before.iter().map(|(_, seq, _)| *seq).max().unwrap();
    assert!(entries >= max_before, "{manifest}");
    assert_eq!(
        manifest["ledger"]["root"].as_str().unwrap().len(),
        64,
        "{manifest}"
    );
    for f in manifest["files"].as_array().unwrap() {
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64, "{f}");
    }

    let out = run(dir.path(), &["restore", "bk", "--data", "restored"]);
    let said = ok(&out);
    assert!(
        said.contains(&format!("ok: {entries} ledger entries")),
        "{said}"
    );
    assert!(said.contains("restored the backup of"), "{said}");
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains("holds 1 erased subjects") && warned.contains("Restore and erasure"),
        "{warned}"
    );
    let verified = ok(&run(
        dir.path(),
        &["ledger", "verify", "--data", "restored"],
    ));
    assert!(
        verified.starts_with(&format!("ok: {entries} ledger entries")),
        "{verified}"
    );
    ok(&run(
        dir.path(),
        &["ledger", "rebuild", "--check", "--data", "restored"],
    ));

    let server = Server::start(
        dir.path(),
        &["--data", "restored"],
        &dir.path().join("restored.log"),
    );
    let mut histories: std::collections::HashMap<String, Vec<Value>> = Default::default();
    for (who, seq, action) in &before {
        if !histories.contains_key(who) {
            let (status, h) = post(
                &client,
                &format!("{}/v1/subjects/history", server.base),
                &key,
                json!({"subject": {"id": who}}),
            )
            .await;
            assert_eq!(status, 200, "{h}");
            histories.insert(who.clone(), h["events"].as_array().unwrap().clone());
        }
        let e = histories[who]
            .iter()
            .find(|e| e["seq"] == *seq)
            .unwrap_or_else(|| {
                panic!("write {seq} of {who}, acknowledged before the backup, is not restored")
            });
        assert_eq!(e["action"], *action);
        // Nothing written after the snapshot appears.
        assert!(histories[who]
            .iter()
            .all(|e| e["seq"].as_u64().unwrap() <= entries));
    }
    assert_eq!(
        reason(&client, &server.base, &key, "erased-before").await,
        "subject_erased"
    );
    assert!(server.terminate().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_backup_is_refused_and_nothing_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "keuze-data", &["record"]);
    small_data_dir(dir.path(), &key).await;
    ok(&run(dir.path(), &["backup", "bk", "--data", "keuze-data"]));
    let before = names(dir.path());

    // Not a backup at all.
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let err = refused(&run(dir.path(), &["restore", "empty", "--data", "t"]), 1);
    assert!(err.contains("has no manifest.json"), "{err}");

    // One flipped byte in the database.
    let copy = |to: &str| {
        std::fs::create_dir(dir.path().join(to)).unwrap();
        for name in names(&dir.path().join("bk")) {
            std::fs::copy(
                dir.path().join("bk").join(&name),
                dir.path().join(to).join(&name),
            )
            .unwrap();
        }
    };
    copy("flipped");
    let db = dir.path().join("flipped/keuze.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x01;
    std::fs::write(&db, bytes).unwrap();
    let err = refused(&run(dir.path(), &["restore", "flipped", "--data", "t"]), 1);
    assert!(
        err.contains("keuze.db does not match the backup's manifest")
            && err.contains("the backup is damaged; nothing was restored"),
        "{err}"
    );

    // A key file replaced.
    copy("rekeyed");
    std::fs::write(dir.path().join("rekeyed/secret.key"), [7u8; 32]).unwrap();
    let err = refused(&run(dir.path(), &["restore", "rekeyed", "--data", "t"]), 1);
    assert!(err.contains("secret.key does not match"), "{err}");

    // A manifest that lies about the ledger, its file hashes intact.
    copy("lying");
    let path = dir.path().join("lying/manifest.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["ledger"]["entries"] = json!(2);
    std::fs::write(&path, manifest.to_string()).unwrap();
    let err = refused(&run(dir.path(), &["restore", "lying", "--data", "t"]), 1);
    assert!(
        err.contains("holds 5 ledger entries") && err.contains("manifest says 2 with root"),
        "{err}"
    );

    // Nothing was written: no target, no half-restored directory next to it.
    let mut after = names(dir.path());
    after.retain(|n| !["empty", "flipped", "rekeyed", "lying"].contains(&n.as_str()));
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn occupied_directories_are_refused_and_force_moves_the_old_files_aside() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "keuze-data", &["record", "decide"]);
    small_data_dir(dir.path(), &key).await;

    std::fs::create_dir(dir.path().join("bk")).unwrap();
    std::fs::write(dir.path().join("bk/notes.txt"), "mine").unwrap();
    let err = refused(
        &run(dir.path(), &["backup", "bk", "--data", "keuze-data"]),
        1,
    );
    assert!(
        err.contains("bk is not an empty directory; nothing was written"),
        "{err}"
    );
    assert_eq!(names(&dir.path().join("bk")), ["notes.txt"]);

    // A missing data directory is not backed up as an empty one.
    let err = refused(&run(dir.path(), &["backup", "bk2", "--data", "nowhere"]), 1);
    assert!(err.contains("has no database"), "{err}");
    assert!(!dir.path().join("nowhere").exists() && !dir.path().join("bk2").exists());

    // An empty directory is fine.
    std::fs::create_dir(dir.path().join("bk2")).unwrap();
    ok(&run(dir.path(), &["backup", "bk2", "--data", "keuze-data"]));

    std::fs::create_dir(dir.path().join("target")).unwrap();
    std::fs::write(dir.path().join("target/notes.txt"), "mine").unwrap();
    let err = refused(&run(dir.path(), &["restore", "bk2", "--data", "target"]), 1);
    assert!(
        err.contains("target is not empty; nothing was restored"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(names(&dir.path().join("target")), ["notes.txt"]);

    let said = ok(&run(
        dir.path(),
        &["restore", "bk2", "--data", "target", "--force"],
    ));
    let aside: Vec<String> = names(dir.path())
        .into_iter()
        .filter(|n| n.starts_with("target.replaced-"))
        .collect();
    assert_eq!(aside.len(), 1, "{said}");
    assert!(said.contains(&aside[0]), "{said}");
    assert_eq!(names(&dir.path().join(&aside[0])), ["notes.txt"]);
    assert_eq!(
        names(&dir.path().join("target")),
        ["keuze.db", "log.key", "secret.key"]
    );
    let server = Server::start(dir.path(), &["--data", "target"], &dir.path().join("t.log"));
    let client = reqwest::Client::new();
    assert_eq!(
        reason(&client, &server.base, &key, "backup-a").await,
        "granted"
    );
    assert!(server.terminate().success());
}

#[test]
fn postgres_is_backed_up_with_its_own_tools() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["backup", "restore"] {
        let out = run(
            dir.path(),
            &[
                command,
                "bk",
                "--database",
                "postgres://keuze:s3cret@127.0.0.1:1/keuze",
            ],
        );
        let err = refused(&out, 2);
        assert!(
            err.contains("pg_dump") && err.contains("docs/operations.md"),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "{err}");
    }
    assert!(names(dir.path()).is_empty(), "nothing was written");
}

/// A backup from before an erasure, restored over the directory that recorded the
/// erasure, must not bring the erased customer back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_over_the_live_directory_keeps_later_erasures() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "keuze-data", &["record", "decide", "admin"]);
    small_data_dir(dir.path(), &key).await;
    ok(&run(dir.path(), &["backup", "bk", "--data", "keuze-data"]));

    let server = Server::start(dir.path(), &[], &dir.path().join("log"));
    let client = reqwest::Client::new();
    let (status, answer) = post(
        &client,
        &format!("{}/v1/subjects/erase", server.base),
        &key,
        json!({"subject": {"id": "backup-a"}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // Erased after the backup, and never seen by it.
    record(&client, &server.base, &key, "backup-new", "grant").await;
    let (status, answer) = post(
        &client,
        &format!("{}/v1/subjects/erase", server.base),
        &key,
        json!({"subject": {"id": "backup-new"}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(server.terminate().success());

    let said = ok(&run(
        dir.path(),
        &["restore", "bk", "--data", "keuze-data", "--force"],
    ));
    assert!(said.contains("re-applied 2 erasures"), "{said}");
    ok(&run(
        dir.path(),
        &["ledger", "verify", "--data", "keuze-data"],
    ));
    ok(&run(
        dir.path(),
        &["ledger", "rebuild", "--check", "--data", "keuze-data"],
    ));
    let server = Server::start(dir.path(), &[], &dir.path().join("log"));
    for who in ["backup-a", "backup-new"] {
        assert_eq!(
            reason(&client, &server.base, &key, who).await,
            "subject_erased",
            "{who}"
        );
    }
    assert_eq!(
        reason(&client, &server.base, &key, "backup-b").await,
        "granted"
    );
    assert!(server.terminate().success());
}
