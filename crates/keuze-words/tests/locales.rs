//! The locale files: each parses, every language has the messages English has and no
//! others, with the same attributes and variables, and every message the code asks for
//! exists.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement, Resource};
use keuze_words::Words;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every language folder with its `.ftl` files, as read from disk.
fn locale_files() -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let mut out = BTreeMap::new();
    for dir in std::fs::read_dir(crate_dir().join("locales")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "ftl") {
                let text = std::fs::read_to_string(&f).unwrap();
                files.push((f, text));
            }
        }
        files.sort();
        out.insert(
            dir.file_name().unwrap().to_string_lossy().into_owned(),
            files,
        );
    }
    out
}

fn line_of(text: &str, byte: usize) -> usize {
    text.get(..byte).unwrap_or(text).matches('\n').count() + 1
}

fn parse(path: &Path, text: &str) -> Resource<String> {
    match fluent_syntax::parser::parse(text.to_owned()) {
        Ok(r) => r,
        Err((_, errors)) => {
            let list: Vec<String> = errors
                .iter()
                .map(|e| {
                    format!(
                        "{}:{}: {:?}",
                        path.display(),
                        line_of(text, e.pos.start),
                        e.kind
                    )
                })
                .collect();
            panic!("locale file does not parse:\n{}", list.join("\n"));
        }
    }
}

/// Per message (`id` or `id.attribute`; terms as `-id`): the variables it uses, and as
/// `{id}` the messages it refers to.
type Messages = BTreeMap<String, BTreeSet<String>>;

fn messages_of(language: &str, files: &[(PathBuf, String)]) -> Messages {
    let mut out = Messages::new();
    for (path, text) in files {
        for entry in parse(path, text).body {
            let (id, value, attributes) = match entry {
                Entry::Message(m) => (m.id.name, m.value, m.attributes),
                Entry::Term(t) => (format!("-{}", t.id.name), Some(t.value), t.attributes),
                _ => continue,
            };
            let mut add = |key: String, pattern: Option<&Pattern<String>>| {
                let mut vars = BTreeSet::new();
                if let Some(p) = pattern {
                    variables(p, &mut vars);
                }
                let before = out.insert(key.clone(), vars);
                assert!(before.is_none(), "{language}: `{key}` is defined twice");
            };
            add(id.clone(), value.as_ref());
            for a in &attributes {
                add(format!("{id}.{}", a.id.name), Some(&a.value));
            }
        }
    }
    out
}

fn variables(p: &Pattern<String>, out: &mut BTreeSet<String>) {
    for e in &p.elements {
        if let PatternElement::Placeable { expression } = e {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(e: &Expression<String>, out: &mut BTreeSet<String>) {
    match e {
        Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for v in variants {
                variables(&v.value, out);
            }
        }
        Expression::Inline(i) => inline_variables(i, out),
    }
}

fn inline_variables(e: &InlineExpression<String>, out: &mut BTreeSet<String>) {
    match e {
        InlineExpression::VariableReference { id } => {
            out.insert(id.name.clone());
        }
        InlineExpression::MessageReference { id, .. } => {
            out.insert(format!("{{{}}}", id.name));
        }
        InlineExpression::Placeable { expression } => expression_variables(expression, out),
        InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_variables(a, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_file_parses_and_loads() {
    let languages = locale_files();
    assert!(
        languages.contains_key("en"),
        "English is the source language"
    );
    for files in languages.values() {
        for (path, text) in files {
            parse(path, text);
        }
    }
    let problems = Words::get().problems();
    assert!(problems.is_empty(), "{problems:#?}");
    let loaded: Vec<&str> = Words::get()
        .languages()
        .iter()
        .map(|l| l.as_str())
        .collect();
    let folders: Vec<&str> = languages.keys().map(String::as_str).collect();
    assert_eq!(loaded[0], "en");
    let mut sorted = loaded.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted, folders,
        "every folder is a language, and the binary has them all"
    );
}

#[test]
fn every_language_has_the_same_messages_attributes_and_variables() {
    let languages = locale_files();
    let en = messages_of("en", &languages["en"]);
    let mut wrong = Vec::new();
    for (language, files) in &languages {
        let theirs = messages_of(language, files);
        for (id, vars) in &en {
            match theirs.get(id) {
                None => wrong.push(format!("{language}: `{id}` is missing")),
                Some(v) if v != vars => wrong.push(format!(
                    "{language}: `{id}` uses the variables {v:?}, English {vars:?}"
                )),
                Some(_) => {}
            }
        }
        for id in theirs.keys().filter(|id| !en.contains_key(*id)) {
            wrong.push(format!("{language}: `{id}` is not in English"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The message ids in `text` passed as a literal to the words' methods.
fn ids_asked_for(text: &str, out: &mut BTreeSet<String>) {
    for call in [".t(", ".t_args(", ".period_sentence("] {
        let mut rest = text;
        while let Some(at) = rest.find(call) {
            rest = &rest[at + call.len()..];
            let args = rest.trim_start();
            // `period_sentence(id, …)` takes the id first; so do the others.
            let args = args.strip_prefix('&').unwrap_or(args);
            if let Some(literal) = args.strip_prefix('"') {
                if let Some(end) = literal.find('"') {
                    out.insert(literal[..end].to_owned());
                }
            }
        }
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs" || x == "html") {
            out.push(p);
        }
    }
}

#[test]
fn every_message_the_code_asks_for_exists() {
    let en = messages_of("en", &locale_files()["en"]);
    let crates = crate_dir().join("..");
    let mut files = Vec::new();
    for dir in [
        "keuze-server/src",
        "keuze-server/templates",
        "keuze-words/src",
    ] {
        sources(&crates.join(dir), &mut files);
    }
    let mut asked = BTreeSet::new();
    for f in &files {
        ids_asked_for(&std::fs::read_to_string(f).unwrap(), &mut asked);
    }
    // The scan must see the pages' words; finding none would prove nothing.
    assert!(
        asked.len() > 100,
        "only {} ids found: {asked:?}",
        asked.len()
    );
    let missing: Vec<&String> = asked.iter().filter(|id| !en.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "asked for, but not in locales/en: {missing:?}"
    );
}

#[test]
fn every_message_reference_resolves() {
    for (language, files) in locale_files() {
        let messages = messages_of(&language, &files);
        for (id, uses) in &messages {
            for reference in uses.iter().filter_map(|u| u.strip_prefix('{')) {
                let reference = reference.trim_end_matches('}');
                assert!(
                    messages.contains_key(reference),
                    "{language}: `{id}` refers to `{reference}`, which is not a message"
                );
            }
        }
    }
}
