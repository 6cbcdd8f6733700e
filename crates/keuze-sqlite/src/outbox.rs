//! [`Outbox`] for SQLite: sink cursors, webhooks, dead letters, and the pseudonyms of
//! erased subjects held back until every sink has delivered their erasure. Appends are
//! untouched: the ledger is the outbox.

use super::{db_error, SqliteStore};
use crate::incidents::outbox_notices;
use crate::rows::Lite;
use async_trait::async_trait;
use keuze_core::{PurposeId, SubjectId};
use keuze_store::decode;
use keuze_store::{
    DeadLetter, Outbox, OutboxBatch, OutboxEvent, Result, StoreError, StoredWebhook,
};
use sqlx::sqlite::SqliteConnection;

/// Called by `erase_subject` inside its transaction, after the erase entries are appended
/// and before the subject's row goes: keeps the pseudonym for the outbox if any sink has
/// yet to deliver `last_seq`. Without sinks nothing is kept.
pub(crate) async fn hold_erasure(
    conn: &mut SqliteConnection,
    subject: &SubjectId,
    last_seq: u64,
) -> Result<()> {
    let last_seq = i64::try_from(last_seq)
        .map_err(|_| StoreError::Corrupt(format!("an erase entry has seq {last_seq}")))?;
    sqlx::query(
        "INSERT INTO outbox_erasures (commitment, pseudonym, last_seq) \
         SELECT commitment, pseudonym, ?2 FROM subjects WHERE pseudonym = ?1 \
         AND EXISTS (SELECT 1 FROM outbox_cursors WHERE delivered < ?2)",
    )
    .bind(subject.as_bytes().as_slice())
    .bind(last_seq)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

fn db_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl SqliteStore {
    /// Deletes the held-back pseudonyms every sink has passed; the erasure is then complete
    /// in the outbox too, so the WAL is truncated like after an erasure.
    async fn release_erasures(&self, conn: &mut SqliteConnection) -> Result<u64> {
        let released = sqlx::query(
            "DELETE FROM outbox_erasures WHERE last_seq <= \
             coalesce((SELECT min(delivered) FROM outbox_cursors), 9223372036854775807)",
        )
        .execute(&mut *conn)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(released)
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn outbox_events(&self, after: u64, limit: u32) -> Result<OutboxBatch> {
        // Consent and notice entries live in two tables: one read transaction reads both
        // at the same commit, a page of each, and `merge_pages` keeps what is complete.
        let mut tx = self.readers.begin().await.map_err(db_error)?;
        let rows = sqlx::query(
            "SELECT e.seq, coalesce(s.pseudonym, h.pseudonym) AS subject, e.purpose, \
             e.action, e.source, e.catalog_version, e.notice_digest, e.locale, \
             e.recorded_at, e.context_digest FROM events AS e \
             LEFT JOIN subjects AS s ON s.commitment = e.subject_commitment \
             LEFT JOIN outbox_erasures AS h ON h.commitment = e.subject_commitment \
             WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2",
        )
        .bind(db_seq(after))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let consent = rows
            .iter()
            .map(|r| {
                decode::outbox_consent(&Lite(r)).map(|(seq, e)| (seq, e.map(OutboxEvent::Consent)))
            })
            .collect::<Result<Vec<_>>>()?;
        let notices = outbox_notices(&mut tx, after, limit)
            .await?
            .into_iter()
            .map(|(seq, n)| (seq, n.map(OutboxEvent::Notice)))
            .collect();
        tx.commit().await.map_err(db_error)?;
        Ok(OutboxBatch::merge_pages(after, limit, [consent, notices]))
    }

    async fn sink_cursor(&self, sink: &str) -> Result<Option<u64>> {
        let delivered: Option<i64> =
            sqlx::query_scalar("SELECT delivered FROM outbox_cursors WHERE sink = ?1")
                .bind(sink)
                .fetch_optional(&self.readers)
                .await
                .map_err(db_error)?;
        delivered
            .map(|d| {
                u64::try_from(d)
                    .map_err(|_| StoreError::Corrupt(format!("the cursor of sink `{sink}` is {d}")))
            })
            .transpose()
    }

    async fn set_sink_cursor(&self, sink: &str, delivered: u64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO outbox_cursors (sink, delivered) VALUES (?1, ?2) \
             ON CONFLICT (sink) DO UPDATE SET delivered = excluded.delivered",
        )
        .bind(sink)
        .bind(db_seq(delivered))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let released = self.release_erasures(&mut tx).await?;
        tx.commit().await.map_err(db_error)?;
        if released > 0 {
            self.truncate_wal().await;
        }
        Ok(())
    }

    async fn remove_sink(&self, sink: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM outbox_cursors WHERE sink = ?1")
            .bind(sink)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let released = self.release_erasures(&mut tx).await?;
        tx.commit().await.map_err(db_error)?;
        if released > 0 {
            self.truncate_wal().await;
        }
        Ok(())
    }

    async fn put_webhook(&self, webhook: &StoredWebhook) -> Result<()> {
        let purposes = webhook
            .purposes
            .iter()
            .map(PurposeId::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhooks (id, url, purposes, secret, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET \
             url = excluded.url, purposes = excluded.purposes, secret = excluded.secret",
        )
        .bind(webhook.id.as_str())
        .bind(webhook.url.as_str())
        .bind(purposes)
        .bind(webhook.secret.as_str())
        .bind(webhook.created_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn webhooks(&self) -> Result<Vec<StoredWebhook>> {
        let rows = sqlx::query(
            "SELECT id, url, purposes, secret, created_at FROM webhooks ORDER BY created_at, id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.iter().map(|r| decode::webhook(&Lite(r))).collect()
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM dead_letters WHERE webhook = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = ?1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        sqlx::query("DELETE FROM outbox_cursors WHERE sink = ?1")
            .bind(format!("webhook:{id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let released = self.release_erasures(&mut tx).await?;
        tx.commit().await.map_err(db_error)?;
        if released > 0 {
            self.truncate_wal().await;
        }
        Ok(deleted > 0)
    }

    async fn add_dead_letter(&self, letter: &DeadLetter) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO dead_letters (webhook, seq, attempts, error, failed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (webhook, seq) DO UPDATE SET \
             attempts = excluded.attempts, error = excluded.error, failed_at = excluded.failed_at",
        )
        .bind(letter.webhook.as_str())
        .bind(db_seq(letter.seq))
        .bind(i64::from(letter.attempts))
        .bind(letter.error.as_str())
        .bind(letter.failed_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn dead_letters(&self, webhook: &str) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT webhook, seq, attempts, error, failed_at FROM dead_letters \
             WHERE webhook = ?1 ORDER BY seq",
        )
        .bind(webhook)
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.iter().map(|r| decode::dead_letter(&Lite(r))).collect()
    }

    async fn clear_dead_letters(&self, webhook: &str, from: u64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM dead_letters WHERE webhook = ?1 AND seq >= ?2")
            .bind(webhook)
            .bind(db_seq(from))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }
}
