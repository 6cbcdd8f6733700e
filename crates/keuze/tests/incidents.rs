//! `keuze incident` against a served data directory: an incident file recorded (a bad one
//! refused whole), 100,000 of the organisation's identifiers imported and told, and none
//! of them findable anywhere in the data directory or the server's log afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use aho_corasick::AhoCorasick;
use std::path::{Path, PathBuf};
use support::{assert_log_names_no_customer, run, Server};

const EXAMPLE: &str = include_str!("../../../docs/incidents/example.toml");

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_bad_incident_file_is_refused_whole_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[], &dir.path().join("log"));
    let bad = EXAMPLE
        .replace("what_happened.nl = ", "# what_happened.nl = ")
        .replace("\"contact.name\"", "\"contact.naam\"");
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = run(dir.path(), &["incident", "record", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("nothing was recorded (2 problems)"), "{err}");
    assert!(
        err.contains("what_happened.nl: `what_happened` has no `nl` text"),
        "{err}"
    );
    assert!(
        err.contains("categories[1]: `contact.naam` is not a data category"),
        "{err}"
    );
    let typo = EXAMPLE.replace("high_risk", "high_rsk");
    std::fs::write(dir.path().join("typo.toml"), typo).unwrap();
    let out = run(dir.path(), &["incident", "record", "typo.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("high_rsk"), "{}", stderr(&out));
    let list = run(dir.path(), &["incident", "list"]);
    assert_eq!(stdout(&list), "no incidents recorded\n");
    let out = run(dir.path(), &["incident", "notify", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("there is no incident 1"));

    // A good incident, then a rule naming a purpose no catalog has: refused, nothing told.
    std::fs::write(dir.path().join("good.toml"), EXAMPLE).unwrap();
    assert!(run(dir.path(), &["incident", "record", "good.toml"])
        .status
        .success());
    let out = run(
        dir.path(),
        &["incident", "notify", "1", "--purpose", "newsletters"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("--purpose `newsletters` is not a purpose of any published catalog version"),
        "{}",
        stderr(&out)
    );
    let out = run(dir.path(), &["incident", "audience", "1"]);
    assert!(
        stdout(&out).contains("selects 0 customers; 0 were told before, 0 would be told now"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&run(dir.path(), &["incident", "list"])).contains("notified 0"));
    drop(server);
}

#[test]
fn a_hundred_thousand_identifiers_are_told_and_none_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let server = Server::start(dir.path(), &[], &log);
    std::fs::write(dir.path().join("incident.toml"), EXAMPLE).unwrap();
    let out = run(dir.path(), &["incident", "record", "incident.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("recorded incident 1 (sha256:"),
        "{}",
        stdout(&out)
    );

    // The organisation's list, outside the data directory: e-mail addresses and customer
    // numbers, 100,000 different customers.
    let ids: Vec<String> = (0..100_000u32)
        .map(|n| {
            if n % 2 == 0 {
                format!(
                    "klant.{n:06}.x{}@fietsmail.example",
                    n.wrapping_mul(7919) % 1000
                )
            } else {
                format!("KN-{:09}", u64::from(n) * 104_729 + 17)
            }
        })
        .collect();
    let list = dir.path().join("affected.txt");
    std::fs::write(&list, ids.join("\n")).unwrap();
    let started = std::time::Instant::now();
    let out = run(
        dir.path(),
        &[
            "incident",
            "notify",
            "1",
            "--identifiers",
            list.to_str().unwrap(),
        ],
    );
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("incident 1: 100000 customers affected; told 100000 now"),
        "{}",
        stdout(&out)
    );
    eprintln!("told 100,000 customers in {:.1} s", took.as_secs_f64());
    let listed = stdout(&run(dir.path(), &["incident", "list"]));
    assert!(
        listed.contains("notified 100000\tacknowledged 0"),
        "{listed}"
    );
    let again = run(
        dir.path(),
        &[
            "incident",
            "notify",
            "1",
            "--identifiers",
            list.to_str().unwrap(),
        ],
    );
    assert!(
        stdout(&again).contains("told 0 now, 100000 were told before"),
        "{}",
        stdout(&again)
    );
    let status = server.terminate();
    assert!(status.success());
    let verify = run(dir.path(), &["ledger", "verify"]);
    assert!(
        stdout(&verify).contains("100000 incident notices"),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );

    // Not one identifier anywhere in the data directory (database, WAL, snapshots,
    // keys), nor in the server's log.
    let needles = AhoCorasick::new(&ids).unwrap();
    let data = dir.path().join("keuze-data");
    let mut scanned = 0usize;
    for file in files(&data) {
        let bytes = std::fs::read(&file).unwrap();
        scanned += bytes.len();
        if let Some(m) = needles.find(&bytes) {
            panic!(
                "{} holds the identifier {:?} at byte {}",
                file.display(),
                ids[m.pattern().as_usize()],
                m.start()
            );
        }
    }
    assert!(
        scanned > 10_000_000,
        "the data directory holds the notices: {scanned} bytes"
    );
    let log_text = std::fs::read(&log).unwrap();
    assert!(
        needles.find(&log_text).is_none(),
        "the log names an identifier"
    );
    assert_log_names_no_customer(&log, &[]);
    // The check can find what it looks for: the list itself holds every identifier.
    assert_eq!(
        needles.find_iter(&std::fs::read(&list).unwrap()).count(),
        100_000
    );
}
