//! The banner's answer as the application records it: Global Privacy Control's refusals
//! and the visitor's own choices are one append, so an answer is written whole or not at
//! all.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use keuze_app::propagate::PropagationConfig;
use keuze_app::record::Answer;
use keuze_app::visitor::BannerAnswer;
use keuze_app::{AppState, ManualClock, ServerParts};
use keuze_core::admin::{Actor, Attribution};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::choice::AllAnswer;
use keuze_core::{
    Action, CatalogHistory, CatalogVersion, Locale, Pseudonymizer, Source, Timestamp,
};
use keuze_sqlite::SqliteStore;
use keuze_store::conformance::CountingStore;
use keuze_store::Store;
use std::sync::Arc;

const T0: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);

async fn app() -> (AppState, Arc<CountingStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let counting = Arc::new(CountingStore::new(sqlite));
    let store: Arc<dyn Store> = counting.clone();
    let (catalog, _) = parse_catalog("sample", SAMPLE_CATALOG).unwrap();
    let stored = store
        .publish_catalog(
            catalog.digest(),
            catalog.canonical_json(),
            SAMPLE_CATALOG.into(),
            &Attribution::new(Actor::cli(Some("test")), T0),
        )
        .await
        .unwrap();
    let state = AppState::start(ServerParts {
        store,
        catalog: CatalogHistory::new(CatalogVersion {
            number: stored.number,
            digest: catalog.digest(),
            catalog,
            published_at: T0,
        }),
        pseudonymizer: Pseudonymizer::new([9; 32]),
        clock: Arc::new(ManualClock::new(T0)),
        seed: Some([3; 32]),
        log_key: keuze_core::checkpoint::LogKey::from_seed([5; 32], "keuze.test/log").unwrap(),
        index_snapshot: None,
        outbox: None,
        propagation: PropagationConfig::default(),
        ledger_growth: None,
        tcf_vendor_list: None,
    })
    .await
    .unwrap();
    (state, counting, dir)
}

fn accept_all(device: keuze_core::SubjectId) -> BannerAnswer {
    BannerAnswer {
        device,
        gpc: true,
        locale: Locale::en(),
        shown: None,
        answer: Answer::All(AllAnswer::Accept),
    }
}

#[tokio::test]
async fn gpc_refusals_and_the_answer_are_one_append() {
    let (app, counting, _dir) = app().await;
    let device = app.new_device().subject;
    let before = counting.appends();
    let answered = app.answer_banner(accept_all(device)).await.unwrap();
    assert_eq!(
        counting.appends(),
        before + 1,
        "one commit for the whole answer"
    );
    // The sample catalog flags its advertising purpose for GPC: refused by the signal,
    // and "accept all" grants everything else.
    assert!(!answered.gpc_refusals.is_empty());
    assert!(answered
        .gpc_refusals
        .iter()
        .all(|e| e.event.source == Source::Gpc && e.event.action != Action::Grant));
    assert!(!answered.choices.is_empty());
    assert!(answered
        .choices
        .iter()
        .all(|e| e.event.source == Source::Banner));
    let refused: Vec<_> = answered
        .gpc_refusals
        .iter()
        .map(|e| &e.event.purpose)
        .collect();
    assert!(answered
        .choices
        .iter()
        .all(|e| !(refused.contains(&&e.event.purpose) && e.event.action == Action::Grant)));
    let history = app.subject_history(&device).await.unwrap();
    assert_eq!(
        history.len(),
        answered.gpc_refusals.len() + answered.choices.len()
    );
}

#[tokio::test]
async fn an_answer_the_store_cannot_take_writes_nothing_at_all() {
    let (app, counting, _dir) = app().await;
    let device = app.new_device().subject;
    counting.set_unavailable(true);
    assert!(app.answer_banner(accept_all(device)).await.is_err());
    counting.set_unavailable(false);
    assert!(app.subject_history(&device).await.unwrap().is_empty());
    let untouched = app.new_device().subject;
    assert_eq!(app.decisions(&device), app.decisions(&untouched));
    // Once the store is back the same answer is written whole, refusals first.
    let answered = app.answer_banner(accept_all(device)).await.unwrap();
    let history = app.subject_history(&device).await.unwrap();
    assert_eq!(
        history.len(),
        answered.gpc_refusals.len() + answered.choices.len()
    );
    assert_eq!(history[0].event.source, Source::Gpc);
}
