//! The scale-out backend: one PostgreSQL database that several `keuze serve` nodes write
//! to at once, each through its own [`PgStore`].
//!
//! # One sequencer, one batch per node
//!
//! Every transaction that appends to the ledger (`append`, `erase_subject`,
//! `append_notices`, and every write with an admin entry) starts with
//! `pg_advisory_xact_lock(<the schema's ledger key>)` and only then reads the largest seq
//! and the Merkle tree's frontier. Writers of all nodes are so serialised, and the seq
//! each batch takes and the tree nodes it writes follow from the committed state: the
//! ledger stays gap-free from 1 and the tree correct without any retry logic. The lock is
//! released when the transaction ends, after its commit is visible, so the next holder
//! reads it. Each node's [`keuze_store::GroupCommit`] batches that node's concurrent
//! writers into one `append`, so the lock is taken once per batch, not once per request:
//! the sequencer costs a round trip per batch and the batches grow with the load.
//! Transactions run at READ COMMITTED on purpose: each statement after the lock then sees
//! what the previous holder committed (a REPEATABLE READ snapshot would be taken before
//! the lock was granted). The schema's triggers keep the ledger gap-free and append-only
//! even for a writer that skips the lock; it then fails instead of forking the ledger.
//!
//! The key is fixed for a schema (derived from its name), so deployments in different
//! schemas of one database do not wait for each other. Checkpoints and catalog versions,
//! numbered from the latest too, have keys of their own; incidents are numbered under the
//! ledger's, since recording one appends its admin entry anyway. Moving an outbox cursor
//! takes the ledger's too, because an erasure reads the cursors to decide what it holds
//! back.
//!
//! # Commit notifications
//!
//! Inside every appending transaction the store calls `pg_notify(<channel>, <last seq>)`,
//! on the schema's channel `keuze_ledger:<schema>`; PostgreSQL delivers it only if and
//! when the transaction commits. Other nodes learn from
//! [`PgStore::ledger_notifications`] that the ledger has grown and read the new events
//! with `events_after`.
//!
//! # Errors
//!
//! A server that cannot be reached, refuses connections, is shutting down or lost the
//! connection, and a pool that has no connection free within the acquire timeout, are
//! [`StoreError::Unavailable`] (the server answers 503); every other database error is
//! [`StoreError::Backend`]. Each operation is one transaction: an error leaves nothing of
//! it behind.
//!
//! # Erasure
//!
//! As in SQLite, erasure deletes the subject's `subjects` row, its salt with it. PostgreSQL
//! keeps a deleted row's bytes in the table file until VACUUM reclaims the page, and in
//! its write-ahead log, archives and replicas as long as those are kept: operators who must
//! have the salt gone from disk run VACUUM on `subjects` and age out WAL archives.

use keuze_core::catalog::Digest256;
use keuze_store::{Result, StoreError};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::{watch, OnceCell};

mod append;
mod incidents;
mod migrations;
mod notify;
mod outbox;
mod rows;
mod store;
mod tree;

/// How a store connects; [`PgStoreOptions::default`] is what [`PgStore::connect`] uses.
#[derive(Debug, Clone)]
pub struct PgStoreOptions {
    /// The schema holding Keuze's tables, created if missing and put first on every
    /// connection's `search_path`. `None` keeps the server's (or the URL's) search path.
    pub schema: Option<String>,
    /// Connections in the pool. Writers wait for the sequencer holding one, and the
    /// notification listener keeps one for itself.
    pub max_connections: u32,
    /// How long an operation waits for a free connection before it fails as
    /// [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self {
            schema: None,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// The PostgreSQL [`keuze_store::Store`] and [`keuze_store::Outbox`].
#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    /// The schema the tables are in, as the server resolved it (`current_schema()`).
    schema: String,
    /// The advisory lock keys of this schema.
    keys: LockKeys,
    /// Where appends announce their last seq.
    channel: String,
    /// Started by the first call to [`PgStore::ledger_notifications`].
    notifications: OnceCell<watch::Receiver<u64>>,
}

/// What a transaction serialises against, across every node writing to the schema.
#[derive(Debug, Clone, Copy)]
enum Sequencer {
    /// The ledger, its tree and projection, and the outbox cursors that erasures read.
    Ledger,
    /// Checkpoints: each must be larger than the last.
    Checkpoints,
    /// Catalog versions: each is the latest plus one.
    Catalog,
}

impl Sequencer {
    fn name(self) -> &'static str {
        match self {
            Self::Ledger => "ledger",
            Self::Checkpoints => "checkpoints",
            Self::Catalog => "catalog",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct LockKeys {
    ledger: i64,
    checkpoints: i64,
    catalog: i64,
}

impl LockKeys {
    fn for_schema(schema: &str) -> Self {
        let key = |s: Sequencer| lock_key(schema, s.name());
        Self {
            ledger: key(Sequencer::Ledger),
            checkpoints: key(Sequencer::Checkpoints),
            catalog: key(Sequencer::Catalog),
        }
    }

    fn of(&self, sequencer: Sequencer) -> i64 {
        match sequencer {
            Sequencer::Ledger => self.ledger,
            Sequencer::Checkpoints => self.checkpoints,
            Sequencer::Catalog => self.catalog,
        }
    }
}

/// An advisory lock key every node computes alike from the schema: the first 8 bytes of a
/// SHA-256, so keys of different schemas and purposes do not collide.
fn lock_key(schema: &str, what: &str) -> i64 {
    let digest = Digest256::of(format!("keuze advisory lock\0{what}\0{schema}").as_bytes());
    let first = digest.0.first_chunk::<8>().copied().unwrap_or_default();
    i64::from_be_bytes(first)
}

/// The notification channel of a schema. Channel names are identifiers (at most 63
/// bytes); a schema name too long for a readable one is replaced by a digest of it.
fn channel_for(schema: &str) -> String {
    let readable = format!("keuze_ledger:{schema}");
    if readable.len() <= 63 {
        return readable;
    }
    let digest = Digest256::of(schema.as_bytes()).to_hex();
    format!("keuze_ledger:{}", digest.get(..32).unwrap_or(&digest))
}

/// A schema name Keuze creates: lower-case ASCII letters, digits and `_`, not starting
/// with a digit or `pg_`, at most 63 bytes. It is written into SQL as an identifier, so
/// nothing else is let through.
pub fn valid_schema(schema: &str) -> bool {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    first_ok
        && schema.len() <= 63
        && !schema.starts_with("pg_")
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`) and brings its
    /// schema up to date, with the default [`PgStoreOptions`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PgStoreOptions::default()).await
    }

    /// Like [`PgStore::connect`], with the tables in `schema` (created if missing).
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self> {
        let options = PgStoreOptions {
            schema: Some(schema.to_owned()),
            ..PgStoreOptions::default()
        };
        Self::connect_with(url, options).await
    }

    /// Connects with `options`, creates the schema if one is given and missing, and runs
    /// the embedded migrations (several nodes starting at once take turns: sqlx holds an
    /// advisory lock while migrating).
    pub async fn connect_with(url: &str, options: PgStoreOptions) -> Result<Self> {
        let mut connect = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Unavailable(format!("the PostgreSQL URL cannot be used: {e}"))
        })?;
        let server = format!(
            "{}:{}/{}",
            connect.get_host(),
            connect.get_port(),
            connect.get_database().unwrap_or("")
        );
        connect = connect.application_name("keuze");
        if let Some(schema) = &options.schema {
            if !valid_schema(schema) {
                return Err(StoreError::Unavailable(format!(
                    "the schema name `{schema}` is refused: use lower-case letters, digits \
                     and `_`, starting with a letter or `_` (not `pg_`), at most 63 bytes"
                )));
            }
            connect = connect.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot connect to PostgreSQL at {server}: {e}"))
            })?;
        if let Some(schema) = &options.schema {
            create_schema(&pool, schema).await?;
        }
        let migrator = Migrator::new(migrations::Embedded).await.map_err(|e| {
            StoreError::Corrupt(format!("the embedded migrations are unusable: {e}"))
        })?;
        migrator.run(&pool).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot bring the schema at {server} up to date: {e}"
            ))
        })?;
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await
            .map_err(db_error)?;
        let schema = schema.ok_or_else(|| {
            StoreError::Unavailable(format!(
                "no schema of the search path exists at {server}; create one or pass a schema"
            ))
        })?;
        tracing::debug!(%server, %schema, "opened the PostgreSQL store");
        Ok(Self {
            pool,
            keys: LockKeys::for_schema(&schema),
            channel: channel_for(&schema),
            schema,
            notifications: OnceCell::new(),
        })
    }

    /// The schema the tables are in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Closes every connection, waiting for those in use to be returned; the notification
    /// listener stops. Operations after this fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a READ COMMITTED transaction holding `sequencer`'s advisory lock. The lock
    /// is its own statement: a statement's snapshot is taken when it starts, so only the
    /// statements after it see what the previous holder committed.
    async fn begin_sequenced(
        &self,
        sequencer: Sequencer,
    ) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL READ COMMITTED")
            .await
            .map_err(db_error)?;
        self.lock_too(&mut tx, sequencer).await?;
        Ok(tx)
    }

    /// Takes `sequencer`'s advisory lock in a transaction that holds another already
    /// (a catalog publish also appends its admin entry to the ledger). Always in the order
    /// catalog, then ledger, so two such transactions cannot deadlock.
    async fn lock_too(&self, tx: &mut sqlx::PgConnection, sequencer: Sequencer) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(self.keys.of(sequencer))
            .execute(tx)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// `CREATE SCHEMA IF NOT EXISTS`, which two nodes starting together can still race on:
/// the loser's duplicate error means the schema is there.
async fn create_schema(pool: &PgPool, schema: &str) -> Result<()> {
    // `schema` passed `valid_schema`: it needs no quoting beyond the double quotes.
    let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
        .execute(pool)
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(e) if sqlstate(&e).is_some_and(|c| c == "42P06" || c == "23505") => Ok(()),
        Err(e) => Err(db_error(e)),
    }
}

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.into_owned())
}

/// Maps a driver error: PostgreSQL being unreachable, shutting down, out of connections
/// or resources, a lost connection and a pool without a free connection are
/// `Unavailable` (worth retrying); so are a deadlock and a serialisation failure, which the
/// server resolved by rolling the transaction back. Anything else is `Backend`.
pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    let unavailable = match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        // Classes 08 connection exception, 53 insufficient resources, 57 operator
        // intervention (shutdown, cancellation); 40001 and 40P01 rolled back.
        _ => sqlstate(&e).is_some_and(|code| {
            ["08", "53", "57"]
                .iter()
                .any(|class| code.starts_with(class))
                || code == "40001"
                || code == "40P01"
        }),
    };
    if unavailable {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Backend(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn schema_names_that_need_no_quoting_are_accepted() {
        let (longest, too_long) = ("a".repeat(63), "a".repeat(64));
        for ok in ["keuze", "_k", "kz_test_1_2_ab", &longest] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in ["", "1x", "Keuze", "a-b", "a\"b", "pg_x", "a b", &too_long] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }

    #[test]
    fn keys_and_channels_follow_the_schema() {
        let (a, b) = (LockKeys::for_schema("a"), LockKeys::for_schema("b"));
        assert_eq!(a.ledger, LockKeys::for_schema("a").ledger, "stable");
        assert_ne!(a.ledger, b.ledger);
        assert_ne!(a.ledger, a.checkpoints);
        assert_ne!(a.checkpoints, a.catalog);
        assert_eq!(channel_for("public"), "keuze_ledger:public");
        let long = channel_for(&"s".repeat(63));
        assert!(long.len() <= 63, "{long}");
        assert_ne!(long, channel_for(&"t".repeat(63)));
    }
}
