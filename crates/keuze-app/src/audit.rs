//! `keuze ledger verify`: recompute every leaf from its stored row (a consent entry or an
//! admin entry of the audit trail, each hashed under its own header) and every tree node
//! from the leaves, then check each stored checkpoint's signature, root and consistency
//! with the one before. Trusts nothing stored; names the first thing that does not match.

use crate::log::{consistency_proof, root_at, TreeError};
use keuze_core::checkpoint::{self, LogVerifier};
use keuze_core::merkle::{self, hash_to_hex, StoredNode, TreeBuilder};
use keuze_store::{Store, StoreError};

/// How many rows are read per round trip.
const PAGE: u32 = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerReport {
    /// Ledger entries, consent and admin.
    pub events: u64,
    /// Of which admin entries (the audit trail).
    pub admin_entries: u64,
    /// Of which notice entries (customers told of an incident, or acknowledging it).
    pub notice_entries: u64,
    pub nodes_checked: u64,
    pub checkpoints: u64,
    /// Bytes of leaf entries hashed, for throughput figures.
    pub entry_bytes: u64,
    pub root: Option<String>,
}

/// The first thing found that does not match, located.
#[derive(Debug, thiserror::Error)]
pub enum Mismatch {
    #[error("event {seq}: {what}")]
    Event { seq: u64, what: String },
    #[error("tree node (level {level}, index {index}) over events {first} to {last} does not match the events: the stored tree was changed")]
    Node {
        level: u8,
        index: u64,
        first: u64,
        last: u64,
    },
    #[error("checkpoint at size {size}: {what}")]
    Checkpoint { size: u64, what: String },
    #[error("the ledger holds {events} events but the tree {leaves} leaves")]
    Sizes { events: u64, leaves: u64 },
    #[error("could not read the ledger: {0}")]
    Store(#[from] StoreError),
}

impl From<TreeError> for Mismatch {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Store(s) => Self::Store(s),
            TreeError::Prove(what) => Self::Store(StoreError::Corrupt(what)),
        }
    }
}

/// A page with a row that cannot even be read: find that row, one at a time, so the
/// report names the event.
async fn locate_damaged_row(store: &dyn Store, after: u64, e: StoreError) -> Mismatch {
    let StoreError::Corrupt(first) = e else {
        return Mismatch::Store(e);
    };
    for k in after..after.saturating_add(u64::from(PAGE)) {
        if let Err(StoreError::Corrupt(what)) = store.ledger_leaves(k, 1).await {
            return Mismatch::Event {
                seq: k + 1,
                what: format!("the stored row is damaged: {what}"),
            };
        }
    }
    Mismatch::Store(StoreError::Corrupt(first))
}

/// Verifies the whole ledger. `progress(done, total)` is called after each page.
pub async fn verify_ledger(
    store: &dyn Store,
    verifiers: &[LogVerifier],
    mut progress: impl FnMut(u64, u64),
) -> Result<LedgerReport, Mismatch> {
    let events = store.event_count().await?;
    let leaves = store.tree_size().await?;
    if events != leaves {
        return Err(Mismatch::Sizes { events, leaves });
    }
    let mut builder = TreeBuilder::new();
    let mut nodes_checked = 0u64;
    let mut entry_bytes = 0u64;
    let mut admin_entries = 0u64;
    let mut notice_entries = 0u64;
    let mut after = 0u64;
    while after < events {
        let page = match store.ledger_leaves(after, PAGE).await {
            Ok(page) => page,
            Err(e) => return Err(locate_damaged_row(store, after, e).await),
        };
        if page.is_empty() {
            return Err(Mismatch::Event {
                seq: after + 1,
                what: "the row is missing".into(),
            });
        }
        let mut computed: Vec<StoredNode> = Vec::with_capacity(page.len() * 2);
        for entry in &page {
            let expected = builder.size() + 1;
            if entry.seq() != expected {
                return Err(Mismatch::Event {
                    seq: expected,
                    what: format!("the next stored row has sequence number {}", entry.seq()),
                });
            }
            match entry {
                keuze_core::admin::LedgerLeaf::Admin(_) => admin_entries += 1,
                keuze_core::admin::LedgerLeaf::Notice(_) => notice_entries += 1,
                keuze_core::admin::LedgerLeaf::Consent(_) => {}
            }
            let bytes = entry.canonical_bytes();
            entry_bytes += bytes.len() as u64;
            computed.extend(builder.append(merkle::leaf_hash(&bytes)));
        }
        let wanted: Vec<(u8, u64)> = computed.iter().map(|n| (n.level, n.index)).collect();
        let stored = store.tree_nodes(&wanted).await?;
        for (node, stored) in computed.iter().zip(stored) {
            if node.hash != stored {
                let first = (node.index << node.level) + 1;
                let last = (node.index + 1) << node.level;
                return Err(if node.level == 0 {
                    Mismatch::Event {
                        seq: first,
                        what: format!(
                            "its stored row hashes to {}, but the tree holds {} for it: the row or the tree was changed",
                            hash_to_hex(&node.hash),
                            hash_to_hex(&stored)
                        ),
                    }
                } else {
                    Mismatch::Node {
                        level: node.level,
                        index: node.index,
                        first,
                        last,
                    }
                });
            }
        }
        nodes_checked += computed.len() as u64;
        after = builder.size();
        progress(after, events);
    }

    let mut checkpoints = 0u64;
    let mut previous: Option<(u64, merkle::Hash)> = None;
    let mut cursor = 0u64;
    loop {
        let page = store.checkpoints_after(cursor, 1024).await?;
        if page.is_empty() {
            break;
        }
        for cp in page {
            let fail = |what: String| Mismatch::Checkpoint {
                size: cp.size,
                what,
            };
            let opened = checkpoint::open(&cp.note, verifiers)
                .map_err(|e| fail(format!("the signed note does not verify: {e}")))?;
            if opened.size != cp.size || opened.root != cp.root {
                return Err(fail(
                    "the stored size or root differs from what the signed note says".into(),
                ));
            }
            if cp.size > events {
                return Err(fail(format!(
                    "it covers {} events, but the ledger holds only {events}",
                    cp.size
                )));
            }
            let root = root_at(store, cp.size).await?;
            if root != opened.root {
                return Err(fail(format!(
                    "the events up to {} hash to {}, not to the signed root {}",
                    cp.size,
                    hash_to_hex(&root),
                    hash_to_hex(&opened.root)
                )));
            }
            if let Some((size, old_root)) = previous {
                let proof = consistency_proof(store, size, cp.size).await?;
                merkle::verify_consistency(size, cp.size, &old_root, &opened.root, &proof)
                    .map_err(|e| {
                        fail(format!(
                            "it is not consistent with the checkpoint at size {size}: {e}"
                        ))
                    })?;
            }
            previous = Some((cp.size, opened.root));
            cursor = cp.size;
            checkpoints += 1;
        }
    }
    Ok(LedgerReport {
        events,
        admin_entries,
        notice_entries,
        nodes_checked,
        checkpoints,
        entry_bytes,
        root: (events > 0).then(|| hash_to_hex(&builder.root())),
    })
}
