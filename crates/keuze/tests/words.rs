//! The command line speaks the operator's language: every sentence it asks for is in
//! `cli.ftl` of every language, and `KEUZE_LANG` or the locale picks Dutch.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod support;
use support::keuze;

fn words_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../keuze-words/locales")
}

/// The message ids `locales/<language>/cli.ftl` defines.
fn defined(language: &str) -> BTreeSet<String> {
    let path = words_dir().join(language).join("cli.ftl");
    let text = std::fs::read_to_string(&path).unwrap();
    let resource = fluent_syntax::parser::parse(text)
        .unwrap_or_else(|(_, e)| panic!("{}: {e:?}", path.display()));
    resource
        .body
        .into_iter()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name),
            _ => None,
        })
        .collect()
}

/// The ids the CLI's sources pass to `say!`.
fn asked_for() -> BTreeSet<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut ids = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for call in text.split("say!(").skip(1) {
            if let Some(literal) = call.trim_start().strip_prefix('"') {
                ids.insert(literal[..literal.find('"').unwrap()].to_owned());
            }
        }
    }
    ids
}

#[test]
fn every_sentence_the_cli_asks_for_is_in_every_language_and_none_is_unused() {
    let asked = asked_for();
    // The scan must see the CLI's words; finding few would prove nothing.
    assert!(asked.len() > 100, "only {} ids found", asked.len());
    for language in ["en", "nl"] {
        let defined = defined(language);
        let missing: Vec<_> = asked.difference(&defined).collect();
        assert!(
            missing.is_empty(),
            "{language}: asked for, not in cli.ftl: {missing:?}"
        );
        let unused: Vec<_> = defined.difference(&asked).collect();
        assert!(
            unused.is_empty(),
            "{language}: in cli.ftl, never asked for: {unused:?}"
        );
    }
}

#[test]
fn keuze_lang_or_the_locale_makes_the_cli_speak_dutch() {
    let dir = tempfile::tempdir().unwrap();
    let out = keuze(dir.path())
        .env("KEUZE_LANG", "nl")
        .args(["catalog", "check", "missing.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("fout: kon de catalogus missing.toml niet lezen"),
        "{err}"
    );

    let out = keuze(dir.path())
        .env_remove("KEUZE_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "nl_NL.UTF-8")
        .args(["init", "shop"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("shop/catalog.toml geschreven"), "{said}");
    assert!(said.contains("volgende stap: cd shop"), "{said}");

    // Machine output stays as it is: the sample catalog's digest is the same in Dutch.
    let check = |lang: &str| {
        let out = keuze(dir.path())
            .env("KEUZE_LANG", lang)
            .args(["catalog", "check", "shop/catalog.toml", "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let (en, nl) = (check("en"), check("nl"));
    assert!(en.contains(": ok, 9 purposes, digest sha256:"), "{en}");
    assert!(nl.contains(": in orde, 9 doelen, digest sha256:"), "{nl}");
    assert_eq!(en.rsplit(' ').next(), nl.rsplit(' ').next());
}
