//! `keuze catalog diff`: which changes are material and which minor, by which rule.
//! Catalogs are made by small edits to the sample. How a diff reads is tested in
//! keuze-words (`tests/changes.rs`).

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::catalog::{parse_catalog, Catalog, SAMPLE_CATALOG};
use keuze_core::change::{
    diff, CatalogDiff, DiffError, LoweredRevision, Materiality, PurposeDiffKind, Rule,
};
use keuze_core::PurposeId;
use std::collections::BTreeSet;

use Materiality::{Material, Minor};

/// The sample with each `(from, to)` replacement made; `from` must occur exactly once, so
/// an edit cannot silently miss or hit the wrong purpose.
fn edit(edits: &[(&str, &str)]) -> String {
    let mut source = SAMPLE_CATALOG.to_owned();
    for (from, to) in edits {
        assert_eq!(
            source.matches(from).count(),
            1,
            "`{from}` must occur once in the catalog being edited"
        );
        source = source.replacen(from, to, 1);
    }
    source
}

fn parse(source: &str) -> Catalog {
    parse_catalog("catalog.toml", source)
        .unwrap_or_else(|e| panic!("{}\n{source}", e.0.render()))
        .0
}

fn diff_of(old: &[(&str, &str)], new: &[(&str, &str)]) -> CatalogDiff {
    diff(&parse(&edit(old)), &parse(&edit(new))).unwrap()
}

const NEWSLETTER_ID: &str = "id = \"newsletter\"\n";
const NEWSLETTER_PERIODS: &str = "retention = \"2 years\"\nconsent_lifetime = \"13 months\"";
const NEWSLETTER_CATEGORIES: &str =
    r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement"]"#;
const MAILJET: &str = "name = \"Mailjet\"\ncountry = \"FR\"\n";
const NEWSLETTER_DESCRIPTION_EN: &str = "We send you an e-mail about once a month.";
const ADS_TCF: &str = "tcf_purposes = [1, 2, 3, 4]\n";
const TCF_VENDORS: &str = "vendors = [755]";
const TCF_TABLE: &str = "[tcf]\ncmp_id = 300\ncmp_version = 1\npublisher_country = \"NL\"\nvendors = [755]  # Google Advertising Products\n";

/// Where a row looks for its changes.
#[derive(Clone, Copy, Debug)]
enum Target {
    Purpose(&'static str),
    Organisation,
    Categories,
}

struct Row {
    name: &'static str,
    target: Target,
    old: &'static [(&'static str, &'static str)],
    new: &'static [(&'static str, &'static str)],
    expected: &'static [(Rule, Materiality)],
}

/// One row per rule (and per way a rule can be met): the edit, and exactly the
/// (rule, materiality) pairs it must produce.
const ROWS: &[Row] = &[
    Row {
        name: "a data category is added",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(
            "\"behaviour.email_engagement\"]",
            "\"behaviour.email_engagement\", \"contact.phone\"]",
        )],
        expected: &[(Rule::CategoryAdded, Material)],
    },
    Row {
        name: "a parent category replaces a child (broader)",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_CATEGORIES, r#"categories = ["contact", "behaviour.email_engagement"]"#)],
        expected: &[(Rule::CategoryAdded, Material)],
    },
    Row {
        name: "a data category is removed",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(", \"behaviour.email_engagement\"]", "]")],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "a child category replaces its parent (narrower)",
        target: Target::Purpose("newsletter"),
        old: &[(NEWSLETTER_CATEGORIES, r#"categories = ["contact", "behaviour.email_engagement"]"#)],
        new: &[],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "a recipient in the EEA is added",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(
            MAILJET,
            "name = \"Mailjet\"\ncountry = \"FR\"\n\n[[purposes.recipients]]\nname = \"Brevo\"\ncountry = \"DE\"\n",
        )],
        expected: &[(Rule::RecipientAdded, Material)],
    },
    Row {
        name: "a recipient outside the EEA is added",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(
            MAILJET,
            "name = \"Mailjet\"\ncountry = \"FR\"\n\n[[purposes.recipients]]\nname = \"Acme Ads\"\ncountry = \"US\"\n",
        )],
        expected: &[(Rule::RecipientOutsideEea, Material)],
    },
    Row {
        name: "a recipient moves out of the EEA",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(MAILJET, "name = \"Mailjet\"\ncountry = \"US\"\n")],
        expected: &[(Rule::RecipientOutsideEea, Material)],
    },
    Row {
        name: "a recipient moves within the EEA",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(MAILJET, "name = \"Mailjet\"\ncountry = \"DE\"\n")],
        expected: &[(Rule::RecipientMovedWithinEea, Minor)],
    },
    Row {
        name: "a recipient moves into the EEA",
        target: Target::Purpose("advertising_partners"),
        old: &[],
        new: &[(
            "name = \"Meta Platforms\"\ncountry = \"US\"",
            "name = \"Meta Platforms\"\ncountry = \"IE\"",
        )],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "a recipient is removed",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[("\n[[purposes.recipients]]\nname = \"Mailjet\"\ncountry = \"FR\"\n", "")],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "retention is lengthened",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_PERIODS, "retention = \"3 years\"\nconsent_lifetime = \"13 months\"")],
        expected: &[(Rule::RetentionLengthened, Material)],
    },
    Row {
        name: "retention is shortened",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_PERIODS, "retention = \"1 year\"\nconsent_lifetime = \"13 months\"")],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "retention is written another way",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_PERIODS, "retention = \"730 days\"\nconsent_lifetime = \"13 months\"")],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "the legal basis changes",
        target: Target::Purpose("fraud_prevention"),
        old: &[],
        new: &[(
            "id = \"fraud_prevention\"\nlegal_basis = \"legitimate_interest\"",
            "id = \"fraud_prevention\"\nlegal_basis = \"consent\"",
        )],
        expected: &[(Rule::LegalBasisChanged, Material)],
    },
    Row {
        name: "the author raises the revision",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_ID, "id = \"newsletter\"\nrevision = 2\n")],
        expected: &[(Rule::MeaningChanged, Material)],
    },
    Row {
        name: "consent lasts longer",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_PERIODS, "retention = \"2 years\"\nconsent_lifetime = \"2 years\"")],
        expected: &[(Rule::ConsentLifetimeLengthened, Material)],
    },
    Row {
        name: "consent lasts until withdrawn instead of for a period",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_PERIODS, "retention = \"2 years\"")],
        expected: &[(Rule::ConsentLifetimeLengthened, Material)],
    },
    Row {
        name: "consent lasts shorter",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_PERIODS, "retention = \"2 years\"\nconsent_lifetime = \"6 months\"")],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "a GPC signal no longer counts as a no",
        target: Target::Purpose("advertising_partners"),
        old: &[],
        new: &[("gpc = true", "gpc = false")],
        expected: &[(Rule::GpcNoLongerHonoured, Material)],
    },
    Row {
        name: "a GPC signal now counts as a no",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_ID, "id = \"newsletter\"\ngpc = true\n")],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "the title is reworded",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(
            "title = { en = \"Newsletter\"",
            "title = { en = \"Our newsletter\"",
        )],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "the description is reworded",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_DESCRIPTION_EN, "About once a month, we send you an e-mail.")],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "the benefit is reworded",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(
            "You hear about new bikes and deals first.",
            "You are the first to hear about new bikes and deals.",
        )],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "the alternative is reworded",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(
            "You get no newsletter. You still get mails about your orders.",
            "We send you no newsletter. Mails about your orders still come.",
        )],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "the organisation's name and contacts change",
        target: Target::Organisation,
        old: &[],
        new: &[
            ("name = \"Fietsenwinkel B.V.\"", "name = \"Fietsenwinkel Utrecht B.V.\""),
            (
                "contact = \"https://fietsenwinkel.example/contact\"",
                "contact = \"https://fietsenwinkel.example/help\"",
            ),
            (
                "privacy_contact = \"privacy@fietsenwinkel.example\"",
                "privacy_contact = \"dpo@fietsenwinkel.example\"",
            ),
        ],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "the organisation moves",
        target: Target::Organisation,
        old: &[],
        new: &[(
            "privacy@fietsenwinkel.example\"\ncountry = \"NL\"",
            "privacy@fietsenwinkel.example\"\ncountry = \"BE\"",
        )],
        expected: &[(Rule::OrganisationMoved, Minor)],
    },
    Row {
        name: "a declared category is renamed",
        target: Target::Categories,
        old: &[],
        new: &[("nl = \"Je fietsmaat en zithouding\"", "nl = \"Je framemaat en zithouding\"")],
        expected: &[(Rule::Wording, Minor)],
    },
    Row {
        name: "a grant consents to one more TCF purpose",
        target: Target::Purpose("advertising_partners"),
        old: &[],
        new: &[(ADS_TCF, "tcf_purposes = [1, 2, 3, 4, 7]\n")],
        expected: &[(Rule::TcfSignalAdded, Material)],
    },
    Row {
        name: "a grant opts in to a TCF special feature",
        target: Target::Purpose("advertising_partners"),
        old: &[],
        new: &[(ADS_TCF, "tcf_purposes = [1, 2, 3, 4]\ntcf_special_features = [1]\n")],
        expected: &[(Rule::TcfSignalAdded, Material)],
    },
    Row {
        name: "a TCF purpose is no longer mapped",
        target: Target::Purpose("advertising_partners"),
        old: &[],
        new: &[(ADS_TCF, "tcf_purposes = [1, 3, 4]\n")],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "another consent purpose starts to map to TCF",
        target: Target::Purpose("newsletter"),
        old: &[],
        new: &[(NEWSLETTER_ID, "id = \"newsletter\"\ntcf_purposes = [9]\n")],
        expected: &[(Rule::TcfSignalAdded, Material), (Rule::TcfVendorAdded, Material)],
    },
    Row {
        name: "the catalog starts to make TC strings",
        target: Target::Purpose("advertising_partners"),
        old: &[(ADS_TCF, ""), (TCF_TABLE, "")],
        new: &[],
        expected: &[(Rule::TcfSignalAdded, Material), (Rule::TcfVendorAdded, Material)],
    },
    Row {
        name: "a TCF vendor is added",
        target: Target::Purpose("advertising_partners"),
        old: &[],
        new: &[(TCF_VENDORS, "vendors = [12, 755]")],
        expected: &[(Rule::TcfVendorAdded, Material)],
    },
    Row {
        name: "a TCF vendor is removed",
        target: Target::Purpose("advertising_partners"),
        old: &[(TCF_VENDORS, "vendors = [12, 755]")],
        new: &[],
        expected: &[(Rule::Narrowing, Minor)],
    },
    Row {
        name: "the CMP version changes",
        target: Target::Organisation,
        old: &[],
        new: &[("cmp_version = 1", "cmp_version = 2")],
        expected: &[(Rule::TcfSettingsChanged, Minor)],
    },
    Row {
        name: "the TCF publisher country changes",
        target: Target::Organisation,
        old: &[],
        new: &[("publisher_country = \"NL\"", "publisher_country = \"BE\"")],
        expected: &[(Rule::TcfSettingsChanged, Minor)],
    },
    Row {
        name: "a declared category becomes sensitive",
        target: Target::Categories,
        old: &[],
        new: &[(
            "nl = \"Je fietsmaat en zithouding\" }",
            "nl = \"Je fietsmaat en zithouding\" }\nsensitive = true",
        )],
        expected: &[(Rule::CategoryReclassified, Minor)],
    },
];

#[test]
fn every_materiality_rule_from_a_table() {
    for row in ROWS {
        let d = diff_of(row.old, row.new);
        let changes = match row.target {
            Target::Purpose(id) => {
                // Only the edited purpose changed, and nothing else did.
                let ids: Vec<&str> = d.purposes.iter().map(|p| p.purpose.as_str()).collect();
                assert_eq!(ids, [id], "{}", row.name);
                assert!(
                    d.organisation.is_empty() && d.categories.is_empty(),
                    "{}",
                    row.name
                );
                assert_eq!(d.purposes[0].kind, PurposeDiffKind::Changed, "{}", row.name);
                &d.purposes[0].changes
            }
            Target::Organisation => {
                assert!(
                    d.purposes.is_empty() && d.categories.is_empty(),
                    "{}",
                    row.name
                );
                &d.organisation
            }
            Target::Categories => {
                assert!(
                    d.purposes.is_empty() && d.organisation.is_empty(),
                    "{}",
                    row.name
                );
                &d.categories
            }
        };
        let found: BTreeSet<(Rule, Materiality)> =
            changes.iter().map(|c| (c.rule, c.materiality)).collect();
        let expected: BTreeSet<(Rule, Materiality)> = row.expected.iter().copied().collect();
        assert_eq!(found, expected, "{}", row.name);
        for c in changes {
            assert_eq!(c.materiality, c.rule.materiality(), "{}", row.name);
        }
        // A purpose counts as materially changed exactly when one of its changes is.
        let material = expected.iter().any(|(_, m)| *m == Material);
        let materially_changed: Vec<&PurposeId> = d.materially_changed().collect();
        assert_eq!(!materially_changed.is_empty(), material, "{}", row.name);
    }
}

#[test]
fn the_table_covers_every_rule() {
    let covered: BTreeSet<Rule> = ROWS
        .iter()
        .flat_map(|r| r.expected.iter().map(|(rule, _)| *rule))
        .collect();
    let all: BTreeSet<Rule> = Rule::ALL.into_iter().collect();
    assert_eq!(covered, all);
}

#[test]
fn identical_catalogs_have_no_diff() {
    let d = diff_of(
        &[],
        &[("# Our own data category", "# A comment that changed")],
    );
    assert!(d.is_empty());
}

#[test]
fn added_and_removed_purposes_are_listed_but_not_material() {
    let old = parse(SAMPLE_CATALOG);
    let mut new = old.clone();
    new.purposes.retain(|p| p.id.as_str() != "product_reviews");
    let mut extra = new.purposes[0].clone();
    extra.id = PurposeId::parse("repair_reminders").unwrap();
    new.purposes.push(extra);
    let d = diff(&old, &new).unwrap();
    let kinds: Vec<(&str, PurposeDiffKind)> = d
        .purposes
        .iter()
        .map(|p| (p.purpose.as_str(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("repair_reminders", PurposeDiffKind::Added),
            ("product_reviews", PurposeDiffKind::Removed)
        ]
    );
    assert_eq!(d.materially_changed().count(), 0);
}

// --- the author's mark ----------------------------------------------------------------

const REWORDED: (&str, &str) = (
    NEWSLETTER_DESCRIPTION_EN,
    "About once a month, we send you an e-mail.",
);

#[test]
fn raising_the_revision_makes_an_otherwise_minor_change_material() {
    let reworded = diff_of(&[], &[REWORDED]);
    assert_eq!(reworded.materially_changed().count(), 0);

    let marked = diff_of(
        &[],
        &[
            REWORDED,
            (NEWSLETTER_ID, "id = \"newsletter\"\nrevision = 2\n"),
        ],
    );
    let ids: Vec<&str> = marked.materially_changed().map(PurposeId::as_str).collect();
    assert_eq!(ids, ["newsletter"]);
    let rules: Vec<(Rule, Materiality)> = marked.purposes[0]
        .changes
        .iter()
        .map(|c| (c.rule, c.materiality))
        .collect();
    assert_eq!(
        rules,
        [(Rule::MeaningChanged, Material), (Rule::Wording, Minor)]
    );
}

#[test]
fn a_rule_based_material_change_stays_material_whatever_the_revision() {
    let phone = (
        "\"behaviour.email_engagement\"]",
        "\"behaviour.email_engagement\", \"contact.phone\"]",
    );
    // The revision stays the same (the author says "same meaning"), written or not.
    for (old, new) in [
        (vec![], vec![phone]),
        (
            vec![(NEWSLETTER_ID, "id = \"newsletter\"\nrevision = 3\n")],
            vec![
                (NEWSLETTER_ID, "id = \"newsletter\"\nrevision = 3\n"),
                phone,
            ],
        ),
        (
            vec![],
            vec![
                (NEWSLETTER_ID, "id = \"newsletter\"\nrevision = 1\n"),
                phone,
            ],
        ),
    ] {
        let d = diff_of(&old, &new);
        let p = d.purpose("newsletter").unwrap();
        assert!(p.is_material());
        assert!(p
            .changes
            .iter()
            .any(|c| c.rule == Rule::CategoryAdded && c.materiality == Material));
    }
}

#[test]
fn a_lowered_revision_is_refused() {
    let old = parse(&edit(&[(
        NEWSLETTER_ID,
        "id = \"newsletter\"\nrevision = 3\n",
    )]));
    let new = parse(&edit(&[(
        NEWSLETTER_ID,
        "id = \"newsletter\"\nrevision = 2\n",
    )]));
    let err = diff(&old, &new).unwrap_err();
    assert_eq!(
        err,
        DiffError::RevisionLowered(vec![LoweredRevision {
            purpose: PurposeId::parse("newsletter").unwrap(),
            from: 3,
            to: 2,
        }])
    );
    assert_eq!(
        err.to_string(),
        "the revision of purpose `newsletter` went down from 3 to 2, but a revision can only go up: set it back to 3, or to 4 if the purpose's meaning changed"
    );
    // Leaving `revision` out means 1, which is lower too.
    let err = diff(&old, &parse(SAMPLE_CATALOG)).unwrap_err();
    assert!(matches!(err, DiffError::RevisionLowered(l) if l[0].to == 1));
}

// --- how a diff reads -------------------------------------------------------------------

const NEW_PURPOSE: &str = r#"
[[purposes]]
id = "repair_reminders"
legal_basis = "consent"
categories = ["contact.email", "behaviour.purchase_history"]
retention = "2 years"
title = { en = "Service reminders", nl = "Onderhoudsherinneringen" }
description = { en = "We remind you when your bike needs a check-up.", nl = "We laten je weten wanneer je fiets een beurt nodig heeft." }
benefit = { en = "Your bike stays safe and runs well.", nl = "Je fiets blijft veilig en rijdt goed." }
alternative = { en = "We send no reminders. You can still book a check-up.", nl = "We sturen geen herinneringen. Je kunt nog steeds een beurt boeken." }
"#;

/// A new version of the sample with a bit of everything.
fn rich_diff() -> (Catalog, Catalog, CatalogDiff) {
    let old = parse(SAMPLE_CATALOG);
    let mut source = edit(&[
        // newsletter: more data, kept longer; the Dutch description reworded.
        (
            "\"behaviour.email_engagement\"]",
            "\"behaviour.email_engagement\", \"contact.phone\"]",
        ),
        (NEWSLETTER_PERIODS, "retention = \"3 years\"\nconsent_lifetime = \"13 months\""),
        ("Met nieuws, tips en acties.", "Met nieuws, tips en aanbiedingen."),
        // advertising partners: a new partner outside the EEA, a longer-lasting yes.
        (
            "name = \"Meta Platforms\"\ncountry = \"US\"\n",
            "name = \"Meta Platforms\"\ncountry = \"US\"\n\n[[purposes.recipients]]\nname = \"Acme Ads\"\ncountry = \"US\"\n",
        ),
        ("consent_lifetime = \"6 months\"", "consent_lifetime = \"13 months\""),
        // analytics: kept shorter, processed in another EEA country.
        ("retention = \"14 months\"", "retention = \"6 months\""),
        (
            "name = \"Plausible Analytics\"\ncountry = \"EE\"",
            "name = \"Plausible Analytics\"\ncountry = \"DE\"",
        ),
        // recommendations: the author marks a new meaning.
        (
            "id = \"personalised_recommendations\"\n",
            "id = \"personalised_recommendations\"\nrevision = 2\n",
        ),
        (
            "We also use your bike size.",
            "We also use your bike size and your reviews.",
        ),
        (
            "We gebruiken ook je fietsmaat.",
            "We gebruiken ook je fietsmaat en je reviews.",
        ),
        // payment: a new title, in English only.
        ("en = \"Take your payment\"", "en = \"Your payment\""),
        // fraud: another legal basis.
        (
            "id = \"fraud_prevention\"\nlegal_basis = \"legitimate_interest\"",
            "id = \"fraud_prevention\"\nlegal_basis = \"contract\"",
        ),
        (
            "privacy_contact = \"privacy@fietsenwinkel.example\"",
            "privacy_contact = \"dpo@fietsenwinkel.example\"",
        ),
        (
            "name = { en = \"Your bike size and fit\"",
            "name = { en = \"Your frame size and fit\"",
        ),
    ]);
    // Reviews are dropped, service reminders are new; the TC strings stay as they were.
    let cut = source
        .find("\n[[purposes]]\nid = \"product_reviews\"")
        .unwrap();
    source.truncate(cut);
    source.push_str(NEW_PURPOSE);
    source.push('\n');
    source.push_str(TCF_TABLE);
    let new = parse(&source);
    let d = diff(&old, &new).unwrap();
    (old, new, d)
}

#[test]
fn a_rich_diff_classifies_per_purpose() {
    let (_, _, d) = rich_diff();
    let material: Vec<&str> = d.materially_changed().map(PurposeId::as_str).collect();
    assert_eq!(
        material,
        [
            "fraud_prevention",
            "newsletter",
            "personalised_recommendations",
            "advertising_partners"
        ]
    );
    let minor: Vec<&str> = d
        .purposes
        .iter()
        .filter(|p| p.kind == PurposeDiffKind::Changed && !p.is_material())
        .map(|p| p.purpose.as_str())
        .collect();
    assert_eq!(minor, ["payment_processing", "service_analytics"]);
}

#[test]
fn tcf_changes_are_material() {
    let d = diff_of(
        &[],
        &[
            (
                ADS_TCF,
                "tcf_purposes = [1, 3, 4, 7]\ntcf_special_features = [1]\n",
            ),
            (TCF_VENDORS, "vendors = [12, 755]"),
            ("cmp_version = 1", "cmp_version = 2"),
        ],
    );
    assert!(d.purpose("advertising_partners").unwrap().is_material());
    assert_eq!(d.organisation[0].rule, Rule::TcfSettingsChanged);
}

/// A catalog that never used TCF diffs as it did before TCF existed: no TCF changes.
#[test]
fn catalogs_without_tcf_have_no_tcf_changes() {
    let d = diff_of(
        &[(ADS_TCF, ""), (TCF_TABLE, "")],
        &[(ADS_TCF, ""), (TCF_TABLE, "")],
    );
    assert!(d.is_empty());
}
