//! `keuze ledger rebuild --check`: whether the stored projection (each subject's latest
//! event per purpose) is what a rebuild from the ledger would write, without changing
//! anything. The crash harness and `keuze restore` rely on it.

use keuze_core::{PurposeId, SubjectId};
use keuze_store::{Store, StoreError};
use std::collections::HashMap;

/// Ledger events read per round trip.
const PAGE: u32 = 50_000;

/// How the stored projection compares with a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Current choices a rebuild writes (subject and purpose pairs).
    pub rows: u64,
    /// The first few differences, in words; empty when the two agree.
    pub differences: Vec<String>,
    /// How many differences there are in all.
    pub difference_count: u64,
}

/// How many differences a comparison spells out.
const SHOWN: usize = 10;

/// Reads the ledger (erased subjects left out, as a rebuild does) and the stored
/// projection and compares them row by row. Holds one entry per current choice in
/// memory.
pub async fn compare(store: &dyn Store) -> Result<Comparison, StoreError> {
    let mut rebuilt: HashMap<(SubjectId, PurposeId), u64> = HashMap::new();
    let mut after = 0;
    loop {
        let page = store.events_after(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page {
            let slot = rebuilt
                .entry((e.event.subject, e.event.purpose.clone()))
                .or_insert(e.seq);
            *slot = (*slot).max(e.seq);
        }
    }
    let rows = rebuilt.len() as u64;
    let mut differences = Vec::new();
    let mut difference_count = 0u64;
    let mut note = |what: String| {
        difference_count += 1;
        if differences.len() < SHOWN {
            differences.push(what);
        }
    };
    for stored in store.projection().await? {
        let key = (stored.event.subject, stored.event.purpose.clone());
        match rebuilt.remove(&key) {
            Some(seq) if seq == stored.seq => {}
            Some(seq) => note(say!(
                "cli-projection-stale",
                subject = key.0.to_hex(),
                purpose = key.1.to_string(),
                held = stored.seq,
                latest = seq
            )),
            None => note(say!(
                "cli-projection-extra-row",
                subject = key.0.to_hex(),
                purpose = key.1.to_string(),
                held = stored.seq
            )),
        }
    }
    let mut missing: Vec<_> = rebuilt.into_iter().collect();
    missing.sort_by_key(|(_, seq)| *seq);
    for ((subject, purpose), seq) in missing {
        note(say!(
            "cli-projection-missing-row",
            subject = subject.to_hex(),
            purpose = purpose.to_string(),
            latest = seq
        ));
    }
    Ok(Comparison {
        rows,
        differences,
        difference_count,
    })
}
