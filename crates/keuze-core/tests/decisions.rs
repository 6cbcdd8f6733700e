//! One row per decision reason: the catalog is the sample web shop, the ledger state is
//! the subject's last choice for the purpose, and the clock is fixed.
#![allow(clippy::unwrap_used)]

use keuze_core::catalog::Catalog;
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{
    decide, Action, CatalogHistory, CatalogVersion, CategoryId, LastChoice, Reason, Timestamp,
};

const NOW: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);

fn choice(action: Action, days_ago: i64) -> Option<LastChoice> {
    Some(LastChoice {
        seq: 42,
        action,
        catalog_version: 1,
        recorded_at: NOW.plus_days(-days_ago),
    })
}

fn history_of(catalog: Catalog) -> CatalogHistory {
    CatalogHistory::new(CatalogVersion {
        number: 1,
        digest: catalog.digest(),
        catalog,
        published_at: NOW.plus_days(-1000),
    })
}

fn sample() -> CatalogHistory {
    history_of(parse_catalog("sample", SAMPLE_CATALOG).unwrap().0)
}

fn cats(list: &[&str]) -> Vec<CategoryId> {
    list.iter().map(|c| CategoryId::parse(c).unwrap()).collect()
}

#[test]
fn every_reason_from_a_table() {
    let catalog = sample();
    #[rustfmt::skip]
    type Row = (&'static str, Vec<CategoryId>, Option<LastChoice>, bool, Reason, Option<u64>);
    let table: Vec<Row> = vec![
        // consent purposes: denied until granted
        ("newsletter", cats(&[]), None, false, Reason::NotAsked, None),
        (
            "newsletter",
            cats(&["contact.email"]),
            choice(Action::Grant, 1),
            true,
            Reason::Granted,
            Some(42),
        ),
        (
            "newsletter",
            cats(&[]),
            choice(Action::Withdraw, 1),
            false,
            Reason::Withdrawn,
            Some(42),
        ),
        // 13-month lifetime: 390 days counts as expired, 389 does not
        (
            "newsletter",
            cats(&[]),
            choice(Action::Grant, 389),
            true,
            Reason::Granted,
            Some(42),
        ),
        (
            "newsletter",
            cats(&[]),
            choice(Action::Grant, 390),
            false,
            Reason::Expired,
            Some(42),
        ),
        // legitimate interest: allowed until the customer objects
        (
            "fraud_prevention",
            cats(&[]),
            None,
            true,
            Reason::LegitimateInterest,
            None,
        ),
        (
            "fraud_prevention",
            cats(&[]),
            choice(Action::Object, 3),
            false,
            Reason::Objected,
            Some(42),
        ),
        (
            "fraud_prevention",
            cats(&[]),
            choice(Action::Grant, 3),
            true,
            Reason::LegitimateInterest,
            Some(42),
        ),
        // contract and legal obligation: allowed, not switchable
        (
            "order_fulfilment",
            cats(&["contact.postal_address"]),
            None,
            true,
            Reason::NotRequired,
            None,
        ),
        (
            "tax_records",
            cats(&[]),
            None,
            true,
            Reason::NotRequired,
            None,
        ),
        // unknown purpose
        (
            "sell_to_data_brokers",
            cats(&[]),
            choice(Action::Grant, 1),
            false,
            Reason::UnknownPurpose,
            None,
        ),
        // purpose limitation, even with a valid grant and on a contract purpose
        (
            "newsletter",
            cats(&["location.precise"]),
            choice(Action::Grant, 1),
            false,
            Reason::CategoryNotDeclared,
            None,
        ),
        (
            "order_fulfilment",
            cats(&["health"]),
            None,
            false,
            Reason::CategoryNotDeclared,
            None,
        ),
    ];
    for (purpose, categories, last, allowed, reason, event) in table {
        let d = decide(&catalog, purpose, &categories, last, NOW);
        assert_eq!(
            (d.allowed, d.reason, d.event),
            (allowed, reason, event),
            "{purpose} with {categories:?} after {last:?}"
        );
    }
}

#[test]
fn undeclared_categories_are_named() {
    let catalog = sample();
    let d = decide(
        &catalog,
        "newsletter",
        &cats(&["contact.email", "location.precise", "health"]),
        choice(Action::Grant, 1),
        NOW,
    );
    assert_eq!(d.reason, Reason::CategoryNotDeclared);
    assert_eq!(d.undeclared, cats(&["location.precise", "health"]));
}

#[test]
fn a_declared_parent_covers_its_children() {
    let catalog = sample().current().catalog.clone();
    // `contact.email` is declared; a more specific child of it is covered, a sibling is not.
    let p = catalog.purpose("newsletter").unwrap();
    assert!(p.declares(&CategoryId::parse("contact.email.work").unwrap()));
    assert!(!p.declares(&CategoryId::parse("contact.phone").unwrap()));
}

fn sample_with(from: &str, to: &str) -> Catalog {
    let source = SAMPLE_CATALOG.replacen(from, to, 1);
    assert_ne!(source, SAMPLE_CATALOG, "the edit `{from}` did not apply");
    parse_catalog("edited", &source).unwrap().0
}

fn publish(history: &mut CatalogHistory, catalog: Catalog) {
    let number = history.current().number + 1;
    history
        .push(CatalogVersion {
            number,
            digest: catalog.digest(),
            catalog,
            published_at: NOW,
        })
        .unwrap();
}

#[test]
fn a_material_change_requires_reconsent_and_a_minor_one_carries_consent() {
    let mut history = sample();
    let granted_v1 = choice(Action::Grant, 1);
    // v2: a new data category for the newsletter (material).
    publish(
        &mut history,
        sample_with(
            r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement"]"#,
            r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement", "contact.phone"]"#,
        ),
    );
    assert_eq!(history.material_since("newsletter"), Some(2));
    let d = decide(&history, "newsletter", &[], granted_v1, NOW);
    assert_eq!(
        (d.allowed, d.reason, d.event),
        (false, Reason::ReconsentRequired, Some(42))
    );
    // Other purposes, untouched by the change, keep their consent.
    let d = decide(&history, "product_reviews", &[], granted_v1, NOW);
    assert_eq!(d.reason, Reason::Granted);
    // A grant under v2 counts again.
    let granted_v2 = granted_v1.map(|l| LastChoice {
        catalog_version: 2,
        ..l
    });
    assert_eq!(
        decide(&history, "newsletter", &[], granted_v2, NOW).reason,
        Reason::Granted
    );
    // A withdrawal stays a withdrawal: no question is re-opened by a change.
    let withdrawn_v1 = choice(Action::Withdraw, 1);
    assert_eq!(
        decide(&history, "newsletter", &[], withdrawn_v1, NOW).reason,
        Reason::Withdrawn
    );
}
