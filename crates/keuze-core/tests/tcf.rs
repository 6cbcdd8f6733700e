//! A subject's TC string from their own choices: which TCF purposes, special features and
//! vendors it gives consent to, decided as every decision is (expiry, re-consent,
//! withdrawal, erasure), and always a string the vendor list finds nothing wrong with.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::catalog::{parse_catalog, Catalog, Digest256, SAMPLE_CATALOG};
use keuze_core::gvl::SAMPLE_VENDOR_LIST;
use keuze_core::tcf::{for_subject, SubjectTc, TcfError};
use keuze_core::{
    Action, CatalogHistory, CatalogVersion, ConsentEvent, DecisionIndex, Locale, NewEvent,
    PurposeId, Reason, Source, SubjectId, Timestamp,
};
use keuze_tcf::{validate, Deciseconds, Gvl, Letters, TcModel};

/// 2027-01-15T08:00:00Z.
const NOW: Timestamp = Timestamp::from_unix_millis(1_800_000_000_000);
const ALICE: SubjectId = SubjectId::from_bytes([1; 32]);

/// The sample, with a special feature on the ads purpose, content purposes on the
/// recommendations, and vendors of every kind: 755 and 12 take consent for ad purposes,
/// 544 only through special feature 1, 431 and 950 never; 46 is deleted from the list
/// below and 9999 is not on it.
fn catalog() -> Catalog {
    let source = SAMPLE_CATALOG
        .replacen(
            "tcf_purposes = [1, 2, 3, 4]\n",
            "tcf_purposes = [1, 2, 3, 4]\ntcf_special_features = [1]\n",
            1,
        )
        .replacen(
            "id = \"personalised_recommendations\"\n",
            "id = \"personalised_recommendations\"\ntcf_purposes = [5, 6]\n",
            1,
        )
        .replacen(
            "vendors = [755]",
            "vendors = [755, 12, 544, 431, 950, 46, 9999]",
            1,
        );
    parse_catalog("catalog.toml", &source)
        .unwrap_or_else(|e| panic!("{}", e.0.render()))
        .0
}

fn gvl() -> Gvl {
    let mut gvl = Gvl::from_json(SAMPLE_VENDOR_LIST).unwrap();
    gvl.vendors.get_mut(&46).unwrap().deleted_date = Some("2023-05-01T00:00:00Z".into());
    gvl
}

fn history(catalog: Catalog) -> CatalogHistory {
    CatalogHistory::new(CatalogVersion {
        number: 1,
        digest: catalog.digest(),
        catalog,
        published_at: NOW.plus_days(-400),
    })
}

struct Ledger {
    index: DecisionIndex,
    seq: u64,
}

impl Ledger {
    fn new() -> Self {
        Self {
            index: DecisionIndex::new(),
            seq: 0,
        }
    }

    fn record(&mut self, purpose: &str, action: Action, version: u32, at: Timestamp) {
        self.seq += 1;
        self.index.apply(&ConsentEvent {
            seq: self.seq,
            event: NewEvent {
                subject: ALICE,
                purpose: PurposeId::parse(purpose).unwrap(),
                action,
                source: Source::Api,
                catalog_version: version,
                notice_digest: Digest256::of(b"notice"),
                locale: Locale::en(),
                recorded_at: at,
                context_digest: Digest256::of(b"context"),
            },
        });
    }
}

fn tc(history: &CatalogHistory, ledger: &Ledger, now: Timestamp) -> SubjectTc {
    let gvl = gvl();
    let tc = for_subject(
        history,
        &ledger.index,
        &ALICE,
        &gvl,
        Letters::new("nl"),
        now,
    )
    .unwrap();
    // Whatever the choices: nothing the vendor list or the policy objects to, and the
    // string says exactly what the model does.
    assert_eq!(validate(&tc.model, &gvl), []);
    assert_eq!(TcModel::decode(&tc.tc_string).unwrap(), tc.model);
    tc
}

fn ids<T: Copy>(set: impl Iterator<Item = T>) -> Vec<T> {
    set.collect()
}

#[test]
fn no_choices_consent_to_nothing() {
    let history = history(catalog());
    let tc = tc(&history, &Ledger::new(), NOW);
    let m = &tc.model;
    assert!(m.purpose_consents.is_empty());
    assert!(m.special_feature_opt_ins.is_empty());
    assert!(m.vendor_consents.is_empty());
    // Disclosed: the catalog's vendors that are active on the list.
    assert_eq!(
        ids(m.disclosed_vendors.as_ref().unwrap().iter()),
        [12, 431, 544, 755, 950]
    );
    // Stamped with today, at day precision.
    assert_eq!(m.created, Deciseconds::day(NOW.utc_date()));
    assert_eq!(m.last_updated, m.created);
    assert_eq!(m.created.to_string(), "2027-01-15T00:00:00Z");
    // Who made it, for which list, in which language; consent only.
    assert_eq!((m.cmp_id, m.cmp_version), (300, 1));
    assert_eq!(m.publisher_country_code.as_str(), "NL");
    assert_eq!(m.consent_language.as_str(), "NL");
    assert_eq!((m.vendor_list_version, m.policy_version), (7, 4));
    assert!(m.is_service_specific);
    assert!(m.purpose_legitimate_interests.is_empty());
    assert!(m.vendor_legitimate_interests.is_empty());
    assert!(m.allowed_vendors.is_none() && m.publisher_tc.is_none());
    // It rests on the two mapped purposes, both not asked yet.
    let based: Vec<(&str, Reason)> = tc
        .based_on
        .iter()
        .map(|b| (b.purpose.as_str(), b.decision.reason))
        .collect();
    assert_eq!(
        based,
        [
            ("personalised_recommendations", Reason::NotAsked),
            ("advertising_partners", Reason::NotAsked)
        ]
    );
}

#[test]
fn a_grant_consents_to_its_tcf_purposes_for_the_vendors_that_declare_them() {
    let history = history(catalog());
    let mut ledger = Ledger::new();
    let granted_at = NOW.plus_days(-3);
    ledger.record("advertising_partners", Action::Grant, 1, granted_at);
    // Choices for purposes that do not map change nothing, not even the date.
    ledger.record("newsletter", Action::Grant, 1, NOW.plus_days(-1));
    let tc = tc(&history, &ledger, NOW);
    let m = &tc.model;
    assert_eq!(ids(m.purpose_consents.iter()), [1, 2, 3, 4]);
    assert_eq!(ids(m.special_feature_opt_ins.iter()), [1]);
    // 544 declares only purpose 7, but takes special feature 1.
    assert_eq!(ids(m.vendor_consents.iter()), [12, 544, 755]);
    assert_eq!(m.last_updated, Deciseconds::day(granted_at.utc_date()));
    assert_eq!(m.created, m.last_updated);
    let ads = &tc.based_on[1];
    assert_eq!(ads.purpose.as_str(), "advertising_partners");
    assert_eq!(
        (
            ads.decision.allowed,
            ads.decision.reason,
            ads.decision.event
        ),
        (true, Reason::Granted, Some(1))
    );
}

#[test]
fn a_withdrawal_takes_it_all_back() {
    let history = history(catalog());
    let mut ledger = Ledger::new();
    ledger.record("advertising_partners", Action::Grant, 1, NOW.plus_days(-30));
    ledger.record(
        "personalised_recommendations",
        Action::Grant,
        1,
        NOW.plus_days(-30),
    );
    assert_eq!(
        ids(tc(&history, &ledger, NOW).model.purpose_consents.iter()),
        [1, 2, 3, 4, 5, 6]
    );
    let withdrawn_at = NOW.plus_days(-2);
    ledger.record("advertising_partners", Action::Withdraw, 1, withdrawn_at);
    let m = tc(&history, &ledger, NOW).model;
    assert_eq!(ids(m.purpose_consents.iter()), [5, 6]);
    assert!(m.special_feature_opt_ins.is_empty());
    // No vendor on the list takes consent for purposes 5 or 6 alone.
    assert!(m.vendor_consents.is_empty());
    assert_eq!(m.last_updated, Deciseconds::day(withdrawn_at.utc_date()));
}

#[test]
fn an_expired_grant_consents_to_nothing() {
    let history = history(catalog());
    let mut ledger = Ledger::new();
    // The ads purpose's yes lasts 6 months (180 days).
    let granted_at = NOW.plus_days(-181);
    ledger.record("advertising_partners", Action::Grant, 1, granted_at);
    let tc = tc(&history, &ledger, NOW);
    assert!(tc.model.purpose_consents.is_empty());
    assert!(tc.model.vendor_consents.is_empty());
    assert_eq!(tc.based_on[1].decision.reason, Reason::Expired);
    // The string still dates from the customer's last choice.
    assert_eq!(
        tc.model.last_updated,
        Deciseconds::day(granted_at.utc_date())
    );
}

#[test]
fn a_grant_before_a_material_change_consents_to_nothing() {
    let mut history = history(catalog());
    let mut ledger = Ledger::new();
    ledger.record("advertising_partners", Action::Grant, 1, NOW.plus_days(-10));
    // Version 2 passes the yes on to one more vendor, 1: material for the ads purpose.
    let mut v2 = catalog();
    v2.tcf.as_mut().unwrap().vendors.insert(0, 1);
    history
        .push(CatalogVersion {
            number: 2,
            digest: v2.digest(),
            catalog: v2,
            published_at: NOW.plus_days(-1),
        })
        .unwrap();
    let tc1 = tc(&history, &ledger, NOW);
    assert_eq!(tc1.based_on[1].decision.reason, Reason::ReconsentRequired);
    assert!(tc1.model.purpose_consents.is_empty());
    assert!(tc1.model.vendor_consents.is_empty());
    assert!(tc1.model.disclosed_vendors.as_ref().unwrap().contains(1));
    // A yes under version 2 counts, for vendor 1 too.
    ledger.record("advertising_partners", Action::Grant, 2, NOW);
    let tc2 = tc(&history, &ledger, NOW);
    assert_eq!(ids(tc2.model.purpose_consents.iter()), [1, 2, 3, 4]);
    assert!(tc2.model.vendor_consents.contains(1));
}

#[test]
fn an_erased_subject_consents_to_nothing() {
    let history = history(catalog());
    let mut ledger = Ledger::new();
    ledger.record("advertising_partners", Action::Grant, 1, NOW.plus_days(-3));
    ledger.index.mark_erased(ALICE);
    let tc = tc(&history, &ledger, NOW);
    assert!(tc.model.purpose_consents.is_empty());
    assert_eq!(tc.based_on[1].decision.reason, Reason::SubjectErased);
    assert_eq!(tc.model.last_updated, Deciseconds::day(NOW.utc_date()));
}

#[test]
fn without_a_language_the_string_says_english() {
    let history = history(catalog());
    let tc = for_subject(&history, &DecisionIndex::new(), &ALICE, &gvl(), None, NOW).unwrap();
    assert_eq!(tc.model.consent_language.as_str(), "EN");
}

#[test]
fn a_catalog_without_tcf_makes_no_string() {
    let source = SAMPLE_CATALOG
        .replacen("tcf_purposes = [1, 2, 3, 4]\n", "", 1)
        .split("\n[tcf]\n")
        .next()
        .unwrap()
        .to_owned();
    let history = history(parse_catalog("plain", &source).unwrap().0);
    let err = for_subject(&history, &DecisionIndex::new(), &ALICE, &gvl(), None, NOW).unwrap_err();
    assert_eq!(err, TcfError::NoTcfTable);
}
