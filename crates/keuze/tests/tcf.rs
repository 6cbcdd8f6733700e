//! `keuze tcf decode|encode` and the vendor list of `keuze serve`, `keuze catalog check`
//! and `keuze init`, as a user runs them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keuze_tcf::TcModel;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

mod support;
use support::{create_key, run, Server};

/// A model that uses every field, with created and last updated at day precision.
const MODEL: &str = r#"{
  "created": "2026-11-28T00:00:00Z",
  "lastUpdated": "2026-11-29T00:00:00Z",
  "cmpId": 300,
  "cmpVersion": 2,
  "consentScreen": 3,
  "consentLanguage": "NL",
  "vendorListVersion": 7,
  "policyVersion": 4,
  "isServiceSpecific": true,
  "useNonStandardTexts": false,
  "specialFeatureOptIns": [1],
  "purposeConsents": [1, 3, 4],
  "purposeLegitimateInterests": [2, 7],
  "purposeOneTreatment": false,
  "publisherCountryCode": "BE",
  "vendorConsents": [1, 2, 3, 4, 5, 755],
  "vendorLegitimateInterests": [8],
  "publisherRestrictions": [
    {"purposeId": 2, "restrictionType": "require_consent", "vendors": [8, 9, 10]}
  ],
  "disclosedVendors": [1, 2, 3, 4, 5, 8, 755],
  "publisherTc": {
    "consents": [1],
    "legitimateInterests": [],
    "numCustomPurposes": 2,
    "customConsents": [2],
    "customLegitimateInterests": []
  }
}"#;

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn encode(dir: &Path, model: &str) -> Output {
    std::fs::write(dir.join("model.json"), model).unwrap();
    run(dir, &["tcf", "encode", "model.json"])
}

#[test]
fn encode_and_decode_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = encode(d, MODEL);
    assert!(out.status.success(), "{}", stderr(&out));
    let string = stdout(&out).trim().to_owned();
    assert_eq!(stdout(&out), format!("{string}\n"));
    assert_eq!(
        string.split('.').count(),
        3,
        "core, disclosed vendors, publisher TC"
    );

    // --json prints the same model, which encodes to the same string.
    let out = run(d, &["tcf", "decode", &string, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let decoded = TcModel::from_json(&stdout(&out)).unwrap();
    assert_eq!(decoded, TcModel::from_json(MODEL).unwrap());
    let again = encode(d, &stdout(&out));
    assert_eq!(stdout(&again).trim(), string);

    // `-` reads the model from stdin.
    let mut child = support::keuze(d)
        .args(["tcf", "encode", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), MODEL.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out).trim(), string);
}

#[test]
fn decode_prints_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let string = stdout(&encode(d, MODEL)).trim().to_owned();
    let out = run(d, &["tcf", "decode", &string]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "Core segment",
        "  Created                      2026-11-28T00:00:00Z",
        "  Last updated                 2026-11-29T00:00:00Z",
        "  CMP                          300 version 2",
        "  Consent screen               3",
        "  Consent language             NL",
        "  Vendor list version          7",
        "  Policy version               4",
        "  Service-specific             yes",
        "  Non-standard texts           no",
        "  Purpose one treatment        no",
        "  Publisher country            BE",
        "  Special feature opt-ins       1 Use precise geolocation data",
        "  Purpose consents              1 Store and/or access information on a device",
        "                                3 Create profiles for personalised advertising",
        "  Purpose legitimate interests  2 Use limited data to select advertising",
        "  Vendor consents              1-5, 755 (6 vendors)",
        "  Vendor legitimate interests  8 (1 vendor)",
        "  Publisher restrictions       purpose 2, require consent: 8-10 (3 vendors)",
        "Disclosed vendors segment",
        "  1-5, 8, 755 (7 vendors)",
        "Allowed vendors segment",
        "  (no segment)",
        "Publisher TC segment",
        "  Custom purposes              2",
        "  Custom purpose consents       2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    // Without a vendor list there is nothing to check against.
    assert!(!text.contains("Checked against"), "{text}");
}

#[test]
fn decode_checks_against_a_vendor_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init", "."]).status.success());
    let string = stdout(&encode(d, MODEL)).trim().to_owned();
    let out = run(
        d,
        &[
            "tcf",
            "decode",
            &string,
            "--tcf-vendor-list",
            "vendor-list.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Vendors 3 to 5 are not on the sample list.
    assert!(
        text.contains("Checked against vendor list 7: 8 findings:"),
        "{text}"
    );
    assert!(
        text.contains("  VendorConsents: vendor 3 is not on the vendor list\n"),
        "{text}"
    );
    // With --json the model alone is on stdout, and the findings on stderr.
    let out = run(
        d,
        &[
            "tcf",
            "decode",
            &string,
            "--json",
            "--tcf-vendor-list",
            "vendor-list.json",
        ],
    );
    assert!(out.status.success());
    assert!(TcModel::from_json(&stdout(&out)).is_ok());
    assert!(
        stderr(&out).contains("VendorConsents: vendor 3 is not on the vendor list"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_string_names_the_field_and_the_bit() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, says) in [
        (
            "CQuci4AQuci4AEsAB",
            "segment 0 (core), field ConsentScreen at bit 102",
        ),
        ("CQuci4A!uci4A", "character '!' at position 7"),
    ] {
        let out = run(dir.path(), &["tcf", "decode", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(out.stdout.is_empty(), "{bad}: something on stdout");
        let err = stderr(&out);
        assert!(err.contains(says), "{bad}: {err}");
        assert!(
            err.contains("Check that the whole string was copied"),
            "{err}"
        );
    }
}

#[test]
fn a_bad_model_names_the_path_of_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        (
            MODEL.replace(
                "\"purposeConsents\": [1, 3, 4]",
                "\"purposeConsents\": [1, 70]",
            ),
            "at purposeConsents",
        ),
        (
            MODEL.replace(
                "\"consentLanguage\": \"NL\"",
                "\"consentLanguage\": \"Dutch\"",
            ),
            "at consentLanguage",
        ),
        (
            MODEL.replace("\"cmpId\": 300,", "\"cmpId\": 300, \"cmpName\": \"x\","),
            "cmpName",
        ),
        // A valid model that policy 4 forbids to write: the encoder names the field.
        (
            MODEL.replace("2026-11-28T00:00:00Z", "2026-11-28T10:04:17.7Z"),
            "field Created: ",
        ),
        (
            MODEL.replace("\"policyVersion\": 4", "\"policyVersion\": 2"),
            "TcfPolicyVersion",
        ),
        ("{\"created\": ".to_owned(), "model.json is not a TC model"),
    ];
    for (model, says) in cases {
        let out = encode(d, &model);
        assert_eq!(out.status.code(), Some(2), "{says}");
        assert!(out.stdout.is_empty(), "{says}: something on stdout");
        let err = stderr(&out);
        assert!(err.contains(says), "{says}: {err}");
    }
    let out = run(d, &["tcf", "encode", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("could not read missing.json"));
}

/// `keuze serve` with no arguments serves the sample, TC strings included.
#[tokio::test]
async fn the_sample_serves_tc_strings_with_no_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(d, &[], &d.join("log"));
    let key = create_key(d, "keuze-data", &["record", "decide"]);
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{}/v1/consents", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "tcf-cli-customer"}, "choices": [{"purpose": "advertising_partners", "action": "grant"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = client
        .post(format!("{}/v1/subjects/tcf", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "tcf-cli-customer"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["purposeConsents"], json!([1, 2, 3, 4]));
    assert_eq!(body["vendorsWithConsent"], 1);
    // The CLI decodes what the server made.
    let out = run(d, &["tcf", "decode", body["tcString"].as_str().unwrap()]);
    assert!(stdout(&out).contains("  Vendor consents              755 (1 vendor)"));
    server.terminate();
    support::assert_log_names_no_customer(&d.join("log"), &["tcf-cli-customer"]);
}

#[test]
fn a_bad_vendor_list_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("list.json"), r#"{"gvlSpecificationVersion": 2}"#).unwrap();
    for list in ["list.json", "missing.json"] {
        let out = run(
            d,
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--tcf-vendor-list",
                list,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(list), "{}", stderr(&out));
        assert!(!d.join("keuze-data").exists());
    }
    let out = run(d, &["serve", "--tcf-vendor-list", "list.json"]);
    assert!(
        stderr(&out).contains("missing field `vendorListVersion`"),
        "{}",
        stderr(&out)
    );
}

/// A vendor list without one of the catalog's vendors stops the server from starting.
#[test]
fn serve_refuses_a_vendor_list_without_the_catalogs_vendors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init", "shop"]).status.success());
    let mut list: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("shop/vendor-list.json")).unwrap())
            .unwrap();
    list["vendors"].as_object_mut().unwrap().remove("755");
    std::fs::write(d.join("without-755.json"), list.to_string()).unwrap();
    list["vendors"]["755"] = json!({"id": 755, "name": "Google Advertising Products", "purposes": [1], "deletedDate": "2026-01-01T00:00:00Z"});
    std::fs::write(d.join("deleted-755.json"), list.to_string()).unwrap();
    // The catalog in force is checked: published before, served with no catalog file.
    let out = run(d, &["catalog", "publish", "shop/catalog.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (file, says) in [
        ("without-755.json", "vendor 755 is not on the vendor list (version 7)"),
        (
            "deleted-755.json",
            "vendor 755 (Google Advertising Products) was deleted from the vendor list on 2026-01-01T00:00:00Z",
        ),
    ] {
        let out = run(
            d,
            &["serve", "--listen", "127.0.0.1:0", "--tcf-vendor-list", file],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "it started: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(says), "{err}");
        assert!(err.contains("Nothing was started"), "{err}");
    }
    // A catalog file to publish on start is refused like any catalog with an error.
    let out = run(
        &d.join("shop"),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tcf-vendor-list",
            "../without-755.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "it started: {}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("catalog.toml:"), "{err}");
    assert!(err.contains("nothing was published"), "{err}");
}

#[test]
fn catalog_check_and_publish_check_vendors_against_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init", "."]).status.success());
    let out = run(
        d,
        &[
            "catalog",
            "check",
            "catalog.toml",
            "--tcf-vendor-list",
            "vendor-list.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bad = std::fs::read_to_string(d.join("catalog.toml"))
        .unwrap()
        .replacen("vendors = [755]", "vendors = [755, 9999]", 1);
    std::fs::write(d.join("bad.toml"), bad).unwrap();
    // Without a list, the id is taken at its word.
    assert!(run(d, &["catalog", "check", "bad.toml"]).status.success());
    let out = run(
        d,
        &[
            "catalog",
            "check",
            "bad.toml",
            "--tcf-vendor-list",
            "vendor-list.json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error: vendor 9999 is not on the vendor list (version 7)"),
        "{err}"
    );
    assert!(err.contains("bad.toml:"), "{err}");
    // `catalog publish` takes the list from keuze.toml, which `keuze init` wrote.
    let out = run(d, &["catalog", "publish", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("vendor 9999"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was published"),
        "{}",
        stderr(&out)
    );
}

/// Only the sample catalog gets the sample vendor list by default: a catalog of one's
/// own with [tcf] and no vendor list is served, and its TC strings say how to set one.
#[tokio::test]
async fn an_own_catalog_without_a_vendor_list_makes_no_tc_strings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(d, &["init", "."]).status.success());
    let config = std::fs::read_to_string(d.join("keuze.toml"))
        .unwrap()
        .replace("\ntcf_vendor_list = \"vendor-list.json\"\n", "\n");
    std::fs::write(d.join("keuze.toml"), config).unwrap();
    let own = std::fs::read_to_string(d.join("catalog.toml"))
        .unwrap()
        .replacen("cmp_version = 1", "cmp_version = 2", 1);
    std::fs::write(d.join("catalog.toml"), own).unwrap();
    let server = Server::start(d, &[], &d.join("log"));
    let key = create_key(d, "keuze-data", &["decide"]);
    let res = reqwest::Client::new()
        .post(format!("{}/v1/subjects/tcf", server.base))
        .bearer_auth(&key)
        .json(&json!({"subject": {"id": "tcf-cli-customer"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("--tcf-vendor-list"));
    server.terminate();
    let log = std::fs::read_to_string(d.join("log")).unwrap();
    assert!(log.contains("no vendor list was given"), "{log}");
}
