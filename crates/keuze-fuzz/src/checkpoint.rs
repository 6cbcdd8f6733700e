//! Signed checkpoints: a note opens only if the log signed exactly that checkpoint; the
//! bare checkpoint text and verifier keys have exactly one spelling each.

use crate::fixture::ledger;
use keuze_core::checkpoint::{open, Checkpoint, LogVerifier};

pub fn checkpoint_note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let l = ledger();
    if let Ok(c) = Checkpoint::parse_note_text(text) {
        assert_eq!(
            c.to_note_text(),
            text,
            "a checkpoint text parsed that is not in its one canonical spelling"
        );
    }
    if let Ok(c) = open(text, &l.verifiers) {
        assert!(
            l.signed.contains(&c),
            "a note opened as a checkpoint the log never signed: {c:?}"
        );
    }
    // Under no trusted key, nothing opens.
    assert!(open(text, &[]).is_err());
    assert!(open(text, &[l.stranger.verifier()]).map_or(true, |c| l.stranger_signed.contains(&c)));
    if let Ok(v) = LogVerifier::parse(text) {
        assert_eq!(
            v.to_string(),
            text,
            "a verifier key parsed that is not in its one canonical spelling"
        );
    }
}
