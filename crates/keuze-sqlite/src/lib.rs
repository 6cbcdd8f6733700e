//! The embedded default backend: one SQLite file, `<data_dir>/keuze.db`, in WAL mode with
//! `synchronous=FULL`, so a commit is on disk before a write is acknowledged.
//!
//! Writes go through one connection (SQLite allows one writer at a time) and start with
//! `BEGIN IMMEDIATE`, so a second process (the CLI publishing a catalog while the server
//! runs) waits for the write lock for up to the busy timeout instead of failing. Reads use
//! a small pool of their own and never wait for the writer.

use async_trait::async_trait;
use keuze_core::catalog::Digest256;
use keuze_core::{Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_store::{ApiKey, Result, Scope, Store, StoreError, StoredCatalog};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};
use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

/// The database file inside the data directory.
pub const DB_FILE: &str = "keuze.db";

/// How long a write waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections for reads; each is a thread in sqlx's SQLite driver.
const READERS: u32 = 4;

/// The schema migrations, embedded so the binary carries them (and a change to a file
/// rebuilds the crate). Versions follow the file names' numeric prefixes.
const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "initial", include_str!("../migrations/0001_initial.sql"))];

#[derive(Debug)]
struct EmbeddedMigrations;

impl MigrationSource<'static> for EmbeddedMigrations {
    fn resolve(
        self,
    ) -> Pin<
        Box<
            dyn Future<Output = std::result::Result<Vec<Migration>, sqlx::error::BoxDynError>>
                + Send,
        >,
    > {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The settings that decide durability and concurrency, as SQLite reports them on the
/// writing connection; for diagnostics (`keuze` can show them) and for tests that prove them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteSettings {
    /// `wal` once the database has been opened by Keuze.
    pub journal_mode: String,
    /// 0 = OFF, 1 = NORMAL, 2 = FULL, 3 = EXTRA. Keuze uses FULL.
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub busy_timeout_ms: i64,
    /// The SQLite library's version, e.g. `3.46.0`.
    pub sqlite_version: String,
}

/// The SQLite [`Store`].
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    /// Exactly one connection: every write transaction goes through it, one at a time.
    writer: SqlitePool,
    readers: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database in `data_dir` and brings its schema up to
    /// date.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        tokio::fs::create_dir_all(data_dir).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot create the data directory {}: {e}; check that the path is right and writable",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(DB_FILE);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let cannot_open = |e: sqlx::Error| {
            StoreError::Unavailable(format!("cannot open the database {}: {e}", path.display()))
        };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone().create_if_missing(true))
            .await
            .map_err(cannot_open)?;
        let migrator = Migrator::new(EmbeddedMigrations).await.map_err(|e| {
            StoreError::Corrupt(format!("the embedded migrations are unusable: {e}"))
        })?;
        migrator.run(&writer).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot bring the schema of {} up to date: {e}",
                path.display()
            ))
        })?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options)
            .await
            .map_err(cannot_open)?;
        tracing::debug!(path = %path.display(), "opened the SQLite store");
        Ok(Self {
            path,
            writer,
            readers,
        })
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, waiting for those in use to be returned. Operations after
    /// this fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.writer.close().await;
        self.readers.close().await;
    }

    /// What SQLite reports for the settings Keuze relies on.
    pub async fn settings(&self) -> Result<SqliteSettings> {
        let mut conn = self.writer.acquire().await.map_err(db_error)?;
        let journal_mode = read_text(&mut conn, "PRAGMA journal_mode").await?;
        let synchronous = read_text(&mut conn, "PRAGMA synchronous").await?;
        let foreign_keys = read_text(&mut conn, "PRAGMA foreign_keys").await?;
        let busy_timeout = read_text(&mut conn, "PRAGMA busy_timeout").await?;
        let sqlite_version = read_text(&mut conn, "SELECT sqlite_version()").await?;
        let int = |name: &str, v: &str| {
            v.parse::<i64>().map_err(|_| {
                StoreError::Corrupt(format!("PRAGMA {name} answered `{v}`, not a number"))
            })
        };
        Ok(SqliteSettings {
            journal_mode,
            synchronous: int("synchronous", &synchronous)?,
            foreign_keys: int("foreign_keys", &foreign_keys)? != 0,
            busy_timeout_ms: int("busy_timeout", &busy_timeout)?,
            sqlite_version,
        })
    }

    /// Starts a write transaction holding SQLite's write lock from the first statement,
    /// so reading the next number and writing it cannot race another process.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }

    async fn fetch_events(&self, query: SqliteQuery<'_>) -> Result<Vec<ConsentEvent>> {
        let rows = query.fetch_all(&self.readers).await.map_err(db_error)?;
        rows.iter().map(decode_event).collect()
    }
}

/// The first column of a one-row answer as text: PRAGMAs answer with integers or text, and
/// SQLite converts either to text.
async fn read_text(conn: &mut SqliteConnection, sql: &'static str) -> Result<String> {
    let row = sqlx::query(sql).fetch_one(conn).await.map_err(db_error)?;
    row.try_get_unchecked::<String, _>(0).map_err(db_error)
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

const EVENT_COLUMNS: &str = "e.seq, e.subject, e.purpose, e.action, e.source, \
     e.catalog_version, e.notice_digest, e.locale, e.recorded_at";

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let last: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM events")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let mut seq = last;
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            seq = seq
                .checked_add(1)
                .ok_or_else(|| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
            sqlx::query(
                "INSERT INTO events (seq, subject, purpose, action, source, catalog_version, \
                 notice_digest, locale, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(seq)
            .bind(event.subject.as_bytes().as_slice())
            .bind(event.purpose.as_str())
            .bind(event.action.as_str())
            .bind(event.source.as_str())
            .bind(i64::from(event.catalog_version))
            .bind(event.notice_digest.0.as_slice())
            .bind(event.locale.as_str())
            .bind(event.recorded_at.unix_millis())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            sqlx::query(
                "INSERT INTO consent_state (subject, purpose, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (subject, purpose) DO UPDATE SET seq = excluded.seq \
                 WHERE excluded.seq > consent_state.seq",
            )
            .bind(event.subject.as_bytes().as_slice())
            .bind(event.purpose.as_str())
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            out.push(ConsentEvent {
                seq: to_seq(seq)?,
                event,
            });
        }
        tx.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn projection(&self) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM consent_state AS c JOIN events AS e ON e.seq = c.seq \
             ORDER BY c.seq"
        );
        self.fetch_events(sqlx::query(&sql)).await
    }

    async fn subject_state(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM consent_state AS c JOIN events AS e ON e.seq = c.seq \
             WHERE c.subject = ?1 ORDER BY c.seq"
        );
        self.fetch_events(sqlx::query(&sql).bind(subject.as_bytes().as_slice()))
            .await
    }

    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events AS e WHERE e.subject = ?1 ORDER BY e.seq");
        self.fetch_events(sqlx::query(&sql).bind(subject.as_bytes().as_slice()))
            .await
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events AS e WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2"
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.fetch_events(sqlx::query(&sql).bind(after).bind(i64::from(limit)))
            .await
    }

    async fn event_count(&self) -> Result<u64> {
        // The schema keeps seq gap-free from 1, so the largest is the count, without a scan.
        let max: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM events")
            .fetch_one(&self.readers)
            .await
            .map_err(db_error)?;
        u64::try_from(max)
            .map_err(|_| StoreError::Corrupt(format!("the ledger's largest seq is {max}")))
    }

    async fn rebuild_projection(&self) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM consent_state")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let rows = sqlx::query(
            "INSERT INTO consent_state (subject, purpose, seq) \
             SELECT subject, purpose, max(seq) FROM events GROUP BY subject, purpose",
        )
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        tx.commit().await.map_err(db_error)?;
        tracing::info!(rows, "rebuilt the consent state from the ledger");
        Ok(rows)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        let scopes = key
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_keys (id, secret_hash, scopes, label, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(key.id.as_str())
        .bind(key.secret_hash.0.as_slice())
        .bind(scopes)
        .bind(key.label.as_str())
        .bind(key.created_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, scopes, label, created_at FROM api_keys WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.as_ref().map(decode_api_key).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, secret_hash, scopes, label, created_at FROM api_keys \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.iter().map(decode_api_key).collect()
    }

    async fn latest_catalog(&self) -> Result<Option<StoredCatalog>> {
        let row = sqlx::query(
            "SELECT number, digest, canonical, source, published_at FROM catalog_versions \
             ORDER BY number DESC LIMIT 1",
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.as_ref().map(decode_catalog).transpose()
    }

    async fn catalog_version(&self, number: u32) -> Result<Option<StoredCatalog>> {
        let row = sqlx::query(
            "SELECT number, digest, canonical, source, published_at FROM catalog_versions \
             WHERE number = ?1",
        )
        .bind(i64::from(number))
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.as_ref().map(decode_catalog).transpose()
    }

    async fn publish_catalog(
        &self,
        digest: Digest256,
        canonical: String,
        source: String,
        at: Timestamp,
    ) -> Result<StoredCatalog> {
        let mut tx = self.begin_write().await?;
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
        sqlx::query(
            "INSERT INTO catalog_versions (number, digest, canonical, source, published_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(i64::from(number))
        .bind(digest.0.as_slice())
        .bind(canonical.as_str())
        .bind(source.as_str())
        .bind(at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(StoredCatalog {
            number,
            digest,
            canonical,
            source,
            published_at: at,
        })
    }
}

/// Maps a driver error: the database being unreachable or locked is `Unavailable` (worth
/// retrying); anything else is a `Backend` error with the driver's error as source.
fn db_error(e: sqlx::Error) -> StoreError {
    let busy = e
        .as_database_error()
        .and_then(|d| d.code())
        .and_then(|code| code.parse::<i32>().ok())
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with any extended code.
        .is_some_and(|code| matches!(code & 0xff, 5 | 6));
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_) => StoreError::Unavailable(e.to_string()),
        _ if busy => StoreError::Unavailable(format!(
            "{e} (another process holds the write lock for more than {} s)",
            BUSY_TIMEOUT.as_secs()
        )),
        _ => StoreError::Backend(Box::new(e)),
    }
}

fn to_seq(seq: i64) -> Result<u64> {
    u64::try_from(seq)
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| StoreError::Corrupt(format!("an event has seq {seq}; seqs start at 1")))
}

/// Reads one column of a stored row; `what` names the row in the error (`event seq 7`).
fn column<'r, T>(row: &'r SqliteRow, what: &dyn Fn() -> String, field: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    row.try_get(field)
        .map_err(|e| StoreError::Corrupt(format!("{}: field `{field}` is unreadable: {e}", what())))
}

fn bytes32(row: &SqliteRow, what: &dyn Fn() -> String, field: &str) -> Result<[u8; 32]> {
    let bytes: Vec<u8> = column(row, what, field)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        StoreError::Corrupt(format!(
            "{}: field `{field}` holds {} bytes, not 32",
            what(),
            bytes.len()
        ))
    })
}

fn invalid(what: &dyn Fn() -> String, field: &str, value: &str, why: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "{}: field `{field}` holds `{value}`, which {why}",
        what()
    ))
}

fn decode_event(row: &SqliteRow) -> Result<ConsentEvent> {
    let raw_seq: i64 = column(row, &|| "an event".to_owned(), "seq")?;
    let seq = to_seq(raw_seq)?;
    let what = move || format!("event seq {seq}");
    let what: &dyn Fn() -> String = &what;

    let purpose: String = column(row, what, "purpose")?;
    let purpose = PurposeId::parse(&purpose)
        .map_err(|e| invalid(what, "purpose", &purpose, &format!("is refused: {e}")))?;
    let action: String = column(row, what, "action")?;
    let action = Action::parse(&action)
        .ok_or_else(|| invalid(what, "action", &action, "is not a known action"))?;
    let source: String = column(row, what, "source")?;
    let source = Source::parse(&source)
        .ok_or_else(|| invalid(what, "source", &source, "is not a known source"))?;
    let catalog_version: i64 = column(row, what, "catalog_version")?;
    let catalog_version = u32::try_from(catalog_version).map_err(|_| {
        invalid(
            what,
            "catalog_version",
            &catalog_version.to_string(),
            "is not a catalog version number",
        )
    })?;
    let locale: String = column(row, what, "locale")?;
    let locale = Locale::parse(&locale)
        .map_err(|e| invalid(what, "locale", &locale, &format!("is refused: {e}")))?;

    Ok(ConsentEvent {
        seq,
        event: NewEvent {
            subject: SubjectId::from_bytes(bytes32(row, what, "subject")?),
            purpose,
            action,
            source,
            catalog_version,
            notice_digest: Digest256(bytes32(row, what, "notice_digest")?),
            locale,
            recorded_at: Timestamp::from_unix_millis(column(row, what, "recorded_at")?),
        },
    })
}

fn decode_api_key(row: &SqliteRow) -> Result<ApiKey> {
    let id: String = column(row, &|| "an API key".to_owned(), "id")?;
    let what = || format!("API key {id}");
    let what: &dyn Fn() -> String = &what;
    let scopes: String = column(row, what, "scopes")?;
    let scopes = scopes
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Scope::parse(s).ok_or_else(|| invalid(what, "scopes", s, "is not a known scope")))
        .collect::<Result<Vec<_>>>()?;
    Ok(ApiKey {
        secret_hash: Digest256(bytes32(row, what, "secret_hash")?),
        scopes,
        label: column(row, what, "label")?,
        created_at: Timestamp::from_unix_millis(column(row, what, "created_at")?),
        id,
    })
}

fn decode_catalog(row: &SqliteRow) -> Result<StoredCatalog> {
    let number: i64 = column(row, &|| "a catalog version".to_owned(), "number")?;
    let what = || format!("catalog version {number}");
    let what: &dyn Fn() -> String = &what;
    let number = u32::try_from(number).map_err(|_| {
        invalid(
            what,
            "number",
            &number.to_string(),
            "is not a version number",
        )
    })?;
    Ok(StoredCatalog {
        number,
        digest: Digest256(bytes32(row, what, "digest")?),
        canonical: column(row, what, "canonical")?,
        source: column(row, what, "source")?,
        published_at: Timestamp::from_unix_millis(column(row, what, "published_at")?),
    })
}
