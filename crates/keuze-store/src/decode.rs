//! Reading stored rows back into Keuze's types, once for every backend. A backend hands
//! over its driver's row as [`Columns`] (each column by name as an integer, text or
//! bytes); everything from there on (which column holds what, how stored text becomes an
//! `Action`, a `Locale` or a `PurposeId`, and the error when it cannot) is here. Anything
//! that is not what Keuze writes is [`StoreError::Corrupt`], naming the row and the
//! column but never a pseudonym (errors end up in logs).

use crate::{
    ApiKey, DeadLetter, Result, Scope, StoreError, StoredCatalog, StoredCheckpoint, StoredIncident,
    StoredLogKey, StoredWebhook,
};
use keuze_core::admin::AdminEntry;
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEntry, NoticeEvent, NoticeKind};
use keuze_core::receipt::{EntryAction, LedgerEntry};
use keuze_core::{Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use std::fmt::Display;

/// A stored row as the database hands it over: each column by name, NULL as `None`, and
/// `Err` saying why the driver could not read it.
pub trait Columns {
    /// An integer column (SQLite INTEGER, PostgreSQL BIGINT).
    fn integer(&self, column: &str) -> std::result::Result<Option<i64>, String>;
    fn text(&self, column: &str) -> std::result::Result<Option<&str>, String>;
    fn bytes(&self, column: &str) -> std::result::Result<Option<&[u8]>, String>;
    /// A list of texts, however the backend stores one (an array, or text joined by
    /// commas); no column means an empty list.
    fn texts(&self, column: &str) -> std::result::Result<Vec<String>, String>;
}

impl<C: Columns + ?Sized> Columns for &C {
    fn integer(&self, column: &str) -> std::result::Result<Option<i64>, String> {
        (**self).integer(column)
    }

    fn text(&self, column: &str) -> std::result::Result<Option<&str>, String> {
        (**self).text(column)
    }

    fn bytes(&self, column: &str) -> std::result::Result<Option<&[u8]>, String> {
        (**self).bytes(column)
    }

    fn texts(&self, column: &str) -> std::result::Result<Vec<String>, String> {
        (**self).texts(column)
    }
}

/// One stored row and how to name it in an error (`event seq 7`).
pub struct StoredRow<C> {
    columns: C,
    name: String,
}

impl<C: Columns> StoredRow<C> {
    pub fn new(columns: C, name: impl Into<String>) -> Self {
        Self {
            columns,
            name: name.into(),
        }
    }

    fn unreadable(&self, column: &str, why: impl Display) -> StoreError {
        StoreError::Corrupt(format!(
            "{}: column `{column}` is unreadable: {why}",
            self.name
        ))
    }

    fn invalid(&self, column: &str, value: &str, why: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "{}: column `{column}` holds `{value}`, which {why}",
            self.name
        ))
    }

    fn present<T>(&self, column: &str, value: Option<T>) -> Result<T> {
        value.ok_or_else(|| self.unreadable(column, "it is NULL"))
    }

    pub fn optional_integer(&self, column: &str) -> Result<Option<i64>> {
        self.columns
            .integer(column)
            .map_err(|e| self.unreadable(column, e))
    }

    pub fn integer(&self, column: &str) -> Result<i64> {
        let n = self.optional_integer(column)?;
        self.present(column, n)
    }

    /// A column holding a count or number that must fit `T` (a version, a size).
    pub fn number<T: TryFrom<i64>>(&self, column: &str) -> Result<T> {
        let n = self.integer(column)?;
        T::try_from(n).map_err(|_| self.invalid(column, &n.to_string(), "is out of range"))
    }

    /// A ledger sequence number; they start at 1.
    pub fn seq(&self, column: &str) -> Result<u64> {
        let n = self.integer(column)?;
        u64::try_from(n)
            .ok()
            .filter(|s| *s >= 1)
            .ok_or_else(|| self.invalid(column, &n.to_string(), "is not a seq; seqs start at 1"))
    }

    pub fn timestamp(&self, column: &str) -> Result<Timestamp> {
        self.integer(column).map(Timestamp::from_unix_millis)
    }

    pub fn optional_timestamp(&self, column: &str) -> Result<Option<Timestamp>> {
        Ok(self
            .optional_integer(column)?
            .map(Timestamp::from_unix_millis))
    }

    pub fn text(&self, column: &str) -> Result<&str> {
        let text = self
            .columns
            .text(column)
            .map_err(|e| self.unreadable(column, e))?;
        self.present(column, text)
    }

    pub fn string(&self, column: &str) -> Result<String> {
        self.text(column).map(str::to_owned)
    }

    /// A text column parsed by `parse`, which says why it refuses.
    pub fn parsed<T>(
        &self,
        column: &str,
        parse: impl FnOnce(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let text = self.text(column)?;
        parse(text).map_err(|why| self.invalid(column, text, &why))
    }

    /// A list of texts, each parsed by `parse`, which says why it refuses.
    pub fn parsed_list<T>(
        &self,
        column: &str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Vec<T>> {
        let texts = self
            .columns
            .texts(column)
            .map_err(|e| self.unreadable(column, e))?;
        texts
            .iter()
            .map(|text| parse(text).map_err(|why| self.invalid(column, text, &why)))
            .collect()
    }

    pub fn optional_bytes32(&self, column: &str) -> Result<Option<[u8; 32]>> {
        let bytes = self
            .columns
            .bytes(column)
            .map_err(|e| self.unreadable(column, e))?;
        bytes
            .map(|bytes| {
                <[u8; 32]>::try_from(bytes).map_err(|_| {
                    StoreError::Corrupt(format!(
                        "{}: column `{column}` holds {} bytes, not 32",
                        self.name,
                        bytes.len()
                    ))
                })
            })
            .transpose()
    }

    pub fn bytes32(&self, column: &str) -> Result<[u8; 32]> {
        let bytes = self.optional_bytes32(column)?;
        self.present(column, bytes)
    }

    pub fn digest(&self, column: &str) -> Result<Digest256> {
        self.bytes32(column).map(Digest256)
    }

    /// A subject's pseudonym.
    pub fn subject(&self, column: &str) -> Result<SubjectId> {
        self.bytes32(column).map(SubjectId::from_bytes)
    }

    pub fn purpose(&self, column: &str) -> Result<PurposeId> {
        self.parsed(column, |s| {
            PurposeId::parse(s).map_err(|e| format!("is refused: {e}"))
        })
    }

    pub fn locale(&self, column: &str) -> Result<Locale> {
        self.parsed(column, |s| {
            Locale::parse(s).map_err(|e| format!("is refused: {e}"))
        })
    }

    pub fn source(&self, column: &str) -> Result<Source> {
        self.parsed(column, |s| {
            Source::parse(s).ok_or_else(|| "is not a known source".to_owned())
        })
    }
}

/// A ledger row's fields but its subject, which is a pseudonym to tell and a commitment to
/// prove.
pub struct EventFields {
    pub seq: u64,
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
    /// The columns `seq`, `purpose`, `action`, `source`, `catalog_version`,
    /// `notice_digest`, `locale`, `recorded_at` and `context_digest`.
    pub fn decode(row: &impl Columns) -> Result<Self> {
        let seq = StoredRow::new(row, "an event").seq("seq")?;
        let r = StoredRow::new(row, format!("event seq {seq}"));
        Ok(Self {
            seq,
            purpose: r.purpose("purpose")?,
            action: r.parsed("action", |s| {
                Action::parse(s).ok_or_else(|| "is not a known action".to_owned())
            })?,
            source: r.source("source")?,
            catalog_version: r.number("catalog_version")?,
            notice_digest: r.digest("notice_digest")?,
            locale: r.locale("locale")?,
            recorded_at: r.timestamp("recorded_at")?,
            context_digest: r.digest("context_digest")?,
        })
    }

    pub fn into_event(self, subject: SubjectId) -> ConsentEvent {
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

    pub fn into_entry(self, subject_commitment: Digest256) -> LedgerEntry {
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
pub fn consent_event(row: &impl Columns) -> Result<ConsentEvent> {
    let fields = EventFields::decode(row)?;
    let r = StoredRow::new(row, format!("event seq {}", fields.seq));
    Ok(fields.into_event(r.subject("subject")?))
}

/// A ledger row as its leaf commits to it, with column `subject_commitment`.
pub fn ledger_entry(row: &impl Columns) -> Result<LedgerEntry> {
    let fields = EventFields::decode(row)?;
    let r = StoredRow::new(row, format!("event seq {}", fields.seq));
    Ok(fields.into_entry(r.digest("subject_commitment")?))
}

/// The pseudonym the outbox may tell for the entry `name`d, from column `subject`: none
/// once the subject is erased and every sink has delivered the erasure.
fn outbox_subject(row: &impl Columns, name: String) -> Result<Option<SubjectId>> {
    let subject = StoredRow::new(row, name).optional_bytes32("subject")?;
    Ok(subject.map(SubjectId::from_bytes))
}

/// A ledger row with the pseudonym the outbox may tell, if any.
pub fn outbox_consent(row: &impl Columns) -> Result<(u64, Option<ConsentEvent>)> {
    let fields = EventFields::decode(row)?;
    let seq = fields.seq;
    let subject = outbox_subject(row, format!("event seq {seq}"))?;
    Ok((seq, subject.map(|s| fields.into_event(s))))
}

/// A notice row's fields but its subject, which is a pseudonym to tell and a commitment to
/// prove.
pub struct NoticeFields {
    pub seq: u64,
    incident: u32,
    kind: NoticeKind,
    notice_digest: Digest256,
    locale: Locale,
    source: Source,
    recorded_at: Timestamp,
}

impl NoticeFields {
    /// The columns `seq`, `incident`, `kind`, `notice_digest`, `locale`, `source` and
    /// `recorded_at`.
    pub fn decode(row: &impl Columns) -> Result<Self> {
        let seq = StoredRow::new(row, "a notice entry").seq("seq")?;
        let r = StoredRow::new(row, format!("notice entry seq {seq}"));
        Ok(Self {
            seq,
            incident: r.number("incident")?,
            kind: r.parsed("kind", |s| {
                NoticeKind::parse(s).ok_or_else(|| "is not a known notice kind".to_owned())
            })?,
            notice_digest: r.digest("notice_digest")?,
            locale: r.locale("locale")?,
            source: r.source("source")?,
            recorded_at: r.timestamp("recorded_at")?,
        })
    }

    pub fn into_event(self, subject: SubjectId) -> NoticeEvent {
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

    pub fn into_entry(self, subject_commitment: Digest256) -> NoticeEntry {
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

/// The columns of `notice_events` (aliased `n`) that [`NoticeFields::decode`] and a leaf
/// need.
pub const NOTICE_COLUMNS: &str = "n.seq, n.subject_commitment, n.incident, n.kind, \
     n.notice_digest, n.locale, n.source, n.recorded_at";

/// A notice row with its subject's pseudonym in column `subject`.
pub fn notice_event(row: &impl Columns) -> Result<NoticeEvent> {
    let fields = NoticeFields::decode(row)?;
    let r = StoredRow::new(row, format!("notice entry seq {}", fields.seq));
    Ok(fields.into_event(r.subject("subject")?))
}

/// A notice row as its leaf commits to it, with column `subject_commitment`.
pub fn notice_entry(row: &impl Columns) -> Result<NoticeEntry> {
    let fields = NoticeFields::decode(row)?;
    let r = StoredRow::new(row, format!("notice entry seq {}", fields.seq));
    Ok(fields.into_entry(r.digest("subject_commitment")?))
}

/// A notice row with the pseudonym the outbox may tell, if any.
pub fn outbox_notice(row: &impl Columns) -> Result<(u64, Option<NoticeEvent>)> {
    let fields = NoticeFields::decode(row)?;
    let seq = fields.seq;
    let subject = outbox_subject(row, format!("notice entry seq {seq}"))?;
    Ok((seq, subject.map(|s| fields.into_event(s))))
}

/// The columns of `admin_events`.
pub const ADMIN_COLUMNS: &str = "seq, action, actor, target, detail, recorded_at";

pub fn admin_entry(row: &impl Columns) -> Result<AdminEntry> {
    let seq = StoredRow::new(row, "an admin entry").seq("seq")?;
    let name = format!("admin entry seq {seq}");
    let r = StoredRow::new(row, name.clone());
    keuze_core::admin::entry_from_row(
        seq,
        r.text("action")?,
        r.text("actor")?,
        r.text("target")?,
        r.text("detail")?,
        r.integer("recorded_at")?,
    )
    .map_err(|(column, why)| StoreError::Corrupt(format!("{name}: column `{column}`: {why}")))
}

pub fn checkpoint(row: &impl Columns) -> Result<StoredCheckpoint> {
    let size = StoredRow::new(row, "a checkpoint").integer("size")?;
    let r = StoredRow::new(row, format!("checkpoint for tree size {size}"));
    Ok(StoredCheckpoint {
        size: r.number("size")?,
        root: r.bytes32("root")?,
        note: r.string("note")?,
        signed_at: r.timestamp("signed_at")?,
    })
}

pub fn api_key(row: &impl Columns) -> Result<ApiKey> {
    let id = StoredRow::new(row, "an API key").string("id")?;
    let r = StoredRow::new(row, format!("API key {id}"));
    Ok(ApiKey {
        secret_hash: r.digest("secret_hash")?,
        scopes: r.parsed_list("scopes", |s| {
            Scope::parse(s).ok_or_else(|| "is not a known scope".to_owned())
        })?,
        label: r.string("label")?,
        created_at: r.timestamp("created_at")?,
        revoked_at: r.optional_timestamp("revoked_at")?,
        id,
    })
}

pub fn catalog(row: &impl Columns) -> Result<StoredCatalog> {
    let number = StoredRow::new(row, "a catalog version").integer("number")?;
    let r = StoredRow::new(row, format!("catalog version {number}"));
    Ok(StoredCatalog {
        number: r.number("number")?,
        digest: r.digest("digest")?,
        canonical: r.string("canonical")?,
        source: r.string("source")?,
        published_at: r.timestamp("published_at")?,
    })
}

/// The columns of `incidents`.
pub const INCIDENT_COLUMNS: &str = "number, digest, canonical, recorded_at, published_at";

pub fn incident(row: &impl Columns) -> Result<StoredIncident> {
    let number = StoredRow::new(row, "an incident").integer("number")?;
    let r = StoredRow::new(row, format!("incident {number}"));
    Ok(StoredIncident {
        number: r.number("number")?,
        digest: r.digest("digest")?,
        canonical: r.string("canonical")?,
        recorded_at: r.timestamp("recorded_at")?,
        published_at: r.optional_timestamp("published_at")?,
    })
}

pub fn log_key(row: &impl Columns) -> Result<StoredLogKey> {
    let r = StoredRow::new(row, "a log key");
    Ok(StoredLogKey {
        verifier: r.string("verifier")?,
        created_at: r.timestamp("created_at")?,
    })
}

pub fn webhook(row: &impl Columns) -> Result<StoredWebhook> {
    let id = StoredRow::new(row, "a webhook").string("id")?;
    let r = StoredRow::new(row, format!("webhook {id}"));
    Ok(StoredWebhook {
        url: r.string("url")?,
        purposes: r.parsed_list("purposes", |p| {
            PurposeId::parse(p).map_err(|e| format!("is refused: {e}"))
        })?,
        secret: r.string("secret")?,
        created_at: r.timestamp("created_at")?,
        id,
    })
}

pub fn dead_letter(row: &impl Columns) -> Result<DeadLetter> {
    let r = StoredRow::new(row, "a dead letter");
    Ok(DeadLetter {
        webhook: r.string("webhook")?,
        seq: r.seq("seq")?,
        attempts: u32::try_from(r.integer("attempts")?).unwrap_or(u32::MAX),
        error: r.string("error")?,
        failed_at: r.timestamp("failed_at")?,
    })
}
