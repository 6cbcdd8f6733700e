//! The outbox: what propagation (webhooks, NATS) reads and remembers. The ledger itself is
//! the outbox: it is written in the same transaction as everything else, append-only and
//! gap-free, so each sink needs only a durable cursor (the last seq it has delivered) to
//! deliver every committed event and nothing else, across restarts. The one thing the
//! ledger cannot give is the pseudonym of an erased subject (its salt is destroyed), so
//! erasure keeps the pseudonym for the outbox until every sink is past the erasure.

use crate::Result;
use async_trait::async_trait;
use keuze_core::incident::NoticeEvent;
use keuze_core::{ConsentEvent, PurposeId, Timestamp};
use std::fmt;

/// One ledger entry a sink delivers: a consent event, or a customer told of an incident
/// (or acknowledging it). Admin entries are not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxEvent {
    Consent(ConsentEvent),
    Notice(NoticeEvent),
}

impl OutboxEvent {
    pub fn seq(&self) -> u64 {
        match self {
            Self::Consent(e) => e.seq,
            Self::Notice(e) => e.seq,
        }
    }
}

/// Events to deliver, read from the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxBatch {
    /// In ledger order. Events of subjects erased before the sink reached them (whose
    /// pseudonym is gone for good) are left out.
    pub events: Vec<OutboxEvent>,
    /// The largest seq the batch read, left-out events included: where the sink's cursor
    /// goes once `events` are delivered. Equal to `after` when the ledger has nothing newer.
    pub through: u64,
}

impl OutboxBatch {
    /// A batch from pages read from separate tables at the same commit, each of at most
    /// `limit` rows with `seq > after` in seq order, as `(seq, event)` (`None` for a row
    /// that is not delivered). A full page may stop short of rows another page has, so
    /// the batch ends at the smallest last seq of the full pages; with none full, every
    /// row is in.
    pub fn merge_pages<const N: usize>(
        after: u64,
        limit: u32,
        pages: [Vec<(u64, Option<OutboxEvent>)>; N],
    ) -> Self {
        let full = |p: &Vec<(u64, Option<OutboxEvent>)>| p.len() >= limit as usize;
        let bound = pages
            .iter()
            .filter(|p| full(p))
            .filter_map(|p| p.last().map(|(seq, _)| *seq))
            .min();
        let mut rows: Vec<(u64, Option<OutboxEvent>)> = pages
            .into_iter()
            .flatten()
            .filter(|(seq, _)| bound.is_none_or(|b| *seq <= b))
            .collect();
        rows.sort_unstable_by_key(|(seq, _)| *seq);
        let through = rows.last().map_or(after, |(seq, _)| *seq);
        Self {
            events: rows.into_iter().filter_map(|(_, e)| e).collect(),
            through,
        }
    }
}

/// A webhook subscription. The secret signs every delivery; `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredWebhook {
    /// `wh_` and 16 hex digits for webhooks made through the API, `cfg_<name>` for those
    /// of the config file.
    pub id: String,
    /// `http://` or `https://`.
    pub url: String,
    /// Only events of these purposes are delivered; empty means every purpose.
    pub purposes: Vec<PurposeId>,
    pub secret: String,
    pub created_at: Timestamp,
}

impl fmt::Debug for StoredWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredWebhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("purposes", &self.purposes)
            .field("secret", &"***")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An event a webhook gave up on after its last retry. Replaying from its seq delivers it
/// again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub webhook: String,
    pub seq: u64,
    pub attempts: u32,
    /// What the last attempt got: an HTTP status or a connection error.
    pub error: String,
    pub failed_at: Timestamp,
}

/// Where propagation keeps its state. Backends implement it next to [`crate::Store`].
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Ledger events with `seq > after`, oldest first, reading at most `limit` ledger rows,
    /// each with its subject's pseudonym (kept for erased subjects while some sink has not
    /// passed the erasure).
    async fn outbox_events(&self, after: u64, limit: u32) -> Result<OutboxBatch>;

    /// The last seq the sink has delivered; `None` for a sink never started.
    async fn sink_cursor(&self, sink: &str) -> Result<Option<u64>>;

    /// Moves the sink's cursor (creating it), then forgets the pseudonyms of erasures that
    /// every sink has passed.
    async fn set_sink_cursor(&self, sink: &str, delivered: u64) -> Result<()>;

    /// Forgets the sink's cursor (a deleted webhook), releasing what it held back.
    async fn remove_sink(&self, sink: &str) -> Result<()>;

    /// Stores a webhook, or replaces the one with the same id (the config file's, at every
    /// start); its cursor is left as it is.
    async fn put_webhook(&self, webhook: &StoredWebhook) -> Result<()>;

    /// Every webhook, oldest first (then by id).
    async fn webhooks(&self) -> Result<Vec<StoredWebhook>>;

    /// Deletes a webhook with its cursor and dead letters; `false` if there was none.
    async fn delete_webhook(&self, id: &str) -> Result<bool>;

    /// Records a dead letter (again: a replayed event that fails again replaces it).
    async fn add_dead_letter(&self, letter: &DeadLetter) -> Result<()>;

    /// A webhook's dead letters, by seq.
    async fn dead_letters(&self, webhook: &str) -> Result<Vec<DeadLetter>>;

    /// Forgets a webhook's dead letters with `seq >= from` (they are about to be replayed).
    async fn clear_dead_letters(&self, webhook: &str, from: u64) -> Result<()>;
}
