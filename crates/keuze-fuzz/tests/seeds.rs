//! The committed seed corpus is what the fixture makes now, so the smoke run starts from
//! valid inputs. `KEUZE_FUZZ_WRITE_SEEDS=1` rewrites the files.

#![allow(clippy::unwrap_used, clippy::panic)]

use keuze_fuzz::smoke::corpus_dir;

#[test]
fn seed_corpus_is_current() {
    let write = std::env::var("KEUZE_FUZZ_WRITE_SEEDS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for (target, name, bytes) in keuze_fuzz::seeds::expected() {
        let dir = corpus_dir(target);
        let path = dir.join(&name);
        if write {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "seed files are missing or stale; run KEUZE_FUZZ_WRITE_SEEDS=1 cargo test -p keuze-fuzz --test seeds: {stale:?}"
    );
}
