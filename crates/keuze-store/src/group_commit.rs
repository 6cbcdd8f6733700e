//! Group commit: many concurrent writers, one transaction. Each request waits until the
//! transaction holding its events is durably committed; only then is it acknowledged.

use crate::{Result, Store, StoreError};
use keuze_core::{ConsentEvent, NewEvent};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Called with every committed batch, in ledger order, before any writer in the batch is
/// acknowledged: whatever it updates (the decision index) reflects every acknowledged write.
pub type CommitHook = Arc<dyn Fn(&[ConsentEvent]) + Send + Sync>;

#[derive(Debug, Clone, Copy)]
pub struct GroupCommitConfig {
    /// At most this many events go into one transaction (a single request is never split).
    pub max_batch_events: usize,
    /// How many requests may wait for the writer before senders wait too.
    pub queue_depth: usize,
}

impl Default for GroupCommitConfig {
    fn default() -> Self {
        Self {
            max_batch_events: 4096,
            queue_depth: 8192,
        }
    }
}

struct Request {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Vec<ConsentEvent>>>,
}

/// The single writer in front of a [`Store`].
pub struct GroupCommit {
    tx: mpsc::Sender<Request>,
}

impl GroupCommit {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(store: Arc<dyn Store>, hook: CommitHook, config: GroupCommitConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.queue_depth.max(1));
        tokio::spawn(writer(store, hook, config, rx));
        Self { tx }
    }

    /// Appends the events of one request atomically; returns once they are durable.
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request { events, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Waits until every write queued before this call is committed (used at shutdown).
    pub async fn flush(&self) -> Result<()> {
        self.append(Vec::new()).await.map(|_| ())
    }
}

async fn writer(
    store: Arc<dyn Store>,
    hook: CommitHook,
    config: GroupCommitConfig,
    mut rx: mpsc::Receiver<Request>,
) {
    let mut pending: Option<Request> = None;
    loop {
        let first = match pending.take() {
            Some(r) => r,
            None => match rx.recv().await {
                Some(r) => r,
                None => return,
            },
        };
        let mut batch = vec![first];
        let mut size = batch.iter().map(|r| r.events.len()).sum::<usize>();
        while size < config.max_batch_events {
            match rx.try_recv() {
                Ok(r) if size + r.events.len() > config.max_batch_events => {
                    pending = Some(r);
                    break;
                }
                Ok(r) => {
                    size += r.events.len();
                    batch.push(r);
                }
                Err(_) => break,
            }
        }
        commit(&*store, &hook, batch).await;
    }
}

async fn commit(store: &dyn Store, hook: &CommitHook, batch: Vec<Request>) {
    if batch.len() == 1 {
        if let Some(only) = batch.into_iter().next() {
            commit_one(store, hook, only).await;
        }
        return;
    }
    let mut all = Vec::new();
    let mut replies = Vec::with_capacity(batch.len());
    let mut kept = Vec::with_capacity(batch.len());
    for r in batch {
        all.extend(r.events.iter().cloned());
        kept.push(r.events.len());
        replies.push(r);
    }
    let result = if all.is_empty() {
        Ok(Vec::new())
    } else {
        store.append(all).await
    };
    match result {
        Ok(committed) => {
            tracing::debug!(
                events = committed.len(),
                writers = replies.len(),
                "group commit"
            );
            if !committed.is_empty() {
                hook(&committed);
            }
            let mut rest = committed.into_iter();
            for (n, r) in kept.into_iter().zip(replies) {
                let mine: Vec<ConsentEvent> = rest.by_ref().take(n).collect();
                let _ = r.reply.send(Ok(mine));
            }
        }
        Err(StoreError::Unavailable(why)) => {
            // The database is away: retrying writer by writer would only make each wait
            // for it again. Nothing was written; every writer hears so now.
            tracing::error!(error = %why, writers = replies.len(), "commit failed; nothing was written");
            for r in replies {
                let _ = r.reply.send(Err(StoreError::Unavailable(why.clone())));
            }
        }
        Err(e) => {
            // One writer's bad request (an erased subject, say) must not fail the others:
            // nothing was written, so commit each request on its own.
            tracing::debug!(error = %e, writers = replies.len(), "group commit failed; retrying writer by writer");
            for r in replies {
                commit_one(store, hook, r).await;
            }
        }
    }
}

async fn commit_one(store: &dyn Store, hook: &CommitHook, request: Request) {
    let result = if request.events.is_empty() {
        Ok(Vec::new())
    } else {
        store.append(request.events).await
    };
    match result {
        Ok(committed) => {
            if !committed.is_empty() {
                hook(&committed);
            }
            let _ = request.reply.send(Ok(committed));
        }
        Err(e) => {
            if !matches!(e, StoreError::Erased) {
                tracing::error!(error = %e, "commit failed; nothing was written");
            }
            let _ = request.reply.send(Err(e));
        }
    }
}
