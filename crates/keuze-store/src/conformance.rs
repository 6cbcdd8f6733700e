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
    ApiKey, CommitHook, GroupCommit, GroupCommitConfig, Result, Scope, Store, StoredCatalog,
};
use async_trait::async_trait;
use keuze_core::catalog::Digest256;
use keuze_core::{
    Action, ConsentEvent, DecisionIndex, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
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
    };
    let shop = key("k1", vec![Scope::Decide, Scope::Record], "shop, EU", 1_000);
    let ops = key("k9", Scope::ALL.to_vec(), "beheer — ops ✓", 2_000);
    let none = key("k0", Vec::new(), "", 2_000);
    for k in [&ops, &shop, &none] {
        store.insert_api_key(k).await.unwrap();
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
        store.insert_api_key(&impostor).await.is_err(),
        "a second key with the same id is refused"
    );
    assert_eq!(store.find_api_key("k1").await.unwrap(), Some(shop));
    assert_eq!(store.list_api_keys().await.unwrap().len(), 3);
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
                    Timestamp::from_unix_millis(at),
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

// ---------------------------------------------------------------------------------------
// Property: the projection is always a rebuild of the ledger

/// How one chunk of events reaches the store.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// Straight to [`Store::append`]; the caller applies the result to the index.
    Direct,
    /// Through the shared [`GroupCommit`], whose hook applies it to the index.
    GroupCommit,
}

/// A subject, a purpose and an action, each as a small index.
type Choice = (u8, usize, usize);

#[derive(Debug, Clone)]
struct Scenario {
    max_batch_events: usize,
    chunks: Vec<(Route, Vec<Choice>)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let choice = (0u8..3, 0usize..3, 0usize..3);
    let route = prop_oneof![Just(Route::Direct), Just(Route::GroupCommit)];
    let chunk = (route, vec(choice, 0..6));
    (1usize..8, vec(chunk, 0..12)).prop_map(|(max_batch_events, chunks)| Scenario {
        max_batch_events,
        chunks,
    })
}

/// For random sequences of choices, appended concurrently in random chunks (some through
/// a [`GroupCommit`] with a random batch limit, some straight to the store), these are all
/// equal: (a) the store's incrementally maintained projection, (b) a [`DecisionIndex`] fed
/// by the commit hook (and by the direct appends' results), (c) a [`DecisionIndex`] rebuilt
/// from the whole ledger, and (d) the projection after [`Store::rebuild_projection`].
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
            batch.iter().for_each(|e| index.apply(e));
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
        let events: Vec<NewEvent> = choices
            .into_iter()
            .map(|(subject, purpose, action)| {
                n += 1;
                let purpose = ["newsletter", "analytics", "ads"][purpose];
                event(subject, purpose, Action::ALL[action], n)
            })
            .collect();
        let (store, writer, index) = (store.clone(), writer.clone(), index.clone());
        tasks.push(tokio::spawn(async move {
            let got = match route {
                Route::GroupCommit => writer.append(events.clone()).await?,
                Route::Direct => {
                    let got = store.append(events.clone()).await?;
                    let mut index = index.lock().unwrap();
                    got.iter().for_each(|e| index.apply(e));
                    got
                }
            };
            Ok::<_, crate::StoreError>((events, got))
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        let (events, got) = task.await.map_err(fail)?.map_err(fail)?;
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

    // The ledger: every acknowledged event at its seq, nothing else.
    let mut ledger = Vec::new();
    loop {
        let after = ledger.last().map_or(0, |e: &ConsentEvent| e.seq);
        let page = store.events_after(after, 7).await.map_err(fail)?;
        if page.is_empty() {
            break;
        }
        ledger.extend(page);
    }
    prop_assert_eq!(ledger.len(), n);
    prop_assert_eq!(store.event_count().await.map_err(fail)?, n as u64);
    for e in &acknowledged {
        prop_assert_eq!(Some(e), ledger.get((e.seq as usize).wrapping_sub(1)));
    }

    let projection = store.projection().await.map_err(fail)?;
    let from_projection = index_of(&projection);
    let from_hook = index.lock().unwrap().clone();
    let from_ledger = index_of(&ledger);
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

fn index_of(events: &[ConsentEvent]) -> DecisionIndex {
    let mut index = DecisionIndex::new();
    events.iter().for_each(|e| index.apply(e));
    index
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
    }
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

/// A store that counts its transactions, to see group commit at work.
struct CountingStore {
    inner: Arc<dyn Store>,
    appends: AtomicUsize,
}

impl CountingStore {
    fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            appends: AtomicUsize::new(0),
        }
    }

    fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>> {
        self.appends.fetch_add(1, Ordering::SeqCst);
        // A commit takes a while, as an fsync does, even on a backend that needs none:
        // writers that arrive meanwhile must share the next transaction.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        self.inner.append(events).await
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
    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        self.inner.insert_api_key(key).await
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
        at: Timestamp,
    ) -> Result<StoredCatalog> {
        self.inner
            .publish_catalog(digest, canonical, source, at)
            .await
    }
}
