//! The modules of keuze-core form layers: no module depends, directly or through others,
//! on itself, and deciding does not depend on how a change is worded. A module depends on
//! another when any of its files names `crate::<that module>` (in a `use` or inline) or
//! an item the crate root re-exports from it; a file in `src/catalog/` belongs to
//! `catalog`.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a line: empty for a comment line, cut at a trailing `//` comment (but not
/// at the `//` of a URL).
fn code(line: &str) -> &str {
    let trimmed = line.trim_start();
    if trimmed.starts_with("//") {
        return "";
    }
    let mut at = 0;
    while let Some(i) = line[at..].find("//") {
        let i = at + i;
        if !line[..i].ends_with(':') {
            return &line[..i];
        }
        at = i + 2;
    }
    line
}

fn identifier(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The names right after each `crate::` in `text`, with `crate::{a, b::c}` giving `a`
/// and `b`.
fn crate_paths(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(
                group
                    .split(',')
                    .map(|item| identifier(item.trim()))
                    .filter(|s| !s.is_empty()),
            );
        } else {
            out.push(identifier(rest));
        }
    }
    out
}

/// The top-level modules `lib.rs` declares, and the root re-exports: item → its module.
fn modules_and_reexports(lib: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut modules = BTreeSet::new();
    let mut reexports = BTreeMap::new();
    let lib: String = lib.lines().map(code).collect::<Vec<_>>().join("\n");
    for statement in lib.split(';') {
        let words: Vec<&str> = statement.split_whitespace().collect();
        match words.as_slice() {
            [.., "mod", name] => {
                modules.insert((*name).to_owned());
            }
            ["pub", "use", ..] => {
                let path = statement.trim().trim_start_matches("pub").trim();
                let path = path.trim_start_matches("use").trim();
                let path = path.trim_start_matches("crate::");
                let module = identifier(path).to_owned();
                let items = match path.find('{') {
                    Some(i) => path[i + 1..].trim_end_matches('}').to_owned(),
                    None => path.rsplit("::").next().unwrap_or("").to_owned(),
                };
                for item in items.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    reexports.insert(identifier(item).to_owned(), module.clone());
                }
            }
            _ => {}
        }
    }
    (modules, reexports)
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Which module depends on which, read from the source files.
fn module_graph() -> Graph {
    let src = src();
    let (modules, reexports) =
        modules_and_reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    let mut all = Vec::new();
    files(&src, &mut all);
    for path in all {
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs").to_owned();
        if module == "lib" {
            continue;
        }
        assert!(
            modules.contains(&module),
            "{} is in no module lib.rs declares",
            relative.display()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let text: String = text.lines().map(code).collect::<Vec<_>>().join("\n");
        for name in crate_paths(&text) {
            let target = if modules.contains(name) {
                Some(name.to_owned())
            } else {
                reexports.get(name).cloned()
            };
            if let Some(target) = target.filter(|t| *t != module) {
                graph.get_mut(&module).unwrap().insert(target);
            }
        }
    }
    graph
}

/// Every cycle the graph has, one per strongly connected group of modules, each written
/// `a → b → … → a`.
fn cycles(graph: &Graph) -> Vec<String> {
    let reaches = |from: &str| reachable(graph, from);
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for start in graph.keys() {
        if reported.contains(start) || !reaches(start).contains(start) {
            continue;
        }
        // The shortest way back to `start`, breadth first.
        let mut came_from: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        let mut last = None;
        while let Some(m) = queue.pop_front() {
            for next in &graph[&m] {
                if next == start {
                    last = Some(m.clone());
                    queue.clear();
                    break;
                }
                if !came_from.contains_key(next) {
                    came_from.insert(next.clone(), m.clone());
                    queue.push_back(next.clone());
                }
            }
        }
        let mut back = Vec::new();
        let mut at = last.unwrap();
        while at != *start {
            back.push(at.clone());
            at = came_from[&at].clone();
        }
        back.reverse();
        let path: Vec<String> = std::iter::once(start.clone())
            .chain(back)
            .chain(std::iter::once(start.clone()))
            .collect();
        let group: BTreeSet<String> = graph
            .keys()
            .filter(|m| reaches(start).contains(*m) && reaches(m).contains(start))
            .cloned()
            .collect();
        reported.extend(group);
        out.push(path.join(" → "));
    }
    out
}

fn reachable(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_owned()];
    while let Some(m) = todo.pop() {
        for next in graph.get(&m).into_iter().flatten() {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn no_module_depends_on_itself() {
    let graph = module_graph();
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "keuze-core's modules have cycles:\n{}",
        found.join("\n")
    );
}

/// Sentences about a change live in keuze-words, which depends on this crate: no
/// module here may grow words about changes again (issue 20).
#[test]
fn no_module_writes_change_words() {
    let graph = module_graph();
    for words in ["diff_words", "words"] {
        assert!(
            !graph.contains_key(words),
            "keuze-core has a `{words}` module again"
        );
    }
    let change = std::fs::read_to_string(src().join("change.rs")).unwrap();
    assert!(
        !change.contains("\"nl\""),
        "change.rs picks a language: sentences belong in keuze-words"
    );
}

/// The reading finds what is there: the edges of the crate as it stands, and a cycle
/// where one is.
#[test]
fn the_reader_sees_edges_and_cycles() {
    let graph = module_graph();
    assert!(graph["published"].contains("change"));
    assert!(graph["index"].contains("decision"));
    // `crate::{Catalog, ...}` through the root: prompt's tests name `crate::Catalog`.
    assert!(graph["prompt"].contains("catalog"));
    assert_eq!(
        crate_paths("use crate::{decision::Decision, ids};"),
        ["decision", "ids"]
    );
    assert_eq!(code("    // crate::x"), "");
    assert_eq!(code("let a = 1; // crate::x"), "let a = 1; ");
    assert_eq!(code(r#"f("https://x"); // y"#), r#"f("https://x"); "#);

    let mut cyclic = graph.clone();
    cyclic
        .get_mut("change")
        .unwrap()
        .insert("published".to_owned());
    let found = cycles(&cyclic);
    assert_eq!(found, ["change → published → change"]);
}
