//! The story suite, the projection property and the outbox stories against PostgreSQL,
//! each store in a new schema of its own; then what only PostgreSQL can show: several
//! nodes appending to one schema at once, commit notifications from one node to another,
//! the database refusing to rewrite the ledger, and what a caller sees when the server is
//! unreachable or a connection dies.
//!
//! The server is `KEUZE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).
//! When it cannot be reached each test says so loudly and passes, unless
//! `KEUZE_REQUIRE_SERVICES=1`, which makes it fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keuze_core::admin::{Actor, Attribution, LedgerLeaf};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEvent, NoticeKind};
use keuze_core::merkle::{self, Hash, MemoryTree, MissingNode, NodeSource};
use keuze_core::receipt::LedgerEntry;
use keuze_core::{Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_postgres::{PgStore, PgStoreOptions};
use keuze_store::{
    conformance, CommitHook, GroupCommit, GroupCommitConfig, Store, StoreError, StoredCheckpoint,
};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection, Executor};
use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The command line, acting at `ms`.
fn cli_at(ms: i64) -> Attribution {
    Attribution::new(Actor::cli(None), Timestamp::from_unix_millis(ms))
}

/// Where the server is, for messages: the URL may hold a password.
fn server_of(url: &str) -> String {
    match PgConnectOptions::from_str(url) {
        Ok(o) => format!(
            "{}:{}/{}",
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap_or("")
        ),
        Err(_) => "an unparsable KEUZE_TEST_POSTGRES_URL".to_owned(),
    }
}

/// The test server's URL, or `None` (with a loud message) when it is not reachable; with
/// `KEUZE_REQUIRE_SERVICES=1` an unreachable server fails the test instead.
async fn postgres_or_skip(test: &str) -> Option<String> {
    let url = std::env::var("KEUZE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let connected = tokio::time::timeout(Duration::from_secs(3), PgConnection::connect(&url)).await;
    let why = match connected {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            return Some(url);
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_owned(),
    };
    let server = server_of(&url);
    if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!(
            "{test}: PostgreSQL at {server} is required (KEUZE_REQUIRE_SERVICES=1) but unreachable: {why}"
        );
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED {test}: no PostgreSQL at {server} ({why}); start PostgreSQL or set KEUZE_TEST_POSTGRES_URL !!!!!!!!\n"
    );
    None
}

/// New schemas for one test, `kz_test_<pid>_<n>_<random>`, dropped with it.
struct Schemas {
    url: String,
    made: Mutex<Vec<String>>,
}

impl Schemas {
    fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            made: Mutex::new(Vec::new()),
        }
    }

    fn name(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "kz_test_{}_{}_{:08x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        self.made.lock().unwrap().push(name.clone());
        name
    }

    /// A store in a new schema.
    fn fresh(&self) -> impl Future<Output = Arc<PgStore>> + Send + 'static {
        let (url, schema) = (self.url.clone(), self.name());
        async move { Arc::new(PgStore::connect_in_schema(&url, &schema).await.unwrap()) }
    }

    fn fresh_dyn(&self) -> impl Future<Output = Arc<dyn Store>> + Send + 'static {
        let fresh = self.fresh();
        async move { fresh.await as Arc<dyn Store> }
    }
}

/// Drops the schemas even when the test failed. On a thread of its own: the test's Tokio
/// runtime cannot run another one on its threads.
impl Drop for Schemas {
    fn drop(&mut self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|e| e.into_inner()));
        let url = self.url.clone();
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&url).await?;
                for schema in made {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    conn.execute(sql.as_str()).await?;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop the test schemas: {e}");
        }
    }
}

/// A connection of its own to `schema`, as an operator with psql would have.
async fn raw_connection(url: &str, schema: &str) -> PgConnection {
    PgConnectOptions::from_str(url)
        .unwrap()
        .options([("search_path", schema)])
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_story_suite() {
    let Some(url) = postgres_or_skip("passes_the_story_suite").await else {
        return;
    };
    let schemas = Schemas::new(&url);
    conformance::run_all(|| schemas.fresh_dyn()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_outbox_stories() {
    let Some(url) = postgres_or_skip("passes_the_outbox_stories").await else {
        return;
    };
    let schemas = Schemas::new(&url);
    conformance::run_outbox(|| schemas.fresh()).await;
}

#[test]
fn projection_equals_a_rebuild_from_the_ledger() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = rt.block_on(postgres_or_skip(
        "projection_equals_a_rebuild_from_the_ledger",
    )) else {
        return;
    };
    let schemas = Schemas::new(&url);
    conformance::projection_property(|| schemas.fresh_dyn());
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
        context_digest: Digest256::of(format!("context {purpose}").as_bytes()),
    }
}

fn notice(subject: u8, incident: u32, kind: NoticeKind, at: i64) -> NewNotice {
    NewNotice {
        subject: SubjectId::from_bytes([subject; 32]),
        incident,
        kind,
        notice_digest: Digest256::of(format!("incident {incident}").as_bytes()),
        locale: Locale::nl(),
        source: Source::System,
        recorded_at: Timestamp::from_unix_millis(at),
    }
}

/// Every node of the stored tree that a tree of `size` leaves has complete.
async fn stored_tree(store: &dyn Store, size: u64) -> HashMap<(u8, u64), Hash> {
    let wanted: Vec<(u8, u64)> = (0..64u8)
        .flat_map(|level| (0..size >> level).map(move |index| (level, index)))
        .collect();
    let hashes = store.tree_nodes(&wanted).await.unwrap();
    wanted.into_iter().zip(hashes).collect()
}

struct Nodes(HashMap<(u8, u64), Hash>);

impl NodeSource for Nodes {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

/// Several nodes, each a `PgStore` with its own pool and group commit, append to one
/// schema at once, admin and notice entries between consent batches: the ledger is
/// gap-free from 1 with every acknowledged entry at its seq,
/// every stored tree node is the node of the tree over the ledger's leaves (so the stored
/// root is their root), and the projection is what a rebuild makes of the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_append_to_one_ledger_without_gaps() {
    const NODES: usize = 2;
    const WRITERS: usize = 8;
    const BATCHES: usize = 25;
    let Some(url) = postgres_or_skip("nodes_append_to_one_ledger_without_gaps").await else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let mut stores = Vec::new();
    for _ in 0..NODES {
        stores.push(Arc::new(
            PgStore::connect_in_schema(&url, &schema).await.unwrap(),
        ));
    }
    let incident = stores[0]
        .record_incident(Digest256::of(b"incident"), "{}".into(), &cli_at(0))
        .await
        .unwrap();

    let mut tasks = Vec::new();
    for (node, store) in stores.iter().enumerate() {
        let hook: CommitHook = Arc::new(|_: &[ConsentEvent]| {});
        let writer = Arc::new(GroupCommit::start(
            store.clone(),
            hook,
            GroupCommitConfig::default(),
        ));
        for w in 0..WRITERS {
            let writer = writer.clone();
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                let mut admin = Vec::new();
                let mut told = Vec::new();
                for b in 0..BATCHES {
                    let n = (node * WRITERS + w) * BATCHES + b;
                    // Admin entries between the batches, under the same sequencer.
                    if b % 5 == 0 {
                        let entry = keuze_core::admin::NewAdminEntry::webhook_deleted(
                            &cli_at(n as i64),
                            &format!("wh_{n}"),
                        )
                        .unwrap();
                        admin.push(store.append_admin(entry).await.unwrap().seq);
                    }
                    // Notice entries too, to subjects with choices and to subjects seen
                    // first here (their salts made by this append), under that sequencer.
                    if b % 5 == 2 {
                        let batch = vec![
                            notice((n % 40) as u8, 1, NoticeKind::Notified, n as i64),
                            notice(100 + (n % 50) as u8, 1, NoticeKind::Notified, n as i64),
                        ];
                        told.extend(store.append_notices(batch).await.unwrap());
                    }
                    let batch: Vec<NewEvent> = (0..n % 3 + 1)
                        .map(|i| {
                            let purpose = ["newsletter", "analytics", "ads"][(n + i) % 3];
                            let action = Action::ALL[(n / 3 + i) % 3];
                            event((n % 40) as u8, purpose, action, (n * 3 + i) as i64)
                        })
                        .collect();
                    acknowledged.extend(writer.append(batch).await.unwrap());
                }
                (acknowledged, admin, told)
            }));
        }
    }
    let mut acknowledged = Vec::new();
    // The incident's record is seq 1.
    let mut admin_seqs = vec![1];
    let mut told: Vec<NoticeEvent> = Vec::new();
    for task in tasks {
        let (events, admin, notices) = task.await.unwrap();
        acknowledged.extend(events);
        admin_seqs.extend(admin);
        told.extend(notices);
    }
    acknowledged.sort_by_key(|e| e.seq);
    told.sort_by_key(|n| n.seq);
    let total = (acknowledged.len() + admin_seqs.len() + told.len()) as u64;
    let mut seqs: Vec<u64> = acknowledged.iter().map(|e| e.seq).collect();
    seqs.extend(&admin_seqs);
    seqs.extend(told.iter().map(|n| n.seq));
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "every seq once, consent, admin and notice entries alike, without gaps"
    );

    let (a, b) = (&*stores[0], &*stores[1]);
    let counts = a.notice_counts(incident.number).await.unwrap();
    assert_eq!(counts.notified, told.len() as u64);
    let mut by_subject: HashMap<SubjectId, Vec<NoticeEvent>> = HashMap::new();
    for n in &told {
        by_subject
            .entry(n.notice.subject)
            .or_default()
            .push(n.clone());
    }
    for (subject, notices) in &by_subject {
        assert_eq!(
            &b.notices(subject).await.unwrap(),
            notices,
            "each subject's notices, salted once whichever node saw it first"
        );
    }

    assert_eq!(b.events_after(0, u32::MAX).await.unwrap(), acknowledged);
    assert_eq!(a.event_count().await.unwrap(), total);
    assert_eq!(b.tree_size().await.unwrap(), total);

    let entries: Vec<LedgerEntry> = a.ledger_entries(0, u32::MAX).await.unwrap();
    assert_eq!(entries.len(), acknowledged.len());
    let all = a.ledger_leaves(0, u32::MAX).await.unwrap();
    assert_eq!(all.len() as u64, total);
    let leaves: Vec<Hash> = all.iter().map(LedgerLeaf::leaf_hash).collect();
    let memory = MemoryTree::from_leaves(&leaves);
    let stored = stored_tree(b, total).await;
    for (&(level, index), hash) in &stored {
        assert_eq!(
            Some(*hash),
            memory.node(level, index).ok(),
            "node ({level}, {index})"
        );
    }
    let stored_root = merkle::root_at(total, &Nodes(stored)).unwrap();
    assert_eq!(stored_root, merkle::root(&leaves));

    let mut latest: HashMap<(SubjectId, PurposeId), ConsentEvent> = HashMap::new();
    for e in &acknowledged {
        latest.insert((e.event.subject, e.event.purpose.clone()), e.clone());
    }
    let mut expected: Vec<ConsentEvent> = latest.into_values().collect();
    expected.sort_by_key(|e| e.seq);
    let projection = a.projection().await.unwrap();
    assert_eq!(
        projection, expected,
        "the latest event per subject and purpose"
    );
    assert_eq!(b.rebuild_projection().await.unwrap(), expected.len() as u64);
    assert_eq!(a.projection().await.unwrap(), projection);
}

/// The backend process of the listener on `schema`'s ledger channel.
async fn listener_pid(raw: &mut PgConnection, schema: &str) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE query = format('LISTEN %I', $1::text)",
    )
    .bind(format!("keuze_ledger:{schema}"))
    .fetch_optional(raw)
    .await
    .unwrap()
}

/// One node hears of another's commits: its receiver starts at the ledger's size and
/// follows every commit. When the listening connection dies, the listener reconnects and
/// reports the ledger's size, so a commit made while nobody listened is not missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_hears_of_another_nodes_commits() {
    let Some(url) = postgres_or_skip("a_node_hears_of_another_nodes_commits").await else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let writer = PgStore::connect_in_schema(&url, &schema).await.unwrap();
    let reader = PgStore::connect_in_schema(&url, &schema).await.unwrap();
    writer
        .append(vec![event(1, "newsletter", Action::Grant, 1)])
        .await
        .unwrap();

    let mut heard = reader.ledger_notifications().await.unwrap();
    assert_eq!(
        *heard.borrow_and_update(),
        1,
        "it starts where the ledger is"
    );
    let reaches = |n: u64, heard: &mut tokio::sync::watch::Receiver<u64>| {
        let mut heard = heard.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(10), heard.wait_for(|&s| s >= n))
                .await
                .unwrap_or_else(|_| panic!("the ledger never reached seq {n} for the listener"))
                .map(|s| *s)
                .unwrap()
        }
    };
    writer
        .append(vec![
            event(2, "newsletter", Action::Grant, 2),
            event(2, "ads", Action::Object, 3),
        ])
        .await
        .unwrap();
    assert_eq!(reaches(3, &mut heard).await, 3);
    writer
        .erase_subject(
            &SubjectId::from_bytes([1; 32]),
            vec![NewEvent {
                source: Source::System,
                ..event(1, "newsletter", Action::Erase, 4)
            }],
            &cli_at(0),
        )
        .await
        .unwrap();
    assert_eq!(
        reaches(5, &mut heard).await,
        5,
        "erasures are commits too, their admin entry (5) with them"
    );

    // Its connection dies; a commit lands while nobody listens.
    let mut raw = raw_connection(&url, &schema).await;
    let pid = listener_pid(&mut raw, &schema).await.expect("a listener");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert!(killed);
    writer
        .append(vec![event(3, "newsletter", Action::Grant, 5)])
        .await
        .unwrap();
    assert_eq!(
        reaches(6, &mut heard).await,
        6,
        "caught up after reconnecting"
    );
    let missed = reader.events_after(5, 100).await.unwrap();
    assert_eq!(missed.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![6]);

    // The new connection hears later commits again.
    let again = listener_pid(&mut raw, &schema)
        .await
        .expect("a listener again");
    assert_ne!(again, pid);
    writer
        .append(vec![event(4, "newsletter", Action::Grant, 6)])
        .await
        .unwrap();
    assert_eq!(reaches(7, &mut heard).await, 7);
    // An admin entry alone is a commit the other nodes hear of.
    let audit = keuze_core::admin::NewAdminEntry::webhook_deleted(&cli_at(7), "wh_1").unwrap();
    writer.append_admin(audit).await.unwrap();
    assert_eq!(reaches(8, &mut heard).await, 8);
    // So are recording an incident (9) and telling a customer of it (10).
    writer
        .record_incident(Digest256::of(b"incident"), "{}".into(), &cli_at(8))
        .await
        .unwrap();
    writer
        .append_notices(vec![notice(2, 1, NoticeKind::Notified, 9)])
        .await
        .unwrap();
    assert_eq!(reaches(10, &mut heard).await, 10);
}

/// The triggers keep the ledger, the tree, checkpoints, catalog versions and erasures as
/// written, whoever connects: SQL run straight at the schema cannot rewrite them.
#[tokio::test]
async fn the_database_refuses_to_rewrite_what_was_written() {
    let Some(url) = postgres_or_skip("the_database_refuses_to_rewrite_what_was_written").await
    else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let store = PgStore::connect_in_schema(&url, &schema).await.unwrap();
    let events = store
        .append(
            (0..5)
                .map(|i| event(i, "newsletter", Action::Grant, i64::from(i)))
                .collect(),
        )
        .await
        .unwrap();
    let nodes = store.tree_nodes(&[(2, 0), (0, 4)]).await.unwrap();
    let checkpoint = StoredCheckpoint {
        size: 5,
        root: merkle::node_hash(&nodes[0], &nodes[1]),
        note: "keuze.example/log\n5\n...\n".into(),
        signed_at: Timestamp::from_unix_millis(9),
    };
    store.add_checkpoint(&checkpoint).await.unwrap();
    store
        .publish_catalog(Digest256::of(b"{}"), "{}".into(), String::new(), &cli_at(3))
        .await
        .unwrap();
    store
        .erase_subject(
            &SubjectId::from_bytes([9; 32]),
            vec![event(9, "newsletter", Action::Erase, 10)],
            &cli_at(0),
        )
        .await
        .unwrap();

    let mut raw = raw_connection(&url, &schema).await;
    for sql in [
        "UPDATE events SET action = 'withdraw' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 2",
        "DELETE FROM events",
        "TRUNCATE events CASCADE",
        // Gaps and rewrites through INSERT are refused too.
        "INSERT INTO events SELECT seq + 10, subject_commitment, purpose, action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
        "INSERT INTO events SELECT * FROM events WHERE seq = 1 \
         ON CONFLICT (seq) DO UPDATE SET action = 'object'",
        "UPDATE tree_nodes SET hash = '\\x00' WHERE level = 0 AND idx = 0",
        "DELETE FROM tree_nodes WHERE level = 2",
        "TRUNCATE tree_nodes",
        "INSERT INTO tree_nodes SELECT level, idx, hash FROM tree_nodes WHERE level = 0 \
         ON CONFLICT (level, idx) DO UPDATE SET hash = sha256(EXCLUDED.hash)",
        "UPDATE checkpoints SET note = 'forged'",
        "DELETE FROM checkpoints",
        "INSERT INTO checkpoints SELECT 3, root, 'older', 10 FROM checkpoints",
        "UPDATE catalog_versions SET canonical = '{\"x\":1}'",
        "DELETE FROM catalog_versions",
        "DELETE FROM erased_subjects",
        "UPDATE erased_subjects SET erased_at = 0",
        // The audit trail (the publish's admin entry is seq 6, the erasure's 8) is kept
        // alike, and shares the consent ledger's seq.
        "UPDATE admin_events SET actor = 'customer' WHERE seq = 6",
        "DELETE FROM admin_events WHERE seq = 8",
        "DELETE FROM admin_events",
        "TRUNCATE admin_events",
        "INSERT INTO events SELECT 8, subject_commitment, purpose, action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
        "INSERT INTO admin_events SELECT 7, action, actor, target, detail, recorded_at \
         FROM admin_events WHERE seq = 6",
        "INSERT INTO admin_events SELECT 12, action, actor, target, detail, recorded_at \
         FROM admin_events WHERE seq = 6",
    ] {
        let err = raw.execute(sql).await.expect_err(sql).to_string();
        assert!(
            ["append-only", "gap-free", "immutable", "final"]
                .iter()
                .any(|why| err.contains(why)),
            "{sql}: {err}"
        );
    }
    assert_eq!(store.events_after(0, 10).await.unwrap(), events);
    assert_eq!(store.event_count().await.unwrap(), 8);
    assert_eq!(store.admin_entries(0, 10).await.unwrap().len(), 2);
    assert_eq!(store.tree_nodes(&[(2, 0), (0, 4)]).await.unwrap(), nodes);
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(checkpoint));
    assert_eq!(
        store.latest_catalog().await.unwrap().unwrap().canonical,
        "{}"
    );
    assert_eq!(
        store.erased_subjects().await.unwrap(),
        vec![SubjectId::from_bytes([9; 32])]
    );
}

/// Incidents and notice entries are kept as written too: an incident can only be
/// published, once; notice entries share the ledger's gap-free seq and cannot be changed,
/// and name only recorded incidents. A refused notice batch leaves nothing behind.
#[tokio::test]
async fn the_database_keeps_incidents_and_notices_as_written() {
    let Some(url) = postgres_or_skip("the_database_keeps_incidents_and_notices_as_written").await
    else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let store = PgStore::connect_in_schema(&url, &schema).await.unwrap();
    store
        .append(vec![
            event(1, "newsletter", Action::Grant, 1),
            event(2, "newsletter", Action::Grant, 2),
        ])
        .await
        .unwrap(); // seqs 1, 2
    for what in [&b"one"[..], b"two"] {
        store
            .record_incident(Digest256::of(what), "{}".into(), &cli_at(3))
            .await
            .unwrap(); // 3, 4
    }
    store.publish_incident(1, &cli_at(4)).await.unwrap(); // 5
    let told = store
        .append_notices(vec![
            notice(1, 1, NoticeKind::Notified, 5),
            notice(3, 1, NoticeKind::Notified, 5),
        ])
        .await
        .unwrap(); // 6, 7
    let incidents = store.incidents().await.unwrap();
    let nodes = store.tree_nodes(&[(2, 0), (1, 2), (0, 6)]).await.unwrap();

    let mut raw = raw_connection(&url, &schema).await;
    for sql in [
        "UPDATE incidents SET canonical = '{\"x\":1}' WHERE number = 2",
        "UPDATE incidents SET canonical = '{\"x\":1}', published_at = 9 WHERE number = 2",
        "UPDATE incidents SET published_at = 9 WHERE number = 1",
        "UPDATE incidents SET published_at = NULL WHERE number = 1",
        "UPDATE incidents SET number = 3 WHERE number = 2",
        "DELETE FROM incidents WHERE number = 2",
        "TRUNCATE incidents CASCADE",
        "UPDATE notice_events SET kind = 'acknowledged' WHERE seq = 7",
        "DELETE FROM notice_events WHERE seq = 7",
        "DELETE FROM notice_events",
        "TRUNCATE notice_events",
        // A notice row at a taken seq, past a gap, or at a seq of another kind's row.
        "INSERT INTO notice_events SELECT 6, subject_commitment, incident, kind, \
         notice_digest, locale, source, recorded_at FROM notice_events WHERE seq = 7",
        "INSERT INTO notice_events SELECT 9, subject_commitment, incident, kind, \
         notice_digest, locale, source, recorded_at FROM notice_events WHERE seq = 7",
        "INSERT INTO notice_events SELECT 2, subject_commitment, incident, kind, \
         notice_digest, locale, source, recorded_at FROM notice_events WHERE seq = 7",
        "INSERT INTO events SELECT 7, subject_commitment, purpose, action, source, \
         catalog_version, notice_digest, locale, recorded_at, context_digest \
         FROM events WHERE seq = 1",
        "INSERT INTO admin_events SELECT 6, action, actor, target, detail, recorded_at \
         FROM admin_events WHERE seq = 5",
    ] {
        let err = raw.execute(sql).await.expect_err(sql).to_string();
        assert!(
            ["append-only", "gap-free", "immutable"]
                .iter()
                .any(|why| err.contains(why)),
            "{sql}: {err}"
        );
    }
    // At the next seq, a notice of an incident that is not recorded.
    let err = raw
        .execute(
            "INSERT INTO notice_events SELECT 8, subject_commitment, 9, kind, \
             notice_digest, locale, source, recorded_at FROM notice_events WHERE seq = 7",
        )
        .await
        .expect_err("incident 9 is not recorded")
        .to_string();
    assert!(err.contains("foreign key"), "{err}");

    // Through the store: refused whole, without a salt for the new subject 4.
    let unknown = store
        .append_notices(vec![
            notice(4, 2, NoticeKind::Notified, 6),
            notice(4, 9, NoticeKind::Notified, 6),
        ])
        .await;
    assert!(
        matches!(unknown, Err(StoreError::Corrupt(ref msg)) if msg.contains("incident 9")),
        "{unknown:?}"
    );
    let four = SubjectId::from_bytes([4; 32]);
    assert_eq!(store.subject_salt(&four).await.unwrap(), None);

    assert_eq!(store.incidents().await.unwrap(), incidents);
    assert_eq!(store.event_count().await.unwrap(), 7);
    assert_eq!(store.tree_size().await.unwrap(), 7);
    assert_eq!(
        store.tree_nodes(&[(2, 0), (1, 2), (0, 6)]).await.unwrap(),
        nodes
    );
    assert_eq!(
        store
            .notices(&SubjectId::from_bytes([3; 32]))
            .await
            .unwrap(),
        [told[1].clone()]
    );
    // What the trigger lets through: publishing an unpublished incident, once.
    let published = store
        .publish_incident(2, &cli_at(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(published.published_at, Some(Timestamp::from_unix_millis(7)));
    assert_eq!(store.event_count().await.unwrap(), 8);
    let next = store
        .append_notices(vec![notice(4, 2, NoticeKind::Notified, 8)])
        .await
        .unwrap();
    assert_eq!(next[0].seq, 9, "the refused batch used no seq");
}

/// A statement that fails midway rolls the whole append back: no ledger row, salt,
/// projection row or tree node, and no seq used.
#[tokio::test]
async fn a_failed_append_leaves_nothing_behind() {
    let Some(url) = postgres_or_skip("a_failed_append_leaves_nothing_behind").await else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let store = PgStore::connect_in_schema(&url, &schema).await.unwrap();
    let mut raw = raw_connection(&url, &schema).await;
    raw.execute(
        "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.purpose = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; \
         END $$; \
         CREATE TRIGGER refuse_boom BEFORE INSERT ON consent_state \
         FOR EACH ROW EXECUTE FUNCTION refuse_boom()",
    )
    .await
    .unwrap();

    let result = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 1),
            event(2, "boom", Action::Grant, 2),
        ])
        .await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    assert_eq!(store.event_count().await.unwrap(), 0);
    assert_eq!(store.tree_size().await.unwrap(), 0);
    assert_eq!(store.projection().await.unwrap(), Vec::new());
    let subject = SubjectId::from_bytes([1; 32]);
    assert_eq!(store.subject_salt(&subject).await.unwrap(), None);

    let ok = store
        .append(vec![event(1, "newsletter", Action::Grant, 3)])
        .await
        .unwrap();
    assert_eq!(ok[0].seq, 1, "the failed transaction used no seq");
}

/// A server that does not answer, a pool with no free connection within the acquire
/// timeout and a connection killed mid-transaction are all `Unavailable` (503), and the
/// killed transaction wrote nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_busy_server_is_unavailable() {
    let Some(url) = postgres_or_skip("an_unreachable_or_busy_server_is_unavailable").await else {
        return;
    };
    let nowhere = PgStoreOptions {
        acquire_timeout: Duration::from_millis(500),
        ..PgStoreOptions::default()
    };
    let refused = PgStore::connect_with("postgres://postgres@127.0.0.1:9/test", nowhere).await;
    assert!(
        matches!(refused, Err(StoreError::Unavailable(ref msg)) if msg.contains("127.0.0.1:9")),
        "{refused:?}"
    );

    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let one = PgStoreOptions {
        schema: Some(schema.clone()),
        max_connections: 1,
        acquire_timeout: Duration::from_millis(300),
    };
    let store = Arc::new(PgStore::connect_with(&url, one).await.unwrap());
    store
        .append(vec![event(1, "newsletter", Action::Grant, 1)])
        .await
        .unwrap();

    // An operator holds the ledger table; the store's only connection waits for it.
    let mut operator = raw_connection(&url, &schema).await;
    operator
        .execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .append(vec![
                    event(2, "newsletter", Action::Grant, 2),
                    event(3, "newsletter", Action::Grant, 3),
                ])
                .await
        })
    };
    let mut watcher = raw_connection(&url, &schema).await;
    let pid: i32 = loop {
        let pid = sqlx::query_scalar(
            "SELECT pid FROM pg_locks WHERE relation = 'events'::regclass AND NOT granted",
        )
        .fetch_optional(&mut watcher)
        .await
        .unwrap();
        if let Some(pid) = pid {
            break pid;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let busy = store.event_count().await;
    assert!(
        matches!(busy, Err(StoreError::Unavailable(ref msg)) if msg.contains("timed out")),
        "{busy:?}"
    );

    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut watcher)
        .await
        .unwrap();
    let killed = waiting.await.unwrap();
    assert!(
        matches!(killed, Err(StoreError::Unavailable(_))),
        "{killed:?}"
    );
    operator.execute("ROLLBACK").await.unwrap();

    assert_eq!(
        store.event_count().await.unwrap(),
        1,
        "nothing of it was written"
    );
    let next = store
        .append(vec![event(2, "newsletter", Action::Grant, 4)])
        .await
        .unwrap();
    assert_eq!(next[0].seq, 2);

    store.close().await;
    assert!(matches!(
        store.event_count().await,
        Err(StoreError::Unavailable(_))
    ));
}

/// Without a schema option the store uses the connection's search path, here from the URL.
#[tokio::test]
async fn connect_keeps_the_search_path_of_the_url() {
    let Some(url) = postgres_or_skip("connect_keeps_the_search_path_of_the_url").await else {
        return;
    };
    let schemas = Schemas::new(&url);
    let schema = schemas.name();
    let mut raw = PgConnection::connect(&url).await.unwrap();
    raw.execute(format!("CREATE SCHEMA \"{schema}\"").as_str())
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let with_path = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let store = PgStore::connect(&with_path).await.unwrap();
    assert_eq!(store.schema(), schema);
    store
        .append(vec![event(1, "newsletter", Action::Grant, 1)])
        .await
        .unwrap();
    let in_schema = PgStore::connect_in_schema(&url, &schema).await.unwrap();
    assert_eq!(in_schema.event_count().await.unwrap(), 1, "the same tables");
}
