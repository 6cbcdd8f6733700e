//! Differential test against the IAB's reference library, `@iabtechlabtcf/core`, run in
//! Node.js through `tests/reference/driver.mjs`:
//!
//! - 2,000 random models encoded by keuze-tcf decode, in the reference, to the same
//!   fields;
//! - 1,000 random models encoded by the reference (against the sample vendor list)
//!   decode, in keuze-tcf, to the fields the reference itself reads back.
//!
//! Needs `node` and the library installed next to the driver
//! (`npm ci --prefix crates/keuze-tcf/tests/reference`, which `.ci/run` does). Without
//! them the test says so loudly and skips, unless `KEUZE_REQUIRE_SERVICES=1`, which
//! makes it fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use keuze_tcf::{decode, encode, TcModel, VendorSet};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const KEUZE_ENCODED: usize = 2000;
const REFERENCE_ENCODED: usize = 1000;

fn driver_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// The folder with the driver and the installed library, or `None` after saying loudly
/// why the test cannot run here.
fn reference() -> Option<PathBuf> {
    let dir = driver_dir();
    let node = Command::new("node").arg("--version").output();
    let library = dir.join("node_modules/@iabtechlabtcf/core/package.json");
    let missing = match (&node, library.exists()) {
        (Ok(out), true) if out.status.success() => return Some(dir),
        (Ok(out), _) if out.status.success() => format!(
            "the reference library is not installed: run `npm ci --prefix {}`",
            dir.display()
        ),
        _ => "node is not on PATH".to_string(),
    };
    if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("KEUZE_REQUIRE_SERVICES=1 and the TCF reference cannot run: {missing}");
    }
    eprintln!("\n*** SKIPPED: differential test against @iabtechlabtcf/core: {missing} ***\n");
    None
}

/// Runs the driver with `args`, feeding `input`; its lines of output.
fn run_driver(dir: &Path, args: &[&str], input: &str) -> Vec<String> {
    let mut child = Command::new("node")
        .arg("driver.mjs")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The model as the reference can see it: it cannot tell an absent segment from an
/// empty one, drops restrictions without vendors, and keeps restrictions by
/// (purpose, type).
fn comparable(mut m: TcModel) -> TcModel {
    m.disclosed_vendors.get_or_insert_with(VendorSet::new);
    m.allowed_vendors.get_or_insert_with(VendorSet::new);
    m.publisher_tc.get_or_insert_with(Default::default);
    m.publisher_restrictions.retain(|r| !r.vendors.is_empty());
    m.publisher_restrictions
        .sort_by_key(|r| (r.purpose_id, r.restriction_type));
    m
}

#[test]
fn strings_keuze_encodes_read_the_same_in_the_reference() {
    let Some(dir) = reference() else { return };
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = common::model(true);
    let models: Vec<TcModel> = (0..KEUZE_ENCODED)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    let strings: Vec<String> = models.iter().map(|m| encode(m).unwrap()).collect();
    let lines = run_driver(&dir, &["decode"], &(strings.join("\n") + "\n"));
    assert_eq!(lines.len(), models.len(), "one answer per string");
    let mut ranges = 0;
    for ((model, string), line) in models.iter().zip(&strings).zip(&lines) {
        let theirs = TcModel::from_json(line)
            .unwrap_or_else(|e| panic!("the reference refused {string}: {line} ({e})"));
        assert_eq!(
            comparable(theirs),
            comparable(model.clone()),
            "the reference reads {string} differently"
        );
        ranges += usize::from(
            model.vendor_consents.runs().count() * 17 + 12
                < usize::from(model.vendor_consents.max()),
        );
    }
    // Both vendor encodings were exercised.
    assert!(
        ranges > 100 && ranges < KEUZE_ENCODED - 100,
        "{ranges} range-encoded consent sections"
    );
}

#[test]
fn strings_the_reference_encodes_read_the_same_in_keuze() {
    let Some(dir) = reference() else { return };
    let gvl = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/vendor-list-v7.json");
    let count = REFERENCE_ENCODED.to_string();
    let lines = run_driver(
        &dir,
        &["encode", &count, "20261129", gvl.to_str().unwrap()],
        "",
    );
    assert_eq!(lines.len(), REFERENCE_ENCODED);
    let mut segments = [0usize; 4];
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let string = v["tcString"].as_str().unwrap();
        let theirs = TcModel::from_json(&v["model"].to_string()).unwrap();
        let ours = decode(string).unwrap_or_else(|e| panic!("keuze-tcf refused {string}: {e}"));
        segments[0] += usize::from(ours.disclosed_vendors.is_some());
        segments[1] += usize::from(ours.allowed_vendors.is_some());
        segments[2] += usize::from(ours.publisher_tc.is_some());
        segments[3] += usize::from(!ours.publisher_restrictions.is_empty());
        assert_eq!(
            comparable(ours),
            comparable(theirs),
            "keuze-tcf reads {string} differently"
        );
    }
    // Every kind of segment, and restrictions, came up.
    assert!(
        segments.iter().all(|n| *n > 50),
        "segments seen: {segments:?}"
    );
}
