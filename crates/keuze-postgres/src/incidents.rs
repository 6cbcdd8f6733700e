//! Incidents and notice entries in PostgreSQL: `incidents` (recorded once, published once)
//! and `notice_events`, the third kind of ledger entry, sharing seq and tree with `events`
//! and `admin_events`.
//!
//! Every write here appends to the ledger (an admin entry, or the notices themselves), so
//! each holds the ledger sequencer from its first statement: incident numbers, like seqs,
//! follow from the committed state, and no other node's append or erasure can land in
//! between. A notice batch is checked (every incident recorded, no subject erased) inside
//! that transaction, and a refused batch rolls back whole, salts included.

use crate::append::{append_admin_in, append_notices_in};
use crate::rows::Pg;
use crate::store::refused;
use crate::{db_error, PgStore, Sequencer};
use keuze_core::admin::{Attribution, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEvent};
use keuze_core::SubjectId;
use keuze_store::decode::{self, StoredRow, INCIDENT_COLUMNS, NOTICE_COLUMNS};
use keuze_store::{NoticeCounts, Result, StoreError, StoredIncident};
use sqlx::PgConnection;

/// Refuses a batch naming an incident that is not recorded, naming the missing numbers.
/// Inside the sequenced transaction: incidents are recorded under the same lock, so the
/// answer holds until the notices are written.
async fn check_incidents(conn: &mut PgConnection, notices: &[NewNotice]) -> Result<()> {
    let mut named: Vec<i64> = notices.iter().map(|n| i64::from(n.incident)).collect();
    named.sort_unstable();
    named.dedup();
    let missing: Vec<i64> = sqlx::query_scalar(
        "SELECT w.number FROM UNNEST($1::int8[]) AS w (number) \
         WHERE NOT EXISTS (SELECT 1 FROM incidents AS i WHERE i.number = w.number) \
         ORDER BY w.number",
    )
    .bind(named)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    if missing.is_empty() {
        return Ok(());
    }
    let missing: Vec<String> = missing.iter().map(i64::to_string).collect();
    Err(refused(format!(
        "a notice names incident {}, which is not recorded",
        missing.join(", ")
    )))
}

impl PgStore {
    pub(crate) async fn record_incident_in(
        &self,
        digest: Digest256,
        canonical: String,
        by: &Attribution,
    ) -> Result<StoredIncident> {
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        let latest: i64 = sqlx::query_scalar("SELECT coalesce(max(number), 0) FROM incidents")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let number = latest
            .checked_add(1)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("the latest incident is {latest}")))?;
        sqlx::query(
            "INSERT INTO incidents (number, digest, canonical, recorded_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(i64::from(number))
        .bind(digest.0.as_slice())
        .bind(canonical.as_str())
        .bind(by.at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let audit = NewAdminEntry::incident_recorded(by, number, &digest);
        append_admin_in(&mut tx, &self.channel, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(StoredIncident {
            number,
            digest,
            canonical,
            recorded_at: by.at,
            published_at: None,
        })
    }

    pub(crate) async fn incidents_in(&self) -> Result<Vec<StoredIncident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY number");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| decode::incident(&Pg(r))).collect()
    }

    pub(crate) async fn incident_in(&self, number: u32) -> Result<Option<StoredIncident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = $1");
        let row = sqlx::query(&sql)
            .bind(i64::from(number))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        row.as_ref().map(|r| decode::incident(&Pg(r))).transpose()
    }

    pub(crate) async fn publish_incident_in(
        &self,
        number: u32,
        by: &Attribution,
    ) -> Result<Option<StoredIncident>> {
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        // Only an unpublished incident changes; the trigger refuses anything else.
        let sql = format!(
            "UPDATE incidents SET published_at = $2 \
             WHERE number = $1 AND published_at IS NULL RETURNING {INCIDENT_COLUMNS}"
        );
        let published = sqlx::query(&sql)
            .bind(i64::from(number))
            .bind(by.at.unix_millis())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(row) = published else {
            // Unknown, or published already: nothing written (the transaction rolls back).
            let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = $1");
            let row = sqlx::query(&sql)
                .bind(i64::from(number))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
            return row.as_ref().map(|r| decode::incident(&Pg(r))).transpose();
        };
        let incident = decode::incident(&Pg(&row))?;
        let audit = NewAdminEntry::incident_published(by, number);
        append_admin_in(&mut tx, &self.channel, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(incident))
    }

    pub(crate) async fn append_notice_batch(
        &self,
        notices: Vec<NewNotice>,
    ) -> Result<Vec<NoticeEvent>> {
        if notices.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_sequenced(Sequencer::Ledger).await?;
        check_incidents(&mut tx, &notices).await?;
        let out = append_notices_in(&mut tx, &self.channel, notices).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(out)
    }

    pub(crate) async fn notices_in(&self, subject: &SubjectId) -> Result<Vec<NoticeEvent>> {
        // Through `subjects`: an erased subject has no row there, so no notices either.
        let sql = format!(
            "SELECT {NOTICE_COLUMNS}, s.pseudonym AS subject FROM subjects AS s \
             JOIN notice_events AS n ON n.subject_commitment = s.commitment \
             WHERE s.pseudonym = $1 ORDER BY n.seq"
        );
        let rows = sqlx::query(&sql)
            .bind(subject.as_bytes().as_slice())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| decode::notice_event(&Pg(r))).collect()
    }

    pub(crate) async fn notified_subjects_in(&self, incident: u32) -> Result<Vec<SubjectId>> {
        let rows = sqlx::query(
            "SELECT DISTINCT s.pseudonym FROM notice_events AS n \
             JOIN subjects AS s ON s.commitment = n.subject_commitment \
             WHERE n.incident = $1 AND n.kind = 'notified'",
        )
        .bind(i64::from(incident))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|row| {
                StoredRow::new(
                    Pg(row),
                    format!("a subject notified of incident {incident}"),
                )
                .subject("pseudonym")
            })
            .collect()
    }

    pub(crate) async fn notice_counts_in(&self, incident: u32) -> Result<NoticeCounts> {
        let row = sqlx::query(
            "SELECT count(*) FILTER (WHERE kind = 'notified') AS notified, \
             count(*) FILTER (WHERE kind = 'acknowledged') AS acknowledged \
             FROM notice_events WHERE incident = $1",
        )
        .bind(i64::from(incident))
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let r = StoredRow::new(
            Pg(&row),
            format!("the notice counts of incident {incident}"),
        );
        Ok(NoticeCounts {
            notified: r.number("notified")?,
            acknowledged: r.number("acknowledged")?,
        })
    }
}
