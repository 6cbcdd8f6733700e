//! The storage interface of Keuze. The server is generic over [`Store`]; each backend
//! (SQLite embedded, PostgreSQL to scale) lives in its own crate and must pass the
//! [`conformance`] suite. [`GroupCommit`] batches concurrent writes into one transaction.

pub mod conformance;
mod group_commit;

pub use group_commit::{CommitHook, GroupCommit, GroupCommitConfig};

use async_trait::async_trait;
use keuze_core::catalog::Digest256;
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

/// Everything Keuze keeps. Implementations must make `append` atomic and durable:
/// when it returns `Ok`, every event and its projection row are committed, and a crash
/// right after loses none of them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Appends events in order in ONE transaction, updating the current-state projection
    /// in the same transaction. Returns the events with their ledger sequence numbers.
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>>;

    /// Every row of the current-state projection: each subject's latest event per purpose,
    /// in ledger (seq) order.
    async fn projection(&self) -> Result<Vec<ConsentEvent>>;

    /// One subject's rows of the projection, in ledger (seq) order.
    async fn subject_state(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>>;

    /// One subject's events, oldest first.
    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>>;

    /// Ledger events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<ConsentEvent>>;

    /// How many events the ledger holds.
    async fn event_count(&self) -> Result<u64>;

    /// Throws the projection away and recomputes it from the ledger, in one transaction.
    /// Returns the number of projection rows.
    async fn rebuild_projection(&self) -> Result<u64>;

    /// Stores a new key; a key with the same id already stored is an error.
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()>;

    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>>;

    /// Every key, oldest first (then by id).
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>>;

    /// The newest published catalog version, if any.
    async fn latest_catalog(&self) -> Result<Option<StoredCatalog>>;

    async fn catalog_version(&self, number: u32) -> Result<Option<StoredCatalog>>;

    /// Stores the next catalog version (number = latest + 1) and returns it.
    async fn publish_catalog(
        &self,
        digest: Digest256,
        canonical: String,
        source: String,
        at: Timestamp,
    ) -> Result<StoredCatalog>;
}
