//! Incidents and notice entries in SQLite: `incidents` (recorded once, published once) and
//! `notice_events`, the third kind of ledger entry, sharing seq and tree with `events` and
//! `admin_events`.

use super::{
    append_admin_in, commitments_for, db_error, ledger_head, nodes_json, refused,
    with_stored_nodes, Commitments, SqliteStore,
};
use crate::rows::Lite;
use keuze_core::admin::{Attribution, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEntry, NoticeEvent};
use keuze_core::merkle::TreeBuilder;
use keuze_core::SubjectId;
use keuze_store::decode::{self, INCIDENT_COLUMNS, NOTICE_COLUMNS};
use keuze_store::{NoticeCounts, Result, StoreError, StoredIncident};
use sqlx::sqlite::SqliteConnection;

/// Notice entries with `seq > after`, at most `limit`, as their leaves commit to them.
pub(crate) async fn read_notice_entries(
    conn: &mut SqliteConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<NoticeEntry>> {
    let sql = format!(
        "SELECT {NOTICE_COLUMNS} FROM notice_events AS n WHERE n.seq > ?1 ORDER BY n.seq LIMIT ?2"
    );
    let rows = sqlx::query(&sql)
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter()
        .map(|r| decode::notice_entry(&Lite(r)))
        .collect()
}

/// Notice entries with `seq > after`, at most `limit`, each with its subject's pseudonym
/// (held back for erased subjects like consent events; `None` once it is gone).
pub(crate) async fn outbox_notices(
    conn: &mut SqliteConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<(u64, Option<NoticeEvent>)>> {
    let sql = format!(
        "SELECT {NOTICE_COLUMNS}, coalesce(s.pseudonym, h.pseudonym) AS subject \
         FROM notice_events AS n \
         LEFT JOIN subjects AS s ON s.commitment = n.subject_commitment \
         LEFT JOIN outbox_erasures AS h ON h.commitment = n.subject_commitment \
         WHERE n.seq > ?1 ORDER BY n.seq LIMIT ?2"
    );
    let rows = sqlx::query(&sql)
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter()
        .map(|r| decode::outbox_notice(&Lite(r)))
        .collect()
}

impl SqliteStore {
    pub(crate) async fn record_incident_in(
        &self,
        digest: Digest256,
        canonical: String,
        by: &Attribution,
    ) -> Result<StoredIncident> {
        let mut tx = self.begin_write().await?;
        let latest: i64 = sqlx::query_scalar("SELECT coalesce(max(number), 0) FROM incidents")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let number = latest
            .checked_add(1)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("the latest incident is {latest}")))?;
        sqlx::query(
            "INSERT INTO incidents (number, digest, canonical, recorded_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(i64::from(number))
        .bind(digest.0.as_slice())
        .bind(canonical.as_str())
        .bind(by.at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        append_admin_in(
            &mut tx,
            NewAdminEntry::incident_recorded(by, number, &digest),
        )
        .await?;
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
            .fetch_all(&self.readers)
            .await
            .map_err(db_error)?;
        rows.iter().map(|r| decode::incident(&Lite(r))).collect()
    }

    pub(crate) async fn incident_in(&self, number: u32) -> Result<Option<StoredIncident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = ?1");
        let row = sqlx::query(&sql)
            .bind(i64::from(number))
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?;
        row.as_ref().map(|r| decode::incident(&Lite(r))).transpose()
    }

    pub(crate) async fn publish_incident_in(
        &self,
        number: u32,
        by: &Attribution,
    ) -> Result<Option<StoredIncident>> {
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = ?1");
        let row = sqlx::query(&sql)
            .bind(i64::from(number))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        let Some(mut incident) = row
            .as_ref()
            .map(|r| decode::incident(&Lite(r)))
            .transpose()?
        else {
            return Ok(None);
        };
        if incident.published_at.is_none() {
            sqlx::query("UPDATE incidents SET published_at = ?2 WHERE number = ?1")
                .bind(i64::from(number))
                .bind(by.at.unix_millis())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            append_admin_in(&mut tx, NewAdminEntry::incident_published(by, number)).await?;
            incident.published_at = Some(by.at);
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Some(incident))
    }

    pub(crate) async fn append_notices_in(
        &self,
        notices: Vec<NewNotice>,
    ) -> Result<Vec<NoticeEvent>> {
        if notices.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let conn: &mut SqliteConnection = &mut tx;
        let mut incidents: Vec<u32> = notices.iter().map(|n| n.incident).collect();
        incidents.sort_unstable();
        incidents.dedup();
        let known: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM incidents WHERE number IN (SELECT value FROM json_each(?1))",
        )
        .bind(serde_json::to_string(&incidents).unwrap_or_default())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
        if usize::try_from(known).ok() != Some(incidents.len()) {
            return Err(refused(format!(
                "a notice names an incident that is not recorded (of {incidents:?})"
            )));
        }
        let size = ledger_head(conn).await?;
        let mut tree = with_stored_nodes(conn, |nodes| TreeBuilder::resume(size, nodes)).await?;
        let Commitments {
            of: commitments,
            fresh,
        } = commitments_for(conn, notices.iter().map(|n| n.subject)).await?;
        let mut nodes = Vec::with_capacity(notices.len() * 2);
        let mut rows = Vec::with_capacity(notices.len());
        let mut out = Vec::with_capacity(notices.len());
        let mut seq = size;
        for notice in notices {
            let commitment = *commitments.get(&notice.subject).ok_or_else(|| {
                StoreError::Corrupt("a subject of the batch got no commitment".into())
            })?;
            seq = seq
                .checked_add(1)
                .ok_or_else(|| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
            let entry = NoticeEntry::of(seq, commitment, &notice);
            nodes.extend(tree.append(entry.leaf_hash()));
            rows.push(serde_json::json!([
                seq,
                hex::encode(commitment.0),
                notice.incident,
                notice.kind.as_str(),
                hex::encode(notice.notice_digest.0),
                notice.locale.as_str(),
                notice.source.as_str(),
                notice.recorded_at.unix_millis(),
            ]));
            out.push(NoticeEvent { seq, notice });
        }
        sqlx::query(
            "INSERT INTO subjects (pseudonym, salt, commitment) \
             SELECT unhex(value ->> 0), unhex(value ->> 1), unhex(value ->> 2) \
             FROM json_each(?); \
             INSERT INTO notice_events (seq, subject_commitment, incident, kind, notice_digest, \
             locale, source, recorded_at) \
             SELECT value ->> 0, unhex(value ->> 1), value ->> 2, value ->> 3, \
             unhex(value ->> 4), value ->> 5, value ->> 6, value ->> 7 \
             FROM json_each(?) ORDER BY key; \
             INSERT INTO tree_nodes (level, idx, hash) \
             SELECT value ->> 0, value ->> 1, unhex(value ->> 2) FROM json_each(?)",
        )
        .bind(serde_json::Value::Array(fresh).to_string())
        .bind(serde_json::Value::Array(rows).to_string())
        .bind(nodes_json(&nodes))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(out)
    }

    pub(crate) async fn notices_in(&self, subject: &SubjectId) -> Result<Vec<NoticeEvent>> {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM subjects AS s \
             JOIN notice_events AS n ON n.subject_commitment = s.commitment \
             WHERE s.pseudonym = ?1 ORDER BY n.seq"
        );
        let rows = sqlx::query(&sql)
            .bind(subject.as_bytes().as_slice())
            .fetch_all(&self.readers)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|r| decode::NoticeFields::decode(&Lite(r)).map(|n| n.into_event(*subject)))
            .collect()
    }

    pub(crate) async fn notified_subjects_in(&self, incident: u32) -> Result<Vec<SubjectId>> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT DISTINCT s.pseudonym FROM notice_events AS n \
             JOIN subjects AS s ON s.commitment = n.subject_commitment \
             WHERE n.incident = ?1 AND n.kind = 'notified'",
        )
        .bind(i64::from(incident))
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|b| {
                <[u8; 32]>::try_from(b.as_slice())
                    .map(SubjectId::from_bytes)
                    .map_err(|_| {
                        StoreError::Corrupt("a subject's pseudonym is not 32 bytes".into())
                    })
            })
            .collect()
    }

    pub(crate) async fn notice_counts_in(&self, incident: u32) -> Result<NoticeCounts> {
        let (notified, acknowledged): (i64, i64) = sqlx::query_as(
            "SELECT coalesce(sum(kind = 'notified'), 0), coalesce(sum(kind = 'acknowledged'), 0) \
             FROM notice_events WHERE incident = ?1",
        )
        .bind(i64::from(incident))
        .fetch_one(&self.readers)
        .await
        .map_err(db_error)?;
        Ok(NoticeCounts {
            notified: u64::try_from(notified).unwrap_or(0),
            acknowledged: u64::try_from(acknowledged).unwrap_or(0),
        })
    }
}
