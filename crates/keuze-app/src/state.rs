//! What every request handler shares: the catalog in force, the decision index, the
//! writer, and the parameters (clock, entropy, server secret) tests pin down.

use crate::keys::KeyCache;
use crate::log::LogSigner;
use crate::propagate::{PropagationConfig, Propagator};
use keuze_core::admin::{AdminEntry, Attribution, NewAdminEntry};
use keuze_core::checkpoint::{LogKey, LogVerifier};
use keuze_core::{CatalogHistory, CatalogVersion, DecisionIndex, Pseudonymizer, Timestamp};
use keuze_store::StoredLogKey;
use keuze_store::{CommitHook, GroupCommit, GroupCommitConfig, Outbox, Store, StoreError};
use keuze_tcf::Gvl;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

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
    /// Where the decision index is saved at shutdown and loaded from at start (then only
    /// the ledger after it is replayed). `None`: always rebuild from the projection.
    pub index_snapshot: Option<std::path::PathBuf>,
    /// Where propagation keeps its cursors, webhooks and dead letters (the store itself,
    /// for backends that implement [`Outbox`]); `None` runs no webhooks and no NATS.
    pub outbox: Option<Arc<dyn Outbox>>,
    pub propagation: PropagationConfig,
    /// For a database other nodes write to as well: the ledger's largest seq as it grows
    /// by anyone's commits. The server then applies what others committed to its decision
    /// index (see [`follow_ledger`]). `None`: this process is the only writer.
    pub ledger_growth: Option<tokio::sync::watch::Receiver<u64>>,
    /// The IAB Global Vendor List TC strings are made for and checked against; `None`
    /// makes no TC strings.
    pub tcf_vendor_list: Option<Arc<Gvl>>,
}

/// The application: every edge holds one (it is a cheap clone). Its accessors are
/// `#[inline]`: they sit on the decision path of another crate (the HTTP edge), where a
/// call the compiler cannot see through costs more than the work.
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
    index_snapshot: Option<std::path::PathBuf>,
    propagator: Option<Arc<Propagator>>,
    /// The index holds every ledger event up to here (a gap-free prefix of the ledger).
    applied: Arc<AtomicU64>,
    vendor_list: Option<Arc<Gvl>>,
    /// Serialises honouring GPC within this process, so two requests of one visitor (the
    /// prompt and a decision, say) do not both write the refusal. Across nodes two first
    /// requests may each write it; a second refusal changes no decision.
    gpc_writes: tokio::sync::Mutex<()>,
}

impl AppState {
    /// Loads the decision index from the store's projection and starts the writer.
    pub async fn start(parts: ServerParts) -> Result<Self, StoreError> {
        let started = std::time::Instant::now();
        // From the snapshot, if there is a usable one, else from an empty index: either
        // way the ledger after it is replayed in pages, so memory stays bounded however
        // long the ledger (the projection in one piece would not be, at 10M subjects).
        let (mut index, from) =
            match load_snapshot(parts.index_snapshot.as_deref(), &*parts.store).await? {
                Some(loaded) => loaded,
                None => (DecisionIndex::new(), 0),
            };
        let mut after = from;
        loop {
            let page = parts.store.events_after(after, 50_000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            index.apply_all(&page);
        }
        if from > 0 {
            tracing::info!(
                snapshot_seq = from,
                replayed_to = after,
                "decision index loaded from its snapshot"
            );
        }
        // After loading, so an erasure wins over anything a snapshot still held.
        for subject in parts.store.erased_subjects().await? {
            index.mark_erased(subject);
        }
        tracing::info!(
            subjects = index.subject_count(),
            took_ms = started.elapsed().as_millis() as u64,
            "decision index ready"
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
        let applied = Arc::new(AtomicU64::new(after));
        let hook_applied = Arc::clone(&applied);
        let commits = Arc::new(tokio::sync::Notify::new());
        let hook_commits = Arc::clone(&commits);
        let hook: CommitHook = Arc::new(move |events| {
            hook_commits.notify_one();
            if let Ok(mut idx) = hook_index.write() {
                idx.apply_all(events);
                if let (Some(first), Some(last)) = (events.first(), events.last()) {
                    extend_applied(&hook_applied, first.seq, last.seq);
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
        let state = Self(Arc::new(Inner {
            store: parts.store,
            writer,
            index,
            catalog: RwLock::new(Arc::new(parts.catalog)),
            pseudonymizer: parts.pseudonymizer,
            clock: parts.clock,
            rng: Mutex::new(rng),
            keys: KeyCache::default(),
            signer,
            index_snapshot: parts.index_snapshot,
            propagator,
            applied,
            vendor_list: parts.tcf_vendor_list,
            gpc_writes: tokio::sync::Mutex::new(()),
        }));
        if let Some(growth) = parts.ledger_growth {
            tokio::spawn(follow_ledger(state.clone(), growth));
        }
        Ok(state)
    }

    #[inline]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    #[inline]
    pub fn writer(&self) -> &GroupCommit {
        &self.0.writer
    }

    #[inline]
    pub fn index(&self) -> &RwLock<DecisionIndex> {
        &self.0.index
    }

    /// The published catalog versions; `.current()` is the one in force.
    #[inline]
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
    pub fn adopt(
        &self,
        versions: Vec<CatalogVersion>,
    ) -> Result<(), keuze_core::change::DiffError> {
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

    /// The Global Vendor List TC strings are made for, if one was given.
    #[inline]
    pub fn vendor_list(&self) -> Option<&Arc<Gvl>> {
        self.0.vendor_list.as_ref()
    }

    #[inline]
    pub fn pseudonymizer(&self) -> &Pseudonymizer {
        &self.0.pseudonymizer
    }

    /// Erases a subject and applies the erasure to the decision index before answering,
    /// like any other acknowledged write. The store records the erasure's admin entry,
    /// attributed to `by`, in the same transaction.
    pub async fn erase(
        &self,
        subject: keuze_core::SubjectId,
        erasure: Vec<keuze_core::NewEvent>,
        by: &Attribution,
    ) -> Result<Vec<keuze_core::ConsentEvent>, StoreError> {
        // Pending group commits go first, so the erasure is the subject's last word.
        self.0.writer.flush().await?;
        let events = self.0.store.erase_subject(&subject, erasure, by).await?;
        // A snapshot may still hold the subject's choices, which name the ledger entries
        // the erasure has just made anonymous: it goes too (the next shutdown writes one).
        if let Some(path) = &self.0.index_snapshot {
            match tokio::fs::remove_file(path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::error!(error = %e, "could not remove the decision index snapshot after an erasure")
                }
            }
        }
        let mut index = self
            .0
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        index.mark_erased(subject);
        index.apply_all(&events);
        if let (Some(first), Some(last)) = (events.first(), events.last()) {
            // The erasure's admin entry is the seq right after its erase entries.
            extend_applied(&self.0.applied, first.seq, last.seq + 1);
        }
        drop(index);
        if let (Some(p), Some(last)) = (&self.0.propagator, events.last()) {
            p.committed(last.seq);
        }
        Ok(events)
    }

    /// Appends an admin entry to the ledger (the audit trail) for an action that is not a
    /// store write of its own (a webhook created or deleted).
    pub async fn record_admin(&self, entry: NewAdminEntry) -> Result<AdminEntry, StoreError> {
        let entry = self.0.store.append_admin(entry).await?;
        // Nothing in it for the decision index: it is applied as soon as it is written.
        extend_applied(&self.0.applied, entry.seq, entry.seq);
        Ok(entry)
    }

    /// Ledger entries `first..=last` this process appended outside the group commit that
    /// hold nothing for the decision index (notice entries): the applied prefix moves over
    /// them and the sinks are woken.
    pub fn appended_elsewhere(&self, first: u64, last: u64) {
        extend_applied(&self.0.applied, first, last);
        if let Some(p) = &self.0.propagator {
            p.committed(last);
        }
    }

    /// Saves the decision index next to the data (at shutdown): pending writes are
    /// committed first, then the index is written to a temporary file, synced, and
    /// renamed over the old snapshot, so a crash leaves the old one or the new one whole.
    pub async fn save_index_snapshot(&self) -> Result<(), StoreError> {
        let Some(path) = self.0.index_snapshot.clone() else {
            return Ok(());
        };
        self.0.writer.flush().await?;
        let seq = self.0.store.event_count().await?;
        let index = Arc::clone(&self.0.index);
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            use std::io::Write;
            let tmp = path.with_extension("tmp");
            // Pseudonyms and choices: readable by the server's user only, like the keys.
            // A leftover from a crash would keep its old mode: start afresh.
            match std::fs::remove_file(&tmp) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let mut open = std::fs::OpenOptions::new();
            open.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            let file = open.open(&tmp)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            let index = index
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index.write_snapshot(seq, &mut out)?;
            drop(index);
            out.flush()?;
            let file = out
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            file.sync_all()?;
            let size = file.metadata()?.len();
            std::fs::rename(&tmp, &path)?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(size)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("the snapshot writer failed: {e}")))?
        .map_err(|e| {
            StoreError::Unavailable(format!("cannot write the decision index snapshot: {e}"))
        })?;
        tracing::info!(seq, bytes = written, "decision index snapshot saved");
        Ok(())
    }

    /// Webhooks and NATS; `None` when the store keeps no outbox.
    #[inline]
    pub fn propagator(&self) -> Option<&Arc<Propagator>> {
        self.0.propagator.as_ref()
    }

    #[inline]
    pub fn signer(&self) -> &LogSigner {
        &self.0.signer
    }

    #[inline]
    pub fn now(&self) -> Timestamp {
        self.0.clock.now()
    }

    pub(crate) fn gpc_writes(&self) -> &tokio::sync::Mutex<()> {
        &self.0.gpc_writes
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

/// The saved index and the ledger sequence number it reflects, if there is a usable one.
/// A missing snapshot is normal (first start, or after an erasure); a damaged one, or one
/// ahead of the ledger (a restored older database), is set aside with a warning and the
/// index is rebuilt from the projection.
async fn load_snapshot(
    path: Option<&std::path::Path>,
    store: &dyn Store,
) -> Result<Option<(DecisionIndex, u64)>, StoreError> {
    let Some(path) = path else { return Ok(None) };
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, path = %path.display(), "cannot read the decision index snapshot; rebuilding the index");
            return Ok(None);
        }
    };
    let loaded = tokio::task::spawn_blocking(move || DecisionIndex::from_snapshot(bytes))
        .await
        .map_err(|e| StoreError::Unavailable(format!("the snapshot reader failed: {e}")))?;
    match loaded {
        Ok((index, seq)) if seq <= store.event_count().await? => Ok(Some((index, seq))),
        Ok((_, seq)) => {
            tracing::warn!(
                snapshot_seq = seq,
                "the decision index snapshot is ahead of the ledger; rebuilding the index"
            );
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "rebuilding the decision index");
            Ok(None)
        }
    }
}

/// Moves the applied prefix over a batch this process committed, if the batch continues
/// it. A batch after a gap (other nodes committed in between) leaves it where it is: the
/// ledger follower reads the gap, and this batch again, which applying ignores.
fn extend_applied(applied: &AtomicU64, first: u64, last: u64) {
    let _ = applied.fetch_update(Ordering::AcqRel, Ordering::Acquire, |through| {
        (first == through + 1).then_some(last)
    });
}

/// Applies to the decision index what other nodes commit to a shared database: whenever
/// `growth` says the ledger has grown past what the index holds, the events after it are
/// read from the store and applied. A store that fails (a database outage) is retried
/// with backoff; the notifier publishes the ledger's size again when it reconnects, so
/// nothing committed meanwhile is missed. Runs until the notifier is gone.
async fn follow_ledger(state: AppState, mut growth: tokio::sync::watch::Receiver<u64>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let target = *growth.borrow_and_update();
        match state.catch_up(target).await {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot read what other nodes committed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        }
        if growth.changed().await.is_err() {
            return;
        }
    }
}

/// Events the follower reads per round trip.
const FOLLOW_PAGE: u32 = 10_000;

impl AppState {
    /// Applies the ledger up to `target` (committed, so visible) to the decision index.
    async fn catch_up(&self, target: u64) -> Result<(), StoreError> {
        loop {
            let from = self.0.applied.load(Ordering::Acquire);
            if from >= target {
                return Ok(());
            }
            let page = self.0.store.events_after(from, FOLLOW_PAGE).await?;
            let full = page.len() == FOLLOW_PAGE as usize;
            let last = page.last().map_or(from, |e| e.seq);
            // Short of a full page, everything up to `target` was read: seqs missing from
            // the page are admin entries (the audit trail), notice entries (customers told
            // of an incident), neither of which has anything to apply, or events of erased
            // subjects, which `events_after` leaves out.
            let through = if full { last } else { last.max(target) };
            let expected = usize::try_from(through - from).unwrap_or(usize::MAX);
            if page.len() < expected
                && !self
                    .gaps_are_admin(from, through, expected - page.len())
                    .await?
            {
                self.learn_erasures().await?;
            }
            let mut index = self
                .0
                .index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index.apply_all(&page);
            self.0.applied.fetch_max(through, Ordering::AcqRel);
            drop(index);
            metrics::counter!("keuze_events_followed_total").increment(page.len() as u64);
        }
    }

    /// Whether the `missing` seqs in `(from, through]` that `events_after` did not return
    /// are all admin or notice entries (nothing to apply). Admin entries are few, so they
    /// are read first; only if they do not account for the gaps are the leaves of the
    /// range read, at most one page. An erasure always leaves erase entries (consent
    /// leaves) among the gaps, so this is `false` whenever there may be one, and the
    /// caller then learns the erasures.
    async fn gaps_are_admin(
        &self,
        from: u64,
        through: u64,
        missing: usize,
    ) -> Result<bool, StoreError> {
        let limit = u32::try_from(missing).unwrap_or(u32::MAX);
        let admin = self.0.store.admin_entries(from, limit).await?;
        let within = admin.iter().filter(|a| a.seq <= through).count();
        if within == missing {
            return Ok(true);
        }
        let span = u32::try_from(through - from).unwrap_or(u32::MAX);
        let leaves = self.0.store.ledger_leaves(from, span).await?;
        let not_choices = leaves
            .iter()
            .filter(|l| l.seq() <= through)
            .filter(|l| !matches!(l, keuze_core::admin::LedgerLeaf::Consent(_)))
            .count();
        Ok(not_choices == missing)
    }

    /// Marks subjects other nodes erased; their snapshot goes, as after a local erasure.
    async fn learn_erasures(&self) -> Result<(), StoreError> {
        let erased = self.0.store.erased_subjects().await?;
        let mut index = self
            .0
            .index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut learned = 0usize;
        for subject in erased {
            if !index.is_erased(&subject) {
                index.mark_erased(subject);
                learned += 1;
            }
        }
        drop(index);
        if learned > 0 {
            tracing::info!(learned, "subjects erased on other nodes");
            if let Some(path) = &self.0.index_snapshot {
                if let Err(e) = std::fs::remove_file(path) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::error!(error = %e, "could not remove the decision index snapshot after an erasure");
                    }
                }
            }
        }
        Ok(())
    }
}
