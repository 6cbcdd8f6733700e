//! PostgreSQL's rows as [`Columns`], for the decoding every backend shares
//! ([`keuze_store::decode`]), and the SQL that names the columns it reads.

use keuze_store::decode::Columns;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row};

/// The ledger columns of `events` (aliased `e` where joined): what a leaf commits to.
pub(crate) const LEDGER_COLUMNS: &str = "e.seq, e.subject_commitment, e.purpose, e.action, \
     e.source, e.catalog_version, e.notice_digest, e.locale, e.recorded_at, e.context_digest";

/// A row as PostgreSQL returned it.
pub(crate) struct Pg<'r>(pub(crate) &'r PgRow);

impl Pg<'_> {
    fn get<'r, T>(&'r self, column: &str) -> Result<T, String>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        self.0.try_get(column).map_err(|e| e.to_string())
    }
}

impl Columns for Pg<'_> {
    fn integer(&self, column: &str) -> Result<Option<i64>, String> {
        self.get(column)
    }

    fn text(&self, column: &str) -> Result<Option<&str>, String> {
        self.get(column)
    }

    fn bytes(&self, column: &str) -> Result<Option<&[u8]>, String> {
        self.get(column)
    }

    /// A `TEXT[]` column.
    fn texts(&self, column: &str) -> Result<Vec<String>, String> {
        self.get::<Option<Vec<String>>>(column)
            .map(Option::unwrap_or_default)
    }
}

/// A seq, size or index as PostgreSQL's BIGINT; those beyond it (which no stored row has)
/// become the largest BIGINT, so `> after` finds nothing.
pub(crate) fn db_u64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
