//! The transparency log over the ledger: reading the stored Merkle tree, and signing
//! checkpoints. The log signs a new checkpoint after commits (at most once a second), and
//! only one that a consistency proof shows extends the last one it signed.

use keuze_core::checkpoint::{self, Checkpoint, LogKey, LogVerifier};
use keuze_core::merkle::{self, Hash, NodeSource, ProveError};
use keuze_core::Timestamp;
use keuze_store::{Store, StoreError, StoredCheckpoint};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// A node the second pass did not fetch; cannot happen when both passes ask the same.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("tree node ({0}, {1}) was not fetched")]
pub struct Unfetched(u8, u64);

/// First pass: which nodes a computation reads depends only on the tree sizes and
/// indices involved, never on hash values, so zeros let us learn the set cheaply.
#[derive(Default)]
struct Recording(RefCell<Vec<(u8, u64)>>);

impl NodeSource for Recording {
    type Error = Unfetched;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Unfetched> {
        self.0.borrow_mut().push((level, index));
        Ok([0; 32])
    }
}

struct Fetched(HashMap<(u8, u64), Hash>);

impl NodeSource for Fetched {
    type Error = Unfetched;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Unfetched> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(Unfetched(level, index))
    }
}

/// What went wrong computing over the stored tree.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Prove(String),
}

impl<E: std::fmt::Display> From<ProveError<E>> for TreeError {
    fn from(e: ProveError<E>) -> Self {
        Self::Prove(e.to_string())
    }
}

impl From<Unfetched> for TreeError {
    fn from(e: Unfetched) -> Self {
        Self::Prove(e.to_string())
    }
}

/// Runs `f` over the stored tree with one round trip for all the nodes it needs.
pub async fn with_nodes<T, E>(
    store: &dyn Store,
    f: impl Fn(&dyn NodeSource<Error = Unfetched>) -> Result<T, E>,
) -> Result<T, TreeError>
where
    TreeError: From<E>,
{
    let recording = Recording::default();
    // The first pass's result is meaningless; only the nodes it asked for count.
    let _ = f(&recording);
    let wanted = recording.0.into_inner();
    let hashes = store.tree_nodes(&wanted).await?;
    let fetched = Fetched(wanted.into_iter().zip(hashes).collect());
    Ok(f(&fetched)?)
}

/// Lets `&dyn NodeSource` be passed where a sized `NodeSource` is expected.
struct Dyn<'a>(&'a dyn NodeSource<Error = Unfetched>);

impl NodeSource for Dyn<'_> {
    type Error = Unfetched;
    fn node(&self, level: u8, index: u64) -> Result<Hash, Unfetched> {
        self.0.node(level, index)
    }
}

/// The root of the first `size` leaves.
pub async fn root_at(store: &dyn Store, size: u64) -> Result<Hash, TreeError> {
    with_nodes(store, |s| merkle::root_at(size, &Dyn(s))).await
}

pub async fn inclusion_proof(
    store: &dyn Store,
    size: u64,
    index: u64,
) -> Result<Vec<Hash>, TreeError> {
    with_nodes(store, |s| merkle::inclusion_proof(size, index, &Dyn(s))).await
}

pub async fn consistency_proof(
    store: &dyn Store,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, TreeError> {
    with_nodes(store, |s| merkle::consistency_proof(old, new, &Dyn(s))).await
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("refusing to sign: {0}")]
    Note(#[from] checkpoint::NoteError),
    #[error("the stored checkpoint is unreadable: {0}")]
    Stored(String),
}

/// Signs checkpoints with the current log key; knows every key ever used.
pub struct LogSigner {
    key: LogKey,
    verifiers: Vec<LogVerifier>,
    /// Only one signing at a time, so two checkpoints are never made concurrently.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("origin", &self.key.name())
            .field("keys", &self.verifiers.len())
            .finish()
    }
}

impl LogSigner {
    /// `older` are the verifier keys of keys used before `key` (from the store).
    pub fn new(key: LogKey, older: Vec<LogVerifier>) -> Self {
        let current = key.verifier();
        let mut verifiers: Vec<LogVerifier> = older
            .into_iter()
            .filter(|v| v.key_id() != current.key_id())
            .collect();
        verifiers.push(current);
        Self {
            key,
            verifiers,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn origin(&self) -> &str {
        self.key.name()
    }

    /// Every key a checkpoint of this log may be signed with, oldest first.
    pub fn verifiers(&self) -> &[LogVerifier] {
        &self.verifiers
    }

    pub fn current(&self) -> LogVerifier {
        self.key.verifier()
    }

    /// Signs a checkpoint for the tree as it is now, unless the latest already covers it.
    /// Returns the latest checkpoint either way (`None` for an empty ledger).
    pub async fn sign_latest(
        &self,
        store: &dyn Store,
        now: Timestamp,
    ) -> Result<Option<StoredCheckpoint>, SignError> {
        let _guard = self.lock.lock().await;
        let size = store.tree_size().await?;
        let latest = store.latest_checkpoint().await?;
        if size == 0 || latest.as_ref().is_some_and(|c| c.size >= size) {
            return Ok(latest);
        }
        let root = root_at(store, size).await?;
        let next = Checkpoint {
            origin: self.key.name().to_owned(),
            size,
            root,
        };
        let note = match &latest {
            None => checkpoint::sign(&next, &self.key)?,
            Some(prev) => {
                let previous = Checkpoint {
                    origin: self.key.name().to_owned(),
                    size: prev.size,
                    root: prev.root,
                };
                let proof = consistency_proof(store, prev.size, size).await?;
                checkpoint::sign_consistent(&previous, &next, &proof, &self.key)?
            }
        };
        let stored = StoredCheckpoint {
            size,
            root,
            note,
            signed_at: now,
        };
        if let Err(e) = store.add_checkpoint(&stored).await {
            // Another node sharing the database may have stored one for this size or a
            // larger one meanwhile (sizes only grow): that one covers the tree too.
            return match store.latest_checkpoint().await? {
                Some(theirs) if theirs.size >= size => Ok(Some(theirs)),
                _ => Err(e.into()),
            };
        }
        tracing::debug!(size, "signed a checkpoint");
        Ok(Some(stored))
    }
}

/// Signs after commits, at most once a second, until the process ends.
pub async fn sign_after_commits(
    signer: Arc<LogSigner>,
    store: Arc<dyn Store>,
    commits: Arc<tokio::sync::Notify>,
    clock: Arc<dyn crate::Clock>,
) {
    loop {
        if let Err(e) = signer.sign_latest(&*store, clock.now()).await {
            tracing::error!(error = %e, "could not sign a checkpoint");
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        commits.notified().await;
    }
}
