//! [`Outbox`] for PostgreSQL: sink cursors, webhooks, dead letters, and the pseudonyms of
//! erased subjects held back until every sink has delivered their erasure.
//!
//! Whether an erasure holds its pseudonym back depends on the cursors at that moment, so
//! whatever moves or removes a cursor holds the ledger sequencer, as erasures do: no sink
//! can start or move between an erasure reading the cursors and committing.

use crate::rows::{db_u64, Pg, LEDGER_COLUMNS};
use crate::{db_error, PgStore, Sequencer};
use async_trait::async_trait;
use keuze_core::{PurposeId, SubjectId};
use keuze_store::decode::{self, StoredRow, NOTICE_COLUMNS};
use keuze_store::{DeadLetter, Outbox, OutboxBatch, OutboxEvent, Result, StoredWebhook};
use sqlx::PgConnection;

/// Called by `erase_subject` inside its transaction, after the erase entries are appended
/// and before the subject's row goes: keeps the pseudonym for the outbox if any sink has
/// yet to deliver `last_seq`. Without sinks nothing is kept.
pub(crate) async fn hold_erasure(
    conn: &mut PgConnection,
    subject: &SubjectId,
    last_seq: u64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox_erasures (commitment, pseudonym, last_seq) \
         SELECT commitment, pseudonym, $2 FROM subjects WHERE pseudonym = $1 \
         AND EXISTS (SELECT 1 FROM outbox_cursors WHERE delivered < $2)",
    )
    .bind(subject.as_bytes().as_slice())
    .bind(db_u64(last_seq))
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Deletes the held-back pseudonyms every sink has passed.
async fn release_erasures(conn: &mut PgConnection) -> Result<()> {
    sqlx::query(
        "DELETE FROM outbox_erasures WHERE last_seq <= \
         coalesce((SELECT min(delivered) FROM outbox_cursors), 9223372036854775807)",
    )
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

impl PgStore {
    /// Runs `sql` with `sink` under the ledger sequencer, then releases the erasures every
    /// remaining sink has passed.
    async fn change_cursors(&self, sql: &str, sink: &str, delivered: Option<u64>) -> Result<()> {
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        let mut query = sqlx::query(sql).bind(sink);
        if let Some(delivered) = delivered {
            query = query.bind(db_u64(delivered));
        }
        query.execute(&mut *tx).await.map_err(db_error)?;
        release_erasures(&mut tx).await?;
        tx.commit().await.map_err(db_error)
    }
}

#[async_trait]
impl Outbox for PgStore {
    async fn outbox_events(&self, after: u64, limit: u32) -> Result<OutboxBatch> {
        // Consent and notice entries live in two tables: one snapshot reads a page of each
        // (an append between two reads would otherwise leave a hole the cursor skips), and
        // `merge_pages` keeps what is complete.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db_error)?;
        let consent = sqlx::query(&format!(
            "SELECT {LEDGER_COLUMNS}, coalesce(s.pseudonym, h.pseudonym) AS subject \
             FROM events AS e \
             LEFT JOIN subjects AS s ON s.commitment = e.subject_commitment \
             LEFT JOIN outbox_erasures AS h ON h.commitment = e.subject_commitment \
             WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"
        ))
        .bind(db_u64(after))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let notices = sqlx::query(&format!(
            "SELECT {NOTICE_COLUMNS}, coalesce(s.pseudonym, h.pseudonym) AS subject \
             FROM notice_events AS n \
             LEFT JOIN subjects AS s ON s.commitment = n.subject_commitment \
             LEFT JOIN outbox_erasures AS h ON h.commitment = n.subject_commitment \
             WHERE n.seq > $1 ORDER BY n.seq LIMIT $2"
        ))
        .bind(db_u64(after))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let consent = consent
            .iter()
            .map(|r| {
                decode::outbox_consent(&Pg(r)).map(|(seq, e)| (seq, e.map(OutboxEvent::Consent)))
            })
            .collect::<Result<Vec<_>>>()?;
        let notices = notices
            .iter()
            .map(|r| {
                decode::outbox_notice(&Pg(r)).map(|(seq, n)| (seq, n.map(OutboxEvent::Notice)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(OutboxBatch::merge_pages(after, limit, [consent, notices]))
    }

    async fn sink_cursor(&self, sink: &str) -> Result<Option<u64>> {
        let row = sqlx::query("SELECT delivered FROM outbox_cursors WHERE sink = $1")
            .bind(sink)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(|row| {
            StoredRow::new(Pg(&row), format!("the cursor of sink `{sink}`")).number("delivered")
        })
        .transpose()
    }

    async fn set_sink_cursor(&self, sink: &str, delivered: u64) -> Result<()> {
        self.change_cursors(
            "INSERT INTO outbox_cursors (sink, delivered) VALUES ($1, $2) \
             ON CONFLICT (sink) DO UPDATE SET delivered = EXCLUDED.delivered",
            sink,
            Some(delivered),
        )
        .await
    }

    async fn remove_sink(&self, sink: &str) -> Result<()> {
        self.change_cursors("DELETE FROM outbox_cursors WHERE sink = $1", sink, None)
            .await
    }

    async fn put_webhook(&self, webhook: &StoredWebhook) -> Result<()> {
        let purposes: Vec<&str> = webhook.purposes.iter().map(PurposeId::as_str).collect();
        sqlx::query(
            "INSERT INTO webhooks (id, url, purposes, secret, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET \
             url = EXCLUDED.url, purposes = EXCLUDED.purposes, secret = EXCLUDED.secret",
        )
        .bind(webhook.id.as_str())
        .bind(webhook.url.as_str())
        .bind(purposes)
        .bind(webhook.secret.as_str())
        .bind(webhook.created_at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn webhooks(&self) -> Result<Vec<StoredWebhook>> {
        let rows = sqlx::query(
            "SELECT id, url, purposes, secret, created_at FROM webhooks ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(|r| decode::webhook(&Pg(r))).collect()
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        // Its dead letters go with it (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
        sqlx::query("DELETE FROM outbox_cursors WHERE sink = $1")
            .bind(format!("webhook:{id}"))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        release_erasures(&mut tx).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(deleted > 0)
    }

    async fn add_dead_letter(&self, letter: &DeadLetter) -> Result<()> {
        sqlx::query(
            "INSERT INTO dead_letters (webhook, seq, attempts, error, failed_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (webhook, seq) DO UPDATE SET \
             attempts = EXCLUDED.attempts, error = EXCLUDED.error, failed_at = EXCLUDED.failed_at",
        )
        .bind(letter.webhook.as_str())
        .bind(db_u64(letter.seq))
        .bind(i64::from(letter.attempts))
        .bind(letter.error.as_str())
        .bind(letter.failed_at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn dead_letters(&self, webhook: &str) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT webhook, seq, attempts, error, failed_at FROM dead_letters \
             WHERE webhook = $1 ORDER BY seq",
        )
        .bind(webhook)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter().map(|r| decode::dead_letter(&Pg(r))).collect()
    }

    async fn clear_dead_letters(&self, webhook: &str, from: u64) -> Result<()> {
        sqlx::query("DELETE FROM dead_letters WHERE webhook = $1 AND seq >= $2")
            .bind(webhook)
            .bind(db_u64(from))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
