//! Incidents and notice entries in SQLite: `incidents` (recorded once, published once) and
//! `notice_events`, the third kind of ledger entry, sharing seq and tree with `events` and
//! `admin_events`.

use super::{
    append_admin_in, bytes32, column, commitments_for, db_error, ledger_head, nodes_json, refused,
    to_seq, with_stored_nodes, Commitments, SqliteStore,
};
use keuze_core::admin::{Attribution, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEntry, NoticeEvent, NoticeKind};
use keuze_core::merkle::TreeBuilder;
use keuze_core::{Locale, Source, SubjectId, Timestamp};
use keuze_store::{NoticeCounts, Result, StoreError, StoredIncident};
use sqlx::sqlite::{SqliteConnection, SqliteRow};

const INCIDENT_COLUMNS: &str = "number, digest, canonical, recorded_at, published_at";

fn decode_incident(row: &SqliteRow) -> Result<StoredIncident> {
    let number: i64 = column(row, &|| "an incident".to_owned(), "number")?;
    let what = move || format!("incident {number}");
    let what: &dyn Fn() -> String = &what;
    let published_at: Option<i64> = column(row, what, "published_at")?;
    Ok(StoredIncident {
        number: u32::try_from(number)
            .map_err(|_| StoreError::Corrupt(format!("{}: the number is out of range", what())))?,
        digest: Digest256(bytes32(row, what, "digest")?),
        canonical: column(row, what, "canonical")?,
        recorded_at: Timestamp::from_unix_millis(column(row, what, "recorded_at")?),
        published_at: published_at.map(Timestamp::from_unix_millis),
    })
}

/// The fields of a `notice_events` row, checked.
struct NoticeRow {
    seq: u64,
    commitment: Digest256,
    incident: u32,
    kind: NoticeKind,
    notice_digest: Digest256,
    locale: Locale,
    source: Source,
    recorded_at: Timestamp,
}

pub(crate) const NOTICE_COLUMNS: &str = "n.seq, n.subject_commitment, n.incident, n.kind, \
     n.notice_digest, n.locale, n.source, n.recorded_at";

fn decode_notice(row: &SqliteRow) -> Result<NoticeRow> {
    let seq: i64 = column(row, &|| "a notice entry".to_owned(), "seq")?;
    let what = move || format!("notice entry seq {seq}");
    let what: &dyn Fn() -> String = &what;
    let incident: i64 = column(row, what, "incident")?;
    let kind: String = column(row, what, "kind")?;
    let locale: String = column(row, what, "locale")?;
    let source: String = column(row, what, "source")?;
    let bad = |field: &str, value: &str| {
        StoreError::Corrupt(format!("{}: field `{field}` holds `{value}`", what()))
    };
    Ok(NoticeRow {
        seq: to_seq(seq)?,
        commitment: Digest256(bytes32(row, what, "subject_commitment")?),
        incident: u32::try_from(incident).map_err(|_| bad("incident", &incident.to_string()))?,
        kind: NoticeKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        notice_digest: Digest256(bytes32(row, what, "notice_digest")?),
        locale: Locale::parse(&locale).map_err(|_| bad("locale", &locale))?,
        source: Source::parse(&source).ok_or_else(|| bad("source", &source))?,
        recorded_at: Timestamp::from_unix_millis(column(row, what, "recorded_at")?),
    })
}

impl NoticeRow {
    fn entry(self) -> NoticeEntry {
        NoticeEntry {
            seq: self.seq,
            subject_commitment: self.commitment,
            incident: self.incident,
            kind: self.kind,
            notice_digest: self.notice_digest,
            locale: self.locale,
            source: self.source,
            recorded_at: self.recorded_at,
        }
    }

    fn event(self, subject: SubjectId) -> NoticeEvent {
        NoticeEvent {
            seq: self.seq,
            notice: NewNotice {
                subject,
                incident: self.incident,
                kind: self.kind,
                notice_digest: self.notice_digest,
                locale: self.locale,
                source: self.source,
                recorded_at: self.recorded_at,
            },
        }
    }
}

fn pseudonym(row: &SqliteRow, seq: u64) -> Result<Option<SubjectId>> {
    let bytes: Option<Vec<u8>> = column(row, &|| format!("notice entry seq {seq}"), "subject")?;
    bytes
        .map(|b| {
            <[u8; 32]>::try_from(b.as_slice())
                .map(SubjectId::from_bytes)
                .map_err(|_| {
                    StoreError::Corrupt(format!(
                        "notice entry seq {seq}: its subject's pseudonym is not 32 bytes"
                    ))
                })
        })
        .transpose()
}

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
        .map(|r| decode_notice(r).map(NoticeRow::entry))
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
        .map(|row| {
            let notice = decode_notice(row)?;
            let seq = notice.seq;
            Ok((seq, pseudonym(row, seq)?.map(|s| notice.event(s))))
        })
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
        rows.iter().map(decode_incident).collect()
    }

    pub(crate) async fn incident_in(&self, number: u32) -> Result<Option<StoredIncident>> {
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE number = ?1");
        let row = sqlx::query(&sql)
            .bind(i64::from(number))
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?;
        row.as_ref().map(decode_incident).transpose()
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
        let Some(mut incident) = row.as_ref().map(decode_incident).transpose()? else {
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
            .map(|r| decode_notice(r).map(|n| n.event(*subject)))
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
