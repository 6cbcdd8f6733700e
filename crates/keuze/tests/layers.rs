//! The layering docs/architecture.md describes, checked: edges do not call each other, the
//! CLI reaches the HTTP edges only to serve, the application layer knows no HTTP, and the
//! shipped binary carries no test code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_path_buf()
}

/// The file's code before its unit tests (by convention the last item).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn no_route_module_imports_another() {
    let routes = crates_dir().join("keuze-server/src/routes");
    let mut offenders = Vec::new();
    for file in rust_files(&routes) {
        if file.file_name().is_some_and(|n| n == "mod.rs") {
            continue;
        }
        for (n, line) in code_of(&file).lines().enumerate() {
            if line.contains("super::")
                || line.contains("crate::routes")
                || line.contains("crate::views")
            {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "route modules reach into other edges:\n{}",
        offenders.join("\n")
    );
    // The check reads what it should: the route modules exist and import the application.
    assert!(rust_files(&routes).len() > 10);
    assert!(code_of(&routes.join("consents.rs")).contains("keuze_app::"));
}

#[test]
fn the_cli_reaches_the_http_edges_only_to_serve() {
    let src = crates_dir().join("keuze/src");
    let naming: Vec<PathBuf> = rust_files(&src)
        .into_iter()
        .filter(|f| code_of(f).contains("keuze_server"))
        .collect();
    assert_eq!(
        naming,
        [src.join("serve.rs")],
        "only serve.rs may name keuze_server"
    );
}

/// The normal (shipped) dependencies of `package`, one crate name per line.
fn normal_dependencies(package: &str) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(crates_dir())
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn names(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect()
}

#[test]
fn the_binary_carries_no_test_code() {
    let tree = normal_dependencies("keuze");
    let crates = names(&tree);
    assert!(crates.contains(&"keuze-store"), "the tree was read: {tree}");
    assert!(
        !crates.contains(&"proptest"),
        "proptest is in the shipped binary"
    );
    assert!(!crates.contains(&"insta"), "insta is in the shipped binary");
}

#[test]
fn the_application_layer_knows_no_http_and_no_words() {
    let tree = normal_dependencies("keuze-app");
    let crates = names(&tree);
    assert!(crates.contains(&"keuze-core"), "the tree was read: {tree}");
    for edge in [
        "axum",
        "askama",
        "keuze-server",
        "keuze-words",
        "fluent-bundle",
    ] {
        assert!(!crates.contains(&edge), "keuze-app depends on {edge}");
    }
}
