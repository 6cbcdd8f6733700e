//! The seed corpus: valid (and a few instructively invalid) inputs for the byte-level
//! targets, made from the fixture so they stay valid as formats evolve. The committed
//! files under `fuzz/corpus/` must equal these; `KEUZE_FUZZ_WRITE_SEEDS=1 cargo test -p
//! keuze-fuzz --test seeds` rewrites them. Structured targets need no seeds: any bytes
//! decode to an input, and no bytes at all to the honest, unchanged one.

use crate::fixture::ledger;
use keuze_core::catalog::SAMPLE_CATALOG;

/// `(target, file name, contents)` for every seed.
pub fn expected() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut add =
        |target: &'static str, name: String, bytes: Vec<u8>| out.push((target, name, bytes));
    add("catalog_toml", "sample.toml".into(), SAMPLE_CATALOG.into());
    add(
        "catalog_toml",
        "many_errors.toml".into(),
        include_bytes!("../../keuze-core/tests/bad_catalogs/many_errors.toml").to_vec(),
    );
    let l = ledger();
    for (i, r) in l.receipts.iter().enumerate().step_by(4) {
        let json = serde_json::to_vec_pretty(r).unwrap();
        add("receipt_json", format!("receipt-{:02}.json", i + 1), json);
    }
    for (c, note) in l.notes.iter().step_by(6) {
        add(
            "checkpoint_note",
            format!("note-size-{:02}", c.size),
            note.clone().into_bytes(),
        );
    }
    for (i, note) in l.other_notes.iter().enumerate() {
        add(
            "checkpoint_note",
            format!("other-note-{i}"),
            note.clone().into_bytes(),
        );
    }
    add(
        "checkpoint_note",
        "verifier-key".into(),
        l.key.verifier_key_string().into_bytes(),
    );
    add(
        "checkpoint_note",
        "checkpoint-text".into(),
        l.notes[0].0.to_note_text().into_bytes(),
    );
    for (i, header) in [
        "nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7",
        "en-GB, *;q=0.5, nl;q=0",
        "fr-CH, fr;q=0.9, de;q=0.7, *;q=0.5",
        "NL;q=1.000, en;q=0.999",
    ]
    .iter()
    .enumerate()
    {
        add(
            "accept_language",
            format!("header-{i}"),
            header.as_bytes().to_vec(),
        );
    }
    for (name, bytes) in crate::tcf::seeds() {
        add("tc_string", name, bytes);
    }
    out
}
