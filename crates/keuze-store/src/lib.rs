//! The storage interface of Keuze. The server is generic over [`Store`]; each backend
//! (SQLite embedded, PostgreSQL to scale) lives in its own crate and must pass the
//! `conformance` suite (behind the feature of that name, which only the backends' tests
//! turn on). [`GroupCommit`] batches concurrent writes into one transaction; [`decode`]
//! reads stored rows back into Keuze's types for every backend.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod decode;
mod group_commit;
mod outbox;

pub use group_commit::{CommitHook, GroupCommit, GroupCommitConfig};
pub use outbox::{DeadLetter, Outbox, OutboxBatch, OutboxEvent, StoredWebhook};

use async_trait::async_trait;
use keuze_core::admin::{AdminEntry, Attribution, LedgerLeaf, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEvent};
use keuze_core::merkle::Hash;
use keuze_core::receipt::{LedgerEntry, SubjectSalt};
use keuze_core::{ConsentEvent, NewEvent, SubjectId, Timestamp};

/// What went wrong in storage, with the backend's error as source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored data is not what Keuze wrote: {0}")]
    Corrupt(String),
    #[error("a database error: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the writer has shut down; the write was not made")]
    Closed,
    #[error("the subject was erased; nothing more is recorded for it")]
    Erased,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A scope an API key can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Ask for decisions.
    Decide,
    /// Record choices.
    Record,
    /// Manage the catalog and keys.
    Admin,
    /// Read ledgers and histories.
    Audit,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Self::Decide, Self::Record, Self::Admin, Self::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decide => "decide",
            Self::Record => "record",
            Self::Admin => "admin",
            Self::Audit => "audit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An API key as stored: never the key itself, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The public part of the key, shown in lists and logs (`kz_<id>_...`).
    pub id: String,
    pub secret_hash: Digest256,
    pub scopes: Vec<Scope>,
    pub label: String,
    pub created_at: Timestamp,
    /// When the key was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<Timestamp>,
}

/// A published catalog version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCatalog {
    pub number: u32,
    pub digest: Digest256,
    /// The catalog's canonical JSON ([`keuze_core::Catalog::canonical_json`]).
    pub canonical: String,
    /// The TOML source as published, comments and all.
    pub source: String,
    pub published_at: Timestamp,
}

/// A signed checkpoint of the ledger's Merkle tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The whole signed note (C2SP tlog-checkpoint), as served.
    pub note: String,
    pub signed_at: Timestamp,
}

/// A log signing key's public half, kept so old checkpoints stay verifiable after a
/// rotation. The secret half lives in the data directory, never in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogKey {
    /// The C2SP signed-note verifier key string `<name>+<hex key id>+<base64 key>`.
    pub verifier: String,
    pub created_at: Timestamp,
}

/// A recorded privacy incident ([`keuze_core::incident::Incident`]). Recorded once and
/// never changed; only its place on the public register can be given, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIncident {
    /// 1, 2, 3, … in the order recorded.
    pub number: u32,
    /// [`keuze_core::incident::Incident::digest`]: what every notice entry commits to.
    pub digest: Digest256,
    /// [`keuze_core::incident::Incident::canonical_json`].
    pub canonical: String,
    pub recorded_at: Timestamp,
    /// When it was put on the public register; `None` while it is not there.
    pub published_at: Option<Timestamp>,
}

/// How many notice entries an incident has, of each kind (erased customers' included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NoticeCounts {
    pub notified: u64,
    pub acknowledged: u64,
}

/// Everything Keuze keeps. Implementations must make `append` atomic and durable:
/// when it returns `Ok`, every event and its projection row are committed, and a crash
/// right after loses none of them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Appends events in order in ONE transaction, updating in the same transaction the
    /// current-state projection and the Merkle tree: each event becomes the leaf
    /// `seq - 1`, the hash of its [`LedgerEntry`] (the subject as a salted commitment; a
    /// subject seen for the first time gets a fresh random salt), and every subtree that
    /// the leaf completes is stored as a node. Returns the events with their sequence
    /// numbers. An event for an erased subject is refused (`StoreError::Erased`), and so is
    /// an `Action::Erase` event (only `erase_subject` records erasures); a refused append
    /// writes nothing.
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>>;

    /// The number of leaves in the Merkle tree (= the number of ledger events).
    async fn tree_size(&self) -> Result<u64>;

    /// Stored tree nodes by (level, index): node (l, i) is the root of the complete
    /// subtree over leaves `[i * 2^l, (i + 1) * 2^l)`; level 0 holds the leaf hashes.
    /// Answers in the order asked; a node that is not stored is `StoreError::Corrupt`.
    async fn tree_nodes(&self, wanted: &[(u8, u64)]) -> Result<Vec<Hash>>;

    /// Consent ledger rows as the leaves commit to them, `seq > after`, oldest first, at
    /// most `limit`, including those of erased subjects (which carry only the commitment).
    /// Admin and notice entries are left out (their seqs are gaps here); `ledger_leaves`
    /// has every kind.
    async fn ledger_entries(&self, after: u64, limit: u32) -> Result<Vec<LedgerEntry>>;

    /// Every leaf of the tree, consent, admin and notice entries alike, `seq > after`,
    /// oldest first, at most `limit`: what `keuze ledger verify` recomputes the tree from.
    async fn ledger_leaves(&self, after: u64, limit: u32) -> Result<Vec<LedgerLeaf>>;

    /// Appends an admin entry (the audit trail) as the next seq and leaf of the same
    /// ledger and tree, in one transaction, serialised with every other append.
    async fn append_admin(&self, entry: NewAdminEntry) -> Result<AdminEntry>;

    /// Admin entries with `seq > after`, oldest first, at most `limit`.
    async fn admin_entries(&self, after: u64, limit: u32) -> Result<Vec<AdminEntry>>;

    /// The subject's salt; `None` if the subject is unknown or erased.
    async fn subject_salt(&self, subject: &SubjectId) -> Result<Option<SubjectSalt>>;

    /// Erases a subject in ONE transaction: appends `erasure` (the erase entries, one per
    /// purpose, for this subject) to the ledger and tree like `append`, then destroys the
    /// subject's salt (crypto-shredding: its leaves can no longer be tied to anyone),
    /// drops its projection rows and remembers that the pseudonym is erased. `erasure` must
    /// hold at least one entry, each an `Action::Erase` event of `subject`; otherwise
    /// nothing is written. Erasing an erased subject is `StoreError::Erased`; erasing a
    /// subject never seen records the erasure all the same. The same transaction appends
    /// the admin entry `subject_erased` attributed to `by`, right after the erase entries
    /// (it is not among the events returned).
    async fn erase_subject(
        &self,
        subject: &SubjectId,
        erasure: Vec<NewEvent>,
        by: &Attribution,
    ) -> Result<Vec<ConsentEvent>>;

    /// Every erased pseudonym, for the decision index.
    async fn erased_subjects(&self) -> Result<Vec<SubjectId>>;

    /// Stores a signed checkpoint. Sizes only grow: a checkpoint for a size at or below
    /// the latest is refused, as is one for more leaves than the tree has or whose root is
    /// not the stored tree's root at its size.
    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<()>;

    /// The newest checkpoint.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>>;

    /// Checkpoints with `size > after`, smallest first, at most `limit`.
    async fn checkpoints_after(&self, after: u64, limit: u32) -> Result<Vec<StoredCheckpoint>>;

    /// Remembers a log key's public half (idempotent).
    async fn add_log_key(&self, key: &StoredLogKey) -> Result<()>;

    /// Every log key ever used, oldest first.
    async fn log_keys(&self) -> Result<Vec<StoredLogKey>>;

    /// Every row of the current-state projection: each subject's latest event per purpose,
    /// in ledger (seq) order. Here and in `subject_state`, `history` and `events_after`,
    /// events of erased subjects are left out: without the salt nothing ties them to a
    /// pseudonym (`ledger_entries` still has them, as commitments).
    async fn projection(&self) -> Result<Vec<ConsentEvent>>;

    /// One subject's rows of the projection, in ledger (seq) order.
    async fn subject_state(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>>;

    /// One subject's events, oldest first.
    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>>;

    /// Ledger events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<ConsentEvent>>;

    /// How many entries the ledger holds, of every kind: its last seq, which equals the
    /// tree size.
    async fn event_count(&self) -> Result<u64>;

    /// Throws the projection away and recomputes it from the ledger, in one transaction.
    /// Returns the number of projection rows.
    async fn rebuild_projection(&self) -> Result<u64>;

    /// Stores a new key and, in the same transaction, the admin entry `key_created`
    /// attributed to `by`; a key with the same id already stored is an error.
    async fn insert_api_key(&self, key: &ApiKey, by: &Attribution) -> Result<AdminEntry>;

    /// Revokes a key at `by.at` and, in the same transaction, appends the admin entry
    /// `key_revoked`. `None` (and nothing written) if there is no such key or it is
    /// revoked already.
    async fn revoke_api_key(&self, id: &str, by: &Attribution) -> Result<Option<AdminEntry>>;

    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>>;

    /// Every key, oldest first (then by id).
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>>;

    /// The newest published catalog version, if any.
    async fn latest_catalog(&self) -> Result<Option<StoredCatalog>>;

    async fn catalog_version(&self, number: u32) -> Result<Option<StoredCatalog>>;

    /// Stores the next catalog version (number = latest + 1), published at `by.at`, and
    /// in the same transaction the admin entry `catalog_published`; returns the version.
    async fn publish_catalog(
        &self,
        digest: Digest256,
        canonical: String,
        source: String,
        by: &Attribution,
    ) -> Result<StoredCatalog>;

    /// Stores the next incident (number = latest + 1), recorded at `by.at`, and in the same
    /// transaction the admin entry `incident_recorded` with its digest.
    async fn record_incident(
        &self,
        digest: Digest256,
        canonical: String,
        by: &Attribution,
    ) -> Result<StoredIncident>;

    /// Every incident, by number.
    async fn incidents(&self) -> Result<Vec<StoredIncident>>;

    async fn incident(&self, number: u32) -> Result<Option<StoredIncident>>;

    /// Puts the incident on the public register at `by.at` and, in the same transaction,
    /// appends the admin entry `incident_published`. Publishing a published incident
    /// changes and appends nothing; `None` (and nothing written) if there is no such
    /// incident.
    async fn publish_incident(
        &self,
        number: u32,
        by: &Attribution,
    ) -> Result<Option<StoredIncident>>;

    /// Appends notice entries in order in ONE transaction, as ledger entries and leaves of
    /// the same tree as consent events ([`keuze_core::incident::NoticeEntry`], the subject
    /// as its salted commitment; a subject seen for the first time gets a fresh salt, as
    /// in `append`). A notice of an erased subject is refused (`StoreError::Erased`), and
    /// so is one of an incident that is not recorded; a refused append writes nothing. The
    /// projection is not touched: notices are not choices.
    async fn append_notices(&self, notices: Vec<NewNotice>) -> Result<Vec<NoticeEvent>>;

    /// One subject's notice entries, oldest first (none once erased).
    async fn notices(&self, subject: &SubjectId) -> Result<Vec<NoticeEvent>>;

    /// The subjects with a `notified` entry for the incident, not erased, in no order.
    async fn notified_subjects(&self, incident: u32) -> Result<Vec<SubjectId>>;

    /// How many entries of each kind the incident has.
    async fn notice_counts(&self, incident: u32) -> Result<NoticeCounts>;

    /// Remembers `value` under `name` unless a value is remembered there already, and
    /// returns the one remembered: the first ever given, whoever gave it. For facts every
    /// process using the database must agree on, such as which server secret keys the
    /// pseudonyms.
    async fn remember_once(&self, name: &str, value: &str) -> Result<String>;
}
