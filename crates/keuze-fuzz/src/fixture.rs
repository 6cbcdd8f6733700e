//! A small, real ledger built with keuze-core alone: the sample catalog, 13 events by
//! three subjects, the Merkle tree over them, checkpoints signed at several sizes and a
//! receipt for every event. Deterministic (fixed keys, salts and times), so inputs found
//! by one run mean the same to the next.

use keuze_core::catalog::{parse_catalog, Catalog, SAMPLE_CATALOG};
use keuze_core::checkpoint::{sign, Checkpoint, LogKey, LogVerifier};
use keuze_core::merkle::{inclusion_proof, Hash, MemoryTree};
use keuze_core::receipt::{LedgerEntry, NoticeContext, Receipt, ReceiptProof, SubjectSalt};
use keuze_core::{Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use std::sync::OnceLock;

/// The log's origin, which is also its key's name.
pub const ORIGIN: &str = "keuze.fuzz/ledger";

/// How many events the fixture ledger holds.
pub const EVENTS: u64 = 13;

pub struct Ledger {
    pub catalog: Catalog,
    pub entries: Vec<LedgerEntry>,
    pub leaves: Vec<Hash>,
    pub tree: MemoryTree,
    /// The log's current key and a former one (rotated out, still trusted).
    pub key: LogKey,
    pub old_key: LogKey,
    /// A key nobody trusts: a witness, or a forger.
    pub stranger: LogKey,
    pub verifiers: Vec<LogVerifier>,
    /// Signed notes for the tree at sizes 1..=EVENTS, by the current key.
    pub notes: Vec<(Checkpoint, String)>,
    /// More notes worth starting from: by the former key, cosigned by a stranger, and a
    /// stranger's forgery under the log's name.
    pub other_notes: Vec<String>,
    /// Every checkpoint a trusted key signed.
    pub signed: Vec<Checkpoint>,
    /// Every checkpoint the stranger signed.
    pub stranger_signed: Vec<Checkpoint>,
    /// A receipt for every event, against the checkpoint of the whole tree.
    pub receipts: Vec<Receipt>,
}

fn subject(i: u8) -> SubjectId {
    SubjectId::from_bytes([0x50 + i; 32])
}

fn salt(i: u8) -> SubjectSalt {
    SubjectSalt([0xa0 + i; 32])
}

/// The fixture, built once per process.
pub fn ledger() -> &'static Ledger {
    static LEDGER: OnceLock<Ledger> = OnceLock::new();
    LEDGER.get_or_init(build)
}

fn build() -> Ledger {
    let catalog = parse_catalog("sample", SAMPLE_CATALOG).unwrap().0;
    let purposes = ["newsletter", "service_analytics", "product_reviews"];
    let mut entries = Vec::new();
    let mut events = Vec::new();
    let mut tree = MemoryTree::new();
    for seq in 1..=EVENTS {
        let who = (seq % 3) as u8;
        let purpose_id = PurposeId::parse(purposes[(seq % 3) as usize]).unwrap();
        let purpose = catalog.purpose(purpose_id.as_str()).unwrap();
        let locale = if seq % 2 == 0 {
            Locale::nl()
        } else {
            Locale::en()
        };
        let action = match (purpose_id.as_str(), seq % 2) {
            ("service_analytics", 0) => Action::Object,
            (_, 0) => Action::Withdraw,
            _ => Action::Grant,
        };
        let context = NoticeContext::from_catalog(&catalog, &purpose_id).unwrap();
        let event = ConsentEvent {
            seq,
            event: NewEvent {
                subject: subject(who),
                purpose: purpose_id.clone(),
                action,
                source: if seq % 2 == 0 {
                    Source::PreferenceCenter
                } else {
                    Source::Banner
                },
                catalog_version: 1,
                notice_digest: purpose.notice_digest(&locale, &catalog.taxonomy),
                locale,
                recorded_at: Timestamp::from_unix_millis(1_795_000_000_000 + seq as i64 * 61_001),
                context_digest: context.digest(),
            },
        };
        let entry = LedgerEntry::for_event(&event, &salt(who), &context);
        tree.push(entry.leaf_hash());
        entries.push(entry);
        events.push(event);
    }
    let key = LogKey::from_seed([1; 32], ORIGIN).unwrap();
    let old_key = LogKey::from_seed([2; 32], ORIGIN).unwrap();
    let stranger = LogKey::from_seed([3; 32], ORIGIN).unwrap();
    let leaves: Vec<Hash> = entries.iter().map(LedgerEntry::leaf_hash).collect();
    let notes: Vec<(Checkpoint, String)> = (1..=EVENTS)
        .map(|size| {
            let prefix = MemoryTree::from_leaves(&leaves[..size as usize]);
            let checkpoint = Checkpoint {
                origin: ORIGIN.into(),
                size,
                root: prefix.root(),
            };
            let note = sign(&checkpoint, &key).unwrap();
            (checkpoint, note)
        })
        .collect();
    let full_note = notes.last().unwrap().1.clone();
    let mut signed: Vec<Checkpoint> = notes.iter().map(|(c, _)| c.clone()).collect();
    let mut other_notes = Vec::new();
    for (checkpoint, _) in notes.iter().take(5) {
        other_notes.push(sign(checkpoint, &old_key).unwrap());
    }
    let (last, last_note) = notes.last().unwrap();
    let witness = sign(last, &stranger).unwrap();
    let witness_line = witness.lines().last().unwrap();
    other_notes.push(format!("{last_note}{witness_line}\n"));
    let forged = Checkpoint {
        origin: ORIGIN.into(),
        size: EVENTS,
        root: [0x42; 32],
    };
    other_notes.push(sign(&forged, &stranger).unwrap());
    let stranger_signed = vec![last.clone(), forged];
    signed.dedup();
    let receipts = events
        .iter()
        .zip(&entries)
        .map(|(event, entry)| {
            let who = (event.seq % 3) as u8;
            let context = NoticeContext::from_catalog(&catalog, &event.event.purpose).unwrap();
            let proof = ReceiptProof {
                leaf_index: event.seq - 1,
                tree_size: tree.size(),
                inclusion: inclusion_proof(tree.size(), event.seq - 1, &tree).unwrap(),
                checkpoint: full_note.clone(),
            };
            Receipt::issue(entry, &subject(who), &salt(who), &context, proof).unwrap()
        })
        .collect();
    let verifiers = vec![key.verifier(), old_key.verifier()];
    Ledger {
        catalog,
        entries,
        leaves,
        tree,
        key,
        old_key,
        stranger,
        verifiers,
        notes,
        other_notes,
        signed,
        stranger_signed,
        receipts,
    }
}
