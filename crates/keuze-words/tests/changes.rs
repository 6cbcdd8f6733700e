//! How a catalog diff reads, in English and Dutch: the author's report (`keuze catalog
//! diff`), the customer's "what changed since you agreed", the diff as JSON, and the
//! names the sentences use. Catalogs are made by small edits to the sample, as in
//! keuze-core's `tests/diff.rs`, which tests how the same diffs are classified.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::catalog::{parse_catalog, Catalog, SAMPLE_CATALOG};
use keuze_core::change::{diff, CatalogDiff};
use keuze_core::{CountryCode, LegalBasis, Locale};
use keuze_words::changes::{explain, explain_for_customer, render, DiffJson};
use keuze_words::{Lang, Words};

fn en() -> Lang<'static> {
    Words::get().lang(&Locale::en())
}

fn nl() -> Lang<'static> {
    Words::get().lang(&Locale::nl())
}

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

const NEWSLETTER_PERIODS: &str = "retention = \"2 years\"\nconsent_lifetime = \"13 months\"";
const ADS_TCF: &str = "tcf_purposes = [1, 2, 3, 4]\n";
const TCF_VENDORS: &str = "vendors = [755]";
const TCF_TABLE: &str = "[tcf]\ncmp_id = 300\ncmp_version = 1\npublisher_country = \"NL\"\nvendors = [755]  # Google Advertising Products\n";

#[test]
fn identical_catalogs_read_as_no_changes() {
    let d = diff_of(
        &[],
        &[("# Our own data category", "# A comment that changed")],
    );
    assert_eq!(render(en(), &d), "No changes.\n");
    assert_eq!(render(nl(), &d), "Geen wijzigingen.\n");
}

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
fn a_rich_diff_in_english() {
    let (_, _, d) = rich_diff();
    insta::assert_snapshot!(render(en(), &d));
}

#[test]
fn a_rich_diff_in_dutch() {
    let (_, _, d) = rich_diff();
    insta::assert_snapshot!(render(nl(), &d));
}

#[test]
fn a_rich_diff_as_json() {
    let (_, _, d) = rich_diff();
    insta::assert_json_snapshot!(DiffJson(&d));
}

#[test]
fn what_changed_since_you_last_agreed() {
    let (_, _, d) = rich_diff();
    assert_eq!(
        explain_for_customer(nl(), &d, "advertising_partners"),
        [
            "We delen deze gegevens nu ook met Acme Ads (Verenigde Staten). Dat is buiten de EER.",
            "Je ja geldt nu langer: 13 maanden in plaats van 6 maanden."
        ]
    );
    assert_eq!(
        explain_for_customer(en(), &d, "advertising_partners"),
        [
            "We now also share this data with Acme Ads (United States). That is outside the EEA.",
            "Your yes now counts for longer: 13 months instead of 6 months."
        ]
    );
    // The Dutch description changed, the English one did not: English readers are not
    // told about it, Dutch readers are.
    assert_eq!(
        explain_for_customer(en(), &d, "newsletter"),
        [
            "We now also use this data: phone number.",
            "We now keep this data longer: 3 years instead of 2 years."
        ]
    );
    assert_eq!(
        explain_for_customer(nl(), &d, "newsletter"),
        [
            "We gebruiken nu ook deze gegevens: telefoonnummer.",
            "We bewaren deze gegevens nu langer: 3 jaar in plaats van 2 jaar.",
            "We hebben de beschrijving herschreven."
        ]
    );
    // A locale without its own text reads English.
    let de = Locale::parse("de").unwrap();
    assert_eq!(
        explain_for_customer(Words::get().lang(&de), &d, "newsletter"),
        explain_for_customer(en(), &d, "newsletter")
    );
    assert!(explain_for_customer(en(), &d, "tax_records").is_empty());
    assert_eq!(
        explain_for_customer(en(), &d, "product_reviews"),
        ["We no longer use your data for this purpose."]
    );
}

/// Regression: a name ending in a full stop (`B.V.`) got a second one.
#[test]
fn a_renamed_organisation_ends_its_sentence_once() {
    let (old, _) =
        keuze_core::catalog::parse_catalog("old", keuze_core::catalog::SAMPLE_CATALOG).unwrap();
    let renamed = keuze_core::catalog::SAMPLE_CATALOG.replacen(
        "name = \"Fietsenwinkel B.V.\"",
        "name = \"Fietsen B.V.\"",
        1,
    );
    let (new, _) = keuze_core::catalog::parse_catalog("new", &renamed).unwrap();
    let d = keuze_core::change::diff(&old, &new).unwrap();
    let en = render(en(), &d);
    assert!(
        en.contains("Our name is now Fietsen B.V. It was Fietsenwinkel B.V. ["),
        "{en}"
    );
    assert!(!en.contains("B.V.."), "{en}");
    let nl = render(nl(), &d);
    assert!(!nl.contains("B.V.."), "{nl}");
}

#[test]
fn tcf_changes_explain_themselves() {
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
    assert_eq!(
        explain_for_customer(en(), &d, "advertising_partners"),
        [
            "We now also pass your yes on to the vendors we work with (through the IAB's TCF), for: measure advertising performance; use precise geolocation data.",
            "We no longer pass your yes on to vendors for: use limited data to select advertising.",
            "We now also pass your yes on to these vendors on the IAB's vendor list: 12.",
        ]
    );
    assert_eq!(
        explain_for_customer(nl(), &d, "advertising_partners"),
        [
            "We geven je ja nu ook door aan de partijen waarmee we werken (via de TCF van IAB), voor: meten hoe advertenties presteren; precieze locatiegegevens gebruiken.",
            "We geven je ja niet meer door aan partijen voor: beperkte gegevens gebruiken om advertenties te kiezen.",
            "We geven je ja nu ook door aan deze partijen op de lijst van IAB: 12.",
        ]
    );
    assert_eq!(
        explain(en(), &d.organisation[0]),
        "We changed technical details of the consent signals (TC strings) we make: CMP 300 version 2, publisher country the Netherlands (before: CMP 300 version 1, publisher country the Netherlands)."
    );
}

/// The legal basis reads as the pages write it (`legal-basis-name`,
/// `legal-basis-explanation`): one wording, mid-sentence.
#[test]
fn a_new_legal_basis_in_the_pages_words() {
    // The rich diff moves fraud prevention from legitimate interest to contract.
    let (_, _, d) = rich_diff();
    for lang in [en(), nl()] {
        let said = explain_for_customer(lang, &d, "fraud_prevention");
        let means = lang.legal_basis_explanation(LegalBasis::Contract);
        let name = lang.legal_basis_name(LegalBasis::Contract).to_lowercase();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].ends_with(&means), "{said:?}");
        assert!(said[0].contains(&name), "{said:?} lacks {name}");
    }
    assert_eq!(
        explain_for_customer(en(), &d, "fraud_prevention"),
        ["We now do this based on our contract with you, instead of our legitimate interest. We need this to deliver what you asked for."]
    );
}

/// Every code the old table named: the EEA, which decides "outside the EEA", and the
/// countries catalogs most often name.
const NAMED_COUNTRIES: [&str; 38] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO", "US", "GB",
    "CH", "CA", "IN", "CN", "JP", "AU",
];

#[test]
fn countries_by_name_and_by_code_when_unnamed() {
    let code = |c: &str| CountryCode::parse(c).unwrap();
    let misses = Words::get().misses();
    for lang in Words::get()
        .languages()
        .iter()
        .map(|l| Words::get().lang(l))
    {
        for c in NAMED_COUNTRIES {
            let name = lang.country_name(&code(c));
            assert!(
                name != c && !name.is_empty(),
                "{}: {c} has no name",
                lang.code()
            );
        }
        // A country without a name reads as its code, and is no missing message.
        assert_eq!(lang.country_name(&code("BR")), "BR");
    }
    assert_eq!(Words::get().misses(), misses);
    assert_eq!(en().country_name(&code("NL")), "the Netherlands");
    assert_eq!(nl().country_name(&code("NL")), "Nederland");
    assert_eq!(nl().country_name(&code("US")), "Verenigde Staten");
}

/// The English TCF names are the IAB's, as keuze-core knows them; ids the TCF does not
/// define have none.
#[test]
fn tcf_names() {
    for id in 0..=keuze_core::gvl::MAX_PURPOSE + 1 {
        let name = keuze_core::gvl::purpose_name(id).map(str::to_owned);
        assert_eq!(en().tcf_purpose_name(id), name);
    }
    for id in 0..=keuze_core::gvl::MAX_SPECIAL_FEATURE + 1 {
        let name = keuze_core::gvl::special_feature_name(id).map(str::to_owned);
        assert_eq!(en().tcf_special_feature_name(id), name);
    }
    assert_eq!(
        nl().tcf_purpose_name(11).as_deref(),
        Some("Beperkte gegevens gebruiken om content te kiezen")
    );
    assert_eq!(nl().tcf_special_feature_name(12), None);
}

#[test]
fn dutch_periods_in_sentences() {
    let d = diff_of(
        &[],
        &[(
            NEWSLETTER_PERIODS,
            "retention = \"1 year\"\nconsent_lifetime = \"1 day\"",
        )],
    );
    assert_eq!(
        explain_for_customer(nl(), &d, "newsletter"),
        [
            "We bewaren deze gegevens nu korter: 1 jaar in plaats van 2 jaar.",
            "Je ja geldt nu korter: 1 dag in plaats van 13 maanden."
        ]
    );
}

/// The kinds of change the rich diff lacks: a recipient gone or moved out of the EEA, a
/// yes without end, benefits and alternatives reworded, GPC, more than ten vendors, a
/// new contact and country. Checked identical to the words before they moved here.
#[test]
fn more_kinds_of_change_in_both_languages() {
    let d = diff_of(
        &[],
        &[
            (
                "contact = \"https://fietsenwinkel.example/contact\"",
                "contact = \"https://fietsenwinkel.example/help\"",
            ),
            (
                "privacy_contact = \"privacy@fietsenwinkel.example\"\ncountry = \"NL\"",
                "privacy_contact = \"privacy@fietsenwinkel.example\"\ncountry = \"BE\"",
            ),
            (
                "consent_lifetime = \"13 months\"\ntitle = { en = \"Newsletter\"",
                "title = { en = \"Newsletter\"",
            ),
            (
                "en = \"You get no newsletter. You still",
                "en = \"You get no newsletter at all. You still",
            ),
            (
                "en = \"No one can shop with your card or in your name.\"",
                "en = \"No one can shop with your card or in your name at all.\"",
            ),
            (
                "nl = \"Een site die snel en makkelijk werkt.\"",
                "nl = \"Een site die vlot en makkelijk werkt.\"",
            ),
            ("gpc = true", "gpc = false"),
            (
                "name = \"Mailjet\"\ncountry = \"FR\"",
                "name = \"Mailjet\"\ncountry = \"US\"",
            ),
            (
                "[[purposes.recipients]]\nname = \"DHL Parcel\"\ncountry = \"DE\"\n",
                "",
            ),
            (
                "vendors = [755]",
                "vendors = [1, 2, 6, 8, 12, 20, 21, 26, 27, 29, 30, 31, 755]",
            ),
        ],
    );
    insta::assert_snapshot!(format!("{}\n{}", render(en(), &d), render(nl(), &d)));
}
