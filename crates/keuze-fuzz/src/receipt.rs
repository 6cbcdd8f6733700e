//! Receipts: any JSON either fails to parse or verifies only if every field it carries is
//! what the log recorded; a real receipt with any field changed never verifies (the
//! checkpoint may gain signatures by keys nobody trusts, which change nothing).

use crate::fixture::{ledger, Ledger};
use crate::mutate::{apply, apply_bytes, ByteEdit, JsonEdit};
use arbitrary::Arbitrary;
use keuze_core::checkpoint::open;
use keuze_core::receipt::{verify_receipt, Receipt, VerifiedReceipt};
use serde_json::Value;

/// What the log vouches for in `v` is exactly what the fixture recorded.
fn assert_recorded(l: &Ledger, v: &VerifiedReceipt) {
    let seq = v.entry.seq;
    assert!(
        (1..=l.entries.len() as u64).contains(&seq),
        "a receipt for event {seq} verified, but the log has {} events",
        l.entries.len()
    );
    assert_eq!(
        v.entry,
        l.entries[(seq - 1) as usize],
        "a receipt verified with fields the log never recorded"
    );
    assert!(
        l.signed.contains(&v.checkpoint),
        "a receipt verified under a checkpoint the log never signed: {:?}",
        v.checkpoint
    );
}

pub fn receipt_json(data: &[u8]) {
    let l = ledger();
    let Ok(receipt) = serde_json::from_slice::<Receipt>(data) else {
        return;
    };
    let verdict = verify_receipt(&receipt, &l.verifiers);
    if let Ok(v) = &verdict {
        assert_recorded(l, v);
    }
    // The receipt format round-trips, and verification depends only on what it says.
    let text = serde_json::to_string(&receipt).unwrap();
    let again: Receipt = serde_json::from_str(&text).expect("a receipt re-reads what it wrote");
    assert_eq!(again, receipt);
    assert_eq!(verify_receipt(&again, &l.verifiers), verdict);
}

/// A real receipt, changed by a list of edits.
#[derive(Debug, Clone, Arbitrary)]
pub struct ReceiptMutation {
    pub which: u8,
    pub edits: Vec<ReceiptEdit>,
}

#[derive(Debug, Clone, Arbitrary)]
pub enum ReceiptEdit {
    Json(JsonEdit),
    /// A byte-level edit of the signed checkpoint note.
    Checkpoint(ByteEdit),
    /// Add the stranger's (valid, untrusted) signature of the checkpoint.
    Cosign,
    /// Swap in another note the log signed.
    OtherNote(u8),
}

pub fn receipt_mutation(input: &ReceiptMutation) {
    let l = ledger();
    let original = &l.receipts[usize::from(input.which) % l.receipts.len()];
    let others: Vec<Value> = l
        .receipts
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    let mut doc = serde_json::to_value(original).unwrap();
    for edit in &input.edits {
        match edit {
            ReceiptEdit::Json(e) => apply(&mut doc, e, &others),
            ReceiptEdit::Checkpoint(e) => {
                if let Some(Value::String(note)) = doc.pointer_mut("/proof/checkpoint") {
                    let mut bytes = note.clone().into_bytes();
                    apply_bytes(&mut bytes, e);
                    *note = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
            ReceiptEdit::Cosign => {
                if let Some(Value::String(note)) = doc.pointer_mut("/proof/checkpoint") {
                    if let Ok(c) = open(note, &l.verifiers) {
                        let theirs = keuze_core::checkpoint::sign(&c, &l.stranger).unwrap();
                        let line = theirs.lines().last().unwrap();
                        note.push_str(line);
                        note.push('\n');
                    }
                }
            }
            ReceiptEdit::OtherNote(i) => {
                let all: Vec<&String> = l
                    .notes
                    .iter()
                    .map(|(_, n)| n)
                    .chain(&l.other_notes)
                    .collect();
                let note = all[usize::from(*i) % all.len()].clone();
                if let Some(slot) = doc.pointer_mut("/proof/checkpoint") {
                    *slot = Value::String(note);
                }
            }
        }
    }
    let Ok(changed) = serde_json::from_value::<Receipt>(doc) else {
        return;
    };
    let verdict = verify_receipt(&changed, &l.verifiers);
    if changed == *original {
        assert!(verdict.is_ok(), "an unchanged receipt failed: {verdict:?}");
        return;
    }
    let Ok(v) = verdict else { return };
    assert_recorded(l, &v);
    // Whatever was changed, the result is a genuine receipt (splicing can swap in another
    // one whole): only signature lines by keys nobody trusts may differ.
    let genuine = &l.receipts[(v.entry.seq - 1) as usize];
    let mut same = changed.clone();
    same.proof.checkpoint = genuine.proof.checkpoint.clone();
    assert_eq!(same, *genuine, "a changed receipt verified: {changed:#?}");
    assert_eq!(
        open(&changed.proof.checkpoint, &l.verifiers).unwrap(),
        open(&genuine.proof.checkpoint, &l.verifiers).unwrap()
    );
}
