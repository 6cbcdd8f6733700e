//! What every request handler shares: the catalog in force, the decision index, the
//! writer, and the parameters (clock, entropy, server secret) tests pin down.

use crate::auth::KeyCache;
use crate::log::LogSigner;
use crate::propagate::{PropagationConfig, Propagator};
use keuze_core::checkpoint::{LogKey, LogVerifier};
use keuze_core::{CatalogHistory, CatalogVersion, DecisionIndex, Pseudonymizer, Timestamp};
use keuze_store::StoredLogKey;
use keuze_store::{CommitHook, GroupCommit, GroupCommitConfig, Outbox, Store, StoreError};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::sync::{Arc, Mutex, RwLock};

/// Where the server reads the time. The system clock in production; fixed in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_unix_millis(ms)
    }
}

/// A clock that says what it is told; for tests and simulations.
#[derive(Debug, Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::atomic::AtomicI64::new(at.unix_millis()))
    }

    pub fn set(&self, at: Timestamp) {
        self.0
            .store(at.unix_millis(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// How the server is set up; everything a test wants to pin is here.
pub struct ServerParts {
    pub store: Arc<dyn Store>,
    /// Every published catalog version; the last is in force.
    pub catalog: CatalogHistory,
    pub pseudonymizer: Pseudonymizer,
    pub clock: Arc<dyn Clock>,
    /// Seed for issued device ids; `None` takes one from the operating system.
    pub seed: Option<[u8; 32]>,
    /// The key that signs checkpoints now; its name is the log's origin.
    pub log_key: LogKey,
    /// Where propagation keeps its cursors, webhooks and dead letters (the store itself,
    /// for backends that implement [`Outbox`]); `None` runs no webhooks and no NATS.
    pub outbox: Option<Arc<dyn Outbox>>,
    pub propagation: PropagationConfig,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    writer: GroupCommit,
    index: Arc<RwLock<DecisionIndex>>,
    catalog: RwLock<Arc<CatalogHistory>>,
    pseudonymizer: Pseudonymizer,
    clock: Arc<dyn Clock>,
    rng: Mutex<StdRng>,
    keys: KeyCache,
    signer: Arc<LogSigner>,
    propagator: Option<Arc<Propagator>>,
}

impl AppState {
    /// Loads the decision index from the store's projection and starts the writer.
    pub async fn start(parts: ServerParts) -> Result<Self, StoreError> {
        let mut index = DecisionIndex::new();
        for subject in parts.store.erased_subjects().await? {
            index.mark_erased(subject);
        }
        for event in parts.store.projection().await? {
            index.apply(&event);
        }
        tracing::info!(
            subjects = index.subject_count(),
            "decision index loaded from the projection"
        );
        let propagator = match parts.outbox {
            Some(outbox) => Some(
                Propagator::start(
                    outbox,
                    parts.propagation,
                    Arc::clone(&parts.clock),
                    parts.seed,
                    parts.store.event_count().await?,
                )
                .await?,
            ),
            None => None,
        };
        let hook_propagator = propagator.clone();
        let index = Arc::new(RwLock::new(index));
        let hook_index = Arc::clone(&index);
        let commits = Arc::new(tokio::sync::Notify::new());
        let hook_commits = Arc::clone(&commits);
        let hook: CommitHook = Arc::new(move |events| {
            hook_commits.notify_one();
            if let Ok(mut idx) = hook_index.write() {
                for e in events {
                    idx.apply(e);
                }
            }
            if let (Some(p), Some(last)) = (&hook_propagator, events.last()) {
                p.committed(last.seq);
            }
            metrics::counter!("keuze_events_committed_total").increment(events.len() as u64);
            metrics::histogram!("keuze_group_commit_events").record(events.len() as f64);
        });
        let writer =
            GroupCommit::start(Arc::clone(&parts.store), hook, GroupCommitConfig::default());
        parts
            .store
            .add_log_key(&StoredLogKey {
                verifier: parts.log_key.verifier_key_string(),
                created_at: parts.clock.now(),
            })
            .await?;
        let older: Vec<LogVerifier> = parts
            .store
            .log_keys()
            .await?
            .iter()
            .filter_map(|k| LogVerifier::parse(&k.verifier).ok())
            .filter(|v| v.name() == parts.log_key.name())
            .collect();
        let signer = Arc::new(LogSigner::new(parts.log_key, older));
        tokio::spawn(crate::log::sign_after_commits(
            Arc::clone(&signer),
            Arc::clone(&parts.store),
            commits,
            Arc::clone(&parts.clock),
        ));
        let rng = match parts.seed {
            Some(seed) => StdRng::from_seed(seed),
            None => StdRng::from_entropy(),
        };
        Ok(Self(Arc::new(Inner {
            store: parts.store,
            writer,
            index,
            catalog: RwLock::new(Arc::new(parts.catalog)),
            pseudonymizer: parts.pseudonymizer,
            clock: parts.clock,
            rng: Mutex::new(rng),
            keys: KeyCache::default(),
            signer,
            propagator,
        })))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    pub fn writer(&self) -> &GroupCommit {
        &self.0.writer
    }

    pub fn index(&self) -> &RwLock<DecisionIndex> {
        &self.0.index
    }

    /// The published catalog versions; `.current()` is the one in force.
    pub fn catalog(&self) -> Arc<CatalogHistory> {
        let guard = self
            .0
            .catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&guard)
    }

    /// Puts newly published versions in force, in order. Versions the server already has
    /// are skipped, so calling this twice with the same version is harmless.
    pub fn adopt(&self, versions: Vec<CatalogVersion>) -> Result<(), keuze_core::diff::DiffError> {
        let mut guard = self
            .0
            .catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = CatalogHistory::clone(&guard);
        for v in versions {
            if v.number > next.current().number {
                next.push(v)?;
            }
        }
        *guard = Arc::new(next);
        Ok(())
    }

    pub fn pseudonymizer(&self) -> &Pseudonymizer {
        &self.0.pseudonymizer
    }

    /// Erases a subject and applies the erasure to the decision index before answering,
    /// like any other acknowledged write.
    pub async fn erase(
        &self,
        subject: keuze_core::SubjectId,
        erasure: Vec<keuze_core::NewEvent>,
    ) -> Result<Vec<keuze_core::ConsentEvent>, StoreError> {
        // Pending group commits go first, so the erasure is the subject's last word.
        self.0.writer.flush().await?;
        let events = self.0.store.erase_subject(&subject, erasure).await?;
        let mut index = self
            .0
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        index.mark_erased(subject);
        for e in &events {
            index.apply(e);
        }
        drop(index);
        if let (Some(p), Some(last)) = (&self.0.propagator, events.last()) {
            p.committed(last.seq);
        }
        Ok(events)
    }

    /// Webhooks and NATS; `None` when the store keeps no outbox.
    pub fn propagator(&self) -> Option<&Arc<Propagator>> {
        self.0.propagator.as_ref()
    }

    pub fn signer(&self) -> &LogSigner {
        &self.0.signer
    }

    pub fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    pub(crate) fn keys(&self) -> &KeyCache {
        &self.0.keys
    }

    pub fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        match self.0.rng.lock() {
            Ok(mut rng) => rng.fill_bytes(&mut out),
            Err(poisoned) => poisoned.into_inner().fill_bytes(&mut out),
        }
        out
    }
}
