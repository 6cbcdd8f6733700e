//! SQLite's rows as [`Columns`], for the decoding every backend shares
//! ([`keuze_store::decode`]): the rows sqlx returns, and the ledger pages SQLite hands over
//! as one JSON text.

use keuze_store::decode::Columns;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite};
use std::borrow::Cow;

/// A row as SQLite returned it.
pub(crate) struct Lite<'r>(pub(crate) &'r SqliteRow);

impl Lite<'_> {
    fn get<'r, T>(&'r self, column: &str) -> Result<T, String>
    where
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    {
        self.0.try_get(column).map_err(|e| e.to_string())
    }
}

impl Columns for Lite<'_> {
    fn integer(&self, column: &str) -> Result<Option<i64>, String> {
        self.get(column)
    }

    fn text(&self, column: &str) -> Result<Option<&str>, String> {
        self.get(column)
    }

    fn bytes(&self, column: &str) -> Result<Option<&[u8]>, String> {
        self.get(column)
    }

    /// Text joined by commas: SQLite has no arrays.
    fn texts(&self, column: &str) -> Result<Vec<String>, String> {
        let text: Option<&str> = self.get(column)?;
        Ok(text
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

/// `ledger_entries` reads a page of rows as one JSON array, built by SQLite, because
/// sqlx's cost per row (each row copied value by value and handed from SQLite's thread
/// to the caller) was most of what reading the ledger cost (BENCHMARKS.md). Each row is
/// an array of the columns its leaf commits to, blobs in hex.
pub(crate) const ENTRY_PAGE_SQL: &str = "SELECT json_group_array(json_array(seq, \
     hex(subject_commitment), purpose, action, source, catalog_version, hex(notice_digest), \
     locale, recorded_at, hex(context_digest))) \
     FROM (SELECT * FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)";

/// One row of an [`ENTRY_PAGE_SQL`] array; text borrowed from the JSON unless escaped.
#[derive(serde::Deserialize)]
pub(crate) struct JsonEntry<'a>(
    i64,
    &'a str,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    &'a str,
    #[serde(borrow)] Cow<'a, str>,
    i64,
    &'a str,
);

/// A [`JsonEntry`] with its hex blobs decoded, read by column name like a row.
pub(crate) struct PageRow<'a> {
    entry: &'a JsonEntry<'a>,
    subject_commitment: Result<[u8; 32], String>,
    notice_digest: Result<[u8; 32], String>,
    context_digest: Result<[u8; 32], String>,
}

impl<'a> PageRow<'a> {
    pub(crate) fn new(entry: &'a JsonEntry<'a>) -> Self {
        let hex32 = |hex: &str| {
            let mut out = [0u8; 32];
            hex::decode_to_slice(hex, &mut out)
                .map(|()| out)
                .map_err(|_| format!("it holds {} bytes, not 32", hex.len() / 2))
        };
        Self {
            entry,
            subject_commitment: hex32(entry.1),
            notice_digest: hex32(entry.6),
            context_digest: hex32(entry.9),
        }
    }
}

impl Columns for PageRow<'_> {
    fn integer(&self, column: &str) -> Result<Option<i64>, String> {
        match column {
            "seq" => Ok(Some(self.entry.0)),
            "catalog_version" => Ok(Some(self.entry.5)),
            "recorded_at" => Ok(Some(self.entry.8)),
            _ => Err(not_in_page(column)),
        }
    }

    fn text(&self, column: &str) -> Result<Option<&str>, String> {
        match column {
            "purpose" => Ok(Some(&self.entry.2)),
            "action" => Ok(Some(&self.entry.3)),
            "source" => Ok(Some(&self.entry.4)),
            "locale" => Ok(Some(&self.entry.7)),
            _ => Err(not_in_page(column)),
        }
    }

    fn bytes(&self, column: &str) -> Result<Option<&[u8]>, String> {
        let blob = match column {
            "subject_commitment" => &self.subject_commitment,
            "notice_digest" => &self.notice_digest,
            "context_digest" => &self.context_digest,
            _ => return Err(not_in_page(column)),
        };
        blob.as_ref()
            .map(|b| Some(b.as_slice()))
            .map_err(Clone::clone)
    }

    fn texts(&self, column: &str) -> Result<Vec<String>, String> {
        Err(not_in_page(column))
    }
}

fn not_in_page(column: &str) -> String {
    format!("`{column}` is not a column of ENTRY_PAGE_SQL")
}
