//! The story suite and the projection property against SQLite, each story in a fresh
//! data directory; then what only SQLite can show: durability across reopening, the
//! pragmas in force, and the database itself refusing to rewrite the ledger.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::admin::{Actor, Attribution};
use keuze_core::catalog::Digest256;
use keuze_core::merkle;
use keuze_core::{Action, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_sqlite::SqliteStore;
use keuze_store::{conformance, ApiKey, Scope, Store, StoreError, StoredCheckpoint};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_outbox_stories() {
    let root = TempDir::new().unwrap();
    let next = AtomicUsize::new(0);
    conformance::run_outbox(|| {
        let dir = root
            .path()
            .join(next.fetch_add(1, Ordering::Relaxed).to_string());
        async move { Arc::new(SqliteStore::open(&dir).await.unwrap()) }
    })
    .await;
}

#[test]
fn projection_equals_a_rebuild_from_the_ledger() {
    let fresh = FreshStores::new();
    conformance::projection_property(|| fresh.open());
}

fn event(subject: u8, purpose: &str, action: Action, at: i64) -> NewEvent {
    event_of(SubjectId::from_bytes([subject; 32]), purpose, action, at)
}

fn event_of(subject: SubjectId, purpose: &str, action: Action, at: i64) -> NewEvent {
    NewEvent {
        subject,
        purpose: PurposeId::parse(purpose).unwrap(),
        action,
        source: Source::Banner,
        catalog_version: 1,
        notice_digest: Digest256::of(purpose.as_bytes()),
        locale: Locale::en(),
        recorded_at: Timestamp::from_unix_millis(at),
        context_digest: Digest256::of(format!("context {purpose}").as_bytes()),
    }
}

/// The command line, acting at `ms`.
fn cli_at(ms: i64) -> Attribution {
    Attribution::new(Actor::cli(None), Timestamp::from_unix_millis(ms))
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
        revoked_at: None,
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
        store.insert_api_key(&key, &cli_at(0)).await.unwrap();
        let catalog = store
            .publish_catalog(
                Digest256::of(b"{}"),
                "{}".into(),
                "# empty".into(),
                &cli_at(4),
            )
            .await
            .unwrap();
        // Dropped without `close`: what was acknowledged must be on disk regardless.
        (events, catalog)
    };

    let store = SqliteStore::open(dir.path()).await.unwrap();
    assert_eq!(store.events_after(0, 100).await.unwrap(), events);
    assert_eq!(
        store.event_count().await.unwrap(),
        5,
        "3 events, 2 admin entries"
    );
    assert_eq!(
        store
            .admin_entries(0, 10)
            .await
            .unwrap()
            .iter()
            .map(|a| (a.seq, a.action.as_str()))
            .collect::<Vec<_>>(),
        [(4, "key_created"), (5, "catalog_published")]
    );
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
    assert_eq!(next[0].seq, 6, "the ledger continues where it was");
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
    assert_eq!(settings.secure_delete, 1, "secure_delete=ON");
    assert_eq!(settings.temp_store, 2, "temp_store=MEMORY on the writer");
    assert!(settings.sqlite_version.starts_with("3."));
    // A rebuild lets its sort spill to files, then sets the writer back.
    store.rebuild_projection().await.unwrap();
    assert_eq!(store.settings().await.unwrap().temp_store, 2);

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
        .publish_catalog(Digest256::of(b"{}"), "{}".into(), String::new(), &cli_at(3))
        .await
        .unwrap();

    let mut raw = raw_connection(store.db_path()).await;
    for sql in [
        "UPDATE events SET action = 'withdraw' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 2",
        "DELETE FROM events",
        // Gaps and rewrites through INSERT are refused too.
        "INSERT INTO events SELECT seq + 5, subject_commitment, purpose, action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
        "INSERT OR REPLACE INTO events SELECT * FROM events WHERE seq = 1",
        "UPDATE catalog_versions SET canonical = '{\"x\":1}'",
        "DELETE FROM catalog_versions",
        // The audit trail (the publish's admin entry is seq 3) is kept alike, and shares
        // the consent ledger's seq: neither table can take a seq the other has.
        "UPDATE admin_events SET actor = 'customer' WHERE seq = 3",
        "DELETE FROM admin_events WHERE seq = 3",
        "DELETE FROM admin_events",
        "INSERT INTO events SELECT 3, subject_commitment, purpose, action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
        "INSERT INTO admin_events SELECT 2, action, actor, target, detail, recorded_at \
         FROM admin_events WHERE seq = 3",
        "INSERT INTO admin_events SELECT 9, action, actor, target, detail, recorded_at \
         FROM admin_events WHERE seq = 3",
        "INSERT OR REPLACE INTO admin_events SELECT * FROM admin_events WHERE seq = 3",
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
    assert_eq!(store.admin_entries(0, 10).await.unwrap().len(), 1);
    assert_eq!(store.event_count().await.unwrap(), 3);
}

#[tokio::test]
async fn the_database_refuses_to_change_a_key_except_to_revoke_it() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let key = ApiKey {
        id: "k1".into(),
        secret_hash: Digest256::of(b"secret"),
        scopes: vec![Scope::Decide],
        label: "shop".into(),
        created_at: Timestamp::from_unix_millis(5),
        revoked_at: None,
    };
    store.insert_api_key(&key, &cli_at(5)).await.unwrap();
    let mut raw = raw_connection(store.db_path()).await;
    for sql in [
        "UPDATE api_keys SET scopes = 'decide,admin'",
        "UPDATE api_keys SET scopes = 'admin', revoked_at = 9",
    ] {
        let err = raw.execute(sql).await.expect_err(sql).to_string();
        assert!(err.contains("only be revoked"), "{sql}: {err}");
    }
    store
        .revoke_api_key("k1", &cli_at(9))
        .await
        .unwrap()
        .unwrap();
    let err = raw
        .execute("UPDATE api_keys SET revoked_at = NULL")
        .await
        .expect_err("un-revoking")
        .to_string();
    assert!(err.contains("only be revoked"), "{err}");
    assert_eq!(
        store.find_api_key("k1").await.unwrap(),
        Some(ApiKey {
            revoked_at: Some(Timestamp::from_unix_millis(9)),
            ..key
        })
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
        "INSERT INTO events SELECT 2, subject_commitment, 'Not A Purpose', action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
    )
    .await
    .unwrap();
    match store.ledger_entries(0, 10).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("seq 2") && msg.contains("`purpose`"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let subject = SubjectId::from_bytes([7; 32]);
    match store.history(&subject).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("seq 2") && msg.contains("`purpose`"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    raw.execute(
        "INSERT INTO events SELECT 3, subject_commitment, purpose, 'maybe', source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
    )
    .await
    .unwrap();
    match store.events_after(2, 10).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("seq 3") && msg.contains("`action`"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // An admin entry naming a customer where an actor goes is not what Keuze writes.
    raw.execute(
        "INSERT INTO admin_events VALUES (4, 'subject_erased', 'customer:anna@example.com', \
         'ledger:1-1', '{}', 0)",
    )
    .await
    .unwrap();
    match store.admin_entries(0, 10).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("seq 4") && msg.contains("`actor`"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    raw.execute(
        "INSERT INTO api_keys VALUES ('k1', zeroblob(32), 'decide,superuser', '', 0, NULL)",
    )
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
                &cli_at(i64::from(i)),
            )
            .await
            .map(|_| ())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // 40 events and the 20 publishes' admin entries, in one gap-free ledger.
    assert_eq!(server.event_count().await.unwrap(), 60);
    assert_eq!(cli.event_count().await.unwrap(), 60);
    assert_eq!(server.admin_entries(0, 100).await.unwrap().len(), 20);
    assert_eq!(server.latest_catalog().await.unwrap().unwrap().number, 20);
    for n in 1..=20 {
        assert!(server.catalog_version(n).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_the_tree_and_checkpoints() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    store
        .append(
            (0..5)
                .map(|i| event(i, "newsletter", Action::Grant, i64::from(i)))
                .collect(),
        )
        .await
        .unwrap();
    let nodes = store.tree_nodes(&[(2, 0), (0, 4)]).await.unwrap();
    let root = merkle::node_hash(&nodes[0], &nodes[1]);
    let checkpoint = StoredCheckpoint {
        size: 5,
        root,
        note: "keuze.example/log\n5\n...\n".into(),
        signed_at: Timestamp::from_unix_millis(9),
    };
    store.add_checkpoint(&checkpoint).await.unwrap();

    let mut raw = raw_connection(store.db_path()).await;
    for sql in [
        "UPDATE tree_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 0",
        "DELETE FROM tree_nodes WHERE level = 2",
        "DELETE FROM tree_nodes",
        "INSERT OR REPLACE INTO tree_nodes SELECT level, idx, zeroblob(32) FROM tree_nodes \
         WHERE level = 0 AND idx = 1",
        "UPDATE checkpoints SET note = 'forged'",
        "DELETE FROM checkpoints",
        "INSERT INTO checkpoints VALUES (3, zeroblob(32), 'older', 10)",
        "INSERT OR REPLACE INTO checkpoints SELECT * FROM checkpoints",
    ] {
        let err = raw.execute(sql).await.expect_err(sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.tree_nodes(&[(2, 0), (0, 4)]).await.unwrap(), nodes);
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint));
}

/// Whether `needle` occurs anywhere in the files of `dir` (`keuze.db`, `-wal`, `-shm`).
fn occurs_in_files(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            found.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    found
}

/// Crypto-shredding on disk: after an erasure, the subject's salt is nowhere in the data
/// directory, not in free space, the WAL or an old page image, because the store runs with
/// `secure_delete` and checkpoints the WAL; an operator's own checkpoint finds nothing
/// either. Enough subjects that their table spans many pages (and split on the way).
#[tokio::test]
async fn an_erased_salt_leaves_the_data_directory() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let subject = |n: u16| {
        let mut bytes = [0xa5; 32];
        bytes[..2].copy_from_slice(&n.to_be_bytes());
        SubjectId::from_bytes(bytes)
    };
    for chunk in 0..10u16 {
        let events = (0..30u16)
            .flat_map(|i| {
                let s = subject(chunk * 30 + i);
                [
                    event_of(s, "newsletter", Action::Grant, i64::from(i)),
                    event_of(s, "ads", Action::Object, i64::from(i)),
                ]
            })
            .collect();
        store.append(events).await.unwrap();
    }
    let mut salts = Vec::new();
    for n in 0..300 {
        salts.push(store.subject_salt(&subject(n)).await.unwrap().unwrap());
    }
    let erased: Vec<u16> = (0..300).step_by(15).chain([299]).collect();
    for &n in &erased {
        assert!(
            !occurs_in_files(dir.path(), &salts[usize::from(n)].0).is_empty(),
            "the salt of subject {n} is on disk before its erasure"
        );
    }

    for &n in &erased {
        let s = subject(n);
        store
            .erase_subject(
                &s,
                vec![
                    event_of(s, "newsletter", Action::Erase, 1_000),
                    event_of(s, "ads", Action::Erase, 1_000),
                ],
                &cli_at(0),
            )
            .await
            .unwrap();
    }
    let look = |when: &str| {
        for &n in &erased {
            let found = occurs_in_files(dir.path(), &salts[usize::from(n)].0);
            assert!(
                found.is_empty(),
                "{when}: the erased salt of subject {n} is still in {found:?}"
            );
        }
        for n in [1, 151, 298] {
            assert!(
                !occurs_in_files(dir.path(), &salts[n].0).is_empty(),
                "{when}: the salt of subject {n}, not erased, is on disk"
            );
        }
    };
    look("after the erasures");

    let mut raw = raw_connection(store.db_path()).await;
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    look("after a checkpoint");

    // The erasure's time is kept to the day, so it cannot single out the erase entries
    // (recorded at 1 000 ms) and through their commitment the subject's leaves.
    let days: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT erased_at FROM erased_subjects")
        .fetch_all(&mut raw)
        .await
        .unwrap();
    assert_eq!(days, vec![0]);
    assert_eq!(
        store.event_count().await.unwrap(),
        600 + 3 * erased.len() as u64,
        "two erase entries and one admin entry per erasure"
    );
}

/// The proofs migration cannot give events recorded before it salts and tree nodes: it
/// refuses a ledger that is not empty, says why, and leaves the database as it was. An
/// empty database of the first schema is brought up to date.
#[tokio::test]
async fn the_proofs_migration_refuses_a_ledger_it_cannot_convert() {
    let first_schema = TempDir::new().unwrap();
    std::fs::write(
        first_schema.path().join("0001_initial.sql"),
        include_str!("../migrations/0001_initial.sql"),
    )
    .unwrap();
    let migrator = sqlx::migrate::Migrator::new(first_schema.path().to_path_buf())
        .await
        .unwrap();
    let at_version_1 = |dir: &Path| {
        let db = dir.join("keuze.db");
        let migrator = &migrator;
        async move {
            let mut raw = SqliteConnectOptions::new()
                .filename(&db)
                .create_if_missing(true)
                .connect()
                .await
                .unwrap();
            migrator.run(&mut raw).await.unwrap();
            raw
        }
    };

    let empty = TempDir::new().unwrap();
    drop(at_version_1(empty.path()).await);
    let store = SqliteStore::open(empty.path()).await.unwrap();
    let got = store
        .append(vec![event(1, "newsletter", Action::Grant, 1)])
        .await
        .unwrap();
    assert_eq!(
        store
            .history(&SubjectId::from_bytes([1; 32]))
            .await
            .unwrap(),
        got
    );

    let used = TempDir::new().unwrap();
    let mut raw = at_version_1(used.path()).await;
    raw.execute(
        "INSERT INTO events VALUES (1, zeroblob(32), 'newsletter', 'grant', 'banner', 1, \
         zeroblob(32), 'en', 0)",
    )
    .await
    .unwrap();
    drop(raw);
    for _ in 0..2 {
        match SqliteStore::open(used.path()).await {
            Err(StoreError::Unavailable(msg)) => assert!(
                msg.contains("migration 0002") && msg.contains("new, empty data directory"),
                "{msg}"
            ),
            other => panic!("expected the migration to be refused, got {other:?}"),
        }
    }
    let mut raw = raw_connection(&used.path().join("keuze.db")).await;
    let subject: Vec<u8> = sqlx::query_scalar("SELECT subject FROM events WHERE seq = 1")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        subject,
        vec![0; 32],
        "the refused migration changed nothing"
    );
}

#[tokio::test]
async fn ledger_entries_reads_long_ranges_in_order() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    for batch in 0..2 {
        let events = (0..10_000)
            .map(|i| {
                event(
                    (i % 200) as u8,
                    "newsletter",
                    Action::Grant,
                    batch * 10_000 + i,
                )
            })
            .collect();
        store.append(events).await.unwrap();
    }
    let seqs = |entries: Vec<keuze_core::receipt::LedgerEntry>| {
        entries.iter().map(|e| e.seq).collect::<Vec<_>>()
    };
    let all = store.ledger_entries(0, u32::MAX).await.unwrap();
    assert_eq!(
        all.last().map(|e| e.recorded_at.unix_millis()),
        Some(19_999)
    );
    assert_eq!(seqs(all), (1..=20_000).collect::<Vec<_>>());
    assert_eq!(
        seqs(store.ledger_entries(100, 16_389).await.unwrap()),
        (101..=16_489).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(store.ledger_entries(19_990, 50).await.unwrap()),
        (19_991..=20_000).collect::<Vec<_>>()
    );
    assert!(store.ledger_entries(20_000, 5).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_missing_tree_node_is_reported() {
    let dir = TempDir::new().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let events = (0..4)
        .map(|i| event(1, "newsletter", Action::Grant, i))
        .collect();
    store.append(events).await.unwrap();
    let all = store.tree_nodes(&[(0, 3), (2, 0), (1, 1)]).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(store.tree_nodes(&[(1, 1)]).await.unwrap(), all[2..]);
    let mut raw = raw_connection(store.db_path()).await;
    raw.execute("DROP TRIGGER tree_nodes_no_delete")
        .await
        .unwrap();
    raw.execute("DROP TRIGGER tree_nodes_no_update")
        .await
        .unwrap();
    raw.execute("DELETE FROM tree_nodes WHERE level = 1 AND idx = 1")
        .await
        .unwrap();
    match store.tree_nodes(&[(0, 3), (1, 1)]).await {
        Err(StoreError::Corrupt(msg)) => {
            assert!(msg.contains("(level 1, index 1) is missing"), "{msg}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}
