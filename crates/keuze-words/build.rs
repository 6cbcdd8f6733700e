//! Embeds every `locales/<language>/*.ftl` file in the library, so that a language is added
//! by adding its folder: the list of languages and files is read here, never written in code.

use std::fmt::Write as _;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    // A directory makes cargo watch everything below it: new folders and files included.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut languages: Vec<_> = std::fs::read_dir(&root)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    languages.sort();
    let mut out = String::from("&[\n");
    for dir in languages {
        let Some(language) = dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let mut files: Vec<_> = std::fs::read_dir(&dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "ftl"))
            .collect();
        files.sort();
        writeln!(out, "    ({language:?}, &[")?;
        for file in files {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let path = file.to_str().ok_or("a locale file's path is not UTF-8")?;
            writeln!(out, "        ({name:?}, include_str!({path:?})),")?;
        }
        writeln!(out, "    ]),")?;
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR")?).join("locales.rs");
    std::fs::write(target, out)?;
    Ok(())
}
