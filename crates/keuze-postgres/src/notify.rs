//! Commit notifications for other nodes: a background task LISTENs on the schema's
//! channel and publishes "the ledger has grown to at least seq N" on a watch channel.
//!
//! Notifications are fire-and-forget: whatever is sent while the listening connection is
//! down is lost. So after every (re)connection the task LISTENs first and then reads the
//! ledger's largest seq: any commit is either counted by that read or notified after it.
//! A subscriber reads what it missed with `events_after`.

use crate::{db_error, PgStore};
use keuze_store::{Result, StoreError};
use sqlx::postgres::{PgListener, PgPool};
use std::time::Duration;
use tokio::sync::watch;

/// The first wait before reconnecting; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

impl PgStore {
    /// The ledger's largest seq as it grows by commits of any node (this one included),
    /// starting at the current one. The values only grow; a subscriber may see a jump of
    /// several events at once, or one value for several commits.
    ///
    /// The first call starts the listener (it keeps one connection of the pool) and fails
    /// if it cannot connect; later calls share it. It stops when the store is closed, or
    /// when the store and every receiver are dropped.
    pub async fn ledger_notifications(&self) -> Result<watch::Receiver<u64>> {
        let receiver = self
            .notifications
            .get_or_try_init(|| start(self.pool.clone(), self.channel.clone()))
            .await?;
        Ok(receiver.clone())
    }
}

/// Connects the listener, reads where the ledger is, and spawns the task that follows it.
async fn start(pool: PgPool, channel: String) -> Result<watch::Receiver<u64>> {
    let listener = listen(&pool, &channel).await?;
    let last = largest_seq(&pool).await?;
    let (sender, receiver) = watch::channel(last);
    tokio::spawn(follow(pool, channel, listener, sender));
    Ok(receiver)
}

/// A listener on `channel`, on a connection of `pool`.
async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.map_err(db_error)?;
    // A lost connection is ours to handle: `try_recv` returns at once, and `reconnect`
    // reads the ledger after listening again.
    listener.eager_reconnect(false);
    listener.listen(channel).await.map_err(db_error)?;
    Ok(listener)
}

async fn largest_seq(pool: &PgPool) -> Result<u64> {
    let max: i64 = sqlx::query_scalar(crate::append::LAST_SEQ_SQL)
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    u64::try_from(max)
        .map_err(|_| StoreError::Corrupt(format!("the ledger's largest seq is {max}")))
}

/// Publishes `seq` unless a larger one is out already.
fn publish(sender: &watch::Sender<u64>, seq: u64) {
    sender.send_if_modified(|current| {
        let grew = seq > *current;
        if grew {
            *current = seq;
        }
        grew
    });
}

/// Follows the channel until the pool is closed or nobody listens any more.
async fn follow(
    pool: PgPool,
    channel: String,
    mut listener: PgListener,
    sender: watch::Sender<u64>,
) {
    loop {
        let received = tokio::select! {
            received = listener.try_recv() => received,
            () = sender.closed() => return,
        };
        match received {
            Ok(Some(notification)) => match notification.payload().parse::<u64>() {
                Ok(seq) => publish(&sender, seq),
                Err(_) => tracing::warn!(
                    channel = %channel,
                    "a ledger notification without a seq; ignored"
                ),
            },
            Err(sqlx::Error::PoolClosed) => return,
            lost => {
                if let Err(e) = lost {
                    tracing::warn!(error = %e, "the ledger notification listener failed");
                }
                drop(listener);
                match reconnect(&pool, &channel, &sender).await {
                    Some(again) => listener = again,
                    None => return,
                }
            }
        }
    }
}

/// Listens again, waiting longer after each failure, then publishes the ledger's largest
/// seq so subscribers catch up on what was committed meanwhile. `None` once the pool is
/// closed or nobody listens any more.
async fn reconnect(
    pool: &PgPool,
    channel: &str,
    sender: &watch::Sender<u64>,
) -> Option<PgListener> {
    let mut backoff = FIRST_BACKOFF;
    loop {
        if pool.is_closed() || sender.is_closed() {
            return None;
        }
        tokio::time::sleep(backoff).await;
        match listen(pool, channel).await {
            Ok(listener) => match largest_seq(pool).await {
                Ok(seq) => {
                    tracing::info!(seq, "the ledger notification listener is back");
                    publish(sender, seq);
                    return Some(listener);
                }
                Err(e) => tracing::warn!(error = %e, "cannot read the ledger after reconnecting"),
            },
            Err(e) => tracing::warn!(
                error = %e,
                retry_in_ms = (backoff * 2).min(MAX_BACKOFF).as_millis(),
                "the ledger notification listener cannot reconnect"
            ),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
