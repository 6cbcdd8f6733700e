//! The append path, inside a transaction that holds the ledger sequencer: ledger rows
//! (consent, admin and notice entries), subjects' salts, the projection and the Merkle
//! tree, each written for the whole batch by one statement over arrays (`UNNEST`), so a
//! batch costs a handful of round trips however many entries it holds.

use crate::db_error;
use crate::tree::{on_stored_tree, stored_size};
use keuze_core::admin::{AdminEntry, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEntry, NoticeEvent};
use keuze_core::merkle::{StoredNode, TreeBuilder};
use keuze_core::receipt::{subject_commitment, EntryAction, LedgerEntry};
use keuze_core::{ConsentEvent, NewEvent, PurposeId, SubjectId};
use keuze_store::{Result, StoreError};
use rand::rngs::OsRng;
use rand::RngCore;
use sqlx::PgConnection;
use std::collections::HashMap;

/// Appends `events` in the caller's transaction, which must hold the ledger sequencer,
/// and announces the new last seq on `channel` (delivered when the caller commits). An
/// event of an erased subject is refused with `StoreError::Erased`; the caller's
/// transaction then writes nothing.
pub(crate) async fn append_in(
    conn: &mut PgConnection,
    channel: &str,
    events: Vec<NewEvent>,
) -> Result<Vec<ConsentEvent>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let last = ledger_size(conn).await?;
    let mut tree = on_stored_tree(conn, |nodes| TreeBuilder::resume(last, nodes)).await?;
    let commitments = commitments_for(conn, events.iter().map(|e| e.subject)).await?;

    let mut ledger = LedgerRows::with_capacity(events.len());
    let mut nodes = Vec::with_capacity(events.len() * 2);
    let mut latest: HashMap<(SubjectId, PurposeId), u64> = HashMap::new();
    let mut out = Vec::with_capacity(events.len());
    for (event, seq) in events.into_iter().zip(last + 1..) {
        let commitment = *commitments.get(&event.subject).ok_or_else(|| {
            StoreError::Corrupt("a subject of the batch got no commitment".into())
        })?;
        let entry = entry_for(seq, commitment, &event);
        nodes.extend(tree.append(entry.leaf_hash()));
        ledger.push(&entry)?;
        latest.insert((event.subject, event.purpose.clone()), seq);
        out.push(ConsentEvent { seq, event });
    }
    ledger.insert(conn).await?;
    upsert_projection(conn, latest).await?;
    insert_nodes(conn, &nodes).await?;
    notify(conn, channel, tree.size()).await?;
    Ok(out)
}

/// Appends notice entries in the caller's transaction, which must hold the ledger
/// sequencer, as the next seqs and leaves, exactly as `append_in` appends consent events
/// (a subject seen for the first time gets a fresh salt) but without touching the
/// projection: notices are not choices. The caller has checked that every incident named
/// is recorded (the foreign key refuses the batch otherwise). A notice of an erased
/// subject is refused with `StoreError::Erased`; the caller's transaction then writes
/// nothing.
pub(crate) async fn append_notices_in(
    conn: &mut PgConnection,
    channel: &str,
    notices: Vec<NewNotice>,
) -> Result<Vec<NoticeEvent>> {
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    let last = ledger_size(conn).await?;
    let mut tree = on_stored_tree(conn, |nodes| TreeBuilder::resume(last, nodes)).await?;
    let commitments = commitments_for(conn, notices.iter().map(|n| n.subject)).await?;

    let mut rows = NoticeRows::with_capacity(notices.len());
    let mut nodes = Vec::with_capacity(notices.len() * 2);
    let mut out = Vec::with_capacity(notices.len());
    for (notice, seq) in notices.into_iter().zip(last + 1..) {
        let commitment = *commitments.get(&notice.subject).ok_or_else(|| {
            StoreError::Corrupt("a subject of the batch got no commitment".into())
        })?;
        let entry = NoticeEntry::of(seq, commitment, &notice);
        nodes.extend(tree.append(entry.leaf_hash()));
        rows.push(&entry)?;
        out.push(NoticeEvent { seq, notice });
    }
    rows.insert(conn).await?;
    insert_nodes(conn, &nodes).await?;
    notify(conn, channel, tree.size()).await?;
    Ok(out)
}

/// Appends an admin entry in the caller's transaction, which must hold the ledger
/// sequencer: the next seq, its row and its leaf, announced on `channel` like any append.
pub(crate) async fn append_admin_in(
    conn: &mut PgConnection,
    channel: &str,
    new: NewAdminEntry,
) -> Result<AdminEntry> {
    let last = ledger_size(conn).await?;
    let mut tree = on_stored_tree(conn, |nodes| TreeBuilder::resume(last, nodes)).await?;
    let entry = new.at_seq(last + 1);
    let nodes = tree.append(entry.leaf_hash());
    sqlx::query(
        "INSERT INTO admin_events (seq, action, actor, target, detail, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::rows::db_u64(entry.seq))
    .bind(entry.action.as_str())
    .bind(entry.actor.to_string())
    .bind(entry.target.as_str())
    .bind(entry.detail_json())
    .bind(entry.recorded_at.unix_millis())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    insert_nodes(conn, &nodes).await?;
    notify(conn, channel, tree.size()).await?;
    Ok(entry)
}

/// The ledger's last seq, entries of every kind alike, checked against the tree's leaves:
/// they are written together.
async fn ledger_size(conn: &mut PgConnection) -> Result<u64> {
    let last: i64 = sqlx::query_scalar(LAST_SEQ_SQL)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let leaves = stored_size(conn).await?;
    if u64::try_from(last).ok() != Some(leaves) {
        return Err(StoreError::Corrupt(format!(
            "the ledger's last seq is {last} but the Merkle tree has {leaves} leaves; \
             they are written together and must agree"
        )));
    }
    Ok(leaves)
}

/// The ledger's last seq: consent, admin and notice entries share one sequence.
pub(crate) const LAST_SEQ_SQL: &str = "SELECT greatest(\
     (SELECT coalesce(max(seq), 0) FROM events), \
     (SELECT coalesce(max(seq), 0) FROM admin_events), \
     (SELECT coalesce(max(seq), 0) FROM notice_events))";

fn entry_for(seq: u64, subject_commitment: Digest256, event: &NewEvent) -> LedgerEntry {
    LedgerEntry {
        seq,
        subject_commitment,
        purpose: event.purpose.clone(),
        action: EntryAction::from(event.action),
        source: event.source,
        catalog_version: event.catalog_version,
        notice_digest: event.notice_digest,
        locale: event.locale.clone(),
        recorded_at: event.recorded_at,
        context_digest: event.context_digest,
    }
}

/// Ledger rows of a batch as one array per column, for one `INSERT … SELECT FROM UNNEST`.
struct LedgerRows {
    seq: Vec<i64>,
    commitment: Vec<Vec<u8>>,
    purpose: Vec<String>,
    action: Vec<&'static str>,
    source: Vec<&'static str>,
    catalog_version: Vec<i64>,
    notice_digest: Vec<Vec<u8>>,
    locale: Vec<String>,
    recorded_at: Vec<i64>,
    context_digest: Vec<Vec<u8>>,
}

impl LedgerRows {
    fn with_capacity(n: usize) -> Self {
        Self {
            seq: Vec::with_capacity(n),
            commitment: Vec::with_capacity(n),
            purpose: Vec::with_capacity(n),
            action: Vec::with_capacity(n),
            source: Vec::with_capacity(n),
            catalog_version: Vec::with_capacity(n),
            notice_digest: Vec::with_capacity(n),
            locale: Vec::with_capacity(n),
            recorded_at: Vec::with_capacity(n),
            context_digest: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, entry: &LedgerEntry) -> Result<()> {
        let seq = i64::try_from(entry.seq)
            .map_err(|_| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
        self.seq.push(seq);
        self.commitment.push(entry.subject_commitment.0.to_vec());
        self.purpose.push(entry.purpose.as_str().to_owned());
        self.action.push(entry.action.as_str());
        self.source.push(entry.source.as_str());
        self.catalog_version.push(i64::from(entry.catalog_version));
        self.notice_digest.push(entry.notice_digest.0.to_vec());
        self.locale.push(entry.locale.as_str().to_owned());
        self.recorded_at.push(entry.recorded_at.unix_millis());
        self.context_digest.push(entry.context_digest.0.to_vec());
        Ok(())
    }

    /// In seq order: the gap-free trigger checks each row against the ones before it.
    async fn insert(self, conn: &mut PgConnection) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (seq, subject_commitment, purpose, action, source, \
             catalog_version, notice_digest, locale, recorded_at, context_digest) \
             SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::text[], $4::text[], \
             $5::text[], $6::int8[], $7::bytea[], $8::text[], $9::int8[], $10::bytea[]) \
             ORDER BY 1",
        )
        .bind(self.seq)
        .bind(self.commitment)
        .bind(self.purpose)
        .bind(self.action)
        .bind(self.source)
        .bind(self.catalog_version)
        .bind(self.notice_digest)
        .bind(self.locale)
        .bind(self.recorded_at)
        .bind(self.context_digest)
        .execute(conn)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

/// Notice rows of a batch as one array per column, for one `INSERT … SELECT FROM UNNEST`.
struct NoticeRows {
    seq: Vec<i64>,
    commitment: Vec<Vec<u8>>,
    incident: Vec<i64>,
    kind: Vec<&'static str>,
    notice_digest: Vec<Vec<u8>>,
    locale: Vec<String>,
    source: Vec<&'static str>,
    recorded_at: Vec<i64>,
}

impl NoticeRows {
    fn with_capacity(n: usize) -> Self {
        Self {
            seq: Vec::with_capacity(n),
            commitment: Vec::with_capacity(n),
            incident: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            notice_digest: Vec::with_capacity(n),
            locale: Vec::with_capacity(n),
            source: Vec::with_capacity(n),
            recorded_at: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, entry: &NoticeEntry) -> Result<()> {
        let seq = i64::try_from(entry.seq)
            .map_err(|_| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
        self.seq.push(seq);
        self.commitment.push(entry.subject_commitment.0.to_vec());
        self.incident.push(i64::from(entry.incident));
        self.kind.push(entry.kind.as_str());
        self.notice_digest.push(entry.notice_digest.0.to_vec());
        self.locale.push(entry.locale.as_str().to_owned());
        self.source.push(entry.source.as_str());
        self.recorded_at.push(entry.recorded_at.unix_millis());
        Ok(())
    }

    /// In seq order: the gap-free trigger checks each row against the ones before it.
    async fn insert(self, conn: &mut PgConnection) -> Result<()> {
        sqlx::query(
            "INSERT INTO notice_events (seq, subject_commitment, incident, kind, \
             notice_digest, locale, source, recorded_at) \
             SELECT * FROM UNNEST($1::int8[], $2::bytea[], $3::int8[], $4::text[], \
             $5::bytea[], $6::text[], $7::text[], $8::int8[]) \
             ORDER BY 1",
        )
        .bind(self.seq)
        .bind(self.commitment)
        .bind(self.incident)
        .bind(self.kind)
        .bind(self.notice_digest)
        .bind(self.locale)
        .bind(self.source)
        .bind(self.recorded_at)
        .execute(conn)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

/// Points each (subject, purpose) of the batch at its latest event. One row per key:
/// PostgreSQL refuses an upsert that touches a row twice.
async fn upsert_projection(
    conn: &mut PgConnection,
    latest: HashMap<(SubjectId, PurposeId), u64>,
) -> Result<()> {
    let mut subjects = Vec::with_capacity(latest.len());
    let mut purposes = Vec::with_capacity(latest.len());
    let mut seqs = Vec::with_capacity(latest.len());
    for ((subject, purpose), seq) in latest {
        subjects.push(subject.as_bytes().to_vec());
        purposes.push(purpose.as_str().to_owned());
        seqs.push(crate::rows::db_u64(seq));
    }
    sqlx::query(
        "INSERT INTO consent_state (subject, purpose, seq) \
         SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[]) \
         ON CONFLICT (subject, purpose) DO UPDATE SET seq = EXCLUDED.seq \
         WHERE EXCLUDED.seq > consent_state.seq",
    )
    .bind(subjects)
    .bind(purposes)
    .bind(seqs)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Every node the batch completed, in one statement.
async fn insert_nodes(conn: &mut PgConnection, nodes: &[StoredNode]) -> Result<()> {
    let levels: Vec<i16> = nodes.iter().map(|n| i16::from(n.level)).collect();
    let indices: Vec<i64> = nodes.iter().map(|n| crate::rows::db_u64(n.index)).collect();
    let hashes: Vec<Vec<u8>> = nodes.iter().map(|n| n.hash.to_vec()).collect();
    sqlx::query(
        "INSERT INTO tree_nodes (level, idx, hash) \
         SELECT * FROM UNNEST($1::int2[], $2::int8[], $3::bytea[])",
    )
    .bind(levels)
    .bind(indices)
    .bind(hashes)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Tells listening nodes the ledger now reaches `last`; PostgreSQL delivers it on commit
/// and drops it on rollback.
async fn notify(conn: &mut PgConnection, channel: &str, last: u64) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(last.to_string())
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// A subject as stored: its salt and commitment if it has them, and whether it is erased.
type StoredSubject = (Option<Vec<u8>>, Option<Vec<u8>>, bool);

/// The commitment under which the ledger names each subject of a batch (`of`, repeats
/// and all), creating the salts of subjects seen for the first time: one query to read,
/// one to insert, however many subjects. A batch with an erased subject is refused before
/// any salt is written.
async fn commitments_for(
    conn: &mut PgConnection,
    of: impl Iterator<Item = SubjectId>,
) -> Result<HashMap<SubjectId, Digest256>> {
    let mut subjects: Vec<SubjectId> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for subject in of {
        if seen.insert(subject) {
            subjects.push(subject);
        }
    }
    let asked: Vec<Vec<u8>> = subjects.iter().map(|s| s.as_bytes().to_vec()).collect();
    let rows: Vec<StoredSubject> = sqlx::query_as(
        "SELECT s.salt, s.commitment, x.pseudonym IS NOT NULL \
         FROM UNNEST($1::bytea[]) WITH ORDINALITY AS w (pseudonym, i) \
         LEFT JOIN subjects AS s ON s.pseudonym = w.pseudonym \
         LEFT JOIN erased_subjects AS x ON x.pseudonym = w.pseudonym \
         ORDER BY w.i",
    )
    .bind(asked)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    if rows.len() != subjects.len() {
        return Err(StoreError::Corrupt(format!(
            "asked for {} subjects' salts, the database answered {} rows",
            subjects.len(),
            rows.len()
        )));
    }
    let mut out = HashMap::with_capacity(subjects.len());
    let mut fresh = FreshSubjects::default();
    for ((salt, commitment, erased), subject) in rows.into_iter().zip(subjects) {
        if erased {
            return Err(StoreError::Erased);
        }
        let commitment = match (salt, commitment) {
            (Some(salt), Some(commitment)) => known_commitment(&salt, &commitment, &subject)?,
            _ => fresh.add(subject)?,
        };
        out.insert(subject, commitment);
    }
    fresh.insert(conn).await?;
    Ok(out)
}

/// A stored subject's commitment, checked against its salt and pseudonym.
fn known_commitment(salt: &[u8], commitment: &[u8], subject: &SubjectId) -> Result<Digest256> {
    // No pseudonym in the messages: errors end up in logs.
    let bytes32 = |b: &[u8], what: &str| {
        <[u8; 32]>::try_from(b).map_err(|_| {
            StoreError::Corrupt(format!(
                "a subject's {what} holds {} bytes, not 32",
                b.len()
            ))
        })
    };
    let salt = bytes32(salt, "salt")?;
    let commitment = Digest256(bytes32(commitment, "commitment")?);
    if subject_commitment(&salt, subject) != commitment {
        return Err(StoreError::Corrupt(
            "a subject's stored commitment is not the commitment of its salt and pseudonym".into(),
        ));
    }
    Ok(commitment)
}

/// Subjects seen for the first time, each with a fresh random salt.
#[derive(Default)]
struct FreshSubjects {
    pseudonyms: Vec<Vec<u8>>,
    salts: Vec<Vec<u8>>,
    commitments: Vec<Vec<u8>>,
}

impl FreshSubjects {
    fn add(&mut self, subject: SubjectId) -> Result<Digest256> {
        let mut salt = [0u8; 32];
        OsRng.try_fill_bytes(&mut salt).map_err(|e| {
            StoreError::Unavailable(format!(
                "the operating system gave no random bytes for a subject's salt: {e}"
            ))
        })?;
        let commitment = subject_commitment(&salt, &subject);
        self.pseudonyms.push(subject.as_bytes().to_vec());
        self.salts.push(salt.to_vec());
        self.commitments.push(commitment.0.to_vec());
        Ok(commitment)
    }

    async fn insert(self, conn: &mut PgConnection) -> Result<()> {
        if self.pseudonyms.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO subjects (pseudonym, salt, commitment) \
             SELECT * FROM UNNEST($1::bytea[], $2::bytea[], $3::bytea[])",
        )
        .bind(self.pseudonyms)
        .bind(self.salts)
        .bind(self.commitments)
        .execute(conn)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
