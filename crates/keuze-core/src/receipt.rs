//! What a ledger leaf commits to, and the consent receipt a customer can take away and
//! have anyone verify offline. docs/receipts.md specifies every byte.
//!
//! A leaf holds no personal data in the clear: the subject appears only as a salted
//! commitment (the salt is destroyed on erasure), and the controller and purpose wording
//! only as the digest of a [`NoticeContext`]. A receipt carries the clear values plus the
//! salt, so its holder can show which leaf is theirs; changing any field of it changes the
//! leaf hash and the inclusion proof no longer leads to the signed checkpoint.

use crate::catalog::{Catalog, Digest256, LegalBasis};
use crate::checkpoint::{self, Checkpoint, LogVerifier, NoteError};
use crate::event::{Action, ConsentEvent, Source};
use crate::ids::{CategoryId, CountryCode, Locale, PurposeId};
use crate::leaf::Leaf;
use crate::merkle::{self, Hash, ProofError};
use crate::subject::SubjectId;
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;

/// The receipt format this module writes and verifies.
pub const RECEIPT_VERSION: u32 = 1;

/// First line of a leaf's canonical bytes.
const ENTRY_HEADER: &str = "keuze-ledger-entry-v1";

/// Prefix of the bytes hashed into a [`NoticeContext`] digest.
const CONTEXT_HEADER: &str = "keuze-notice-context-v1\n";

/// Domain separation for subject commitments.
const SUBJECT_DOMAIN: &[u8] = b"keuze-subject-v1";

/// `SHA-256("keuze-subject-v1" ‖ 0x00 ‖ salt ‖ pseudonym)`: how a leaf names a subject.
/// Without the salt the commitment cannot be linked to the pseudonym.
pub fn subject_commitment(salt: &[u8; 32], subject: &SubjectId) -> Digest256 {
    let mut h = Sha256::new();
    h.update(SUBJECT_DOMAIN);
    h.update([0x00]);
    h.update(salt);
    h.update(subject.as_bytes());
    Digest256(h.finalize().into())
}

/// A subject's secret salt. The store keeps one per subject and destroys it on erasure,
/// after which the subject's leaves can no longer be tied to anyone.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SubjectSalt(pub [u8; 32]);

impl fmt::Debug for SubjectSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectSalt(<redacted>)")
    }
}

impl Serialize for SubjectSalt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for SubjectSalt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        merkle::hash_from_hex(&s)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("a salt is 64 lower-case hex digits"))
    }
}

/// What a ledger entry records. [`Action`] plus erasure, which the ledger logs but which
/// is not a consent choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryAction {
    Grant,
    Withdraw,
    Object,
    Erase,
}

impl EntryAction {
    pub const ALL: [EntryAction; 4] = [Self::Grant, Self::Withdraw, Self::Object, Self::Erase];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Withdraw => "withdraw",
            Self::Object => "object",
            Self::Erase => "erase",
        }
    }
}

impl From<Action> for EntryAction {
    fn from(a: Action) -> Self {
        match a {
            Action::Grant => Self::Grant,
            Action::Withdraw => Self::Withdraw,
            Action::Object => Self::Object,
            Action::Erase => Self::Erase,
        }
    }
}

impl fmt::Display for EntryAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The organisation responsible for the processing (ISO/IEC TS 27560 "controller").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub name: String,
    pub contact: String,
    pub privacy_contact: String,
    pub country: CountryCode,
}

/// The purpose as the catalog version in force declared it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeContext {
    pub id: PurposeId,
    /// The English title.
    pub title: String,
    #[serde(with = "legal_basis_str")]
    pub legal_basis: LegalBasis,
    /// In catalog order.
    pub data_categories: Vec<CategoryId>,
}

/// The receipt fields a leaf does not hold in the clear: who the controller is and what
/// the purpose is. A leaf commits to them through [`NoticeContext::digest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeContext {
    pub controller: Controller,
    pub purpose: PurposeContext,
}

impl NoticeContext {
    /// The context of `purpose` in `catalog`, or `None` if the catalog has no such purpose.
    pub fn from_catalog(catalog: &Catalog, purpose: &PurposeId) -> Option<Self> {
        let p = catalog.purpose(purpose.as_str())?;
        let org = &catalog.organisation;
        Some(Self {
            controller: Controller {
                name: org.name.clone(),
                contact: org.contact.clone(),
                privacy_contact: org.privacy_contact.clone(),
                country: org.country.clone(),
            },
            purpose: PurposeContext {
                id: p.id.clone(),
                title: p.title.get(&Locale::en()).to_owned(),
                legal_basis: p.legal_basis,
                data_categories: p.categories.clone(),
            },
        })
    }

    /// The RFC 8785 (JCS) form of `{"controller": …, "purpose": …}`: keys sorted, no
    /// whitespace. Every value is a string or a list of strings, so serde_json's compact
    /// output of structs declared in key order is exactly JCS.
    pub fn canonical_json(&self) -> String {
        #[derive(Serialize)]
        struct C<'a> {
            contact: &'a str,
            country: &'a str,
            name: &'a str,
            privacy_contact: &'a str,
        }
        #[derive(Serialize)]
        struct P<'a> {
            data_categories: Vec<&'a str>,
            id: &'a str,
            legal_basis: &'a str,
            title: &'a str,
        }
        #[derive(Serialize)]
        struct Ctx<'a> {
            controller: C<'a>,
            purpose: P<'a>,
        }
        let c = &self.controller;
        let p = &self.purpose;
        let ctx = Ctx {
            controller: C {
                contact: &c.contact,
                country: c.country.as_str(),
                name: &c.name,
                privacy_contact: &c.privacy_contact,
            },
            purpose: P {
                data_categories: p.data_categories.iter().map(CategoryId::as_str).collect(),
                id: p.id.as_str(),
                legal_basis: p.legal_basis.as_str(),
                title: &p.title,
            },
        };
        // Serialising plain strings into a String cannot fail.
        serde_json::to_string(&ctx).unwrap_or_default()
    }

    /// `SHA-256("keuze-notice-context-v1\n" ‖ canonical JSON)`.
    pub fn digest(&self) -> Digest256 {
        let mut h = Sha256::new();
        h.update(CONTEXT_HEADER.as_bytes());
        h.update(self.canonical_json().as_bytes());
        Digest256(h.finalize().into())
    }
}

/// What one leaf of the ledger's Merkle tree commits to. Leaf `seq − 1` holds event
/// `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub seq: u64,
    /// [`subject_commitment`] of the subject's salt and pseudonym.
    pub subject_commitment: Digest256,
    pub purpose: PurposeId,
    pub action: EntryAction,
    pub source: Source,
    pub catalog_version: u32,
    pub notice_digest: Digest256,
    pub locale: Locale,
    pub recorded_at: Timestamp,
    /// [`NoticeContext::digest`] of the controller and purpose the event was made under.
    pub context_digest: Digest256,
}

impl LedgerEntry {
    /// The entry for a stored consent event.
    pub fn for_event(event: &ConsentEvent, salt: &SubjectSalt, context: &NoticeContext) -> Self {
        let e = &event.event;
        Self {
            seq: event.seq,
            subject_commitment: subject_commitment(&salt.0, &e.subject),
            purpose: e.purpose.clone(),
            action: e.action.into(),
            source: e.source,
            catalog_version: e.catalog_version,
            notice_digest: e.notice_digest,
            locale: e.locale.clone(),
            recorded_at: e.recorded_at,
            context_digest: context.digest(),
        }
    }

    /// The bytes the leaf hash covers: a header line, then `key=value` lines in a fixed
    /// order, each ending in `\n`. No value can contain a newline or `=`: numbers are
    /// decimal, digests lower-case hex, the rest parsed identifiers.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut leaf = Leaf::new(ENTRY_HEADER);
        leaf.line("seq", &self.seq.to_string())
            .line("subject_commitment", &self.subject_commitment.to_hex())
            .line("purpose", self.purpose.as_str())
            .line("action", self.action.as_str())
            .line("source", self.source.as_str())
            .line("catalog_version", &self.catalog_version.to_string())
            .line("notice_digest", &self.notice_digest.to_hex())
            .line("locale", self.locale.as_str())
            .line(
                "recorded_at_ms",
                &self.recorded_at.unix_millis().to_string(),
            )
            .line("context_digest", &self.context_digest.to_hex());
        leaf.into_bytes()
    }

    /// The RFC 9162 leaf hash of [`LedgerEntry::canonical_bytes`].
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }
}

/// A consent receipt: ISO/IEC TS 27560 / Kantara consent receipt fields, plus the proof
/// that the event is in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// [`RECEIPT_VERSION`].
    pub version: u32,
    pub controller: Controller,
    pub subject: ReceiptSubject,
    pub purpose: PurposeContext,
    pub notice: ReceiptNotice,
    pub event: ReceiptEvent,
    pub proof: ReceiptProof,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSubject {
    /// The pseudonym the controller knows the customer by.
    pub pseudonym: SubjectId,
    /// Opens the leaf's subject commitment.
    pub salt: SubjectSalt,
}

/// What the customer was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptNotice {
    pub catalog_version: u32,
    /// `sha256:` and the hex SHA-256 of the exact notice text.
    #[serde(with = "digest_str")]
    pub digest: Digest256,
    pub locale: Locale,
}

/// What happened, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEvent {
    pub seq: u64,
    pub action: EntryAction,
    #[serde(with = "source_str")]
    pub source: Source,
    /// RFC 3339 in UTC with milliseconds; must agree with `recorded_at_ms`.
    pub recorded_at: String,
    pub recorded_at_ms: i64,
}

/// Where the event sits in the log, and the log's signed word for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptProof {
    /// `seq − 1`.
    pub leaf_index: u64,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The RFC 9162 inclusion proof, nearest sibling first, lower-case hex.
    #[serde(with = "hash_list_hex")]
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

/// Why a receipt could not be issued: its parts do not describe the given entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    #[error("the salt and pseudonym do not open the entry's subject commitment")]
    SubjectMismatch,
    #[error("the controller and purpose are not the context the entry committed to")]
    ContextMismatch,
    #[error("the context is for purpose `{context}` but the entry is for `{entry}`")]
    PurposeMismatch { context: String, entry: String },
    #[error("event {seq} sits at leaf {expected}, not {leaf_index}")]
    LeafIndexMismatch {
        seq: u64,
        leaf_index: u64,
        expected: u64,
    },
}

impl Receipt {
    /// The receipt for `entry`, given the clear values it commits to and its proof.
    pub fn issue(
        entry: &LedgerEntry,
        subject: &SubjectId,
        salt: &SubjectSalt,
        context: &NoticeContext,
        proof: ReceiptProof,
    ) -> Result<Self, IssueError> {
        if subject_commitment(&salt.0, subject) != entry.subject_commitment {
            return Err(IssueError::SubjectMismatch);
        }
        if context.purpose.id != entry.purpose {
            return Err(IssueError::PurposeMismatch {
                context: context.purpose.id.to_string(),
                entry: entry.purpose.to_string(),
            });
        }
        if context.digest() != entry.context_digest {
            return Err(IssueError::ContextMismatch);
        }
        let expected = entry.seq.wrapping_sub(1);
        if proof.leaf_index != expected {
            return Err(IssueError::LeafIndexMismatch {
                seq: entry.seq,
                leaf_index: proof.leaf_index,
                expected,
            });
        }
        Ok(Self {
            version: RECEIPT_VERSION,
            controller: context.controller.clone(),
            subject: ReceiptSubject {
                pseudonym: *subject,
                salt: *salt,
            },
            purpose: context.purpose.clone(),
            notice: ReceiptNotice {
                catalog_version: entry.catalog_version,
                digest: entry.notice_digest,
                locale: entry.locale.clone(),
            },
            event: ReceiptEvent {
                seq: entry.seq,
                action: entry.action,
                source: entry.source,
                recorded_at: entry.recorded_at.to_rfc3339(),
                recorded_at_ms: entry.recorded_at.unix_millis(),
            },
            proof,
        })
    }

    /// The ledger entry this receipt claims is in the log, rebuilt from its fields.
    pub fn entry(&self) -> LedgerEntry {
        let context = NoticeContext {
            controller: self.controller.clone(),
            purpose: self.purpose.clone(),
        };
        LedgerEntry {
            seq: self.event.seq,
            subject_commitment: subject_commitment(&self.subject.salt.0, &self.subject.pseudonym),
            purpose: self.purpose.id.clone(),
            action: self.event.action,
            source: self.event.source,
            catalog_version: self.notice.catalog_version,
            notice_digest: self.notice.digest,
            locale: self.notice.locale.clone(),
            recorded_at: Timestamp::from_unix_millis(self.event.recorded_at_ms),
            context_digest: context.digest(),
        }
    }
}

/// A receipt whose every field the log's signed checkpoint vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub entry: LedgerEntry,
    pub leaf_hash: Hash,
    pub checkpoint: Checkpoint,
}

/// Which check a receipt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error(
        "receipt version {0} is not supported (this verifier reads version {RECEIPT_VERSION})"
    )]
    UnsupportedVersion(u32),
    #[error("the checkpoint is not validly signed by a trusted log key: {0}")]
    Checkpoint(#[source] NoteError),
    #[error("proof.tree_size is {receipt} but the checkpoint is for size {checkpoint}")]
    TreeSizeMismatch { receipt: u64, checkpoint: u64 },
    #[error("proof.leaf_index is {leaf_index} but event {seq} belongs at leaf {expected}")]
    LeafIndexMismatch {
        seq: u64,
        leaf_index: u64,
        expected: u64,
    },
    #[error("event.recorded_at is `{recorded_at}` but event.recorded_at_ms says `{expected}`")]
    TimeMismatch {
        recorded_at: String,
        expected: String,
    },
    #[error("the receipt's fields do not hash to a leaf the checkpoint includes at index {leaf_index}: a field was changed or the proof is wrong ({source})")]
    NotIncluded {
        leaf_index: u64,
        #[source]
        source: ProofError,
    },
}

/// Verifies a receipt offline: the checkpoint's signature against `verifiers` (the log's
/// current and former keys), the receipt's internal agreement, and the inclusion of the
/// leaf rebuilt from its fields under the checkpoint's root.
pub fn verify_receipt(
    receipt: &Receipt,
    verifiers: &[LogVerifier],
) -> Result<VerifiedReceipt, ReceiptError> {
    if receipt.version != RECEIPT_VERSION {
        return Err(ReceiptError::UnsupportedVersion(receipt.version));
    }
    let checkpoint =
        checkpoint::open(&receipt.proof.checkpoint, verifiers).map_err(ReceiptError::Checkpoint)?;
    let proof = &receipt.proof;
    if proof.tree_size != checkpoint.size {
        return Err(ReceiptError::TreeSizeMismatch {
            receipt: proof.tree_size,
            checkpoint: checkpoint.size,
        });
    }
    let seq = receipt.event.seq;
    let expected = seq.wrapping_sub(1);
    if seq == 0 || proof.leaf_index != expected {
        return Err(ReceiptError::LeafIndexMismatch {
            seq,
            leaf_index: proof.leaf_index,
            expected,
        });
    }
    let at = Timestamp::from_unix_millis(receipt.event.recorded_at_ms).to_rfc3339();
    if receipt.event.recorded_at != at {
        return Err(ReceiptError::TimeMismatch {
            recorded_at: receipt.event.recorded_at.clone(),
            expected: at,
        });
    }
    let entry = receipt.entry();
    let leaf_hash = entry.leaf_hash();
    merkle::verify_inclusion(
        &leaf_hash,
        proof.leaf_index,
        checkpoint.size,
        &proof.inclusion,
        &checkpoint.root,
    )
    .map_err(|source| ReceiptError::NotIncluded {
        leaf_index: proof.leaf_index,
        source,
    })?;
    Ok(VerifiedReceipt {
        entry,
        leaf_hash,
        checkpoint,
    })
}

/// `LegalBasis` as its snake_case name (the catalog type only serialises).
mod legal_basis_str {
    use crate::catalog::LegalBasis;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &LegalBasis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(b.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LegalBasis, D::Error> {
        let s = String::deserialize(d)?;
        LegalBasis::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a legal basis")))
    }
}

/// `Source` as its snake_case name (the event type only serialises).
mod source_str {
    use crate::event::Source;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Source, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Source, D::Error> {
        let s = String::deserialize(d)?;
        Source::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not an event source")))
    }
}

/// A `Digest256` as `sha256:` and 64 lower-case hex digits.
mod digest_str {
    use crate::catalog::Digest256;
    use crate::merkle::hash_from_hex;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Digest256, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest256, D::Error> {
        let s = String::deserialize(d)?;
        s.strip_prefix("sha256:")
            .and_then(hash_from_hex)
            .map(Digest256)
            .ok_or_else(|| {
                serde::de::Error::custom("a digest is `sha256:` and 64 lower-case hex digits")
            })
    }
}

/// A list of hashes as lower-case hex strings.
mod hash_list_hex {
    use crate::merkle::{hash_from_hex, hash_to_hex, Hash};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(hash_to_hex))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| {
                hash_from_hex(s).ok_or_else(|| {
                    serde::de::Error::custom("a proof hash is 64 lower-case hex digits")
                })
            })
            .collect()
    }
}
