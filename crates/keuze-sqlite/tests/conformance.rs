//! The story suite and the projection property against SQLite, each story in a fresh
//! data directory; then what only SQLite can show: durability across reopening, the
//! pragmas in force, and the database itself refusing to rewrite the ledger.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::catalog::Digest256;
use keuze_core::{Action, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_sqlite::SqliteStore;
use keuze_store::{conformance, ApiKey, Scope, Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Executor};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tempfile::TempDir;

/// Fresh stores in numbered subdirectories of one temporary directory.
struct FreshStores {
    root: TempDir,
    next: AtomicUsize,
}

impl FreshStores {
    fn new() -> Self {
        Self {
            root: TempDir::new().unwrap(),
            next: AtomicUsize::new(0),
        }
    }

    fn open(&self) -> impl std::future::Future<Output = Arc<dyn Store>> + 'static {
        let dir = self
            .root
            .path()
            .join(self.next.fetch_add(1, Ordering::Relaxed).to_string());
        async move { Arc::new(SqliteStore::open(&dir).await.unwrap()) as Arc<dyn Store> }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_story_suite() {
    let fresh = FreshStores::new();
    conformance::run_all(|| fresh.open()).await;
}

#[test]
fn projection_equals_a_rebuild_from_the_ledger() {
    let fresh = FreshStores::new();
    conformance::projection_property(|| fresh.open());
}

fn event(subject: u8, purpose: &str, action: Action, at: i64) -> NewEvent {
    NewEvent {
        subject: SubjectId::from_bytes([subject; 32]),
        purpose: PurposeId::parse(purpose).unwrap(),
        action,
        source: Source::Banner,
        catalog_version: 1,
        notice_digest: Digest256::of(purpose.as_bytes()),
        locale: Locale::en(),
        recorded_at: Timestamp::from_unix_millis(at),
    }
}

/// A connection of its own, as another process (or an operator with `sqlite3`) would have.
async fn raw_connection(db: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn everything_survives_reopening() {
    let dir = TempDir::new().unwrap();
    let key = ApiKey {
        id: "k1".into(),
        secret_hash: Digest256::of(b"secret"),
        scopes: vec![Scope::Decide],
        label: "shop".into(),
        created_at: Timestamp::from_unix_millis(5),
    };
    let (events, catalog) = {
        let store = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(store.db_path(), dir.path().join("keuze.db"));
        let events = store
            .append(vec![
                event(1, "newsletter", Action::Grant, 1),
                event(1, "newsletter", Action::Withdraw, 2),
                event(2, "ads", Action::Object, 3),
            ])
            .await
            .unwrap();
        store.insert_api_key(&key).await.unwrap();
        let catalog = store
            .publish_catalog(
                Digest256::of(b"{}"),
                "{}".into(),
                "# empty".into(),
                Timestamp::from_unix_millis(4),
            )
            .await
            .unwrap();
        // Dropped without `close`: what was acknowledged must be on disk regardless.
        (events, catalog)
    };

    let store = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(store.events_after(0, 100).await.unwrap(), events);
    assert_eq!(store.event_count().await.unwrap(), 3);
    assert_eq!(
        store.projection().await.unwrap(),
        vec![events[1].clone(), events[2].clone()]
    );
    assert_eq!(store.find_api_key("k1").await.unwrap(), Some(key));
    assert_eq!(store.latest_catalog().await.unwrap(), Some(catalog));

    let next = store
        .append(vec![event(1, "newsletter", Action::Grant, 6)])
        .await
        .unwrap();
    assert_eq!(next[0].seq, 4, "the ledger continues where it was");
    store.close().await;
    assert!(matches!(
        store.event_count().await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn runs_in_wal_mode_with_full_sync() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let settings = store.settings().await.unwrap();
    assert_eq!(settings.journal_mode, "wal");
    assert_eq!(settings.synchronous, 2, "synchronous=FULL");
    assert!(settings.foreign_keys);
    assert_eq!(settings.busy_timeout_ms, 5_000);
    assert!(settings.sqlite_version.starts_with("3."));

    // WAL is a property of the file: any other connection sees it too.
    let mut raw = raw_connection(store.db_path()).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_the_ledger() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let events = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 1),
            event(1, "analytics", Action::Grant, 2),
        ])
        .await
        .unwrap();
    store
        .publish_catalog(
            Digest256::of(b"{}"),
            "{}".into(),
            String::new(),
            Timestamp::from_unix_millis(3),
        )
        .await
        .unwrap();

    let mut raw = raw_connection(store.db_path()).await;
    for sql in [
        "UPDATE events SET action = 'withdraw' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 2",
        "DELETE FROM events",
        // Gaps and rewrites through INSERT are refused too.
        "INSERT INTO events SELECT seq + 5, subject, purpose, action, source, catalog_version, \
         notice_digest, locale, recorded_at FROM events WHERE seq = 1",
        "INSERT OR REPLACE INTO events SELECT * FROM events WHERE seq = 1",
        "UPDATE catalog_versions SET canonical = '{\"x\":1}'",
        "DELETE FROM catalog_versions",
    ] {
        let err = raw.execute(sql).await.expect_err(sql).to_string();
        assert!(
            err.contains("append-only") || err.contains("gap-free") || err.contains("immutable"),
            "{sql}: {err}"
        );
    }
    assert_eq!(store.events_after(0, 10).await.unwrap(), events);
    assert_eq!(
        store.catalog_version(1).await.unwrap().unwrap().canonical,
        "{}"
    );
}

#[tokio::test]
async fn a_failed_append_leaves_nothing_behind() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let mut raw = raw_connection(store.db_path()).await;
    raw.execute(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON events WHEN NEW.purpose = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'boom refused'); END",
    )
    .await
    .unwrap();

    let result = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 1),
            event(1, "boom", Action::Grant, 2),
        ])
        .await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    assert_eq!(store.event_count().await.unwrap(), 0);
    assert_eq!(store.projection().await.unwrap(), Vec::new());

    let ok = store
        .append(vec![event(1, "newsletter", Action::Grant, 3)])
        .await
        .unwrap();
    assert_eq!(ok[0].seq, 1, "the failed transaction used no seq");
}

#[tokio::test]
async fn bad_stored_data_is_reported_not_panicked_on() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store
        .append(vec![event(7, "newsletter", Action::Grant, 1)])
        .await
        .unwrap();
    let mut raw = raw_connection(store.db_path()).await;
    raw.execute(
        "INSERT INTO events SELECT 2, subject, 'Not A Purpose', action, source, \
         catalog_version, notice_digest, locale, recorded_at FROM events WHERE seq = 1",
    )
    .await
    .unwrap();
    let subject = SubjectId::from_bytes([7; 32]);
    match store.history(&subject).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("seq 2") && msg.contains("`purpose`"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    raw.execute(
        "INSERT INTO events SELECT 3, subject, purpose, 'maybe', source, \
         catalog_version, notice_digest, locale, recorded_at FROM events WHERE seq = 1",
    )
    .await
    .unwrap();
    match store.events_after(2, 10).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("seq 3") && msg.contains("`action`"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    raw.execute("INSERT INTO api_keys VALUES ('k1', zeroblob(32), 'decide,superuser', '', 0)")
        .await
        .unwrap();
    match store.find_api_key("k1").await {
        Err(StoreError::Corrupt(msg)) => assert!(msg.contains("superuser"), "{msg}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// The CLI publishing catalogs and adding keys from its own process while the server
/// appends: every write waits its turn for the write lock, none fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_write_without_failing() {
    let dir = TempDir::new().unwrap();
    let server = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let cli = Arc::new(SqliteStore::open(dir.path()).await.unwrap());

    let mut tasks = Vec::new();
    for i in 0..20 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            server
                .append(vec![
                    event(i, "newsletter", Action::Grant, i64::from(i)),
                    event(i, "ads", Action::Object, i64::from(i)),
                ])
                .await
                .map(|_| ())
        }));
        let cli = cli.clone();
        tasks.push(tokio::spawn(async move {
            cli.publish_catalog(
                Digest256::of(&[i]),
                format!("{{\"v\":{i}}}"),
                String::new(),
                Timestamp::from_unix_millis(i64::from(i)),
            )
            .await
            .map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(server.event_count().await.unwrap(), 40);
    assert_eq!(cli.event_count().await.unwrap(), 40);
    assert_eq!(server.latest_catalog().await.unwrap().unwrap().number, 20);
    for n in 1..=20 {
        assert!(server.catalog_version(n).await.unwrap().is_some());
    }
}
