//! The story suite every backend must pass. Each story takes a fresh, empty store and
//! tells one thing the rest of Keuze relies on; [`run_all`] runs them all, and
//! [`projection_property`] checks that the projection always equals a rebuild from the
//! ledger. A backend's tests call both with a function that opens a fresh store:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn passes_the_story_suite() {
//!     conformance::run_all(|| async { Arc::new(open_fresh().await) as Arc<dyn Store> }).await;
//! }
//!
//! #[test] // not #[tokio::test]: the property runs a Tokio runtime of its own
//! fn projection_equals_a_rebuild_from_the_ledger() {
//!     conformance::projection_property(|| async { Arc::new(open_fresh().await) as Arc<dyn Store> });
//! }
//! ```

// This module is test code that lives in the library so every backend crate can run it;
// failing loudly is its job.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::{
    ApiKey, CommitHook, GroupCommit, GroupCommitConfig, NoticeCounts, OutboxEvent, Result, Scope,
    Store, StoreError, StoredCatalog, StoredCheckpoint, StoredIncident, StoredLogKey,
};
use async_trait::async_trait;
use keuze_core::admin::{Actor, AdminAction, AdminEntry, Attribution, LedgerLeaf, NewAdminEntry};
use keuze_core::catalog::Digest256;
use keuze_core::incident::{NewNotice, NoticeEntry, NoticeEvent, NoticeKind};
use keuze_core::merkle::{self, Hash, MemoryTree, MissingNode, NodeSource};
use keuze_core::receipt::{subject_commitment, EntryAction, LedgerEntry, SubjectSalt};
use keuze_core::{
    Action, ConsentEvent, DecisionIndex, LastChoice, Locale, NewEvent, PurposeId, Source,
    SubjectId, Timestamp,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Runs every story, each against a store from `fresh`.
pub async fn run_all<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    append_assigns_gap_free_seqs_from_one(fresh().await).await;
    append_is_atomic(fresh().await).await;
    projection_holds_the_latest_event_per_subject_and_purpose(fresh().await).await;
    subject_state_and_history_keep_to_one_subject(fresh().await).await;
    events_after_pages_through_the_ledger(fresh().await).await;
    event_count_counts_the_ledger(fresh().await).await;
    rebuild_projection_equals_the_incremental_projection(fresh().await).await;
    api_keys_round_trip(fresh().await).await;
    catalog_versions_are_numbered_from_one(fresh().await).await;
    group_commit_groups_concurrent_writers(fresh().await).await;
    an_unavailable_database_fails_waiting_writers_at_once(fresh().await).await;
    the_tree_commits_to_the_ledger(fresh().await).await;
    leaves_commit_to_salted_subjects(fresh().await).await;
    erasure_crypto_shreds_a_subject(fresh().await).await;
    checkpoints_only_grow(fresh().await).await;
    log_keys_are_remembered_once(fresh().await).await;
    the_first_value_given_is_remembered(fresh().await).await;
    admin_entries_share_the_ledger(fresh().await).await;
    audited_writes_commit_with_their_admin_entry(fresh().await).await;
    a_cancelled_write_leaves_the_store_writable(fresh().await).await;
    incidents_are_recorded_once_and_published_once(fresh().await).await;
    notice_entries_share_the_ledger_and_tree(fresh().await).await;
}

// ---------------------------------------------------------------------------------------
// Stories

/// Sequence numbers start at 1, follow the order of the events, and continue without
/// gaps from one append to the next. An empty append changes nothing.
pub async fn append_assigns_gap_free_seqs_from_one(store: Arc<dyn Store>) {
    assert_eq!(
        store.event_count().await.unwrap(),
        0,
        "a fresh store is empty"
    );
    assert_eq!(store.append(Vec::new()).await.unwrap(), Vec::new());
    assert_eq!(
        store.event_count().await.unwrap(),
        0,
        "an empty append is a no-op"
    );

    let batches = [
        vec![
            event(1, "newsletter", Action::Grant, 0),
            event(2, "newsletter", Action::Grant, 1),
            event(1, "analytics", Action::Grant, 2),
        ],
        vec![event(1, "newsletter", Action::Withdraw, 3)],
        (4..9)
            .map(|n| event(3, "ads", Action::ALL[n % 3], n))
            .collect(),
    ];
    let mut all = Vec::new();
    for batch in batches {
        let first = all.len() as u64 + 1;
        let got = store.append(batch.clone()).await.unwrap();
        assert_events_with_seqs(&got, &batch, first);
        all.extend(got);
    }
    assert_eq!(store.event_count().await.unwrap(), 9);
    assert_eq!(
        store.events_after(0, 100).await.unwrap(),
        all,
        "the ledger holds every event as append returned it, in order"
    );
}

/// An append of several events is one transaction: a concurrent reader sees all of a
/// batch or none of it, in the ledger and in the projection.
pub async fn append_is_atomic(store: Arc<dyn Store>) {
    const BATCHES: usize = 12;
    const SIZE: usize = 25;
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut looks = 0usize;
            loop {
                let finished = done.load(Ordering::Acquire);
                let count = store.event_count().await.unwrap();
                let ledger = store.events_after(0, u32::MAX).await.unwrap().len();
                let projection = store.projection().await.unwrap().len();
                assert_eq!(count % SIZE as u64, 0, "saw half a batch: {count} events");
                assert_eq!(ledger % SIZE, 0, "saw half a batch: {ledger} events");
                assert_eq!(projection % SIZE, 0, "saw half a batch: {projection} rows");
                looks += 1;
                if finished {
                    return looks;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    for b in 0..BATCHES {
        // One new subject per batch, one event per purpose: each batch adds SIZE rows.
        let batch: Vec<NewEvent> = (0..SIZE)
            .map(|p| {
                event(
                    b as u8 + 1,
                    &format!("purpose_{p}"),
                    Action::Grant,
                    b * SIZE + p,
                )
            })
            .collect();
        let got = store.append(batch.clone()).await.unwrap();
        assert_events_with_seqs(&got, &batch, (b * SIZE) as u64 + 1);
    }
    done.store(true, Ordering::Release);
    let looks = reader.await.unwrap();
    assert!(looks >= 1);
    assert_eq!(store.event_count().await.unwrap(), (BATCHES * SIZE) as u64);
    assert_eq!(store.projection().await.unwrap().len(), BATCHES * SIZE);
}

/// The projection holds exactly one row per subject × purpose: the latest event, in
/// ledger order.
pub async fn projection_holds_the_latest_event_per_subject_and_purpose(store: Arc<dyn Store>) {
    assert_eq!(store.projection().await.unwrap(), Vec::new());
    let e = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 0),
            event(1, "analytics", Action::Grant, 1),
            event(2, "newsletter", Action::Grant, 2),
        ])
        .await
        .unwrap();
    let f = store
        .append(vec![
            event(1, "newsletter", Action::Withdraw, 3),
            event(1, "analytics", Action::Object, 4),
            event(2, "ads", Action::Grant, 5),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.projection().await.unwrap(),
        vec![e[2].clone(), f[0].clone(), f[1].clone(), f[2].clone()]
    );

    // Granting again after a withdrawal makes the grant current again.
    let g = store
        .append(vec![event(1, "newsletter", Action::Grant, 6)])
        .await
        .unwrap();
    assert_eq!(
        store.projection().await.unwrap(),
        vec![e[2].clone(), f[1].clone(), f[2].clone(), g[0].clone()]
    );
}

/// A subject's state and history contain that subject's events only; history is oldest
/// first and complete, state is the latest per purpose.
pub async fn subject_state_and_history_keep_to_one_subject(store: Arc<dyn Store>) {
    let (a, b) = (
        SubjectId::from_bytes([1; 32]),
        SubjectId::from_bytes([2; 32]),
    );
    assert_eq!(store.history(&a).await.unwrap(), Vec::new());
    assert_eq!(store.subject_state(&a).await.unwrap(), Vec::new());

    let got = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 0),
            event(2, "newsletter", Action::Grant, 1),
            event(1, "analytics", Action::Grant, 2),
            event(2, "analytics", Action::Object, 3),
            event(1, "newsletter", Action::Withdraw, 4),
            event(3, "newsletter", Action::Grant, 5),
        ])
        .await
        .unwrap();
    let of = |s: SubjectId| -> Vec<ConsentEvent> {
        got.iter()
            .filter(|e| e.event.subject == s)
            .cloned()
            .collect()
    };
    assert_eq!(store.history(&a).await.unwrap(), of(a));
    assert_eq!(store.history(&b).await.unwrap(), of(b));
    assert_eq!(
        store.subject_state(&a).await.unwrap(),
        vec![got[2].clone(), got[4].clone()]
    );
    assert_eq!(
        store.subject_state(&b).await.unwrap(),
        vec![got[1].clone(), got[3].clone()]
    );
    let nobody = SubjectId::from_bytes([9; 32]);
    assert_eq!(store.history(&nobody).await.unwrap(), Vec::new());
    assert_eq!(store.subject_state(&nobody).await.unwrap(), Vec::new());
}

/// `events_after` pages through the ledger: every event exactly once, in order.
pub async fn events_after_pages_through_the_ledger(store: Arc<dyn Store>) {
    assert_eq!(store.events_after(0, 10).await.unwrap(), Vec::new());
    let all = store
        .append(
            (0..10)
                .map(|n| event(n as u8 % 3, "newsletter", Action::Grant, n))
                .collect(),
        )
        .await
        .unwrap();

    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_after(after, 3).await.unwrap();
        assert!(page.len() <= 3, "a page is at most `limit` long");
        let Some(last) = page.last() else { break };
        after = last.seq;
        paged.extend(page);
    }
    assert_eq!(paged, all);

    assert_eq!(store.events_after(0, 3).await.unwrap(), all[0..3]);
    assert_eq!(store.events_after(7, 100).await.unwrap(), all[7..]);
    assert_eq!(store.events_after(9, 3).await.unwrap(), all[9..]);
    assert_eq!(store.events_after(10, 3).await.unwrap(), Vec::new());
    assert_eq!(store.events_after(u64::MAX, 3).await.unwrap(), Vec::new());
    assert_eq!(store.events_after(0, 0).await.unwrap(), Vec::new());
}

/// `event_count` is the number of events in the ledger.
pub async fn event_count_counts_the_ledger(store: Arc<dyn Store>) {
    assert_eq!(store.event_count().await.unwrap(), 0);
    let mut total = 0;
    for n in [1usize, 4, 2] {
        store
            .append(
                (0..n)
                    .map(|i| event(1, "newsletter", Action::Grant, i))
                    .collect(),
            )
            .await
            .unwrap();
        total += n as u64;
        assert_eq!(store.event_count().await.unwrap(), total);
    }
}

/// Admin entries are entries of the same ledger: each takes the next seq, shared with
/// consent events, and a leaf of the same tree. `ledger_leaves` pages through both kinds
/// gap-free; `ledger_entries`, `events_after`, the projection and its rebuild see consent
/// events only; `admin_entries` pages through admin entries only.
pub async fn admin_entries_share_the_ledger(store: Arc<dyn Store>) {
    assert_eq!(store.admin_entries(0, 10).await.unwrap(), Vec::new());
    assert_eq!(store.ledger_leaves(0, 10).await.unwrap(), Vec::new());
    let first = store.append_admin(webhook_entry("wh_a")).await.unwrap();
    assert_eq!(
        first,
        webhook_entry("wh_a").at_seq(1),
        "an empty ledger starts at 1"
    );
    let consent = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 0),
            event(2, "ads", Action::Object, 1),
        ])
        .await
        .unwrap();
    assert_eq!(
        consent.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [2, 3],
        "consent events take the seqs after it"
    );
    let second = store.append_admin(webhook_entry("wh_b")).await.unwrap();
    assert_eq!(second.seq, 4);
    let more = store
        .append(vec![event(1, "newsletter", Action::Withdraw, 2)])
        .await
        .unwrap();
    assert_eq!(more[0].seq, 5);
    let third = store.append_admin(webhook_entry("wh_c")).await.unwrap();
    assert_eq!(third.seq, 6);

    assert_eq!(store.event_count().await.unwrap(), 6, "both kinds count");
    assert_eq!(store.tree_size().await.unwrap(), 6);
    let hashes = all_leaf_hashes(&*store).await;
    let root = on_stored_tree(&*store, |t| merkle::root_at(6, t)).await;
    assert_eq!(
        root.unwrap(),
        merkle::root(&hashes),
        "one tree over both kinds"
    );
    let leaves = store.ledger_leaves(0, 100).await.unwrap();
    assert!(matches!(&leaves[0], LedgerLeaf::Admin(a) if *a == first));
    assert!(matches!(&leaves[3], LedgerLeaf::Admin(a) if *a == second));
    assert!(matches!(&leaves[4], LedgerLeaf::Consent(e) if e.seq == 5));
    assert_eq!(
        store.ledger_leaves(1, 2).await.unwrap(),
        leaves[1..3],
        "a page of leaves is `limit` long whatever their kinds"
    );
    assert_eq!(store.ledger_leaves(3, 2).await.unwrap(), leaves[3..5]);
    assert_eq!(store.ledger_leaves(6, 2).await.unwrap(), Vec::new());
    assert_eq!(store.ledger_leaves(0, 0).await.unwrap(), Vec::new());
    assert_eq!(
        hashes[0],
        first.leaf_hash(),
        "an admin leaf is the hash of its own canonical bytes"
    );

    assert_eq!(
        store.admin_entries(0, 10).await.unwrap(),
        vec![first.clone(), second.clone(), third.clone()]
    );
    assert_eq!(store.admin_entries(1, 1).await.unwrap(), vec![second]);
    assert_eq!(store.admin_entries(6, 10).await.unwrap(), Vec::new());

    // Consent views see consent events only.
    assert_eq!(
        store
            .ledger_entries(0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        [2, 3, 5]
    );
    let told = store.events_after(0, 10).await.unwrap();
    assert_eq!(told, [consent.clone(), more.clone()].concat());
    assert_eq!(store.events_after(3, 1).await.unwrap(), more);
    let projection = store.projection().await.unwrap();
    assert_eq!(projection, vec![consent[1].clone(), more[0].clone()]);
    assert_eq!(store.rebuild_projection().await.unwrap(), 2);
    assert_eq!(store.projection().await.unwrap(), projection);
}

/// What an admin does to stored data commits together with its admin entry: a key, a
/// revocation, a catalog version; a write that is refused leaves no admin entry.
pub async fn audited_writes_commit_with_their_admin_entry(store: Arc<dyn Store>) {
    let at =
        |ms: i64| Attribution::new(Actor::key("00aa").unwrap(), Timestamp::from_unix_millis(ms));
    let key = ApiKey {
        id: "0123456789abcdef".into(),
        secret_hash: Digest256::of(b"secret"),
        scopes: vec![Scope::Admin, Scope::Audit],
        label: "ops".into(),
        created_at: Timestamp::from_unix_millis(10),
        revoked_at: None,
    };
    let created = store.insert_api_key(&key, &at(10)).await.unwrap();
    assert_eq!(created.action, AdminAction::KeyCreated);
    assert_eq!(created.target.as_str(), "key:0123456789abcdef");
    assert_eq!(created.actor.to_string(), "key:00aa");
    assert_eq!(created.detail_json(), r#"{"scopes":"admin,audit"}"#);
    assert_eq!(created.seq, 1);

    let digest = Digest256::of(b"catalog");
    let published = store
        .publish_catalog(digest, "{}".into(), "# c\n".into(), &at(20))
        .await
        .unwrap();
    assert_eq!(published.published_at, Timestamp::from_unix_millis(20));
    let entries = store.admin_entries(1, 10).await.unwrap();
    assert_eq!(
        entries,
        vec![NewAdminEntry::catalog_published(&at(20), 1, &digest).at_seq(2)]
    );

    // Refused writes: nothing of them, and no admin entry.
    assert!(store.insert_api_key(&key, &at(30)).await.is_err());
    assert!(store
        .erase_subject(&SubjectId::from_bytes([9; 32]), Vec::new(), &at(30))
        .await
        .is_err());
    assert_eq!(store.event_count().await.unwrap(), 2);
    assert_eq!(store.admin_entries(0, 10).await.unwrap().len(), 2);

    let revoked = store
        .revoke_api_key(&key.id, &at(40))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.seq, 3);
    assert_eq!(revoked.action, AdminAction::KeyRevoked);
    assert_eq!(
        store
            .find_api_key(&key.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(Timestamp::from_unix_millis(40))
    );
    let hashes = all_leaf_hashes(&*store).await;
    let root = on_stored_tree(&*store, |t| merkle::root_at(3, t)).await;
    assert_eq!(root.unwrap(), merkle::root(&hashes));
}

/// Throwing the projection away and rebuilding it from the ledger gives what appends
/// maintained row by row; rebuilding twice changes nothing.
pub async fn rebuild_projection_equals_the_incremental_projection(store: Arc<dyn Store>) {
    assert_eq!(store.rebuild_projection().await.unwrap(), 0);
    assert_eq!(store.projection().await.unwrap(), Vec::new());

    for round in 0..4usize {
        let batch = (0..7)
            .map(|n| {
                let i = round * 7 + n;
                let purpose = ["newsletter", "analytics", "ads"][i % 3];
                event((i % 4) as u8, purpose, Action::ALL[i / 3 % 3], i)
            })
            .collect();
        store.append(batch).await.unwrap();
    }
    let incremental = store.projection().await.unwrap();
    assert_eq!(incremental.len(), 12, "4 subjects × 3 purposes");
    let rows = store.rebuild_projection().await.unwrap();
    assert_eq!(rows, incremental.len() as u64);
    assert_eq!(store.projection().await.unwrap(), incremental);
    assert_eq!(store.rebuild_projection().await.unwrap(), rows);
    assert_eq!(store.projection().await.unwrap(), incremental);
    assert_eq!(
        store.event_count().await.unwrap(),
        28,
        "a rebuild leaves the ledger"
    );
}

/// API keys come back as stored: scopes (none, some, all), labels with any text; an
/// unknown id is `None`; a second key with the same id is refused; the list is oldest
/// first.
pub async fn api_keys_round_trip(store: Arc<dyn Store>) {
    assert_eq!(store.find_api_key("k1").await.unwrap(), None);
    assert_eq!(store.list_api_keys().await.unwrap(), Vec::new());

    let key = |id: &str, scopes: Vec<Scope>, label: &str, at: i64| ApiKey {
        id: id.to_owned(),
        secret_hash: Digest256::of(format!("secret of {id}").as_bytes()),
        scopes,
        label: label.to_owned(),
        created_at: Timestamp::from_unix_millis(at),
        revoked_at: None,
    };
    let shop = key("k1", vec![Scope::Decide, Scope::Record], "shop, EU", 1_000);
    let ops = key("k9", Scope::ALL.to_vec(), "beheer — ops ✓", 2_000);
    let none = key("k0", Vec::new(), "", 2_000);
    for k in [&ops, &shop, &none] {
        store.insert_api_key(k, &by()).await.unwrap();
    }
    assert_eq!(store.find_api_key("k1").await.unwrap(), Some(shop.clone()));
    assert_eq!(store.find_api_key("k9").await.unwrap(), Some(ops.clone()));
    assert_eq!(store.find_api_key("k0").await.unwrap(), Some(none.clone()));
    assert_eq!(
        store.find_api_key("K1").await.unwrap(),
        None,
        "ids are exact"
    );
    assert_eq!(store.find_api_key("").await.unwrap(), None);
    assert_eq!(
        store.list_api_keys().await.unwrap(),
        vec![shop.clone(), none.clone(), ops.clone()],
        "oldest first, then by id"
    );

    let impostor = key("k1", vec![Scope::Admin], "impostor", 3_000);
    assert!(
        store.insert_api_key(&impostor, &by()).await.is_err(),
        "a second key with the same id is refused"
    );
    assert_eq!(store.find_api_key("k1").await.unwrap(), Some(shop.clone()));
    assert_eq!(store.list_api_keys().await.unwrap().len(), 3);
    assert_eq!(
        store.admin_entries(0, 10).await.unwrap().len(),
        3,
        "the refused key left no admin entry"
    );

    // Revocation is final and leaves the key listed, with when.
    let later = Attribution::new(
        Actor::key("k9").unwrap(),
        Timestamp::from_unix_millis(5_000),
    );
    let revoked = store.revoke_api_key("k1", &later).await.unwrap().unwrap();
    assert_eq!(
        revoked,
        NewAdminEntry::key_revoked(&later, "k1").unwrap().at_seq(4)
    );
    assert_eq!(
        store.find_api_key("k1").await.unwrap(),
        Some(ApiKey {
            revoked_at: Some(later.at),
            ..shop
        })
    );
    assert_eq!(
        store.revoke_api_key("k1", &later).await.unwrap(),
        None,
        "once"
    );
    assert_eq!(store.revoke_api_key("nope", &later).await.unwrap(), None);
    assert_eq!(store.event_count().await.unwrap(), 4, "no entry for either");
    assert_eq!(store.find_api_key("k9").await.unwrap(), Some(ops));
}

/// Catalog versions are numbered 1, 2, 3, … in publishing order; publishing content
/// that was published before makes a new version.
pub async fn catalog_versions_are_numbered_from_one(store: Arc<dyn Store>) {
    assert_eq!(store.latest_catalog().await.unwrap(), None);
    assert_eq!(store.catalog_version(1).await.unwrap(), None);

    let publish = |canonical: &str, at: i64| {
        let store = store.clone();
        let canonical = canonical.to_owned();
        async move {
            store
                .publish_catalog(
                    Digest256::of(canonical.as_bytes()),
                    canonical.clone(),
                    format!("# catalog.toml\n[catalog]\nbody = {canonical:?}\n"),
                    &Attribution::new(Actor::cli(None), Timestamp::from_unix_millis(at)),
                )
                .await
                .unwrap()
        }
    };
    let first = publish(r#"{"purposes":["newsletter"]}"#, 10).await;
    let second = publish(r#"{"purposes":["newsletter","ads"]}"#, 20).await;
    let third = publish(r#"{"purposes":["newsletter"]}"#, 30).await;
    let expected = |number: u32, canonical: &str, at: i64| StoredCatalog {
        number,
        digest: Digest256::of(canonical.as_bytes()),
        canonical: canonical.to_owned(),
        source: format!("# catalog.toml\n[catalog]\nbody = {canonical:?}\n"),
        published_at: Timestamp::from_unix_millis(at),
    };
    assert_eq!(first, expected(1, r#"{"purposes":["newsletter"]}"#, 10));
    assert_eq!(
        second,
        expected(2, r#"{"purposes":["newsletter","ads"]}"#, 20)
    );
    assert_eq!(third, expected(3, r#"{"purposes":["newsletter"]}"#, 30));
    assert_eq!(first.digest, third.digest, "same content, new version");

    assert_eq!(store.latest_catalog().await.unwrap(), Some(third.clone()));
    assert_eq!(store.catalog_version(1).await.unwrap(), Some(first));
    assert_eq!(store.catalog_version(2).await.unwrap(), Some(second));
    assert_eq!(store.catalog_version(3).await.unwrap(), Some(third));
    assert_eq!(store.catalog_version(0).await.unwrap(), None);
    assert_eq!(store.catalog_version(4).await.unwrap(), None);
    assert_eq!(store.catalog_version(u32::MAX).await.unwrap(), None);
}

/// Many concurrent writers through one [`GroupCommit`]: every write is acknowledged with
/// its own events under contiguous seqs; the seqs of all writes are 1..=n without gaps;
/// the commit hook saw every event exactly once, in ledger order, before the writers
/// were answered; and the writes were grouped into fewer transactions than writers.
pub async fn group_commit_groups_concurrent_writers(store: Arc<dyn Store>) {
    const WRITERS: usize = 64;
    let counting = Arc::new(CountingStore::new(store.clone()));
    let seen = Arc::new(Mutex::new(Vec::<ConsentEvent>::new()));
    let hook: CommitHook = {
        let seen = seen.clone();
        Arc::new(move |batch: &[ConsentEvent]| seen.lock().unwrap().extend_from_slice(batch))
    };
    let writer = Arc::new(GroupCommit::start(
        counting.clone(),
        hook,
        GroupCommitConfig::default(),
    ));

    let mut tasks = Vec::with_capacity(WRITERS);
    for w in 0..WRITERS {
        let writer = writer.clone();
        let seen = seen.clone();
        // 1 to 3 events per writer, so requests of different sizes share a transaction.
        let events: Vec<NewEvent> = (0..w % 3 + 1)
            .map(|i| event(w as u8, &format!("purpose_{i}"), Action::Grant, w * 3 + i))
            .collect();
        tasks.push(tokio::spawn(async move {
            let got = writer.append(events.clone()).await.unwrap();
            // Read-your-writes: the hook had these events before this writer got its answer.
            let hooked = seen.lock().unwrap().iter().any(|e| Some(e) == got.last());
            (events, got, hooked)
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        let (events, got, hooked) = task.await.unwrap();
        let first = got.first().map_or(0, |e| e.seq);
        assert_events_with_seqs(&got, &events, first);
        assert!(
            hooked,
            "a writer was acknowledged before the hook saw its events"
        );
        seqs.extend(got.iter().map(|e| e.seq));
    }
    writer.flush().await.unwrap();
    let total = seqs.len() as u64;
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "seqs are unique and gap-free"
    );

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "the hook saw every event once, in ledger order"
    );
    assert_eq!(store.events_after(0, u32::MAX).await.unwrap(), seen);
    assert_eq!(store.event_count().await.unwrap(), total);

    let appends = counting.appends();
    assert!(
        (1..WRITERS).contains(&appends),
        "{WRITERS} concurrent writers took {appends} transactions; group commit should group them"
    );
}

/// While the database is unavailable, the writers waiting in one group commit all hear so
/// from that one failed transaction: retrying them one by one (as for a batch that one
/// bad request failed) would make each wait for the database again. Nothing is written,
/// and writes go through again once it is back.
pub async fn an_unavailable_database_fails_waiting_writers_at_once(store: Arc<dyn Store>) {
    const WRITERS: usize = 16;
    let counting = Arc::new(CountingStore::new(store.clone()));
    let writer = Arc::new(GroupCommit::start(
        counting.clone(),
        Arc::new(|_: &[ConsentEvent]| {}),
        GroupCommitConfig::default(),
    ));
    counting.set_unavailable(true);
    let mut tasks = Vec::with_capacity(WRITERS);
    for w in 0..WRITERS {
        let writer = writer.clone();
        let events = vec![event(w as u8, "purpose_0", Action::Grant, w)];
        tasks.push(tokio::spawn(async move { writer.append(events).await }));
    }
    for task in tasks {
        let answer = task.await.unwrap();
        assert!(
            matches!(answer, Err(StoreError::Unavailable(_))),
            "a writer got {answer:?} while the database was away"
        );
    }
    let appends = counting.appends();
    assert!(
        appends < WRITERS / 2,
        "{WRITERS} writers made {appends} attempts; one failed batch should answer them all"
    );
    assert_eq!(store.event_count().await.unwrap(), 0);
    counting.set_unavailable(false);
    let back = writer
        .append(vec![event(1, "purpose_0", Action::Grant, 0)])
        .await
        .unwrap();
    assert_eq!(back.first().map(|e| e.seq), Some(1));
}

/// The Merkle tree grows with the ledger: its size is the number of events; its root,
/// assembled from stored nodes, is the root of the leaf hashes of `ledger_entries`; every
/// stored node is the node of that tree; and inclusion and consistency proofs built from
/// stored nodes verify, for old sizes as well as the current one.
pub async fn the_tree_commits_to_the_ledger(store: Arc<dyn Store>) {
    assert_eq!(store.tree_size().await.unwrap(), 0);
    assert_eq!(store.tree_nodes(&[]).await.unwrap(), Vec::<Hash>::new());
    assert!(
        matches!(
            store.tree_nodes(&[(0, 0)]).await,
            Err(StoreError::Corrupt(_))
        ),
        "an empty tree has no nodes"
    );
    let empty = on_stored_tree(&*store, |t| merkle::root_at(0, t)).await;
    assert_eq!(empty.unwrap(), merkle::empty_root());

    let mut n = 0usize;
    // Batches that cross subtree boundaries in every way: 1, 2, 5, 13, 15, 31, 32, 37.
    for batch in [1usize, 1, 3, 8, 2, 16, 1, 5] {
        let events = (0..batch)
            .map(|_| {
                n += 1;
                let purpose = ["newsletter", "analytics", "ads"][n % 3];
                event((n % 5) as u8, purpose, Action::ALL[n % 3], n)
            })
            .collect();
        store.append(events).await.unwrap();
        let size = store.tree_size().await.unwrap();
        assert_eq!(size, n as u64, "one leaf per event");
        assert_eq!(size, store.event_count().await.unwrap());
        let leaves = leaf_hashes(&all_entries(&*store).await);
        let root = on_stored_tree(&*store, |t| merkle::root_at(size, t)).await;
        assert_eq!(
            root.unwrap(),
            merkle::root(&leaves),
            "the stored tree's root at size {size} is the root of the ledger's leaves"
        );
    }
    let size = n as u64;
    let leaves = leaf_hashes(&all_entries(&*store).await);
    let memory = MemoryTree::from_leaves(&leaves);

    // Every stored node, asked in one call in no particular order (one twice).
    let mut every: Vec<(u8, u64)> = (0..6u8)
        .flat_map(|level| (0..size >> level).map(move |index| (level, index)))
        .collect();
    every.reverse();
    let third = every.len() / 3;
    every.rotate_left(third);
    every.push(every[3]);
    let expected: Vec<Hash> = every
        .iter()
        .map(|&(level, index)| memory.node(level, index).unwrap())
        .collect();
    assert_eq!(store.tree_nodes(&every).await.unwrap(), expected);
    for missing in [(0, size), (1, size / 2), (5, 1), (6, 0), (63, 0)] {
        let asked = [(0, 0), missing];
        assert!(
            matches!(store.tree_nodes(&asked).await, Err(StoreError::Corrupt(_))),
            "node {missing:?} of a tree of {size} leaves is not stored"
        );
    }

    let root_of = |s: u64| merkle::root(&leaves[..s as usize]);
    for s in [1, 2, 3, 7, 8, 13, 16, 32, size] {
        let root = on_stored_tree(&*store, |t| merkle::root_at(s, t)).await;
        assert_eq!(root.unwrap(), root_of(s), "root at size {s}");
        for index in [0, s / 2, s - 1] {
            let proof = on_stored_tree(&*store, |t| merkle::inclusion_proof(s, index, t)).await;
            let proof = proof.unwrap();
            assert_eq!(proof, merkle::inclusion_proof(s, index, &memory).unwrap());
            merkle::verify_inclusion(&leaves[index as usize], index, s, &proof, &root_of(s))
                .unwrap_or_else(|e| panic!("leaf {index} in size {s}: {e}"));
        }
    }
    for (old, new) in [
        (1, size),
        (3, 8),
        (7, 13),
        (8, 32),
        (13, size),
        (32, 33),
        (size, size),
    ] {
        let proof = on_stored_tree(&*store, |t| merkle::consistency_proof(old, new, t)).await;
        let proof = proof.unwrap();
        merkle::verify_consistency(old, new, &root_of(old), &root_of(new), &proof)
            .unwrap_or_else(|e| panic!("consistency {old} → {new}: {e}"));
    }
}

/// A leaf names its subject only by a salted commitment: every ledger entry is its event
/// with `subject_commitment(salt, pseudonym)` in place of the pseudonym. A subject keeps
/// its salt; two subjects have different salts; an unknown subject has none.
pub async fn leaves_commit_to_salted_subjects(store: Arc<dyn Store>) {
    let (a, b) = (
        SubjectId::from_bytes([1; 32]),
        SubjectId::from_bytes([2; 32]),
    );
    assert_eq!(store.subject_salt(&a).await.unwrap(), None);
    assert_eq!(store.ledger_entries(0, 10).await.unwrap(), Vec::new());

    let mut events = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 0),
            event(2, "newsletter", Action::Grant, 1),
            event(1, "analytics", Action::Object, 2),
        ])
        .await
        .unwrap();
    let salt_a = store.subject_salt(&a).await.unwrap().unwrap();
    let salt_b = store.subject_salt(&b).await.unwrap().unwrap();
    assert_ne!(salt_a, salt_b, "every subject gets a salt of its own");
    assert_ne!(salt_a.0, [0; 32]);
    events.extend(
        store
            .append(vec![
                event(1, "ads", Action::Withdraw, 3),
                event(3, "ads", Action::Grant, 4),
            ])
            .await
            .unwrap(),
    );
    assert_eq!(
        store.subject_salt(&a).await.unwrap(),
        Some(salt_a),
        "a subject keeps its salt"
    );
    let nobody = SubjectId::from_bytes([9; 32]);
    assert_eq!(store.subject_salt(&nobody).await.unwrap(), None);

    let mut salts = HashMap::new();
    for s in [1u8, 2, 3] {
        let subject = SubjectId::from_bytes([s; 32]);
        salts.insert(
            subject,
            store.subject_salt(&subject).await.unwrap().unwrap(),
        );
    }
    let expected: Vec<LedgerEntry> = events
        .iter()
        .map(|e| entry_of(e, &salts[&e.event.subject]))
        .collect();
    let entries = all_entries(&*store).await;
    assert_eq!(entries, expected);
    assert_eq!(entries[0].subject_commitment, entries[2].subject_commitment);
    assert_ne!(entries[0].subject_commitment, entries[1].subject_commitment);
    assert_ne!(
        entries[0].subject_commitment.0,
        *a.as_bytes(),
        "the pseudonym is not in the leaf"
    );

    assert_eq!(store.ledger_entries(1, 2).await.unwrap(), expected[1..3]);
    assert_eq!(store.ledger_entries(4, 10).await.unwrap(), expected[4..]);
    assert_eq!(store.ledger_entries(5, 10).await.unwrap(), Vec::new());
    assert_eq!(store.ledger_entries(0, 0).await.unwrap(), Vec::new());
    assert_eq!(store.ledger_entries(u64::MAX, 3).await.unwrap(), Vec::new());
}

/// Erasure appends the erase entries and then crypto-shreds the subject: its salt is
/// gone, its state and history are empty, nothing more is recorded for it, and nothing
/// it refuses is half-written. The ledger keeps every entry (as commitments only) and the
/// tree still has the root of all of them. Erasing a subject never seen still records the
/// erasure; erasing twice is refused.
pub async fn erasure_crypto_shreds_a_subject(store: Arc<dyn Store>) {
    let (a, b, unknown) = (
        SubjectId::from_bytes([1; 32]),
        SubjectId::from_bytes([2; 32]),
        SubjectId::from_bytes([7; 32]),
    );
    assert_eq!(store.erased_subjects().await.unwrap(), Vec::new());
    let before = store
        .append(vec![
            event(1, "newsletter", Action::Grant, 0),
            event(2, "newsletter", Action::Grant, 1),
            event(1, "analytics", Action::Object, 2),
            event(2, "ads", Action::Grant, 3),
        ])
        .await
        .unwrap();
    let salt_a = store.subject_salt(&a).await.unwrap().unwrap();
    let history_b = store.history(&b).await.unwrap();
    let state_b = store.subject_state(&b).await.unwrap();

    // What is not an erasure of `a` is refused, and leaves no trace.
    let refusals = [
        ("no erase entries", Vec::new()),
        ("a grant", vec![event(1, "newsletter", Action::Grant, 4)]),
        (
            "another subject's erase entry",
            vec![erase_entry(2, "newsletter", 4)],
        ),
    ];
    for (what, erasure) in refusals {
        assert!(
            store.erase_subject(&a, erasure, &by()).await.is_err(),
            "an erasure with {what} is refused"
        );
        assert_eq!(
            store.event_count().await.unwrap(),
            4,
            "{what}: nothing written"
        );
        assert_eq!(store.subject_salt(&a).await.unwrap(), Some(salt_a));
        assert_eq!(store.erased_subjects().await.unwrap(), Vec::new());
    }
    assert!(
        store
            .append(vec![erase_entry(1, "newsletter", 4)])
            .await
            .is_err(),
        "erase entries are written by erase_subject only"
    );
    assert_eq!(store.event_count().await.unwrap(), 4);

    let erasure = vec![
        erase_entry(1, "newsletter", 4),
        erase_entry(1, "analytics", 4),
    ];
    let erased = store
        .erase_subject(&a, erasure.clone(), &by())
        .await
        .unwrap();
    assert_events_with_seqs(&erased, &erasure, 5);
    // The erasure's admin entry comes right after its erase entries, naming them and
    // nothing of the subject.
    let audit = store.admin_entries(0, 10).await.unwrap();
    assert_eq!(
        audit,
        vec![NewAdminEntry::subject_erased(&by(), 5, 6).at_seq(7)]
    );

    assert_eq!(
        store.subject_salt(&a).await.unwrap(),
        None,
        "the salt is destroyed"
    );
    assert_eq!(store.subject_state(&a).await.unwrap(), Vec::new());
    assert_eq!(store.history(&a).await.unwrap(), Vec::new());
    assert_eq!(store.erased_subjects().await.unwrap(), vec![a]);
    assert_eq!(
        store.history(&b).await.unwrap(),
        history_b,
        "others keep theirs"
    );
    assert_eq!(store.subject_state(&b).await.unwrap(), state_b);
    assert_eq!(store.projection().await.unwrap(), state_b);
    assert_eq!(
        store.events_after(0, 100).await.unwrap(),
        vec![before[1].clone(), before[3].clone()],
        "an erased subject's events are no longer told"
    );

    // Nothing more is recorded for `a`, not even as part of a batch with others.
    let refused = [
        vec![event(1, "newsletter", Action::Grant, 5)],
        vec![
            event(2, "newsletter", Action::Withdraw, 5),
            event(1, "newsletter", Action::Grant, 5),
        ],
    ];
    for batch in refused {
        assert!(matches!(store.append(batch).await, Err(StoreError::Erased)));
        assert_eq!(store.event_count().await.unwrap(), 7, "nothing written");
        assert_eq!(store.tree_size().await.unwrap(), 7);
        assert_eq!(store.history(&b).await.unwrap(), history_b);
    }
    assert!(matches!(
        store
            .erase_subject(&a, vec![erase_entry(1, "newsletter", 5)], &by())
            .await,
        Err(StoreError::Erased)
    ));
    assert_eq!(store.event_count().await.unwrap(), 7);
    assert_eq!(store.admin_entries(0, 10).await.unwrap().len(), 1);

    // The ledger keeps every entry, the erase entries last, all under a's old commitment.
    let entries = all_entries(&*store).await;
    assert_eq!(entries.len(), 6);
    let commitment_a = subject_commitment(&salt_a.0, &a);
    for (entry, e) in entries.iter().zip(before.iter().chain(&erased)) {
        if e.event.subject == a {
            assert_eq!(entry, &entry_of(e, &salt_a));
        }
    }
    assert_eq!(
        entries[4..].iter().map(|e| e.action).collect::<Vec<_>>(),
        vec![EntryAction::Erase; 2]
    );
    assert!(entries[4..]
        .iter()
        .all(|e| e.subject_commitment == commitment_a));
    let root = on_stored_tree(&*store, |t| merkle::root_at(7, t)).await;
    assert_eq!(root.unwrap(), merkle::root(&all_leaf_hashes(&*store).await));

    // A rebuild of the projection does not bring the erased subject back.
    assert_eq!(store.rebuild_projection().await.unwrap(), 2);
    assert_eq!(store.projection().await.unwrap(), state_b);

    // A subject never seen: the erasure is recorded all the same.
    let erased_unknown = store
        .erase_subject(&unknown, vec![erase_entry(7, "newsletter", 6)], &by())
        .await
        .unwrap();
    assert_eq!(erased_unknown[0].seq, 8);
    assert_eq!(store.subject_salt(&unknown).await.unwrap(), None);
    let mut all_erased = store.erased_subjects().await.unwrap();
    all_erased.sort();
    assert_eq!(all_erased, vec![a, unknown]);
    let entries = all_entries(&*store).await;
    assert_eq!(entries.len(), 7);
    assert_eq!(entries[6].action, EntryAction::Erase);
    assert_eq!(store.tree_size().await.unwrap(), 9);
    let root = on_stored_tree(&*store, |t| merkle::root_at(9, t)).await;
    assert_eq!(root.unwrap(), merkle::root(&all_leaf_hashes(&*store).await));
    assert_eq!(store.projection().await.unwrap(), state_b);
}

/// Checkpoints only grow: each is for a larger tree than the last, covers leaves that
/// exist and carries the stored tree's root at its size; `latest_checkpoint` is the
/// largest and `checkpoints_after` pages through them, smallest first.
pub async fn checkpoints_only_grow(store: Arc<dyn Store>) {
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);
    assert_eq!(store.checkpoints_after(0, 10).await.unwrap(), Vec::new());
    store
        .append(
            (0..9)
                .map(|n| event(n as u8 % 2, "newsletter", Action::Grant, n))
                .collect(),
        )
        .await
        .unwrap();
    let leaves = leaf_hashes(&all_entries(&*store).await);
    let checkpoint = |size: u64, at: i64| StoredCheckpoint {
        size,
        root: merkle::root(&leaves[..size as usize]),
        note: format!("keuze.example/log\n{size}\nroot\n\n— keuze.example/log sig{size}\n"),
        signed_at: Timestamp::from_unix_millis(at),
    };
    let (c3, c5, c9) = (checkpoint(3, 10), checkpoint(5, 20), checkpoint(9, 30));
    store.add_checkpoint(&c3).await.unwrap();
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(c3.clone()));
    store.add_checkpoint(&c5).await.unwrap();

    let wrong_root = StoredCheckpoint {
        root: leaves[0],
        ..checkpoint(7, 25)
    };
    let refusals = [
        ("the same size again", checkpoint(5, 21)),
        ("a smaller size", checkpoint(4, 22)),
        ("a size beyond the tree", {
            let mut c = checkpoint(9, 23);
            c.size = 10;
            c
        }),
        ("a root that is not the tree's", wrong_root),
    ];
    for (what, c) in refusals {
        assert!(
            store.add_checkpoint(&c).await.is_err(),
            "a checkpoint for {what} is refused"
        );
        assert_eq!(store.latest_checkpoint().await.unwrap(), Some(c5.clone()));
    }
    store.add_checkpoint(&c9).await.unwrap();

    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(c9.clone()));
    assert_eq!(
        store.checkpoints_after(0, 10).await.unwrap(),
        vec![c3.clone(), c5.clone(), c9.clone()]
    );
    assert_eq!(
        store.checkpoints_after(0, 1).await.unwrap(),
        vec![c3.clone()]
    );
    assert_eq!(
        store.checkpoints_after(3, 1).await.unwrap(),
        vec![c5.clone()]
    );
    assert_eq!(
        store.checkpoints_after(4, 5).await.unwrap(),
        vec![c5, c9.clone()]
    );
    assert_eq!(store.checkpoints_after(5, 5).await.unwrap(), vec![c9]);
    assert_eq!(store.checkpoints_after(9, 5).await.unwrap(), Vec::new());
    assert_eq!(store.checkpoints_after(0, 0).await.unwrap(), Vec::new());
    assert_eq!(
        store.checkpoints_after(u64::MAX, 5).await.unwrap(),
        Vec::new()
    );
}

/// Log keys are remembered once each, oldest first; adding one again changes nothing.
pub async fn log_keys_are_remembered_once(store: Arc<dyn Store>) {
    assert_eq!(store.log_keys().await.unwrap(), Vec::new());
    let key = |name: &str, at: i64| StoredLogKey {
        verifier: format!("keuze.example/log+{name}+AQIDBA=="),
        created_at: Timestamp::from_unix_millis(at),
    };
    let (new, old) = (key("0000beef", 20), key("0000cafe", 10));
    store.add_log_key(&new).await.unwrap();
    store.add_log_key(&old).await.unwrap();
    store.add_log_key(&new).await.unwrap();
    store.add_log_key(&key("0000beef", 30)).await.unwrap();
    assert_eq!(store.log_keys().await.unwrap(), vec![old, new]);
}

// ---------------------------------------------------------------------------------------
// Property: the projection is always a rebuild of the ledger

/// How one chunk of the scenario reaches the store.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// Straight to [`Store::append`]; the caller applies the result to the index.
    Direct,
    /// Through the shared [`GroupCommit`], whose hook applies it to the index.
    GroupCommit,
    /// [`Store::erase_subject`] of the chunk's subject, one erase entry per purpose; the
    /// chunk's choices are not used.
    Erase(u8),
    /// [`Store::append_admin`]: an admin entry between the consent events, which the
    /// projection and every index must ignore. The chunk's choices are not used.
    Admin,
}

/// A subject, a purpose and an action, each as a small index.
type Choice = (u8, usize, usize);

const SUBJECTS: u8 = 3;
const PURPOSES: [&str; 3] = ["newsletter", "analytics", "ads"];

#[derive(Debug, Clone)]
struct Scenario {
    max_batch_events: usize,
    chunks: Vec<(Route, Vec<Choice>)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    // Choices are grants, withdrawals and objections; erasures are chunks of their own.
    let choice = (0..SUBJECTS, 0..PURPOSES.len(), 0usize..3);
    let route = prop_oneof![
        4 => Just(Route::Direct),
        4 => Just(Route::GroupCommit),
        1 => (0..SUBJECTS).prop_map(Route::Erase),
        1 => Just(Route::Admin),
    ];
    let chunk = (route, vec(choice, 0..6));
    (1usize..8, vec(chunk, 0..12)).prop_map(|(max_batch_events, chunks)| Scenario {
        max_batch_events,
        chunks,
    })
}

/// For random sequences of choices and erasures, sent concurrently in random chunks (some
/// through a [`GroupCommit`] with a random batch limit, some straight to the store), these
/// all agree: (a) the store's incrementally maintained projection, (b) a
/// [`DecisionIndex`] fed by the commit hook (and by the direct appends' and erasures'
/// results), (c) a [`DecisionIndex`] rebuilt from the ledger as `events_after` tells it
/// plus `erased_subjects`, and (d) the projection after [`Store::rebuild_projection`].
/// A chunk may be refused only because its subject was erased meanwhile (a group-commit
/// batch fails as a whole then); the ledger then holds exactly the acknowledged events
/// and admin entries (each erasure's, and those appended between), sharing one gap-free
/// seq, `ledger_entries` all consent events, `ledger_leaves` all of both and the tree
/// their root.
///
/// Runs 64 cases on a Tokio runtime of its own: call it from a plain `#[test]`.
pub fn projection_property<F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&scenario(), |scenario| {
        rt.block_on(async { check_projection(fresh().await, scenario).await })
    });
    if let Err(e) = result {
        panic!("the projection differs from a rebuild of the ledger: {e}");
    }
}

async fn check_projection(store: Arc<dyn Store>, scenario: Scenario) -> Result<(), TestCaseError> {
    let index = Arc::new(Mutex::new(DecisionIndex::new()));
    let hook: CommitHook = {
        let index = index.clone();
        Arc::new(move |batch: &[ConsentEvent]| {
            let mut index = index.lock().unwrap();
            index.apply_all(batch);
        })
    };
    let writer = Arc::new(GroupCommit::start(
        store.clone(),
        hook,
        GroupCommitConfig {
            max_batch_events: scenario.max_batch_events,
            queue_depth: 16,
        },
    ));

    let mut n = 0usize;
    let mut tasks = Vec::new();
    for (route, choices) in scenario.chunks {
        let events: Vec<NewEvent> = match route {
            Route::Erase(subject) => PURPOSES
                .iter()
                .map(|purpose| {
                    n += 1;
                    erase_entry(subject, purpose, n)
                })
                .collect(),
            Route::Admin => Vec::new(),
            Route::Direct | Route::GroupCommit => choices
                .into_iter()
                .map(|(subject, purpose, action)| {
                    n += 1;
                    event(subject, PURPOSES[purpose], Action::ALL[action], n)
                })
                .collect(),
        };
        let (store, writer, index) = (store.clone(), writer.clone(), index.clone());
        tasks.push(tokio::spawn(async move {
            let mut admin_seqs = Vec::new();
            let result = match route {
                Route::GroupCommit => writer.append(events.clone()).await,
                Route::Direct => store.append(events.clone()).await,
                Route::Erase(subject) => {
                    let got = store
                        .erase_subject(&SubjectId::from_bytes([subject; 32]), events.clone(), &by())
                        .await;
                    if let Ok(last) = got.as_ref().map(|g| g.last().map_or(0, |e| e.seq)) {
                        admin_seqs.push(last + 1);
                    }
                    got
                }
                Route::Admin => store
                    .append_admin(NewAdminEntry::webhook_deleted(&by(), "wh_0").unwrap())
                    .await
                    .map(|entry| {
                        admin_seqs.push(entry.seq);
                        Vec::new()
                    }),
            };
            if let (Route::Direct | Route::Erase(_), Ok(got)) = (route, &result) {
                let mut index = index.lock().unwrap();
                index.apply_all(got);
            }
            (route, events, result, admin_seqs)
        }));
    }
    let mut acknowledged = Vec::new();
    let mut admin_seqs = Vec::new();
    let mut erased = BTreeSet::new();
    for task in tasks {
        let (route, events, result, admin) = task.await.map_err(fail)?;
        admin_seqs.extend(admin);
        let got = match result {
            Ok(got) => got,
            // Refused because a subject of the chunk (or, through group commit, of another
            // chunk in the same transaction) was erased meanwhile.
            Err(StoreError::Erased) => continue,
            Err(StoreError::Unavailable(msg))
                if matches!(route, Route::GroupCommit) && msg == StoreError::Erased.to_string() =>
            {
                continue
            }
            Err(e) => return Err(fail(format!("{route:?}: {e}"))),
        };
        if let Route::Erase(subject) = route {
            erased.insert(subject);
        }
        let sent: Vec<&NewEvent> = events.iter().collect();
        let returned: Vec<&NewEvent> = got.iter().map(|e| &e.event).collect();
        prop_assert_eq!(sent, returned);
        prop_assert!(
            got.windows(2).all(|w| w[1].seq == w[0].seq + 1),
            "one request's events have contiguous seqs"
        );
        acknowledged.extend(got);
    }
    writer.flush().await.map_err(fail)?;
    acknowledged.sort_by_key(|e| e.seq);
    let is_erased = |e: &ConsentEvent| erased.contains(&e.event.subject.as_bytes()[0]);

    // The ledger: every acknowledged event and admin entry at its seq, nothing else; the
    // tree over all.
    let total = (acknowledged.len() + admin_seqs.len()) as u64;
    prop_assert_eq!(store.event_count().await.map_err(fail)?, total);
    prop_assert_eq!(store.tree_size().await.map_err(fail)?, total);
    let mut seqs: Vec<u64> = acknowledged.iter().map(|e| e.seq).collect();
    seqs.extend(&admin_seqs);
    seqs.sort_unstable();
    prop_assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    let stored_admin: Vec<u64> = store
        .admin_entries(0, u32::MAX)
        .await
        .map_err(fail)?
        .iter()
        .map(|a| a.seq)
        .collect();
    admin_seqs.sort_unstable();
    prop_assert_eq!(&stored_admin, &admin_seqs);
    let entries = all_entries(&*store).await;
    prop_assert_eq!(entries.len(), acknowledged.len());
    for (entry, e) in entries.iter().zip(&acknowledged) {
        prop_assert_eq!(entry.seq, e.seq);
        prop_assert_eq!(entry.action, EntryAction::from(e.event.action));
        prop_assert_eq!(&entry.purpose, &e.event.purpose);
        prop_assert_eq!(entry.context_digest, e.event.context_digest);
    }
    let root = on_stored_tree(&*store, |t| merkle::root_at(total, t)).await;
    prop_assert_eq!(
        root.map_err(fail)?,
        merkle::root(&all_leaf_hashes(&*store).await)
    );

    // As told to everyone else: erased subjects' events are gone.
    let mut ledger = Vec::new();
    loop {
        let after = ledger.last().map_or(0, |e: &ConsentEvent| e.seq);
        let page = store.events_after(after, 7).await.map_err(fail)?;
        if page.is_empty() {
            break;
        }
        ledger.extend(page);
    }
    let told: Vec<ConsentEvent> = acknowledged
        .iter()
        .filter(|e| !is_erased(e))
        .cloned()
        .collect();
    prop_assert_eq!(&ledger, &told);
    let mut erased_ids: Vec<SubjectId> = erased
        .iter()
        .map(|&s| SubjectId::from_bytes([s; 32]))
        .collect();
    let mut stored_erased = store.erased_subjects().await.map_err(fail)?;
    stored_erased.sort();
    erased_ids.sort();
    prop_assert_eq!(&stored_erased, &erased_ids);

    let projection = store.projection().await.map_err(fail)?;
    let from_projection = view(&index_of(&projection, &stored_erased));
    let from_hook = view(&index.lock().unwrap());
    let from_ledger = view(&index_of(&ledger, &stored_erased));
    prop_assert_eq!(
        &from_projection,
        &from_ledger,
        "(a) projection vs (c) ledger"
    );
    prop_assert_eq!(&from_hook, &from_ledger, "(b) hook index vs (c) ledger");
    prop_assert!(
        projection.windows(2).all(|w| w[0].seq < w[1].seq),
        "the projection is in ledger order"
    );

    let rows = store.rebuild_projection().await.map_err(fail)?;
    prop_assert_eq!(rows, projection.len() as u64);
    let rebuilt = store.projection().await.map_err(fail)?;
    prop_assert_eq!(
        &rebuilt,
        &projection,
        "(d) rebuilt projection vs (a) projection"
    );
    Ok(())
}

/// A decision index as the server builds it at start: the events, then the erasures.
fn index_of(events: &[ConsentEvent], erased: &[SubjectId]) -> DecisionIndex {
    let mut index = DecisionIndex::new();
    index.apply_all(events);
    erased.iter().for_each(|s| index.mark_erased(*s));
    index
}

/// What an index says about each subject of the scenario: its last choices, and whether it
/// is erased. (Indexes differ in the seq they keep for an erasure, which decisions only
/// report, so the comparison leaves it out.)
type IndexView = Vec<(Option<HashMap<PurposeId, LastChoice>>, bool)>;

fn view(index: &DecisionIndex) -> IndexView {
    (0..SUBJECTS)
        .map(|s| {
            let subject = SubjectId::from_bytes([s; 32]);
            (index.subject(&subject), index.is_erased(&subject))
        })
        .collect()
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

// ---------------------------------------------------------------------------------------
// Helpers

/// A valid event; `n` varies the source, locale, catalog version and time, so every field
/// makes a round trip.
fn event(subject: u8, purpose: &str, action: Action, n: usize) -> NewEvent {
    NewEvent {
        subject: SubjectId::from_bytes([subject; 32]),
        purpose: PurposeId::parse(purpose).expect("a valid purpose id"),
        action,
        source: Source::ALL[n % Source::ALL.len()],
        catalog_version: (n % 4) as u32 + 1,
        notice_digest: Digest256::of(format!("notice {purpose} {n}").as_bytes()),
        locale: [Locale::nl(), Locale::en()][n % 2].clone(),
        recorded_at: Timestamp::from_unix_millis(1_795_000_000_000 + n as i64),
        context_digest: Digest256::of(format!("context {purpose} {}", n % 4 + 1).as_bytes()),
    }
}

/// An erase entry, as Keuze writes one per purpose when it erases a subject.
fn erase_entry(subject: u8, purpose: &str, n: usize) -> NewEvent {
    NewEvent {
        source: Source::System,
        ..event(subject, purpose, Action::Erase, n)
    }
}

/// The ledger entry a stored event must have become, given its subject's salt.
fn entry_of(e: &ConsentEvent, salt: &SubjectSalt) -> LedgerEntry {
    let ev = &e.event;
    LedgerEntry {
        seq: e.seq,
        subject_commitment: subject_commitment(&salt.0, &ev.subject),
        purpose: ev.purpose.clone(),
        action: EntryAction::from(ev.action),
        source: ev.source,
        catalog_version: ev.catalog_version,
        notice_digest: ev.notice_digest,
        locale: ev.locale.clone(),
        recorded_at: ev.recorded_at,
        context_digest: ev.context_digest,
    }
}

/// Every ledger entry, read in pages.
async fn all_entries(store: &dyn Store) -> Vec<LedgerEntry> {
    let mut all: Vec<LedgerEntry> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e.seq);
        let page = store.ledger_entries(after, 10).await.unwrap();
        assert!(page.len() <= 10, "a page is at most `limit` long");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// The hash of every leaf, consent and admin, read through `ledger_leaves` in pages.
async fn all_leaf_hashes(store: &dyn Store) -> Vec<Hash> {
    let mut all: Vec<LedgerLeaf> = Vec::new();
    loop {
        let after = all.last().map_or(0, LedgerLeaf::seq);
        let page = store.ledger_leaves(after, 3).await.unwrap();
        assert!(page.len() <= 3, "a page is at most `limit` long");
        if page.is_empty() {
            break;
        }
        all.extend(page);
    }
    for (i, leaf) in all.iter().enumerate() {
        assert_eq!(leaf.seq(), i as u64 + 1, "leaves are gap-free from 1");
    }
    all.iter().map(LedgerLeaf::leaf_hash).collect()
}

/// An admin entry that needs no other stored data.
fn webhook_entry(id: &str) -> NewAdminEntry {
    NewAdminEntry::webhook_created(&by(), id, "https://hooks.example").unwrap()
}

/// Who the stories say acted.
fn by() -> Attribution {
    Attribution::new(
        Actor::cli(Some("ops")),
        Timestamp::from_unix_millis(1_795_000_000_000),
    )
}

fn leaf_hashes(entries: &[LedgerEntry]) -> Vec<Hash> {
    entries.iter().map(LedgerEntry::leaf_hash).collect()
}

/// The store's tree as a [`NodeSource`] for the (synchronous) proof functions. Which
/// nodes a computation reads depends only on sizes and indices, so it runs twice: once
/// against [`StoredTree::Recording`], which answers zeros and notes what was asked, then
/// against exactly those nodes, fetched with one `tree_nodes` call.
enum StoredTree<'a> {
    Recording(&'a RefCell<Vec<(u8, u64)>>),
    Fetched(HashMap<(u8, u64), Hash>),
}

impl NodeSource for StoredTree<'_> {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        match self {
            Self::Recording(asked) => {
                asked.borrow_mut().push((level, index));
                Ok([0; 32])
            }
            Self::Fetched(nodes) => nodes
                .get(&(level, index))
                .copied()
                .ok_or(MissingNode { level, index }),
        }
    }
}

async fn on_stored_tree<T>(store: &dyn Store, compute: impl Fn(&StoredTree<'_>) -> T) -> T {
    let asked = RefCell::new(Vec::new());
    compute(&StoredTree::Recording(&asked));
    let wanted = asked.into_inner();
    let hashes = store.tree_nodes(&wanted).await.unwrap();
    assert_eq!(
        hashes.len(),
        wanted.len(),
        "tree_nodes answers every node asked"
    );
    compute(&StoredTree::Fetched(
        wanted.into_iter().zip(hashes).collect(),
    ))
}

/// `got` is `sent`, in order, under seqs `first`, `first + 1`, ….
fn assert_events_with_seqs(got: &[ConsentEvent], sent: &[NewEvent], first: u64) {
    let expected: Vec<ConsentEvent> = sent
        .iter()
        .zip(first..)
        .map(|(event, seq)| ConsentEvent {
            seq,
            event: event.clone(),
        })
        .collect();
    assert_eq!(
        got, expected,
        "append returns the events under consecutive seqs"
    );
}

/// A write whose caller gives up part-way (a client gone, a request past its deadline, a
/// stopped task) is either done or not, and never leaves the store unable to write: the
/// next write succeeds. Cancelled at every point from before its BEGIN to after its
/// COMMIT, by timeouts from 0 to 400 µs.
pub async fn a_cancelled_write_leaves_the_store_writable(store: Arc<dyn Store>) {
    for i in 0..400u64 {
        let cancelled = tokio::time::timeout(
            std::time::Duration::from_micros(i),
            store.remember_once(&format!("cancelled-{i}"), "x"),
        )
        .await;
        if let Ok(done) = cancelled {
            assert_eq!(done.unwrap(), "x");
        }
        assert_eq!(
            store
                .remember_once(&format!("after-{i}"), "y")
                .await
                .unwrap_or_else(|e| panic!("the write after a write cancelled at {i} µs: {e}")),
            "y"
        );
    }
}

/// `remember_once` keeps the first value under a name and answers it to everyone after,
/// names apart.
pub async fn the_first_value_given_is_remembered(store: Arc<dyn Store>) {
    assert_eq!(store.remember_once("secret", "a1").await.unwrap(), "a1");
    assert_eq!(store.remember_once("secret", "b2").await.unwrap(), "a1");
    assert_eq!(store.remember_once("secret", "a1").await.unwrap(), "a1");
    assert_eq!(store.remember_once("other", "b2").await.unwrap(), "b2");
    // Concurrent first callers agree on one winner.
    let calls: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.remember_once("race", &format!("v{i}")).await })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(call.await.unwrap().unwrap());
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "{answers:?}");
}

/// Incidents are numbered from 1, recorded once with their admin entry, and put on the
/// public register once.
pub async fn incidents_are_recorded_once_and_published_once(store: Arc<dyn Store>) {
    assert_eq!(store.incidents().await.unwrap(), Vec::new());
    assert_eq!(store.incident(1).await.unwrap(), None);
    let first = store
        .record_incident(Digest256::of(b"one"), "{\"one\":1}".into(), &by())
        .await
        .unwrap();
    assert_eq!(first.number, 1);
    assert_eq!(first.published_at, None);
    assert_eq!(first.recorded_at, by().at);
    let second = store
        .record_incident(Digest256::of(b"two"), "{\"two\":2}".into(), &by())
        .await
        .unwrap();
    assert_eq!(second.number, 2);
    assert_eq!(
        store.incidents().await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert_eq!(store.incident(2).await.unwrap(), Some(second.clone()));

    let later = Attribution::new(Actor::cli(None), by().at.plus_days(1));
    let published = store.publish_incident(2, &later).await.unwrap().unwrap();
    assert_eq!(published.published_at, Some(later.at));
    let again = store
        .publish_incident(2, &Attribution::new(Actor::cli(None), by().at.plus_days(2)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, published, "publishing twice changes nothing");
    assert_eq!(store.publish_incident(3, &later).await.unwrap(), None);
    assert_eq!(store.incident(1).await.unwrap(), Some(first.clone()));

    let audit = store.admin_entries(0, 10).await.unwrap();
    let trail: Vec<(AdminAction, &str)> = audit
        .iter()
        .map(|a| (a.action, a.target.as_str()))
        .collect();
    assert_eq!(
        trail,
        [
            (AdminAction::IncidentRecorded, "incident:1"),
            (AdminAction::IncidentRecorded, "incident:2"),
            (AdminAction::IncidentPublished, "incident:2"),
        ],
        "each recording and the one publication are in the audit trail"
    );
}

fn notice(subject: u8, incident: u32, kind: NoticeKind, n: i64) -> NewNotice {
    NewNotice {
        subject: SubjectId::from_bytes([subject; 32]),
        incident,
        kind,
        notice_digest: Digest256::of(format!("incident {incident}").as_bytes()),
        locale: [Locale::nl(), Locale::en()][usize::from(subject % 2)].clone(),
        source: if kind == NoticeKind::Notified {
            Source::System
        } else {
            Source::PreferenceCenter
        },
        recorded_at: Timestamp::from_unix_millis(1_795_000_000_000 + n),
    }
}

/// Notice entries take the next seqs and leaves of the one ledger and tree, name the
/// subject only by its salted commitment, leave the projection alone, and go with the
/// subject when it is erased.
pub async fn notice_entries_share_the_ledger_and_tree(store: Arc<dyn Store>) {
    store
        .append(vec![
            event(1, "newsletter", Action::Grant, 0),
            event(2, "newsletter", Action::Grant, 1),
        ])
        .await
        .unwrap();
    let incident = store
        .record_incident(Digest256::of(b"incident"), "{}".into(), &by())
        .await
        .unwrap();
    assert_eq!(incident.number, 1);
    let projection = store.projection().await.unwrap();

    // Subject 3 has never made a choice: it gets a salt like a new subject of `append`.
    let sent = vec![
        notice(1, 1, NoticeKind::Notified, 0),
        notice(3, 1, NoticeKind::Notified, 1),
    ];
    let stored = store.append_notices(sent.clone()).await.unwrap();
    assert_eq!(
        stored,
        [
            NoticeEvent {
                seq: 4,
                notice: sent[0].clone()
            },
            NoticeEvent {
                seq: 5,
                notice: sent[1].clone()
            },
        ],
        "after two consent entries and the incident's admin entry"
    );
    let ack = store
        .append_notices(vec![notice(1, 1, NoticeKind::Acknowledged, 2)])
        .await
        .unwrap();
    assert_eq!(ack[0].seq, 6);
    store
        .append(vec![event(2, "newsletter", Action::Withdraw, 3)])
        .await
        .unwrap();
    assert_eq!(store.event_count().await.unwrap(), 7, "every kind counts");
    assert_eq!(store.tree_size().await.unwrap(), 7);
    assert_eq!(
        store.projection().await.unwrap().len(),
        projection.len(),
        "notices are not choices"
    );

    // One tree over the three kinds; a notice leaf commits to the salted subject.
    let hashes = all_leaf_hashes(&*store).await;
    let root = on_stored_tree(&*store, |t| merkle::root_at(7, t)).await;
    assert_eq!(
        root.unwrap(),
        merkle::root(&hashes),
        "one tree over every kind"
    );
    let leaves = store.ledger_leaves(3, 3).await.unwrap();
    let salt = store
        .subject_salt(&SubjectId::from_bytes([3; 32]))
        .await
        .unwrap()
        .expect("a notified subject has a salt");
    let expected = NoticeEntry::of(
        5,
        subject_commitment(&salt.0, &SubjectId::from_bytes([3; 32])),
        &sent[1],
    );
    assert!(matches!(&leaves[0], LedgerLeaf::Notice(n) if n.seq == 4));
    assert!(matches!(&leaves[1], LedgerLeaf::Notice(n) if *n == expected));
    assert!(matches!(&leaves[2], LedgerLeaf::Notice(n) if n.kind == NoticeKind::Acknowledged));

    assert_eq!(
        store
            .notices(&SubjectId::from_bytes([1; 32]))
            .await
            .unwrap(),
        [stored[0].clone(), ack[0].clone()]
    );
    assert_eq!(
        store
            .notices(&SubjectId::from_bytes([2; 32]))
            .await
            .unwrap(),
        []
    );
    let mut told = store.notified_subjects(1).await.unwrap();
    told.sort();
    assert_eq!(
        told,
        [
            SubjectId::from_bytes([1; 32]),
            SubjectId::from_bytes([3; 32])
        ]
    );
    assert_eq!(
        store.notice_counts(1).await.unwrap(),
        NoticeCounts {
            notified: 2,
            acknowledged: 1
        }
    );

    // Refused whole: an unknown incident, an erased subject.
    let before = all_leaf_hashes(&*store).await;
    let unknown = store
        .append_notices(vec![
            notice(4, 1, NoticeKind::Notified, 4),
            notice(5, 9, NoticeKind::Notified, 5),
        ])
        .await;
    assert!(unknown.is_err(), "incident 9 is not recorded");
    store
        .erase_subject(
            &SubjectId::from_bytes([1; 32]),
            vec![erase_entry(1, "newsletter", 6)],
            &by(),
        )
        .await
        .unwrap();
    let erased = store
        .append_notices(vec![
            notice(4, 1, NoticeKind::Notified, 6),
            notice(1, 1, NoticeKind::Notified, 7),
        ])
        .await;
    assert!(matches!(erased, Err(StoreError::Erased)), "{erased:?}");
    assert_eq!(
        store
            .subject_salt(&SubjectId::from_bytes([4; 32]))
            .await
            .unwrap(),
        None,
        "a refused append gives no subject a salt"
    );
    let after = all_leaf_hashes(&*store).await;
    assert_eq!(&after[..before.len()], &before[..], "nothing was rewritten");
    assert_eq!(after.len(), before.len() + 2, "only the erasure was added");
    assert_eq!(
        store
            .notices(&SubjectId::from_bytes([1; 32]))
            .await
            .unwrap(),
        []
    );
    assert_eq!(
        store.notified_subjects(1).await.unwrap(),
        [SubjectId::from_bytes([3; 32])],
        "an erased subject can no longer be tied to its notices"
    );
}

/// A store that counts its transactions, to see group commit at work, and can play a
/// database that is away.
/// A store that counts the appends it passes on to the one it wraps, and can fail them as
/// an unreachable database does: for tests that must see how many commits an operation
/// makes, on a real backend.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    appends: AtomicUsize,
    /// While set, every append fails as an unreachable database does.
    unavailable: AtomicBool,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            appends: AtomicUsize::new(0),
            unavailable: AtomicBool::new(false),
        }
    }

    /// How many appends (commits of consent events) were asked of the store.
    pub fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }

    /// Makes every append fail (or succeed again) as an unreachable database does.
    pub fn set_unavailable(&self, away: bool) {
        self.unavailable.store(away, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        // A commit takes a while, as an fsync does, even on a backend that needs none:
        // writers that arrive meanwhile must share the next transaction.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the database is away (test)".into(),
            ));
        }
        self.inner.append(events).await
    }
    async fn tree_size(&self) -> Result<u64> {
        self.inner.tree_size().await
    }
    async fn tree_nodes(&self, wanted: &[(u8, u64)]) -> Result<Vec<Hash>> {
        self.inner.tree_nodes(wanted).await
    }
    async fn ledger_entries(&self, after: u64, limit: u32) -> Result<Vec<LedgerEntry>> {
        self.inner.ledger_entries(after, limit).await
    }
    async fn ledger_leaves(&self, after: u64, limit: u32) -> Result<Vec<LedgerLeaf>> {
        self.inner.ledger_leaves(after, limit).await
    }
    async fn append_admin(&self, entry: NewAdminEntry) -> Result<AdminEntry> {
        self.inner.append_admin(entry).await
    }
    async fn admin_entries(&self, after: u64, limit: u32) -> Result<Vec<AdminEntry>> {
        self.inner.admin_entries(after, limit).await
    }
    async fn subject_salt(&self, subject: &SubjectId) -> Result<Option<SubjectSalt>> {
        self.inner.subject_salt(subject).await
    }
    async fn erase_subject(
        &self,
        subject: &SubjectId,
        erasure: Vec<NewEvent>,
        by: &Attribution,
    ) -> Result<Vec<ConsentEvent>> {
        self.inner.erase_subject(subject, erasure, by).await
    }
    async fn erased_subjects(&self) -> Result<Vec<SubjectId>> {
        self.inner.erased_subjects().await
    }
    async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> Result<()> {
        self.inner.add_checkpoint(checkpoint).await
    }
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.inner.latest_checkpoint().await
    }
    async fn checkpoints_after(&self, after: u64, limit: u32) -> Result<Vec<StoredCheckpoint>> {
        self.inner.checkpoints_after(after, limit).await
    }
    async fn add_log_key(&self, key: &StoredLogKey) -> Result<()> {
        self.inner.add_log_key(key).await
    }
    async fn log_keys(&self) -> Result<Vec<StoredLogKey>> {
        self.inner.log_keys().await
    }
    async fn projection(&self) -> Result<Vec<ConsentEvent>> {
        self.inner.projection().await
    }
    async fn subject_state(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        self.inner.subject_state(subject).await
    }
    async fn history(&self, subject: &SubjectId) -> Result<Vec<ConsentEvent>> {
        self.inner.history(subject).await
    }
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<ConsentEvent>> {
        self.inner.events_after(after, limit).await
    }
    async fn event_count(&self) -> Result<u64> {
        self.inner.event_count().await
    }
    async fn rebuild_projection(&self) -> Result<u64> {
        self.inner.rebuild_projection().await
    }
    async fn insert_api_key(&self, key: &ApiKey, by: &Attribution) -> Result<AdminEntry> {
        self.inner.insert_api_key(key, by).await
    }
    async fn revoke_api_key(&self, id: &str, by: &Attribution) -> Result<Option<AdminEntry>> {
        self.inner.revoke_api_key(id, by).await
    }
    async fn find_api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        self.inner.find_api_key(id).await
    }
    async fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        self.inner.list_api_keys().await
    }
    async fn latest_catalog(&self) -> Result<Option<StoredCatalog>> {
        self.inner.latest_catalog().await
    }
    async fn catalog_version(&self, number: u32) -> Result<Option<StoredCatalog>> {
        self.inner.catalog_version(number).await
    }
    async fn publish_catalog(
        &self,
        digest: Digest256,
        canonical: String,
        source: String,
        by: &Attribution,
    ) -> Result<StoredCatalog> {
        self.inner
            .publish_catalog(digest, canonical, source, by)
            .await
    }
    async fn record_incident(
        &self,
        digest: Digest256,
        canonical: String,
        by: &Attribution,
    ) -> Result<StoredIncident> {
        self.inner.record_incident(digest, canonical, by).await
    }
    async fn incidents(&self) -> Result<Vec<StoredIncident>> {
        self.inner.incidents().await
    }
    async fn incident(&self, number: u32) -> Result<Option<StoredIncident>> {
        self.inner.incident(number).await
    }
    async fn publish_incident(
        &self,
        number: u32,
        by: &Attribution,
    ) -> Result<Option<StoredIncident>> {
        self.inner.publish_incident(number, by).await
    }
    async fn append_notices(&self, notices: Vec<NewNotice>) -> Result<Vec<NoticeEvent>> {
        self.inner.append_notices(notices).await
    }
    async fn notices(&self, subject: &SubjectId) -> Result<Vec<NoticeEvent>> {
        self.inner.notices(subject).await
    }
    async fn notified_subjects(&self, incident: u32) -> Result<Vec<SubjectId>> {
        self.inner.notified_subjects(incident).await
    }
    async fn notice_counts(&self, incident: u32) -> Result<NoticeCounts> {
        self.inner.notice_counts(incident).await
    }
    async fn remember_once(&self, name: &str, value: &str) -> Result<String> {
        self.inner.remember_once(name, value).await
    }
}

/// The outbox stories, for backends that implement [`crate::Outbox`]; each against a
/// store from `fresh`.
pub async fn run_outbox<S, F, Fut>(fresh: F)
where
    S: Store + crate::Outbox,
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<S>>,
{
    outbox_reads_the_ledger_after_a_durable_cursor(fresh().await).await;
    outbox_interleaves_notices_with_consent_events(fresh().await).await;
    an_erased_pseudonym_is_held_only_while_a_sink_is_behind(fresh().await).await;
    webhooks_and_dead_letters_are_kept_and_go_together(fresh().await).await;
}

async fn outbox_reads_the_ledger_after_a_durable_cursor<S: Store + crate::Outbox>(store: Arc<S>) {
    let sent: Vec<NewEvent> = (0..5)
        .map(|n| event(n as u8 % 2, "newsletter", Action::Grant, n))
        .collect();
    store.append(sent.clone()).await.unwrap();
    let batch = store.outbox_events(0, 3).await.unwrap();
    assert_events_with_seqs(&consents(&batch.events), &sent[..3], 1);
    assert_eq!(batch.through, 3);
    let rest = store.outbox_events(3, 100).await.unwrap();
    assert_events_with_seqs(&consents(&rest.events), &sent[3..], 4);
    assert_eq!(rest.through, 5);
    let none = store.outbox_events(5, 100).await.unwrap();
    assert!(none.events.is_empty());
    assert_eq!(none.through, 5, "nothing newer: `through` stays at `after`");

    assert_eq!(store.sink_cursor("nats:X").await.unwrap(), None);
    store.set_sink_cursor("nats:X", 3).await.unwrap();
    store.set_sink_cursor("nats:X", 5).await.unwrap();
    assert_eq!(store.sink_cursor("nats:X").await.unwrap(), Some(5));
    store.remove_sink("nats:X").await.unwrap();
    assert_eq!(store.sink_cursor("nats:X").await.unwrap(), None);
}

/// The consent events of a batch; panics on any other kind.
fn consents(events: &[OutboxEvent]) -> Vec<ConsentEvent> {
    events
        .iter()
        .map(|e| match e {
            OutboxEvent::Consent(c) => c.clone(),
            other => panic!("expected a consent event, got {other:?}"),
        })
        .collect()
}

/// Notice entries reach the sinks in ledger order among consent events, and a page ends
/// where every table read is complete.
async fn outbox_interleaves_notices_with_consent_events<S: Store + crate::Outbox>(store: Arc<S>) {
    store
        .record_incident(Digest256::of(b"i"), "{}".into(), &by())
        .await
        .unwrap(); // seq 1
    store
        .append(vec![event(1, "newsletter", Action::Grant, 0)])
        .await
        .unwrap(); // 2
    store
        .append_notices(vec![notice(1, 1, NoticeKind::Notified, 0)])
        .await
        .unwrap(); // 3
    store
        .append_notices(vec![notice(2, 1, NoticeKind::Notified, 1)])
        .await
        .unwrap(); // 4
    store
        .append(vec![event(2, "newsletter", Action::Grant, 1)])
        .await
        .unwrap(); // 5
    store
        .append_notices(vec![notice(1, 1, NoticeKind::Acknowledged, 2)])
        .await
        .unwrap(); // 6

    let all = store.outbox_events(0, 100).await.unwrap();
    let kinds: Vec<(u64, &str)> = all
        .events
        .iter()
        .map(|e| match e {
            OutboxEvent::Consent(c) => (c.seq, c.event.action.as_str()),
            OutboxEvent::Notice(n) => (n.seq, n.notice.kind.as_str()),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (2, "grant"),
            (3, "notified"),
            (4, "notified"),
            (5, "grant"),
            (6, "acknowledged")
        ]
    );
    assert_eq!(all.through, 6);
    let OutboxEvent::Notice(n) = &all.events[1] else {
        panic!()
    };
    assert_eq!(
        n.notice,
        notice(1, 1, NoticeKind::Notified, 0),
        "with the pseudonym"
    );

    // Pages of 1: consent rows stop at 2, notice rows at 3; the batch ends at 2.
    let mut after = 0;
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = store.outbox_events(after, 1).await.unwrap();
        if page.through == after {
            break;
        }
        seen.extend(page.events.iter().map(OutboxEvent::seq));
        after = page.through;
    }
    assert_eq!(seen, [2, 3, 4, 5, 6], "paging loses and repeats nothing");
}

async fn an_erased_pseudonym_is_held_only_while_a_sink_is_behind<S: Store + crate::Outbox>(
    store: Arc<S>,
) {
    // No sink: nothing is held, the erased subject's events drop out at once.
    store
        .append(vec![event(1, "newsletter", Action::Grant, 0)])
        .await
        .unwrap();
    store
        .erase_subject(
            &SubjectId::from_bytes([1; 32]),
            vec![erase_entry(1, "newsletter", 1)],
            &by(),
        )
        .await
        .unwrap();
    let batch = store.outbox_events(0, 100).await.unwrap();
    assert!(batch.events.is_empty());
    assert_eq!(
        batch.through, 2,
        "the erasure's admin entry (3) is not for sinks"
    );

    // A sink behind the erasure: the subject's events keep their pseudonym until the
    // sink's cursor has passed the erasure.
    store.set_sink_cursor("webhook:a", 2).await.unwrap();
    store.set_sink_cursor("webhook:b", 2).await.unwrap();
    store
        .append(vec![event(2, "newsletter", Action::Grant, 2)])
        .await
        .unwrap();
    let erased = store
        .erase_subject(
            &SubjectId::from_bytes([2; 32]),
            vec![erase_entry(2, "newsletter", 3)],
            &by(),
        )
        .await
        .unwrap();
    assert_eq!(erased[0].seq, 5);
    let batch = store.outbox_events(2, 100).await.unwrap();
    assert_eq!(batch.events.len(), 2);
    let events = consents(&batch.events);
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.event.subject == SubjectId::from_bytes([2; 32])));
    assert_eq!(events[1].event.action, Action::Erase);
    store.set_sink_cursor("webhook:a", 5).await.unwrap();
    assert_eq!(
        store.outbox_events(2, 100).await.unwrap().events.len(),
        2,
        "webhook:b has not delivered the erasure yet"
    );
    store.set_sink_cursor("webhook:b", 5).await.unwrap();
    let batch = store.outbox_events(2, 100).await.unwrap();
    assert!(batch.events.is_empty(), "every sink is past: forgotten");
    assert_eq!(batch.through, 5);
}

async fn webhooks_and_dead_letters_are_kept_and_go_together<S: Store + crate::Outbox>(
    store: Arc<S>,
) {
    let hook = crate::StoredWebhook {
        id: "wh_1".into(),
        url: "https://a.example/hook".into(),
        purposes: vec![PurposeId::parse("newsletter").unwrap()],
        secret: "whsec_1".into(),
        created_at: Timestamp::from_unix_millis(1_000),
    };
    store.put_webhook(&hook).await.unwrap();
    let moved = crate::StoredWebhook {
        url: "https://b.example/hook".into(),
        purposes: vec![],
        ..hook.clone()
    };
    store.put_webhook(&moved).await.unwrap();
    assert_eq!(store.webhooks().await.unwrap(), vec![moved.clone()]);
    assert!(
        !format!("{moved:?}").contains("whsec_1"),
        "Debug masks the secret"
    );

    let letter = |seq, attempts| crate::DeadLetter {
        webhook: "wh_1".into(),
        seq,
        attempts,
        error: "the receiver answered HTTP 500".into(),
        failed_at: Timestamp::from_unix_millis(2_000),
    };
    store.add_dead_letter(&letter(7, 3)).await.unwrap();
    store.add_dead_letter(&letter(3, 3)).await.unwrap();
    store.add_dead_letter(&letter(7, 5)).await.unwrap();
    assert_eq!(
        store.dead_letters("wh_1").await.unwrap(),
        vec![letter(3, 3), letter(7, 5)]
    );
    store.clear_dead_letters("wh_1", 5).await.unwrap();
    assert_eq!(
        store.dead_letters("wh_1").await.unwrap(),
        vec![letter(3, 3)]
    );

    store.set_sink_cursor("webhook:wh_1", 9).await.unwrap();
    assert!(store.delete_webhook("wh_1").await.unwrap());
    assert!(!store.delete_webhook("wh_1").await.unwrap());
    assert!(store.webhooks().await.unwrap().is_empty());
    assert!(store.dead_letters("wh_1").await.unwrap().is_empty());
    assert_eq!(store.sink_cursor("webhook:wh_1").await.unwrap(), None);
}
