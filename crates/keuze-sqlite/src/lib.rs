//! The embedded default backend: one SQLite file, `<data_dir>/keuze.db`, in WAL mode with
//! `synchronous=FULL`, so a commit is on disk before a write is acknowledged.
//!
//! Writes go through one connection (SQLite allows one writer at a time) and start with
//! `BEGIN IMMEDIATE`, so a second process (the CLI publishing a catalog while the server
//! runs) waits for the write lock for up to the busy timeout instead of failing. Reads use
//! a small pool of their own and never wait for the writer.
//!
//! The ledger table holds what the Merkle leaves commit to: subjects appear there only as
//! salted commitments. The pseudonym, its salt and its commitment live in one `subjects`
//! row; erasure deletes that row, with `secure_delete` on and the WAL checkpointed, so the
//! salt's bytes leave the data directory and the subject's leaves can no longer be tied
//! to anyone while every hash of the tree stays as it was.

use async_trait::async_trait;
use keuze_core::admin::{self, AdminEntry, Attribution, LedgerLeaf, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEvent};
use keuze_core::merkle::{self, Hash, NodeSource, StoredNode, TreeBuilder};
use keuze_core::receipt::{subject_commitment, EntryAction, LedgerEntry, SubjectSalt};
use keuze_core::{Action, ConsentEvent, NewEvent, SubjectId};
use keuze_store::decode::{self, StoredRow, ADMIN_COLUMNS};
use keuze_store::{
    ApiKey, NoticeCounts, Result, Store, StoreError, StoredCatalog, StoredCheckpoint,
    StoredIncident, StoredLogKey,
};
use rand::rngs::OsRng;
use rand::RngCore;
use rows::{JsonEntry, Lite, PageRow, ENTRY_PAGE_SQL};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Row, Sqlite, Transaction};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

mod incidents;
mod outbox;
mod rows;

/// The database file inside the data directory.
pub const DB_FILE: &str = "keuze.db";

/// How long a write waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections for reads; each is a thread in sqlx's SQLite driver.
const READERS: u32 = 4;

const DAY_MS: i64 = 86_400_000;

/// The schema migrations, embedded so the binary carries them (and a change to a file
/// rebuilds the crate). Versions follow the file names' numeric prefixes.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (2, "proofs", include_str!("../migrations/0002_proofs.sql")),
    (3, "outbox", include_str!("../migrations/0003_outbox.sql")),
    (
        4,
        "remembered",
        include_str!("../migrations/0004_remembered.sql"),
    ),
    (5, "audit", include_str!("../migrations/0005_audit.sql")),
    (
        6,
        "incidents",
        include_str!("../migrations/0006_incidents.sql"),
    ),
];

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

/// The settings that decide durability, concurrency and erasure, as SQLite reports them on
/// the writing connection; for diagnostics (`keuze` can show them) and for tests that
/// prove them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteSettings {
    /// `wal` once the database has been opened by Keuze.
    pub journal_mode: String,
    /// 0 = OFF, 1 = NORMAL, 2 = FULL, 3 = EXTRA. Keuze uses FULL.
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub busy_timeout_ms: i64,
    /// 0 = OFF, 1 = ON, 2 = FAST. Keuze uses ON: deleted content (an erased subject's
    /// salt) is overwritten with zeros, not left in free space.
    pub secure_delete: i64,
    /// 0 = DEFAULT (files), 1 = FILE, 2 = MEMORY. The writer uses MEMORY: statement
    /// journals (page images, salts among them) stay out of temporary files.
    pub temp_store: i64,
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
            .busy_timeout(BUSY_TIMEOUT)
            // Erasure deletes a subject's salt. Without secure_delete SQLite only unlinks
            // deleted content and its bytes stay in the file's free space until reused,
            // readable by anyone with a copy: crypto-shredding needs them overwritten.
            // It is a per-connection setting, so every connection sets it.
            .pragma("secure_delete", "ON")
            // Every new subject touches random pages of three B-trees keyed by hashes
            // (subjects, consent_state, events_by_commitment). A 64 MiB page cache keeps
            // them from being read back from the file at each write, and checkpointing
            // every 16,384 pages instead of 1,000 writes a hot page into the database
            // file once per checkpoint rather than every few commits. Together they
            // doubled the durable write rate (BENCHMARKS.md).
            .pragma("cache_size", "-65536")
            .pragma("wal_autocheckpoint", "16384");
        let cannot_open = |e: sqlx::Error| {
            StoreError::Unavailable(format!("cannot open the database {}: {e}", path.display()))
        };
        // Inside a transaction, every statement that may fail halfway (each of the
        // append's INSERTs: triggers, constraints) keeps the pages it changes in a
        // statement journal, so that it can be undone alone; past 64 KiB SQLite moves
        // that journal into a temporary file, created, written and deleted per
        // statement. An append's statements change hundreds of pages each (random
        // B-tree pages, see above): `perf` put 16 % of the write benchmark's CPU in
        // those files. Kept in memory, they cost a copy; nothing durable lives there,
        // so durability is unchanged (BENCHMARKS.md). Only the writer: readers never
        // write, and work that may sort the whole ledger sets it back to files (see
        // `temp_store`).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // Not a round trip to SQLite's thread before every transaction just to see
            // that the connection is alive: BEGIN finds out as well, and a dead one
            // fails the write as `Unavailable` either way.
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .pragma("temp_store", TEMP_IN_MEMORY),
            )
            .await
            .map_err(cannot_open)?;
        let migrator = Migrator::new(EmbeddedMigrations).await.map_err(|e| {
            StoreError::Corrupt(format!("the embedded migrations are unusable: {e}"))
        })?;
        {
            let mut conn = writer.acquire().await.map_err(cannot_open)?;
            // A migration may copy or index the whole ledger: let its sorts spill to disk.
            temp_store(&mut conn, TEMP_ON_DISK).await?;
            let migrated = migrator.run(&mut *conn).await.map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot bring the schema of {} up to date: {e}",
                    path.display()
                ))
            });
            let restored = temp_store(&mut conn, TEMP_IN_MEMORY).await;
            migrated?;
            restored?;
        }
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
        let secure_delete = read_text(&mut conn, "PRAGMA secure_delete").await?;
        let temp_store = read_text(&mut conn, "PRAGMA temp_store").await?;
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
            secure_delete: int("secure_delete", &secure_delete)?,
            temp_store: int("temp_store", &temp_store)?,
            sqlite_version,
        })
    }

    /// Starts a write transaction holding SQLite's write lock from the first statement,
    /// so reading the next number and writing it cannot race another process.
    ///
    /// A caller that gives up while its BEGIN is on the way (a client gone, a request
    /// past its deadline, a stopped task) leaves the writer connection inside a
    /// transaction that no one holds, with SQLite's write lock: every later write would
    /// fail. That connection is closed (SQLite rolls the transaction back) and the
    /// write begins on a new one.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        match self.writer.begin_with("BEGIN IMMEDIATE").await {
            Err(e) if is_stranded_transaction(&e) => {
                tracing::warn!(
                    "a cancelled write left the writer connection inside a transaction; reopening it"
                );
                let stranded = self.writer.acquire().await.map_err(db_error)?;
                let _ = stranded.detach().close().await;
                self.writer
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(db_error)
            }
            other => other.map_err(db_error),
        }
    }

    async fn fetch_events(&self, query: SqliteQuery<'_>) -> Result<Vec<ConsentEvent>> {
        let rows = query.fetch_all(&self.readers).await.map_err(db_error)?;
        rows.iter()
            .map(|r| decode::consent_event(&Lite(r)))
            .collect()
    }

    async fn fetch_checkpoints(&self, query: SqliteQuery<'_>) -> Result<Vec<StoredCheckpoint>> {
        let rows = query.fetch_all(&self.readers).await.map_err(db_error)?;
        rows.iter().map(|r| decode::checkpoint(&Lite(r))).collect()
    }

    /// Moves every committed page from the WAL into the database file and truncates the
    /// WAL to zero bytes, so page images written before an erasure (which hold the erased
    /// salt) do not linger in `keuze.db-wal`. Best effort: the erasure is committed
    /// already, and a checkpoint that cannot finish now (a reader of another process is
    /// still on an old snapshot) is logged; SQLite's own checkpoints catch up later.
    async fn truncate_wal(&self) {
        let result = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.writer)
            .await;
        match result {
            Ok((0, _, _)) => {}
            Ok((_, log, done)) => tracing::warn!(
                wal_frames = log,
                checkpointed = done,
                "after an erasure, the WAL could not be checkpointed and truncated: a reader \
                 still needs it; the erased salt stays in keuze.db-wal until the next checkpoint"
            ),
            Err(e) => tracing::warn!(
                error = %e,
                "after an erasure, the WAL could not be checkpointed and truncated; the erased \
                 salt stays in keuze.db-wal until the next checkpoint"
            ),
        }
    }
}

/// `temp_store` values: statement journals and sorts in memory (the writer's default), or
/// in temporary files (for work that may sort the whole ledger, which must not be held in
/// memory: with `MEMORY`, SQLite's sorter never spills).
const TEMP_IN_MEMORY: &str = "MEMORY";
const TEMP_ON_DISK: &str = "FILE";

/// Sets where the connection keeps temporary data. Not inside a transaction.
async fn temp_store(conn: &mut SqliteConnection, mode: &str) -> Result<()> {
    sqlx::query(&format!("PRAGMA temp_store = {mode}"))
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Rebuilds `consent_state` from the ledger in one write transaction on `conn`.
async fn rebuild_projection_in(conn: &mut SqliteConnection) -> Result<u64> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
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
    Ok(rows)
}

/// The first column of a one-row answer as text: PRAGMAs answer with integers or text, and
/// SQLite converts either to text.
async fn read_text(conn: &mut SqliteConnection, sql: &'static str) -> Result<String> {
    let row = sqlx::query(sql).fetch_one(conn).await.map_err(db_error)?;
    row.try_get_unchecked::<String, _>(0).map_err(db_error)
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// A consent event: a ledger row `e` with its subject's clear pseudonym from `s`, the
/// subject's `subjects` row; erased subjects have none, so their events drop out.
const EVENT_COLUMNS: &str = "e.seq, s.pseudonym AS subject, e.purpose, e.action, e.source, \
     e.catalog_version, e.notice_digest, e.locale, e.recorded_at, e.context_digest";

const CHECKPOINT_COLUMNS: &str = "size, root, note, signed_at";

/// Why a request was refused before anything was written. [`StoreError`] has no variant
/// for a caller's mistake, and `Corrupt` is the one that says "not what Keuze writes".
fn refused(why: String) -> StoreError {
    StoreError::Corrupt(format!("refused to write: {why}"))
}

/// Appends `events` inside the caller's write transaction: the ledger rows, the projection
/// and the Merkle tree. Refuses (and the caller's transaction then writes nothing) an
/// event of an erased subject.
async fn append_in(
    conn: &mut SqliteConnection,
    events: Vec<NewEvent>,
) -> Result<Vec<ConsentEvent>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    // Each query is a round trip to SQLite's thread, which costs more than SQLite needs
    // for most of them (a bare `SELECT 1` takes ~50 µs, ~35 µs of it CPU, on the
    // benchmark machine), so the append makes as few as it can: this one, one for the
    // tree's frontier, one for the subjects' salts, one for all the rows, and the
    // transaction's BEGIN and COMMIT.
    let size = ledger_head(conn).await?;
    let last = i64::try_from(size)
        .map_err(|_| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
    let mut tree = with_stored_nodes(conn, |nodes| TreeBuilder::resume(size, nodes)).await?;

    let Commitments {
        of: commitments,
        fresh,
    } = commitments_for(conn, events.iter().map(|e| e.subject)).await?;
    let mut nodes = Vec::with_capacity(events.len() * 2);
    let mut seq = last;
    let mut out = Vec::with_capacity(events.len());
    // The ledger rows and projection rows of the whole batch, each written by one
    // statement: per-row statements cost a round trip to SQLite's thread each, and that,
    // not SQLite, was what limited the write rate.
    let mut rows = Vec::with_capacity(events.len());
    let mut state = Vec::with_capacity(events.len());
    for event in events {
        let commitment = *commitments.get(&event.subject).ok_or_else(|| {
            StoreError::Corrupt("a subject of the batch got no commitment".into())
        })?;
        seq = seq
            .checked_add(1)
            .ok_or_else(|| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
        rows.push(serde_json::json!([
            seq,
            hex::encode(commitment.0),
            event.purpose.as_str(),
            event.action.as_str(),
            event.source.as_str(),
            event.catalog_version,
            hex::encode(event.notice_digest.0),
            event.locale.as_str(),
            event.recorded_at.unix_millis(),
            hex::encode(event.context_digest.0),
        ]));
        state.push(serde_json::json!([
            event.subject.to_hex(),
            event.purpose.as_str(),
            seq
        ]));
        let seq = to_seq(seq)?;
        let entry = LedgerEntry {
            seq,
            subject_commitment: commitment,
            purpose: event.purpose.clone(),
            action: EntryAction::from(event.action),
            source: event.source,
            catalog_version: event.catalog_version,
            notice_digest: event.notice_digest,
            locale: event.locale.clone(),
            recorded_at: event.recorded_at,
            context_digest: event.context_digest,
        };
        nodes.extend(tree.append(entry.leaf_hash()));
        out.push(ConsentEvent { seq, event });
    }
    let json = nodes_json(&nodes);
    // New subjects, ledger rows, projection and tree nodes: one set-based statement per
    // table, all four sent together (SQLite's thread runs them in order and stops at
    // the first error; the caller's transaction then writes nothing). Plain `?`
    // parameters: sqlx hands each statement of a multi-statement query the arguments
    // after those the statements before it used, in order.
    // `WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    sqlx::query(
        "INSERT INTO subjects (pseudonym, salt, commitment) \
         SELECT unhex(value ->> 0), unhex(value ->> 1), unhex(value ->> 2) \
         FROM json_each(?); \
         INSERT INTO events (seq, subject_commitment, purpose, action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest) \
         SELECT value ->> 0, unhex(value ->> 1), value ->> 2, value ->> 3, value ->> 4, \
         value ->> 5, unhex(value ->> 6), value ->> 7, value ->> 8, unhex(value ->> 9) \
         FROM json_each(?) ORDER BY key; \
         INSERT INTO consent_state (subject, purpose, seq) \
         SELECT unhex(value ->> 0), value ->> 1, value ->> 2 FROM json_each(?) WHERE true \
         ORDER BY key \
         ON CONFLICT (subject, purpose) DO UPDATE SET seq = excluded.seq \
         WHERE excluded.seq > consent_state.seq; \
         INSERT INTO tree_nodes (level, idx, hash) \
         SELECT value ->> 0, value ->> 1, unhex(value ->> 2) FROM json_each(?)",
    )
    .bind(serde_json::Value::Array(fresh).to_string())
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(serde_json::Value::Array(state).to_string())
    .bind(json)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(out)
}

/// The ledger's last seq, consent and admin entries alike, which is the number of leaves:
/// both are written together, and this checks that they agree. One query.
async fn ledger_head(conn: &mut SqliteConnection) -> Result<u64> {
    let (last, size): (i64, i64) = sqlx::query_as(
        "SELECT max((SELECT coalesce(max(seq), 0) FROM events), \
         (SELECT coalesce(max(seq), 0) FROM admin_events), \
         (SELECT coalesce(max(seq), 0) FROM notice_events)), \
         (SELECT coalesce(max(idx) + 1, 0) FROM tree_nodes WHERE level = 0)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let size = to_tree_size(size)?;
    if u64::try_from(last).ok() != Some(size) {
        return Err(StoreError::Corrupt(format!(
            "the ledger's last seq is {last} but the Merkle tree has {size} leaves; \
             they are written together and must agree"
        )));
    }
    Ok(size)
}

/// Tree nodes as `[[level, idx, "hex"], …]`, for one `json_each` insert.
fn nodes_json(nodes: &[StoredNode]) -> String {
    let mut json = String::with_capacity(nodes.len() * 80 + 2);
    json.push('[');
    for (i, node) in nodes.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        let hash = merkle::hash_to_hex(&node.hash);
        // Writing to a String cannot fail.
        let _ = write!(json, "{comma}[{},{},\"{hash}\"]", node.level, node.index);
    }
    json.push(']');
    json
}

/// Appends an admin entry inside the caller's write transaction: the next seq, its row
/// and its leaf in the Merkle tree.
async fn append_admin_in(conn: &mut SqliteConnection, new: NewAdminEntry) -> Result<AdminEntry> {
    let size = ledger_head(conn).await?;
    let mut tree = with_stored_nodes(conn, |nodes| TreeBuilder::resume(size, nodes)).await?;
    let entry = new.at_seq(size + 1);
    let nodes = tree.append(entry.leaf_hash());
    let seq = i64::try_from(entry.seq)
        .map_err(|_| StoreError::Corrupt("the ledger's seq is exhausted".into()))?;
    sqlx::query(
        "INSERT INTO admin_events (seq, action, actor, target, detail, recorded_at) \
         VALUES (?, ?, ?, ?, ?, ?); \
         INSERT INTO tree_nodes (level, idx, hash) \
         SELECT value ->> 0, value ->> 1, unhex(value ->> 2) FROM json_each(?)",
    )
    .bind(seq)
    .bind(entry.action.as_str())
    .bind(entry.actor.to_string())
    .bind(entry.target.as_str())
    .bind(entry.detail_json())
    .bind(entry.recorded_at.unix_millis())
    .bind(nodes_json(&nodes))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(entry)
}

/// Admin entries with `seq > after`, at most `limit`, on `conn`.
async fn read_admin(
    conn: &mut SqliteConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<AdminEntry>> {
    let sql =
        format!("SELECT {ADMIN_COLUMNS} FROM admin_events WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    let rows = sqlx::query(&sql)
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    rows.iter().map(|r| decode::admin_entry(&Lite(r))).collect()
}

/// Consent ledger entries with `seq > after`, at most `limit`, on `conn`, in pages of
/// [`ENTRY_PAGE`].
async fn read_entries(
    conn: &mut SqliteConnection,
    after: u64,
    limit: u32,
) -> Result<Vec<LedgerEntry>> {
    let mut entries = Vec::with_capacity(limit.min(ENTRY_PAGE) as usize);
    let mut after = after;
    let mut left = limit;
    while left > 0 {
        let page = left.min(ENTRY_PAGE);
        let json: String = sqlx::query_scalar(ENTRY_PAGE_SQL)
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(page))
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
        let rows = decode_entry_page(&json, after)?;
        let full = rows.len() == page as usize;
        after = rows.last().map_or(after, |e| e.seq);
        entries.extend(rows);
        if !full {
            break;
        }
        left -= page;
    }
    Ok(entries)
}

/// The subjects of a batch as the ledger names them.
struct Commitments {
    /// Each subject's commitment.
    of: HashMap<SubjectId, Digest256>,
    /// The `subjects` rows to insert for subjects seen for the first time, as
    /// `[pseudonym, salt, commitment]` in hex.
    fresh: Vec<serde_json::Value>,
}

/// The commitment under which the ledger names each subject of `events`, with new salts
/// for subjects seen for the first time (the caller inserts their rows): one query
/// however many subjects. A batch with an erased subject is refused.
async fn commitments_for(
    conn: &mut SqliteConnection,
    of: impl Iterator<Item = SubjectId>,
) -> Result<Commitments> {
    let mut subjects: Vec<SubjectId> = Vec::new();
    let mut out: HashMap<SubjectId, Digest256> = HashMap::new();
    for subject in of {
        if let std::collections::hash_map::Entry::Vacant(v) = out.entry(subject) {
            v.insert(Digest256([0; 32]));
            subjects.push(subject);
        }
    }
    let asked = serde_json::Value::Array(
        subjects
            .iter()
            .map(|s| serde_json::Value::String(s.to_hex()))
            .collect(),
    );
    let rows = sqlx::query(
        "SELECT j.key AS i, s.salt, s.commitment, e.pseudonym IS NOT NULL AS erased \
         FROM json_each(?1) AS j \
         LEFT JOIN subjects AS s ON s.pseudonym = unhex(j.value) \
         LEFT JOIN erased_subjects AS e ON e.pseudonym = unhex(j.value) \
         ORDER BY j.key",
    )
    .bind(asked.to_string())
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
    let mut fresh = Vec::new();
    for (row, subject) in rows.iter().zip(&subjects) {
        // No pseudonym in the messages: errors end up in logs.
        let r = StoredRow::new(Lite(row), "a subject's row");
        if r.integer("erased")? != 0 {
            return Err(StoreError::Erased);
        }
        let commitment = match r.optional_bytes32("salt")? {
            Some(salt) => {
                let commitment = r.digest("commitment")?;
                if subject_commitment(&salt, subject) != commitment {
                    return Err(StoreError::Corrupt(
                        "a subject's stored commitment is not the commitment of its salt \
                         and pseudonym"
                            .into(),
                    ));
                }
                commitment
            }
            None => {
                let mut salt = [0u8; 32];
                OsRng.try_fill_bytes(&mut salt).map_err(|e| {
                    StoreError::Unavailable(format!(
                        "the operating system gave no random bytes for a subject's salt: {e}"
                    ))
                })?;
                let commitment = subject_commitment(&salt, subject);
                fresh.push(serde_json::json!([
                    subject.to_hex(),
                    hex::encode(salt),
                    hex::encode(commitment.0)
                ]));
                commitment
            }
        };
        out.insert(*subject, commitment);
    }
    Ok(Commitments { of: out, fresh })
}

async fn is_erased(conn: &mut SqliteConnection, subject: &SubjectId) -> Result<bool> {
    let erased: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM erased_subjects WHERE pseudonym = ?1")
            .bind(subject.as_bytes().as_slice())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
    Ok(erased.is_some())
}

/// The number of leaves: the largest leaf index plus one, from the primary key.
async fn stored_tree_size(conn: &mut SqliteConnection) -> Result<u64> {
    let size: i64 =
        sqlx::query_scalar("SELECT coalesce(max(idx) + 1, 0) FROM tree_nodes WHERE level = 0")
            .fetch_one(conn)
            .await
            .map_err(db_error)?;
    to_tree_size(size)
}

fn to_tree_size(size: i64) -> Result<u64> {
    u64::try_from(size)
        .map_err(|_| StoreError::Corrupt(format!("the Merkle tree reports {size} leaves")))
}

/// Stored nodes by (level, index), in the order asked, with one query however many are
/// asked: the pairs travel as one JSON array and are joined against the primary key.
async fn fetch_nodes(conn: &mut SqliteConnection, wanted: &[(u8, u64)]) -> Result<Vec<Hash>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut json = String::with_capacity(wanted.len() * 24 + 2);
    json.push('[');
    for (i, (level, index)) in wanted.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        // Writing to a String cannot fail.
        let _ = write!(json, "{comma}[{level},{index}]");
    }
    json.push(']');
    // One JSON array back, one hash (hex, or null where the node is missing) per node
    // asked for: as for `ledger_entries`, a row per node through sqlx cost more than the
    // lookups themselves.
    let hashes: String = sqlx::query_scalar(
        "SELECT json_group_array(iif(t.hash IS NULL, NULL, hex(t.hash)) ORDER BY w.key) \
         FROM json_each(?1) AS w \
         LEFT JOIN tree_nodes AS t ON t.level = w.value ->> 0 AND t.idx = w.value ->> 1",
    )
    .bind(json)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    let hashes: Vec<Option<&str>> = serde_json::from_str(&hashes).map_err(|e| {
        StoreError::Corrupt(format!(
            "the Merkle tree nodes asked for are unreadable: {e}"
        ))
    })?;
    if hashes.len() != wanted.len() {
        return Err(StoreError::Corrupt(format!(
            "asked for {} Merkle tree nodes, the database answered {}",
            wanted.len(),
            hashes.len()
        )));
    }
    hashes
        .iter()
        .zip(wanted)
        .map(|(hash, &(level, index))| {
            let what = || format!("Merkle tree node (level {level}, index {index})");
            let hash = hash.ok_or_else(|| StoreError::Corrupt(format!("{} is missing", what())))?;
            let mut out = [0u8; 32];
            hex::decode_to_slice(hash, &mut out).map_err(|_| {
                StoreError::Corrupt(format!("{} holds {} bytes, not 32", what(), hash.len() / 2))
            })?;
            Ok(out)
        })
        .collect()
}

/// The stored tree as a [`NodeSource`]. The nodes a tree computation asks for depend only
/// on sizes and indices, never on hashes, so a computation runs twice: first against
/// [`StoredNodes::Recording`], which answers zeros and notes what was asked, then against
/// exactly those nodes, fetched in one query.
enum StoredNodes<'a> {
    Recording(&'a RefCell<Vec<(u8, u64)>>),
    Fetched(HashMap<(u8, u64), Hash>),
}

impl NodeSource for StoredNodes<'_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        match self {
            Self::Recording(asked) => {
                asked.borrow_mut().push((level, index));
                Ok([0; 32])
            }
            Self::Fetched(nodes) => nodes.get(&(level, index)).copied().ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "Merkle tree node (level {level}, index {index}) was not fetched"
                ))
            }),
        }
    }
}

/// Runs `compute` over the stored tree with one query for all the nodes it reads.
async fn with_stored_nodes<T>(
    conn: &mut SqliteConnection,
    compute: impl Fn(&StoredNodes<'_>) -> Result<T>,
) -> Result<T> {
    let asked = RefCell::new(Vec::new());
    compute(&StoredNodes::Recording(&asked))?;
    let wanted = asked.into_inner();
    let hashes = fetch_nodes(conn, &wanted).await?;
    compute(&StoredNodes::Fetched(
        wanted.into_iter().zip(hashes).collect(),
    ))
}

#[async_trait]
impl Store for SqliteStore {
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
        let mut tx = self.begin_write().await?;
        let out = append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(out)
    }

    async fn tree_size(&self) -> Result<u64> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        stored_tree_size(&mut conn).await
    }

    async fn tree_nodes(&self, wanted: &[(u8, u64)]) -> Result<Vec<Hash>> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        fetch_nodes(&mut conn, wanted).await
    }

    async fn ledger_entries(&self, after: u64, limit: u32) -> Result<Vec<LedgerEntry>> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        read_entries(&mut conn, after, limit).await
    }

    async fn ledger_leaves(&self, after: u64, limit: u32) -> Result<Vec<LedgerLeaf>> {
        // One read transaction, so both tables are read at the same commit: an append
        // between two reads would otherwise leave a hole in the merged page.
        let mut tx = self.readers.begin().await.map_err(db_error)?;
        let admin = read_admin(&mut tx, after, limit).await?;
        let consent = read_entries(&mut tx, after, limit).await?;
        let notices = incidents::read_notice_entries(&mut tx, after, limit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(admin::merge_leaves(consent, admin, notices, limit as usize))
    }

    async fn append_admin(&self, entry: NewAdminEntry) -> Result<AdminEntry> {
        let mut tx = self.begin_write().await?;
        let entry = append_admin_in(&mut tx, entry).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(entry)
    }

    async fn admin_entries(&self, after: u64, limit: u32) -> Result<Vec<AdminEntry>> {
        let mut conn = self.readers.acquire().await.map_err(db_error)?;
        read_admin(&mut conn, after, limit).await
    }

    async fn subject_salt(&self, subject: &SubjectId) -> Result<Option<SubjectSalt>> {
        let row = sqlx::query("SELECT salt FROM subjects WHERE pseudonym = ?1")
            .bind(subject.as_bytes().as_slice())
            .fetch_optional(&self.readers)
            .await
            .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let salt = StoredRow::new(Lite(&row), "a subject's row").bytes32("salt")?;
        Ok(Some(SubjectSalt(salt)))
    }

    async fn erase_subject(
        &self,
        subject: &SubjectId,
        erasure: Vec<NewEvent>,
        by: &Attribution,
    ) -> Result<Vec<ConsentEvent>> {
        let mut tx = self.begin_write().await?;
        if is_erased(&mut tx, subject).await? {
            return Err(StoreError::Erased);
        }
        if let Some(e) = erasure
            .iter()
            .find(|e| e.subject != *subject || e.action != Action::Erase)
        {
            return Err(refused(format!(
                "`erase_subject` was given a `{}` entry{}; it records only the subject's own \
                 erase entries",
                e.action,
                if e.subject == *subject {
                    ""
                } else {
                    " of another subject"
                }
            )));
        }
        // The ledger must show the erasure: its entries are the last leaves tied to the
        // subject while the salt still exists.
        let Some(erased_at) = erasure.iter().map(|e| e.recorded_at.unix_millis()).min() else {
            return Err(refused(
                "`erase_subject` was given no erase entries; the ledger must record the erasure"
                    .into(),
            ));
        };
        let pseudonym = subject.as_bytes().as_slice();
        let out = append_in(&mut tx, erasure).await?;
        if let (Some(first), Some(last)) = (out.first(), out.last()) {
            outbox::hold_erasure(&mut tx, subject, last.seq).await?;
            append_admin_in(
                &mut tx,
                NewAdminEntry::subject_erased(by, first.seq, last.seq),
            )
            .await?;
        }
        sqlx::query("DELETE FROM subjects WHERE pseudonym = ?1")
            .bind(pseudonym)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query("DELETE FROM consent_state WHERE subject = ?1")
            .bind(pseudonym)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        // Only the day: the exact time would equal the erase entries' `recorded_at` and so
        // tie the pseudonym kept here to their commitment, and through it to every leaf of
        // the subject.
        let erased_on = erased_at.div_euclid(DAY_MS).saturating_mul(DAY_MS);
        sqlx::query("INSERT INTO erased_subjects (pseudonym, erased_at) VALUES (?1, ?2)")
            .bind(pseudonym)
            .bind(erased_on)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        self.truncate_wal().await;
        tracing::info!(
            entries = out.len(),
            "erased a subject; its salt is destroyed"
        );
        Ok(out)
    }

    async fn erased_subjects(&self) -> Result<Vec<SubjectId>> {
        let rows = sqlx::query("SELECT pseudonym FROM erased_subjects ORDER BY pseudonym")
            .fetch_all(&self.readers)
            .await
            .map_err(db_error)?;
        rows.iter()
            .map(|row| StoredRow::new(Lite(row), "an erased subject").subject("pseudonym"))
            .collect()
    }

    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<()> {
        let size = checkpoint.size;
        let Ok(db_size) = i64::try_from(size) else {
            return Err(refused(format!("a checkpoint for tree size {size}")));
        };
        let mut tx = self.begin_write().await?;
        let latest: Option<i64> = sqlx::query_scalar("SELECT max(size) FROM checkpoints")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        if let Some(latest) = latest.filter(|&l| l >= db_size) {
            return Err(refused(format!(
                "a checkpoint for tree size {size}: the latest checkpoint is for size {latest}, \
                 and checkpoints only grow"
            )));
        }
        let leaves = stored_tree_size(&mut tx).await?;
        if size > leaves {
            return Err(refused(format!(
                "a checkpoint for tree size {size}: the tree has {leaves} leaves"
            )));
        }
        let root = with_stored_nodes(&mut tx, |nodes| merkle::root_at(size, nodes)).await?;
        if root != checkpoint.root {
            return Err(refused(format!(
                "a checkpoint for tree size {size} with root {}: the stored tree's root at \
                 that size is {}",
                merkle::hash_to_hex(&checkpoint.root),
                merkle::hash_to_hex(&root)
            )));
        }
        sqlx::query(
            "INSERT INTO checkpoints (size, root, note, signed_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(db_size)
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
            "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE size > ?1 ORDER BY size LIMIT ?2"
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.fetch_checkpoints(sqlx::query(&sql).bind(after).bind(i64::from(limit)))
            .await
    }

    async fn add_log_key(&self, key: &StoredLogKey) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO log_keys (verifier, created_at) VALUES (?1, ?2) \
             ON CONFLICT (verifier) DO NOTHING",
        )
        .bind(key.verifier.as_str())
        .bind(key.created_at.unix_millis())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn log_keys(&self) -> Result<Vec<StoredLogKey>> {
        let rows =
            sqlx::query("SELECT verifier, created_at FROM log_keys ORDER BY created_at, verifier")
                .fetch_all(&self.readers)
                .await
                .map_err(db_error)?;
        rows.iter().map(|r| decode::log_key(&Lite(r))).collect()
    }

    async fn projection(&self) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM consent_state AS c \
             JOIN events AS e ON e.seq = c.seq \
             JOIN subjects AS s ON s.commitment = e.subject_commitment \
             ORDER BY c.seq"
        );
        self.fetch_events(sqlx::query(&sql)).await
    }

    async fn subject_state(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM consent_state AS c \
             JOIN events AS e ON e.seq = c.seq \
             JOIN subjects AS s ON s.commitment = e.subject_commitment \
             WHERE c.subject = ?1 AND s.pseudonym = ?1 ORDER BY c.seq"
        );
        self.fetch_events(sqlx::query(&sql).bind(subject.as_bytes().as_slice()))
            .await
    }

    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM subjects AS s \
             JOIN events AS e ON e.subject_commitment = s.commitment \
             WHERE s.pseudonym = ?1 ORDER BY e.seq"
        );
        self.fetch_events(sqlx::query(&sql).bind(subject.as_bytes().as_slice()))
            .await
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<ConsentEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events AS e \
             JOIN subjects AS s ON s.commitment = e.subject_commitment \
             WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2"
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.fetch_events(sqlx::query(&sql).bind(after).bind(i64::from(limit)))
            .await
    }

    async fn event_count(&self) -> Result<u64> {
        // The schema keeps seq gap-free from 1 across both kinds of entry, so the largest
        // is the count, without a scan.
        let max: i64 = sqlx::query_scalar(
            "SELECT max((SELECT coalesce(max(seq), 0) FROM events), \
             (SELECT coalesce(max(seq), 0) FROM admin_events), \
             (SELECT coalesce(max(seq), 0) FROM notice_events))",
        )
        .fetch_one(&self.readers)
        .await
        .map_err(db_error)?;
        u64::try_from(max)
            .map_err(|_| StoreError::Corrupt(format!("the ledger's largest seq is {max}")))
    }

    async fn rebuild_projection(&self) -> Result<u64> {
        // The rebuild groups the whole ledger: its sort must be able to spill to disk.
        let mut conn = self.writer.acquire().await.map_err(db_error)?;
        temp_store(&mut conn, TEMP_ON_DISK).await?;
        let rows = rebuild_projection_in(&mut conn).await;
        if let Err(e) = temp_store(&mut conn, TEMP_IN_MEMORY).await {
            // Not worth failing a rebuild that is committed: a new connection gets the
            // writer's settings again.
            tracing::warn!(error = %e, "could not set the writer's temp_store back to memory");
            conn.close_on_drop();
        }
        let rows = rows?;
        tracing::info!(rows, "rebuilt the consent state from the ledger");
        Ok(rows)
    }

    async fn insert_api_key(&self, key: &ApiKey, by: &Attribution) -> Result<AdminEntry> {
        let names: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let audit = NewAdminEntry::key_created(by, &key.id, &names)
            .map_err(|e| refused(format!("the key id `{}` cannot be audited: {e}", key.id)))?;
        let scopes = names.join(",");
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
        let entry = append_admin_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(entry)
    }

    async fn revoke_api_key(&self, id: &str, by: &Attribution) -> Result<Option<AdminEntry>> {
        let audit = NewAdminEntry::key_revoked(by, id)
            .map_err(|e| refused(format!("the key id `{id}` cannot be audited: {e}")))?;
        let mut tx = self.begin_write().await?;
        let revoked =
            sqlx::query("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
                .bind(by.at.unix_millis())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
        if revoked == 0 {
            return Ok(None);
        }
        let entry = append_admin_in(&mut tx, audit).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(entry))
    }

    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, secret_hash, scopes, label, created_at, revoked_at FROM api_keys WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.as_ref().map(|r| decode::api_key(&Lite(r))).transpose()
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT id, secret_hash, scopes, label, created_at, revoked_at FROM api_keys \
             ORDER BY created_at, id",
        )
        .fetch_all(&self.readers)
        .await
        .map_err(db_error)?;
        rows.iter().map(|r| decode::api_key(&Lite(r))).collect()
    }

    async fn latest_catalog(&self) -> Result<Option<StoredCatalog>> {
        let row = sqlx::query(
            "SELECT number, digest, canonical, source, published_at FROM catalog_versions \
             ORDER BY number DESC LIMIT 1",
        )
        .fetch_optional(&self.readers)
        .await
        .map_err(db_error)?;
        row.as_ref().map(|r| decode::catalog(&Lite(r))).transpose()
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
        row.as_ref().map(|r| decode::catalog(&Lite(r))).transpose()
    }

    async fn publish_catalog(
        &self,
        digest: Digest256,
        canonical: String,
        source: String,
        by: &Attribution,
    ) -> Result<StoredCatalog> {
        let at = by.at;
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
        append_admin_in(
            &mut tx,
            NewAdminEntry::catalog_published(by, number, &digest),
        )
        .await?;
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
        self.append_notices_in(notices).await
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
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO remembered (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let kept: String = sqlx::query_scalar("SELECT value FROM remembered WHERE name = ?1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(kept)
    }
}

/// sqlx's answer to a BEGIN on a connection that is already inside a transaction.
fn is_stranded_transaction(e: &sqlx::Error) -> bool {
    e.to_string().contains("non-zero transaction depth")
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

/// Rows per `ENTRY_PAGE_SQL` query, so that the JSON text held at once stays a few MB
/// however many entries are asked for.
const ENTRY_PAGE: u32 = 8192;

/// A page of ledger entries from its [`ENTRY_PAGE_SQL`] JSON, every field checked as a
/// row's is.
fn decode_entry_page(json: &str, after: u64) -> Result<Vec<LedgerEntry>> {
    let rows: Vec<JsonEntry<'_>> = serde_json::from_str(json).map_err(|e| {
        StoreError::Corrupt(format!(
            "the ledger rows after seq {after} are unreadable: {e}"
        ))
    })?;
    let mut entries = rows
        .iter()
        .map(|row| decode::ledger_entry(&PageRow::new(row)))
        .collect::<Result<Vec<_>>>()?;
    // The subquery picks the rows; SQLite does not promise to aggregate them in its order.
    if !entries.is_sorted_by_key(|e| e.seq) {
        entries.sort_unstable_by_key(|e| e.seq);
    }
    Ok(entries)
}
