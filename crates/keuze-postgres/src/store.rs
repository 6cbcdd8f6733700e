//! [`Store`] for PostgreSQL. Reads go straight to the pool; every write is one
//! transaction, those that number things (ledger, checkpoints, catalog versions) holding
//! their [`Sequencer`].

use crate::append::{append_admin_in, append_in, LAST_SEQ_SQL};
use crate::rows::{db_u64, Pg, LEDGER_COLUMNS};
use crate::tree::{fetch_nodes, on_stored_tree, stored_size};
use crate::{db_error, outbox, PgStore, Sequencer};
use async_trait::async_trait;
use keuze_core::admin::{self, AdminEntry, Attribution, LedgerLeaf, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEvent};
use keuze_core::merkle::{self, Hash};
use keuze_core::receipt::{LedgerEntry, SubjectSalt};
use keuze_core::{Action, ConsentEvent, NewEvent, SubjectId};
use keuze_store::decode::{self, StoredRow, ADMIN_COLUMNS, NOTICE_COLUMNS};
use keuze_store::{
    ApiKey, NoticeCounts, Result, Store, StoreError, StoredCatalog, StoredCheckpoint,
    StoredIncident, StoredLogKey,
};
use sqlx::postgres::PgArguments;
use sqlx::{PgConnection, Postgres};

const DAY_MS: i64 = 86_400_000;

/// A consent event: a ledger row `e` with its subject's clear pseudonym from `s`, the
/// subject's `subjects` row; erased subjects have none, so their events drop out.
fn event_columns() -> String {
    format!("{LEDGER_COLUMNS}, s.pseudonym AS subject")
}

const CHECKPOINT_COLUMNS: &str = "size, root, note, signed_at";

const API_KEY_COLUMNS: &str = "id, secret_hash, scopes, label, created_at, revoked_at";

const CATALOG_COLUMNS: &str = "number, digest, canonical, source, published_at";

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// Why a request was refused before anything was written. [`StoreError`] has no variant
/// for a caller's mistake, and `Corrupt` is the one that says "not what Keuze writes".
pub(crate) fn refused(why: String) -> StoreError {
    StoreError::Corrupt(format!("refused to write: {why}"))
}

impl PgStore {
    async fn fetch_events(&self, query: PgQuery<'_>) -> Result<Vec<ConsentEvent>> {
        let rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        rows.iter().map(|r| decode::consent_event(&Pg(r))).collect()
    }

    async fn fetch_admin(&self, query: PgQuery<'_>) -> Result<Vec<AdminEntry>> {
        let rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        rows.iter().map(|r| decode::admin_entry(&Pg(r))).collect()
    }

    async fn fetch_checkpoints(&self, query: PgQuery<'_>) -> Result<Vec<StoredCheckpoint>> {
        let rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        rows.iter().map(|r| decode::checkpoint(&Pg(r))).collect()
    }
}

/// Refuses what `erase_subject` must not record: entries of another kind or subject, or
/// none. Returns the earliest entry's time.
fn check_erasure(subject: &SubjectId, erasure: &[NewEvent]) -> Result<i64> {
    if let Some(e) = erasure
        .iter()
        .find(|e| e.subject != *subject || e.action != Action::Erase)
    {
        let other = if e.subject == *subject {
            ""
        } else {
            " of another subject"
        };
        return Err(refused(format!(
            "`erase_subject` was given a `{}` entry{other}; it records only the subject's own \
             erase entries",
            e.action
        )));
    }
    // The ledger must show the erasure: its entries are the last leaves tied to the
    // subject while the salt still exists.
    erasure
        .iter()
        .map(|e| e.recorded_at.unix_millis())
        .min()
        .ok_or_else(|| {
            refused(
                "`erase_subject` was given no erase entries; the ledger must record the erasure"
                    .into(),
            )
        })
}

/// Destroys what ties `subject` to its leaves (salt, projection rows) and remembers the
/// erasure, on the UTC day of `erased_at` only: the exact time would equal the erase
/// entries' `recorded_at` and tie the pseudonym to their commitment.
async fn shred_subject(conn: &mut PgConnection, subject: &SubjectId, erased_at: i64) -> Result<()> {
    let pseudonym = subject.as_bytes().as_slice();
    for sql in [
        "DELETE FROM subjects WHERE pseudonym = $1",
        "DELETE FROM consent_state WHERE subject = $1",
    ] {
        sqlx::query(sql)
            .bind(pseudonym)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    sqlx::query("INSERT INTO erased_subjects (pseudonym, erased_at) VALUES ($1, $2)")
        .bind(pseudonym)
        .bind(erased_at.div_euclid(DAY_MS).saturating_mul(DAY_MS))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn is_erased(conn: &mut PgConnection, subject: &SubjectId) -> Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM erased_subjects WHERE pseudonym = $1)")
        .bind(subject.as_bytes().as_slice())
        .fetch_one(conn)
        .await
        .map_err(db_error)
}

/// Refuses a checkpoint that does not extend the latest one, covers leaves that do not
/// exist, or carries another root than the stored tree's at its size.
async fn check_checkpoint(conn: &mut PgConnection, checkpoint: &StoredCheckpoint) -> Result<()> {
    let size = checkpoint.size;
    let latest: Option<i64> = sqlx::query_scalar("SELECT max(size) FROM checkpoints")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    if let Some(latest) = latest.filter(|&l| l >= db_u64(size)) {
        return Err(refused(format!(
            "a checkpoint for tree size {size}: the latest checkpoint is for size {latest}, \
             and checkpoints only grow"
        )));
    }
    let leaves = stored_size(conn).await?;
    if size > leaves {
        return Err(refused(format!(
            "a checkpoint for tree size {size}: the tree has {leaves} leaves"
        )));
    }
    let root = on_stored_tree(conn, |nodes| merkle::root_at(size, nodes)).await?;
    if root != checkpoint.root {
        return Err(refused(format!(
            "a checkpoint for tree size {size} with root {}: the stored tree's root at that \
             size is {}",
            merkle::hash_to_hex(&checkpoint.root),
            merkle::hash_to_hex(&root)
        )));
    }
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        if events.iter().any(|e| e.action == Action::Erase) {
            return Err(refused(
                "an erase entry was passed to `append`; only `erase_subject` records erasures"
                    .into(),
            ));
        }
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        let out = append_in(&mut tx, &self.channel, events).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn tree_size(&self) -> Result<u64> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        stored_size(&mut conn).await
    }

    async fn tree_nodes(&self, wanted: &[(u8, u64)]) -> Result<Vec<Hash>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        fetch_nodes(&mut conn, wanted).await
    }

    async fn ledger_entries(&self, after: u64, limit: u32) -> Result<Vec<LedgerEntry>> {
        let sql = format!(
            "SELECT {LEDGER_COLUMNS} FROM events AS e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(db_u64(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| decode::ledger_entry(&Pg(r))).collect()
    }

    async fn ledger_leaves(&self, after: u64, limit: u32) -> Result<Vec<LedgerLeaf>> {
        // One snapshot for the three tables: an append between two reads would otherwise
        // leave a hole in the merged page.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db_error)?;
        let consent = format!(
            "SELECT {LEDGER_COLUMNS} FROM events AS e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"
        );
        let consent = sqlx::query(&consent)
            .bind(db_u64(after))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let admin = format!(
            "SELECT {ADMIN_COLUMNS} FROM admin_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let admin = sqlx::query(&admin)
            .bind(db_u64(after))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let notices = format!(
            "SELECT {NOTICE_COLUMNS} FROM notice_events AS n WHERE n.seq > $1 \
             ORDER BY n.seq LIMIT $2"
        );
        let notices = sqlx::query(&notices)
            .bind(db_u64(after))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let consent = consent
            .iter()
            .map(|r| decode::ledger_entry(&Pg(r)))
            .collect::<Result<Vec<_>>>()?;
        let admin = admin
            .iter()
            .map(|r| decode::admin_entry(&Pg(r)))
            .collect::<Result<Vec<_>>>()?;
        let notices = notices
            .iter()
            .map(|r| decode::notice_entry(&Pg(r)))
            .collect::<Result<Vec<_>>>()?;
        Ok(admin::merge_leaves(consent, admin, notices, limit as usize))
    }

    async fn append_admin(&self, entry: NewAdminEntry) -> Result<AdminEntry> {
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        let entry = append_admin_in(&mut tx, &self.channel, entry).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(entry)
    }

    async fn admin_entries(&self, after: u64, limit: u32) -> Result<Vec<AdminEntry>> {
        let sql = format!(
            "SELECT {ADMIN_COLUMNS} FROM admin_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        self.fetch_admin(sqlx::query(&sql).bind(db_u64(after)).bind(i64::from(limit)))
            .await
    }

    async fn subject_salt(&self, subject: &SubjectId) -> Result<Option<SubjectSalt>> {
        let row = sqlx::query("SELECT salt FROM subjects WHERE pseudonym = $1")
            .bind(subject.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.map(|row| {
            StoredRow::new(Pg(&row), "a subject's row")
                .bytes32("salt")
                .map(SubjectSalt)
        })
        .transpose()
    }

    async fn erase_subject(
        &self,
        subject: &SubjectId,
        erasure: Vec<NewEvent>,
        by: &Attribution,
    ) -> Result<Vec<ConsentEvent>> {
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        if is_erased(&mut tx, subject).await? {
            return Err(StoreError::Erased);
        }
        let erased_at = check_erasure(subject, &erasure)?;
        let out = append_in(&mut tx, &self.channel, erasure).await?;
        if let (Some(first), Some(last)) = (out.first(), out.last()) {
            outbox::hold_erasure(&mut tx, subject, last.seq).await?;
            let audit = NewAdminEntry::subject_erased(by, first.seq, last.seq);
            append_admin_in(&mut tx, &self.channel, audit).await?;
        }
        shred_subject(&mut tx, subject, erased_at).await?;
        tx.commit().await.map_err(db_error)?;
        tracing::info!(
            entries = out.len(),
            "erased a subject; its salt is destroyed"
        );
        Ok(out)
    }

    async fn erased_subjects(&self) -> Result<Vec<SubjectId>> {
        let rows = sqlx::query("SELECT pseudonym FROM erased_subjects ORDER BY pseudonym")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| StoredRow::new(Pg(row), "an erased subject").subject("pseudonym"))
            .collect()
    }

    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<()> {
        let Ok(size) = i64::try_from(checkpoint.size) else {
            return Err(refused(format!(
                "a checkpoint for tree size {}",
                checkpoint.size
            )));
        };
        let mut tx = self.begin_sequenced(Sequencer::Checkpoints).await?;
        check_checkpoint(&mut tx, checkpoint).await?;
        sqlx::query(
            "INSERT INTO checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(size)
        .bind(checkpoint.root.as_slice())
        .bind(checkpoint.note.as_str())
        .bind(checkpoint.signed_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        let sql =
            format!("SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY size DESC LIMIT 1");
        Ok(self.fetch_checkpoints(sqlx::query(&sql)).await?.pop())
    }

    async fn checkpoints_after(&self, after: u64, limit: u32) -> Result<Vec<StoredCheckpoint>> {
        let sql = format!(
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE size > $1 ORDER BY size LIMIT $2"
        );
        self.fetch_checkpoints(sqlx::query(&sql).bind(db_u64(after)).bind(i64::from(limit)))
            .await
    }

    async fn add_log_key(&self, key: &StoredLogKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO log_keys (verifier, created_at) VALUES ($1, $2) \
             ON CONFLICT (verifier) DO NOTHING",
        )
        .bind(key.verifier.as_str())
        .bind(key.created_at.unix_millis())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn log_keys(&self) -> Result<Vec<StoredLogKey>> {
        let rows =
            sqlx::query("SELECT verifier, created_at FROM log_keys ORDER BY created_at, verifier")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        rows.iter().map(|r| decode::log_key(&Pg(r))).collect()
    }

    async fn projection(&self) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {} FROM consent_state AS c \
             JOIN events AS e ON e.seq = c.seq \
             JOIN subjects AS s ON s.commitment = e.subject_commitment \
             ORDER BY c.seq",
            event_columns()
        );
        self.fetch_events(sqlx::query(&sql)).await
    }

    async fn subject_state(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {} FROM consent_state AS c \
             JOIN events AS e ON e.seq = c.seq \
             JOIN subjects AS s ON s.commitment = e.subject_commitment \
             WHERE c.subject = $1 AND s.pseudonym = $1 ORDER BY c.seq",
            event_columns()
        );
        self.fetch_events(sqlx::query(&sql).bind(subject.as_bytes().as_slice()))
            .await
    }

    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {} FROM subjects AS s \
             JOIN events AS e ON e.subject_commitment = s.commitment \
             WHERE s.pseudonym = $1 ORDER BY e.seq",
            event_columns()
        );
        self.fetch_events(sqlx::query(&sql).bind(subject.as_bytes().as_slice()))
            .await
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {} FROM events AS e \
             JOIN subjects AS s ON s.commitment = e.subject_commitment \
             WHERE e.seq > $1 ORDER BY e.seq LIMIT $2",
            event_columns()
        );
        self.fetch_events(sqlx::query(&sql).bind(db_u64(after)).bind(i64::from(limit)))
            .await
    }

    async fn event_count(&self) -> Result<u64> {
        // The schema keeps seq gap-free from 1 across every kind of entry, so the largest
        // is the count, without a scan.
        let max: i64 = sqlx::query_scalar(LAST_SEQ_SQL)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        u64::try_from(max)
            .map_err(|_| StoreError::Corrupt(format!("the ledger's largest seq is {max}")))
    }

    async fn rebuild_projection(&self) -> Result<u64> {
        // Under the ledger sequencer: no append of any node lands between the two statements.
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        sqlx::query("DELETE FROM consent_state")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        // Through `subjects`: an erased subject has no row there, so no state either.
        let rows = sqlx::query(
            "INSERT INTO consent_state (subject, purpose, seq) \
             SELECT s.pseudonym, e.purpose, max(e.seq) \
             FROM events AS e JOIN subjects AS s ON s.commitment = e.subject_commitment \
             GROUP BY s.pseudonym, e.purpose",
        )
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        tx.commit().await.map_err(db_error)?;
        tracing::info!(rows, "rebuilt the consent state from the ledger");
        Ok(rows)
    }

    async fn insert_api_key(&self, key: &ApiKey, by: &Attribution) -> Result<AdminEntry> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let audit = NewAdminEntry::key_created(by, &key.id, &scopes)
            .map_err(|e| refused(format!("the key id `{}` cannot be audited: {e}", key.id)))?;
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        sqlx::query(
            "INSERT INTO api_keys (id, secret_hash, scopes, label, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.id.as_str())
        .bind(key.secret_hash.0.as_slice())
        .bind(scopes)
        .bind(key.label.as_str())
        .bind(key.created_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let entry = append_admin_in(&mut tx, &self.channel, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(entry)
    }

    async fn revoke_api_key(&self, id: &str, by: &Attribution) -> Result<Option<AdminEntry>> {
        let audit = NewAdminEntry::key_revoked(by, id)
            .map_err(|e| refused(format!("the key id `{id}` cannot be audited: {e}")))?;
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        let revoked =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(by.at.unix_millis())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
        if revoked == 0 {
            return Ok(None);
        }
        let entry = append_admin_in(&mut tx, &self.channel, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(entry))
    }

    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        row.as_ref().map(|r| decode::api_key(&Pg(r))).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| decode::api_key(&Pg(r))).collect()
    }

    async fn latest_catalog(&self) -> Result<Option<StoredCatalog>> {
        let sql =
            format!("SELECT {CATALOG_COLUMNS} FROM catalog_versions ORDER BY number DESC LIMIT 1");
        let row = sqlx::query(&sql)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(|r| decode::catalog(&Pg(r))).transpose()
    }

    async fn catalog_version(&self, number: u32) -> Result<Option<StoredCatalog>> {
        let sql = format!("SELECT {CATALOG_COLUMNS} FROM catalog_versions WHERE number = $1");
        let row = sqlx::query(&sql)
            .bind(i64::from(number))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(|r| decode::catalog(&Pg(r))).transpose()
    }

    async fn publish_catalog(
        &self,
        digest: Digest256,
        canonical: String,
        source: String,
        by: &Attribution,
    ) -> Result<StoredCatalog> {
        let at = by.at;
        let mut tx = self.begin_sequenced(Sequencer::Catalog).await?;
        self.lock_too(&mut tx, Sequencer::Ledger).await?;
        let latest: i64 =
            sqlx::query_scalar("SELECT coalesce(max(number), 0) FROM catalog_versions")
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        let number = latest
            .checked_add(1)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                StoreError::Corrupt(format!("the latest catalog version is {latest}"))
            })?;
        sqlx::query(&format!(
            "INSERT INTO catalog_versions ({CATALOG_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(i64::from(number))
        .bind(digest.0.as_slice())
        .bind(canonical.as_str())
        .bind(source.as_str())
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let audit = NewAdminEntry::catalog_published(by, number, &digest);
        append_admin_in(&mut tx, &self.channel, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(StoredCatalog {
            number,
            digest,
            canonical,
            source,
            published_at: at,
        })
    }

    async fn record_incident(
        &self,
        digest: Digest256,
        canonical: String,
        by: &Attribution,
    ) -> Result<StoredIncident> {
        self.record_incident_in(digest, canonical, by).await
    }

    async fn incidents(&self) -> Result<Vec<StoredIncident>> {
        self.incidents_in().await
    }

    async fn incident(&self, number: u32) -> Result<Option<StoredIncident>> {
        self.incident_in(number).await
    }

    async fn publish_incident(
        &self,
        number: u32,
        by: &Attribution,
    ) -> Result<Option<StoredIncident>> {
        self.publish_incident_in(number, by).await
    }

    async fn append_notices(&self, notices: Vec<NewNotice>) -> Result<Vec<NoticeEvent>> {
        self.append_notice_batch(notices).await
    }

    async fn notices(&self, subject: &SubjectId) -> Result<Vec<NoticeEvent>> {
        self.notices_in(subject).await
    }

    async fn notified_subjects(&self, incident: u32) -> Result<Vec<SubjectId>> {
        self.notified_subjects_in(incident).await
    }

    async fn notice_counts(&self, incident: u32) -> Result<NoticeCounts> {
        self.notice_counts_in(incident).await
    }

    async fn remember_once(&self, name: &str, value: &str) -> Result<String> {
        // A concurrent first caller's insert makes this one wait for its commit and then
        // do nothing; the read after it (READ COMMITTED: a new snapshot per statement)
        // sees the winner's value.
        sqlx::query("INSERT INTO remembered (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        sqlx::query_scalar("SELECT value FROM remembered WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)
    }
}
