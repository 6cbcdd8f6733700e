//! Reading stored rows back into Keuze's types. Anything that is not what Keuze writes is
//! `StoreError::Corrupt`, naming the row and the column but never a pseudonym (errors end
//! up in logs).

use keuze_core::admin::AdminEntry;
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEntry, NoticeEvent, NoticeKind};
use keuze_core::receipt::{EntryAction, LedgerEntry};
use keuze_core::{Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_store::{
    ApiKey, Result, Scope, StoreError, StoredCatalog, StoredCheckpoint, StoredIncident,
};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row};

/// The ledger columns of `events` (aliased `e` where joined): what a leaf commits to.
pub(crate) const LEDGER_COLUMNS: &str = "e.seq, e.subject_commitment, e.purpose, e.action, \
     e.source, e.catalog_version, e.notice_digest, e.locale, e.recorded_at, e.context_digest";

/// One stored row and how to name it in an error.
pub(crate) struct StoredRow<'r> {
    row: &'r PgRow,
    name: String,
}

impl<'r> StoredRow<'r> {
    pub(crate) fn new(row: &'r PgRow, name: impl Into<String>) -> Self {
        Self {
            row,
            name: name.into(),
        }
    }

    pub(crate) fn get<T>(&self, column: &str) -> Result<T>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        self.row.try_get(column).map_err(|e| {
            StoreError::Corrupt(format!(
                "{}: column `{column}` is unreadable: {e}",
                self.name
            ))
        })
    }

    pub(crate) fn bytes32(&self, column: &str) -> Result<[u8; 32]> {
        let bytes: Vec<u8> = self.get(column)?;
        <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            StoreError::Corrupt(format!(
                "{}: column `{column}` holds {} bytes, not 32",
                self.name,
                bytes.len()
            ))
        })
    }

    pub(crate) fn digest(&self, column: &str) -> Result<Digest256> {
        self.bytes32(column).map(Digest256)
    }

    pub(crate) fn timestamp(&self, column: &str) -> Result<Timestamp> {
        self.get(column).map(Timestamp::from_unix_millis)
    }

    /// A column holding a count or number that must fit `T` (a seq, a version, a size).
    pub(crate) fn number<T: TryFrom<i64>>(&self, column: &str) -> Result<T> {
        let n: i64 = self.get(column)?;
        T::try_from(n).map_err(|_| self.invalid(column, &n.to_string(), "is out of range"))
    }

    /// A text column parsed by `parse`, which says why it refuses.
    pub(crate) fn parsed<T>(
        &self,
        column: &str,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let text: String = self.get(column)?;
        parse(&text).map_err(|why| self.invalid(column, &text, &why))
    }

    fn invalid(&self, column: &str, value: &str, why: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "{}: column `{column}` holds `{value}`, which {why}",
            self.name
        ))
    }
}

/// A ledger row's fields but its subject, which is a pseudonym to tell and a commitment to
/// prove.
pub(crate) struct EventFields {
    pub(crate) seq: u64,
    purpose: PurposeId,
    action: Action,
    source: Source,
    catalog_version: u32,
    notice_digest: Digest256,
    locale: Locale,
    recorded_at: Timestamp,
    context_digest: Digest256,
}

impl EventFields {
    pub(crate) fn decode(row: &PgRow) -> Result<Self> {
        let seq = StoredRow::new(row, "an event").number::<u64>("seq")?;
        let r = StoredRow::new(row, format!("event seq {seq}"));
        Ok(Self {
            seq,
            purpose: r.parsed("purpose", |s| {
                PurposeId::parse(s).map_err(|e| format!("is refused: {e}"))
            })?,
            action: r.parsed("action", |s| {
                Action::parse(s).ok_or_else(|| "is not a known action".to_owned())
            })?,
            source: r.parsed("source", |s| {
                Source::parse(s).ok_or_else(|| "is not a known source".to_owned())
            })?,
            catalog_version: r.number("catalog_version")?,
            notice_digest: r.digest("notice_digest")?,
            locale: r.parsed("locale", |s| {
                Locale::parse(s).map_err(|e| format!("is refused: {e}"))
            })?,
            recorded_at: r.timestamp("recorded_at")?,
            context_digest: r.digest("context_digest")?,
        })
    }

    pub(crate) fn into_event(self, subject: SubjectId) -> ConsentEvent {
        ConsentEvent {
            seq: self.seq,
            event: NewEvent {
                subject,
                purpose: self.purpose,
                action: self.action,
                source: self.source,
                catalog_version: self.catalog_version,
                notice_digest: self.notice_digest,
                locale: self.locale,
                recorded_at: self.recorded_at,
                context_digest: self.context_digest,
            },
        }
    }

    fn into_entry(self, subject_commitment: Digest256) -> LedgerEntry {
        LedgerEntry {
            seq: self.seq,
            subject_commitment,
            purpose: self.purpose,
            action: EntryAction::from(self.action),
            source: self.source,
            catalog_version: self.catalog_version,
            notice_digest: self.notice_digest,
            locale: self.locale,
            recorded_at: self.recorded_at,
            context_digest: self.context_digest,
        }
    }
}

/// A ledger row with its subject's pseudonym in column `subject`.
pub(crate) fn decode_event(row: &PgRow) -> Result<ConsentEvent> {
    let fields = EventFields::decode(row)?;
    let name = format!("event seq {}", fields.seq);
    let subject = StoredRow::new(row, name).bytes32("subject")?;
    Ok(fields.into_event(SubjectId::from_bytes(subject)))
}

/// A ledger row as its leaf commits to it.
pub(crate) fn decode_entry(row: &PgRow) -> Result<LedgerEntry> {
    let fields = EventFields::decode(row)?;
    let name = format!("event seq {}", fields.seq);
    let commitment = StoredRow::new(row, name).digest("subject_commitment")?;
    Ok(fields.into_entry(commitment))
}

pub(crate) fn decode_checkpoint(row: &PgRow) -> Result<StoredCheckpoint> {
    let size: i64 = StoredRow::new(row, "a checkpoint").get("size")?;
    let r = StoredRow::new(row, format!("checkpoint for tree size {size}"));
    Ok(StoredCheckpoint {
        size: r.number("size")?,
        root: r.bytes32("root")?,
        note: r.get("note")?,
        signed_at: r.timestamp("signed_at")?,
    })
}

pub(crate) fn decode_api_key(row: &PgRow) -> Result<ApiKey> {
    let id: String = StoredRow::new(row, "an API key").get("id")?;
    let r = StoredRow::new(row, format!("API key {id}"));
    let scopes: Vec<String> = r.get("scopes")?;
    let scopes = scopes
        .iter()
        .map(|s| Scope::parse(s).ok_or_else(|| r.invalid("scopes", s, "is not a known scope")))
        .collect::<Result<Vec<_>>>()?;
    Ok(ApiKey {
        secret_hash: r.digest("secret_hash")?,
        scopes,
        label: r.get("label")?,
        created_at: r.timestamp("created_at")?,
        revoked_at: r
            .get::<Option<i64>>("revoked_at")?
            .map(Timestamp::from_unix_millis),
        id,
    })
}

/// The columns of `admin_events`.
pub(crate) const ADMIN_COLUMNS: &str = "seq, action, actor, target, detail, recorded_at";

pub(crate) fn decode_admin(row: &PgRow) -> Result<AdminEntry> {
    let seq = StoredRow::new(row, "an admin entry").number::<u64>("seq")?;
    let name = format!("admin entry seq {seq}");
    let r = StoredRow::new(row, name.clone());
    let action: String = r.get("action")?;
    let actor: String = r.get("actor")?;
    let target: String = r.get("target")?;
    let detail: String = r.get("detail")?;
    let recorded_at: i64 = r.get("recorded_at")?;
    keuze_core::admin::entry_from_row(seq, &action, &actor, &target, &detail, recorded_at)
        .map_err(|(column, why)| StoreError::Corrupt(format!("{name}: column `{column}`: {why}")))
}

pub(crate) fn decode_catalog(row: &PgRow) -> Result<StoredCatalog> {
    let number: i64 = StoredRow::new(row, "a catalog version").get("number")?;
    let r = StoredRow::new(row, format!("catalog version {number}"));
    Ok(StoredCatalog {
        number: r.number("number")?,
        digest: r.digest("digest")?,
        canonical: r.get("canonical")?,
        source: r.get("source")?,
        published_at: r.timestamp("published_at")?,
    })
}

/// The columns of `incidents`.
pub(crate) const INCIDENT_COLUMNS: &str = "number, digest, canonical, recorded_at, published_at";

pub(crate) fn decode_incident(row: &PgRow) -> Result<StoredIncident> {
    let number: i64 = StoredRow::new(row, "an incident").get("number")?;
    let r = StoredRow::new(row, format!("incident {number}"));
    Ok(StoredIncident {
        number: r.number("number")?,
        digest: r.digest("digest")?,
        canonical: r.get("canonical")?,
        recorded_at: r.timestamp("recorded_at")?,
        published_at: r
            .get::<Option<i64>>("published_at")?
            .map(Timestamp::from_unix_millis),
    })
}

/// The columns of `notice_events` (aliased `n` where joined): what a notice leaf commits
/// to.
pub(crate) const NOTICE_COLUMNS: &str = "n.seq, n.subject_commitment, n.incident, n.kind, \
     n.notice_digest, n.locale, n.source, n.recorded_at";

/// A notice row's fields but its subject, which is a pseudonym to tell and a commitment to
/// prove.
pub(crate) struct NoticeFields {
    pub(crate) seq: u64,
    incident: u32,
    kind: NoticeKind,
    notice_digest: Digest256,
    locale: Locale,
    source: Source,
    recorded_at: Timestamp,
}

impl NoticeFields {
    pub(crate) fn decode(row: &PgRow) -> Result<Self> {
        let seq = StoredRow::new(row, "a notice entry").number::<u64>("seq")?;
        let r = StoredRow::new(row, format!("notice entry seq {seq}"));
        Ok(Self {
            seq,
            incident: r.number("incident")?,
            kind: r.parsed("kind", |s| {
                NoticeKind::parse(s).ok_or_else(|| "is not a known notice kind".to_owned())
            })?,
            notice_digest: r.digest("notice_digest")?,
            locale: r.parsed("locale", |s| {
                Locale::parse(s).map_err(|e| format!("is refused: {e}"))
            })?,
            source: r.parsed("source", |s| {
                Source::parse(s).ok_or_else(|| "is not a known source".to_owned())
            })?,
            recorded_at: r.timestamp("recorded_at")?,
        })
    }

    pub(crate) fn into_event(self, subject: SubjectId) -> NoticeEvent {
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

    fn into_entry(self, subject_commitment: Digest256) -> NoticeEntry {
        NoticeEntry {
            seq: self.seq,
            subject_commitment,
            incident: self.incident,
            kind: self.kind,
            notice_digest: self.notice_digest,
            locale: self.locale,
            source: self.source,
            recorded_at: self.recorded_at,
        }
    }
}

/// A notice row with its subject's pseudonym in column `subject`.
pub(crate) fn decode_notice_event(row: &PgRow) -> Result<NoticeEvent> {
    let fields = NoticeFields::decode(row)?;
    let name = format!("notice entry seq {}", fields.seq);
    let subject = StoredRow::new(row, name).bytes32("subject")?;
    Ok(fields.into_event(SubjectId::from_bytes(subject)))
}

/// A notice row as its leaf commits to it.
pub(crate) fn decode_notice_entry(row: &PgRow) -> Result<NoticeEntry> {
    let fields = NoticeFields::decode(row)?;
    let name = format!("notice entry seq {}", fields.seq);
    let commitment = StoredRow::new(row, name).digest("subject_commitment")?;
    Ok(fields.into_entry(commitment))
}

/// A seq, size or index as PostgreSQL's BIGINT; those beyond it (which no stored row has)
/// become the largest BIGINT, so `> after` finds nothing.
pub(crate) fn db_u64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
