//! `keuze catalog check`: what the parser accepts, and exactly what it says about what it
//! refuses. Each refused catalog's rendered report is a snapshot, so a change in wording
//! or location shows up in review.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::catalog::{parse_catalog, CatalogReport, Severity, SAMPLE_CATALOG};
use keuze_core::taxonomy::Taxonomy;
use keuze_core::{LegalBasis, Locale};
use proptest::prelude::*;
use std::collections::HashSet;

const ORG: &str = r#"[organisation]
name = "Fietsenwinkel B.V."
contact = "https://fietsenwinkel.example/contact"
privacy_contact = "privacy@fietsenwinkel.example"
country = "NL"
"#;

/// A consent purpose that passes every check; tests break one thing at a time.
const NEWSLETTER: &str = r#"
[[purposes]]
id = "newsletter"
legal_basis = "consent"
categories = ["contact.email", "contact.name"]
retention = "2 years"
consent_lifetime = "13 months"
title = { en = "Newsletter", nl = "Nieuwsbrief" }
description = { en = "We send you news.", nl = "We sturen je nieuws." }
benefit = { en = "You hear about deals first.", nl = "Je hoort als eerste over acties." }
alternative = { en = "You get no newsletter.", nl = "Je krijgt geen nieuwsbrief." }
"#;

fn with_org(purposes: &str) -> String {
    format!("{ORG}{purposes}")
}

/// Parses a catalog that must be refused, and returns the report.
fn refused(source: &str) -> CatalogReport {
    match parse_catalog("catalog.toml", source) {
        Ok((_, report)) => panic!("the catalog was accepted:\n{}", report.render()),
        Err(e) => {
            assert!(e.0.error_count() > 0, "refused without an error");
            e.0
        }
    }
}

fn messages(report: &CatalogReport) -> Vec<&str> {
    report.errors().map(|d| d.message.as_str()).collect()
}

#[test]
fn the_valid_base_is_accepted() {
    let (catalog, report) = parse_catalog("catalog.toml", &with_org(NEWSLETTER)).unwrap();
    assert!(report.diagnostics.is_empty(), "{}", report.render());
    assert_eq!(catalog.purposes.len(), 1);
    assert_eq!(
        report.render(),
        "ok: catalog.toml has no errors or warnings\n"
    );
}

// --- one snapshot per kind of mistake -----------------------------------------------

#[test]
fn syntax_error() {
    let report = refused(&with_org(
        r#"
[[purposes]]
id = "newsletter
legal_basis = "consent"
"#,
    ));
    assert_eq!(report.error_count(), 1);
    insta::assert_snapshot!(report.render());
}

#[test]
fn unknown_top_level_key() {
    let source = format!(
        "version = 2\n{}{NEWSLETTER}",
        ORG.replace("[organisation]", "[organization]")
    );
    let report = refused(&source);
    // The misspelt table gets "did you mean", not also "the catalog has no [organisation]".
    assert_eq!(
        messages(&report),
        [
            "unknown key `version` in the catalog",
            "unknown key `organization` in the catalog"
        ]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn unknown_key_in_purpose_suggests_the_right_one() {
    let report = refused(&with_org(&NEWSLETTER.replace("benefit =", "benfit =")));
    // Only the typo is reported, not also the missing `benefit` it stands for.
    assert_eq!(report.error_count(), 1);
    assert_eq!(
        report.errors().next().and_then(|d| d.help.as_deref()),
        Some("did you mean `benefit`?")
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn unknown_category_suggests_the_closest() {
    let report = refused(&with_org(
        &NEWSLETTER.replace("contact.email", "contact.emial"),
    ));
    assert_eq!(messages(&report), ["unknown data category `contact.emial`"]);
    insta::assert_snapshot!(report.render());
}

#[test]
fn consent_purpose_without_benefit() {
    let source = with_org(&NEWSLETTER.replace(
        "benefit = { en = \"You hear about deals first.\", nl = \"Je hoort als eerste over acties.\" }\n",
        "",
    ));
    let report = refused(&source);
    assert_eq!(
        messages(&report),
        ["purpose `newsletter` is missing `benefit`"]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn legitimate_interest_purpose_without_alternative() {
    let report = refused(&with_org(
        r#"
[[purposes]]
id = "fraud_prevention"
legal_basis = "legitimate_interest"
categories = ["device.ip_address"]
retention = "6 months"
title = { en = "Stop fraud", nl = "Fraude tegengaan" }
description = { en = "We check orders for fraud.", nl = "We kijken of er iets mis is met je bestelling." }
benefit = { en = "No one shops in your name.", nl = "Niemand koopt op jouw naam." }
"#,
    ));
    assert_eq!(
        messages(&report),
        ["purpose `fraud_prevention` is missing `alternative`"]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn duplicate_purpose_id_points_at_the_second() {
    let report = refused(&with_org(&format!("{NEWSLETTER}{NEWSLETTER}")));
    assert_eq!(report.error_count(), 1);
    let d = report.errors().next().unwrap();
    // ORG is lines 1-5, the first purpose 7-16 (its id on line 8), the second from 18.
    assert_eq!(report.line_column(d), (19, 6));
    assert!(d.help.as_deref().unwrap().contains("line 8"));
    insta::assert_snapshot!(report.render());
}

#[test]
fn bad_retention() {
    let report = refused(&with_org(&NEWSLETTER.replace("\"2 years\"", "\"forever\"")));
    insta::assert_snapshot!(report.render());
}

#[test]
fn consent_lifetime_on_a_contract_purpose() {
    let report = refused(&with_org(
        r#"
[[purposes]]
id = "order_fulfilment"
legal_basis = "contract"
categories = ["contact.postal_address"]
retention = "2 years"
consent_lifetime = "13 months"
title = { en = "Deliver your order", nl = "Je bestelling bezorgen" }
description = { en = "We send your order.", nl = "We sturen je bestelling." }
"#,
    ));
    assert_eq!(report.error_count(), 1);
    insta::assert_snapshot!(report.render());
}

#[test]
fn unknown_legal_basis() {
    let report = refused(&with_org(
        &NEWSLETTER.replace("\"consent\"", "\"legitimate interest\""),
    ));
    insta::assert_snapshot!(report.render());
}

#[test]
fn text_without_dutch() {
    let report = refused(&with_org(&NEWSLETTER.replace(
        r#"title = { en = "Newsletter", nl = "Nieuwsbrief" }"#,
        r#"title = { en = "Newsletter", de = "Newsletter" }"#,
    )));
    assert_eq!(
        messages(&report),
        ["`title` in purpose `newsletter` has no `nl` text"]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn empty_text() {
    let report = refused(&with_org(&NEWSLETTER.replace("\"Nieuwsbrief\"", "\"  \"")));
    insta::assert_snapshot!(report.render());
}

#[test]
fn wrong_type() {
    let report = refused(&with_org(&NEWSLETTER.replace(
        r#"categories = ["contact.email", "contact.name"]"#,
        r#"categories = "contact.email""#,
    )));
    insta::assert_snapshot!(report.render());
}

#[test]
fn bad_country_codes() {
    let source = format!(
        "{}{NEWSLETTER}\n[[purposes.recipients]]\nname = \"Meta Platforms\"\ncountry = \"us\"\n",
        ORG.replace("\"NL\"", "\"Netherlands\"")
    );
    let report = refused(&source);
    assert_eq!(report.error_count(), 2);
    insta::assert_snapshot!(report.render());
}

#[test]
fn invalid_purpose_id() {
    let report = refused(&with_org(
        &NEWSLETTER.replace("\"newsletter\"", "\"Personalised Ads\""),
    ));
    insta::assert_snapshot!(report.render());
}

#[test]
fn empty_categories() {
    let report = refused(&with_org(
        &NEWSLETTER.replace(r#"["contact.email", "contact.name"]"#, "[]"),
    ));
    insta::assert_snapshot!(report.render());
}

#[test]
fn no_purposes() {
    let report = refused(ORG);
    assert_eq!(messages(&report), ["the catalog declares no purposes"]);
    insta::assert_snapshot!(report.render());
}

#[test]
fn description_too_long() {
    let long = "We send you news. ".repeat(40);
    let report = refused(&with_org(
        &NEWSLETTER.replace("We send you news.", long.trim()),
    ));
    insta::assert_snapshot!(report.render());
}

#[test]
fn missing_required_organisation_keys() {
    let source =
        format!("[organisation]\nname = \"Fietsenwinkel B.V.\"\ncountry = \"NL\"\n{NEWSLETTER}");
    let report = refused(&source);
    assert_eq!(report.error_count(), 2);
    insta::assert_snapshot!(report.render());
}

#[test]
fn purposes_written_as_a_single_table() {
    let report = refused(&with_org(&NEWSLETTER.replace("[[purposes]]", "[purposes]")));
    insta::assert_snapshot!(report.render());
}

#[test]
fn custom_category_colliding_with_a_built_in_one() {
    let source = format!(
        "{ORG}\n[[categories]]\nid = \"contact.email\"\nname = {{ en = \"E-mail\", nl = \"E-mail\" }}\n{NEWSLETTER}"
    );
    let report = refused(&source);
    assert_eq!(
        messages(&report),
        ["category `contact.email` is already built in"]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn custom_category_without_a_parent() {
    let source = format!(
        "{ORG}\n[[categories]]\nid = \"loyalty.tier\"\nname = {{ en = \"Loyalty tier\", nl = \"Klantniveau\" }}\n{NEWSLETTER}"
    );
    let report = refused(&source);
    insta::assert_snapshot!(report.render());
}

#[test]
fn many_errors_are_reported_at_once() {
    let report = refused(include_str!("bad_catalogs/many_errors.toml"));
    let found = messages(&report);
    let expected = [
        "unknown key `webiste` in [organisation]",
        "`NLD` is not a country code (country of [organisation])",
        "unknown data category `contact.emial`",
        "`forever` is not a period Keuze understands (retention of purpose `newsletter`)",
        "`title` in purpose `newsletter` has no `nl` text",
        "unknown key `benfit` in purpose `newsletter`",
        "purpose `tax_records` has a `consent_lifetime` but its legal basis is `legal_obligation`",
        "purpose id `newsletter` is used twice",
        "`contracts` is not a legal basis Keuze knows",
        "`categories` in purpose `newsletter` must be an array of category ids, but it is a string",
    ];
    assert_eq!(found, expected);
    // Every error is reported in the order it appears in the file.
    let starts: Vec<usize> = report.diagnostics.iter().map(|d| d.span.start).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]));
    insta::assert_snapshot!(report.render());
}

#[test]
fn warnings_do_not_refuse_the_catalog() {
    let source = with_org(
        r#"
[[purposes]]
id = "order_fulfilment"
legal_basis = "contract"
categories = ["contact.postal_address"]
retention = "2 years"
gpc = true
title = { en = "Deliver your order", nl = "Je bestelling bezorgen" }
description = { en = "We send your order.", nl = "We sturen je bestelling." }
"#,
    );
    let (_, report) = parse_catalog("catalog.toml", &source).unwrap();
    assert_eq!(report.error_count(), 0);
    assert_eq!(
        report.warnings().next().map(|d| d.severity),
        Some(Severity::Warning)
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn hard_text_gets_a_warning() {
    let source = with_org(&NEWSLETTER.replace(
        "nl = \"We sturen je nieuws.\"",
        "nl = \"Wij verwerken persoonsgegevens uitsluitend voor gerechtvaardigde bedrijfsdoeleinden.\"",
    ));
    let (_, report) = parse_catalog("catalog.toml", &source).unwrap();
    assert_eq!(report.error_count(), 0);
    let hard: Vec<_> = report
        .hard_to_read()
        .map(|r| (r.purpose.as_str(), r.field, r.locale.as_str()))
        .collect();
    assert_eq!(hard, [("newsletter", "description", "nl")]);
    insta::assert_snapshot!(report.render());
}

#[test]
fn readability_table() {
    let source = with_org(&NEWSLETTER.replace(
        "nl = \"We sturen je nieuws.\"",
        "nl = \"Wij verwerken persoonsgegevens uitsluitend voor gerechtvaardigde bedrijfsdoeleinden.\"",
    ));
    let (_, report) = parse_catalog("catalog.toml", &source).unwrap();
    insta::assert_snapshot!(report.render_readability());
}

#[test]
fn revision_is_a_whole_number_from_one() {
    let with = |line: &str| {
        with_org(&NEWSLETTER.replace(
            "retention = \"2 years\"\n",
            &format!("retention = \"2 years\"\n{line}\n"),
        ))
    };
    let (catalog, _) = parse_catalog("catalog.toml", &with("revision = 3")).unwrap();
    assert_eq!(catalog.purposes[0].revision, 3);
    let (plain, _) = parse_catalog("catalog.toml", &with_org(NEWSLETTER)).unwrap();
    assert_eq!(plain.purposes[0].revision, 1);
    // Writing the default changes nothing, not even the digest.
    let (explicit, _) = parse_catalog("catalog.toml", &with("revision = 1")).unwrap();
    assert_eq!(explicit.digest(), plain.digest());
    assert_ne!(catalog.digest(), plain.digest());

    let zero = refused(&with("revision = 0"));
    assert_eq!(
        messages(&zero),
        ["`revision` of purpose `newsletter` is 0; it must be 1 or more"]
    );
    insta::assert_snapshot!(zero.render());
    let text = refused(&with("revision = \"2\""));
    assert_eq!(
        messages(&text),
        ["`revision` in purpose `newsletter` must be a whole number, but it is a string"]
    );
}

fn docs() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/catalog.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// --- the sample catalog -------------------------------------------------------------

#[test]
fn the_sample_catalog_is_clean() {
    let (catalog, report) = parse_catalog("catalog.toml", SAMPLE_CATALOG)
        .unwrap_or_else(|e| panic!("{}", e.0.render()));
    assert!(report.diagnostics.is_empty(), "{}", report.render());
    assert!(catalog.purposes.len() >= 7);
    let bases: HashSet<LegalBasis> = catalog.purposes.iter().map(|p| p.legal_basis).collect();
    assert_eq!(
        bases.len(),
        LegalBasis::ALL.len(),
        "not every legal basis is used"
    );
    assert!(
        catalog.taxonomy.iter().any(|c| !c.builtin),
        "the sample shows how to add a category"
    );
    assert!(catalog.purposes.iter().any(|p| p.gpc));
    assert!(catalog
        .purposes
        .iter()
        .flat_map(|p| &p.recipients)
        .any(|r| r.country.as_str() == "US"));
}

/// Every description, benefit and alternative of the sample scores 60 or more, in
/// English and in Dutch: the sample shows what plain language looks like.
#[test]
fn the_sample_catalog_reads_easily() {
    let (catalog, report) = parse_catalog("catalog.toml", SAMPLE_CATALOG).unwrap();
    let texts: usize = catalog
        .purposes
        .iter()
        .map(|p| 1 + usize::from(p.benefit.is_some()) + usize::from(p.alternative.is_some()))
        .sum();
    assert_eq!(
        report.readability().len(),
        2 * texts,
        "every text is scored in en and nl"
    );
    for row in report.readability() {
        assert!(
            row.readability.score >= 60.0,
            "{} {} {}: {:.1}",
            row.purpose,
            row.field,
            row.locale,
            row.readability.score
        );
    }
    insta::assert_snapshot!(report.render_readability());
}

#[test]
fn the_sample_catalog_is_in_the_docs() {
    let docs = docs();
    assert!(
        docs.contains(SAMPLE_CATALOG),
        "docs/catalog.md must show crates/keuze-core/sample/catalog.toml verbatim"
    );
}

/// Every complete catalog shown in the docs is one the checker accepts without a word.
#[test]
fn the_catalogs_in_the_docs_are_clean() {
    let docs = docs();
    let blocks: Vec<&str> = docs
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .filter(|b| b.contains("[organisation]"))
        .collect();
    assert!(
        blocks.len() >= 2,
        "expected the overview and the full example"
    );
    for block in blocks {
        let (_, report) = parse_catalog("docs.toml", block)
            .unwrap_or_else(|e| panic!("{}\n{block}", e.0.render()));
        assert!(report.diagnostics.is_empty(), "{}", report.render());
    }
}

/// The table of built-in categories in docs/catalog.md is generated from the code; if this
/// fails, paste the printed table into the docs.
#[test]
fn the_taxonomy_table_in_the_docs_is_current() {
    let taxonomy = Taxonomy::builtin();
    let mut table =
        String::from("| id | name (en) | name (nl) | sensitive |\n| --- | --- | --- | --- |\n");
    for c in taxonomy.iter() {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.id,
            c.name.get(&Locale::en()),
            c.name.get(&Locale::nl()),
            if c.sensitive { "yes" } else { "" }
        ));
    }
    let docs = docs();
    assert!(
        docs.contains(&table),
        "docs/catalog.md is out of date; the table is:\n\n{table}"
    );
}

// --- the canonical digest -----------------------------------------------------------

const CANONICAL: &str = r#"
[organisation]
name = "Fietsenwinkel B.V."
contact = "https://fietsenwinkel.example/contact"
privacy_contact = "privacy@fietsenwinkel.example"
country = "NL"

[[categories]]
id = "bike_fit"
name = { en = "Bike size", nl = "Fietsmaat" }

[[purposes]]
id = "newsletter"
legal_basis = "consent"
categories = ["contact.email", "bike_fit"]
retention = "2 years"
title = { en = "Newsletter", nl = "Nieuwsbrief" }
description = { en = "We send you news.", nl = "We sturen je nieuws." }
benefit = { en = "Deals first.", nl = "Als eerste acties." }
alternative = { en = "No newsletter.", nl = "Geen nieuwsbrief." }

[[purposes.recipients]]
name = "Mailjet"
country = "FR"
"#;

/// The same catalog: other key order, comments, sub-table and literal-string forms.
const REFORMATTED: &str = r#"
# Our catalog.
[[purposes]]
title.nl = 'Nieuwsbrief'
title.en = 'Newsletter'
alternative = { nl = "Geen nieuwsbrief.", en = "No newsletter." }
retention   =   "2 years"     # as the law allows
recipients = [ { country = "FR", name = "Mailjet" } ]
categories = [
    "contact.email",
    "bike_fit",
]
legal_basis = "consent"
id = "newsletter"
benefit = { nl = "Als eerste acties.", en = "Deals first." }

[purposes.description]
nl = "We sturen je nieuws."
en = """
We send you news."""

[organisation]
country = "NL"
privacy_contact = "privacy@fietsenwinkel.example"
contact = "https://fietsenwinkel.example/contact"
name = "Fietsenwinkel B.V."

[[categories]]
name = { nl = "Fietsmaat", en = "Bike size" }
id = "bike_fit"
"#;

#[test]
fn the_digest_ignores_formatting() {
    let (a, _) = parse_catalog("a.toml", CANONICAL).unwrap_or_else(|e| panic!("{}", e.0.render()));
    let (b, _) =
        parse_catalog("b.toml", REFORMATTED).unwrap_or_else(|e| panic!("{}", e.0.render()));
    assert_eq!(a, b);
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn the_digest_follows_the_content() {
    let (a, _) = parse_catalog("a.toml", CANONICAL).unwrap();
    for changed in [
        CANONICAL.replace("We send you news.", "We send you news weekly."),
        CANONICAL.replace("\"2 years\"", "\"3 years\""),
        CANONICAL.replace("\"FR\"", "\"US\""),
        CANONICAL.replace("nl = \"Fietsmaat\"", "nl = \"Maat van je fiets\""),
    ] {
        let (b, _) = parse_catalog("b.toml", &changed).unwrap();
        assert_ne!(a.digest(), b.digest(), "{changed}");
    }
}

// --- robustness ----------------------------------------------------------------------

proptest! {
    /// Whatever the input, the parser answers with a catalog or a report, and the report
    /// renders; it never panics.
    #[test]
    fn any_text_gets_an_answer(source in "\\PC{0,300}") {
        match parse_catalog("fuzz.toml", &source) {
            Ok((_, report)) => prop_assert_eq!(report.error_count(), 0),
            Err(e) => {
                prop_assert!(e.0.error_count() > 0);
                let _ = e.0.render();
            }
        }
    }

    /// Cutting a piece out of the sample anywhere still gets a clear answer, and every
    /// error points inside the file.
    #[test]
    fn a_damaged_sample_gets_an_answer(start in 0..SAMPLE_CATALOG.len(), len in 0usize..200) {
        let mut source = SAMPLE_CATALOG.as_bytes().to_vec();
        let end = (start + len).min(source.len());
        source.drain(start..end);
        let source = String::from_utf8_lossy(&source).into_owned();
        if let Err(e) = parse_catalog("fuzz.toml", &source) {
            for d in e.0.errors() {
                prop_assert!(d.span.start <= source.len() && d.span.end <= source.len());
                prop_assert!(d.help.is_some());
            }
            prop_assert!(e.0.render().contains("fuzz.toml"));
        }
    }
}

#[test]
fn consent_mode_signals_are_checked() {
    let bad = SAMPLE_CATALOG.replacen(
        r#"consent_mode = ["analytics_storage"]"#,
        r#"consent_mode = ["analytics_storag", "cookies"]"#,
        1,
    );
    let err = parse_catalog("catalog.toml", &bad).unwrap_err();
    let text = err.0.render();
    assert!(
        text.contains("`analytics_storag` is not a Consent Mode signal"),
        "{text}"
    );
    assert!(text.contains("did you mean `analytics_storage`?"), "{text}");
    assert!(
        text.contains("`cookies` is not a Consent Mode signal"),
        "{text}"
    );
    assert_eq!(err.0.error_count(), 2);
    let (catalog, _) = parse_catalog("catalog.toml", SAMPLE_CATALOG).unwrap();
    assert_eq!(
        catalog
            .purpose("advertising_partners")
            .unwrap()
            .consent_mode,
        ["ad_storage", "ad_user_data", "ad_personalization"]
    );
}

// --- presets -------------------------------------------------------------------------

const CONTRACT: &str = r#"
[[purposes]]
id = "order_fulfilment"
legal_basis = "contract"
categories = ["contact.name"]
retention = "2 years"
title = { en = "Deliver your order", nl = "Je bestelling bezorgen" }
description = { en = "We send your order.", nl = "We sturen je bestelling." }
"#;

#[test]
fn presets_grant_switchable_purposes_of_the_catalog() {
    let source = with_org(&format!(
        r#"{NEWSLETTER}{CONTRACT}
[[presets]]
id = "everything"
title = {{ en = "Everything", nl = "Alles" }}
description = {{ en = "Yes to all.", nl = "Overal ja op." }}
grants = ["newsletter"]

[[presets]]
id = "only_needed"
title = {{ en = "Only what is needed", nl = "Alleen wat nodig is" }}
description = {{ en = "No to all.", nl = "Overal nee op." }}
grants = []
"#
    ));
    let (catalog, report) =
        parse_catalog("catalog.toml", &source).unwrap_or_else(|e| panic!("{}", e.0.render()));
    assert!(report.diagnostics.is_empty(), "{}", report.render());
    let ids: Vec<&str> = catalog.presets.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["everything", "only_needed"]);
    assert_eq!(catalog.presets[0].grants[0].as_str(), "newsletter");
    assert_eq!(
        catalog.presets[1].title.get(&Locale::nl()),
        "Alleen wat nodig is"
    );

    // Without presets, the canonical form is what it was before presets existed.
    let (plain, _) = parse_catalog("catalog.toml", &with_org(NEWSLETTER)).unwrap();
    assert!(!plain.canonical_json().contains("presets"));
    assert!(catalog.canonical_json().contains("\"presets\""));
}

#[test]
fn preset_errors_say_what_where_and_how_to_fix_it() {
    let source = with_org(&format!(
        r#"{NEWSLETTER}{CONTRACT}
[[presets]]
id = "balanced"
title = {{ en = "Balanced", nl = "In balans" }}
description = {{ en = "Some.", nl = "Wat." }}
grants = ["newsleter", "order_fulfilment", "loyalty", 3]

[[presets]]
id = "balanced"
title = {{ en = "Balanced again" }}
description = {{ en = "Some.", nl = "Wat." }}
grant = ["newsletter"]

[[presets]]
id = "Everything"
title = {{ en = "Everything", nl = "Alles" }}
description = {{ en = "All.", nl = "Alles." }}
grants = "newsletter"
"#
    ));
    let report = refused(&source);
    assert_eq!(
        messages(&report),
        [
            "preset `balanced` grants `newsleter`, but there is no purpose `newsleter`",
            "preset `balanced` grants `order_fulfilment`, but customers cannot switch it: its legal basis is `contract`",
            "preset `balanced` grants `loyalty`, but there is no purpose `loyalty`",
            "`grants` of preset `balanced` must hold purpose ids as strings, but one is a number",
            "preset id `balanced` is used twice",
            "`title` in preset `balanced` has no `nl` text",
            "unknown key `grant` in preset `balanced`",
            "`Everything` is not a valid preset id",
            "`grants` in preset `Everything` must be an array of purpose ids, but it is a string",
        ]
    );
    let text = report.render();
    assert!(text.contains("did you mean `newsletter`?"), "{text}");
    assert!(text.contains("did you mean `grants`?"), "{text}");
    assert!(text.contains("e.g. `everything`"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn the_sample_presets_run_from_nothing_to_everything() {
    use keuze_core::choice::preset_choices;
    use keuze_core::Action;
    let (catalog, _) = parse_catalog("catalog.toml", SAMPLE_CATALOG).unwrap();
    let switchable: Vec<&str> = catalog
        .purposes
        .iter()
        .filter(|p| p.legal_basis.is_switchable())
        .map(|p| p.id.as_str())
        .collect();
    let granted = |preset: &str| -> Vec<String> {
        let choices = preset_choices(&catalog, preset).unwrap();
        let ids: Vec<&str> = choices.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(ids, switchable, "one choice per switchable purpose");
        for (p, action) in &choices {
            let basis = catalog.purpose(p.as_str()).unwrap().legal_basis;
            let no = if basis == LegalBasis::Consent {
                Action::Withdraw
            } else {
                Action::Object
            };
            assert!(*action == Action::Grant || *action == no, "{p}: {action}");
        }
        choices
            .iter()
            .filter(|(_, a)| *a == Action::Grant)
            .map(|(p, _)| p.to_string())
            .collect()
    };
    assert!(granted("only_needed").is_empty());
    assert_eq!(
        granted("balanced"),
        ["fraud_prevention", "service_analytics", "newsletter"]
    );
    assert_eq!(granted("everything"), switchable);
    assert!(preset_choices(&catalog, "no_such_preset").is_none());
}

// --- IAB TCF ---------------------------------------------------------------------------

const TCF: &str = r#"
[tcf]
cmp_id = 300
cmp_version = 1
publisher_country = "NL"
vendors = [755, 12]
"#;

/// The newsletter with `mapping` lines added (`tcf_purposes = [...]`, ...).
fn newsletter_mapping(mapping: &str) -> String {
    NEWSLETTER.replace(
        "retention = \"2 years\"\n",
        &format!("retention = \"2 years\"\n{mapping}\n"),
    )
}

/// A legitimate-interest purpose that passes every check.
const ANALYTICS: &str = r#"
[[purposes]]
id = "service_analytics"
legal_basis = "legitimate_interest"
categories = ["behaviour.browsing"]
retention = "14 months"
title = { en = "Improve our website", nl = "Onze website beter maken" }
description = { en = "We count visits.", nl = "We tellen bezoeken." }
benefit = { en = "A faster site.", nl = "Een snellere site." }
alternative = { en = "We leave you out.", nl = "We tellen je niet mee." }
"#;

fn sample_vendor_list() -> keuze_tcf::Gvl {
    keuze_tcf::Gvl::from_json(keuze_core::gvl::SAMPLE_VENDOR_LIST).unwrap()
}

#[test]
fn a_tcf_mapping_is_read_in_ascending_order() {
    let source = with_org(&format!(
        "{}{TCF}",
        newsletter_mapping("tcf_purposes = [4, 1, 3]\ntcf_special_features = [1]")
    ));
    let (catalog, report) =
        parse_catalog("catalog.toml", &source).unwrap_or_else(|e| panic!("{}", e.0.render()));
    assert!(report.diagnostics.is_empty(), "{}", report.render());
    let p = catalog.purpose("newsletter").unwrap();
    assert_eq!(p.tcf_purposes, [1, 3, 4]);
    assert_eq!(p.tcf_special_features, [1]);
    let tcf = catalog.tcf.as_ref().unwrap();
    assert_eq!((tcf.cmp_id, tcf.cmp_version), (300, 1));
    assert_eq!(tcf.publisher_country.as_str(), "NL");
    assert_eq!(tcf.vendors, [12, 755]);
    // The order they are written in does not change what the catalog means.
    let reordered = source
        .replace("[4, 1, 3]", "[3, 4, 1]")
        .replace("[755, 12]", "[12, 755]");
    assert_eq!(
        parse_catalog("catalog.toml", &reordered)
            .unwrap()
            .0
            .digest(),
        catalog.digest()
    );
}

/// A catalog without TCF has the canonical form, and so the digest, it had before TCF
/// existed (the digest below is the one Keuze gave this catalog then).
#[test]
fn a_catalog_without_tcf_keeps_its_digest() {
    let (catalog, _) = parse_catalog("catalog.toml", CANONICAL).unwrap();
    assert!(!catalog.canonical_json().contains("tcf"));
    assert_eq!(
        catalog.digest().to_string(),
        "sha256:1d5c1cff8f8e07251723a66c217f7dc87f88d3b27abb7f32ada8a9922143dd1f"
    );
}

#[test]
fn tcf_ids_are_checked() {
    let source = with_org(&format!(
        "{}{TCF}",
        newsletter_mapping("tcf_purposes = [0, 3, 12, \"4\"]\ntcf_special_features = [3]")
    ));
    let report = refused(&source);
    assert_eq!(
        messages(&report),
        [
            "0 in `tcf_purposes` of purpose `newsletter` is not a TCF purpose: they run from 1 to 11",
            "12 in `tcf_purposes` of purpose `newsletter` is not a TCF purpose: they run from 1 to 11",
            "a string in `tcf_purposes` of purpose `newsletter` is not a TCF purpose: they run from 1 to 11",
            "3 in `tcf_special_features` of purpose `newsletter` is not a TCF special feature: they run from 1 to 2",
        ]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn only_consent_purposes_map_to_tcf() {
    let li = ANALYTICS.replace(
        "retention = \"14 months\"\n",
        "retention = \"14 months\"\ntcf_purposes = [9]\n",
    );
    let contract = NEWSLETTER
        .replace("\"newsletter\"", "\"orders\"")
        .replace("\"consent\"", "\"contract\"")
        .replace(
            "consent_lifetime = \"13 months\"\n",
            "tcf_special_features = [1]\n",
        );
    let source = with_org(&format!(
        "{}{li}{contract}{TCF}",
        newsletter_mapping("tcf_purposes = [1]")
    ));
    let report = refused(&source);
    assert_eq!(
        messages(&report),
        [
            "purpose `service_analytics` has `tcf_purposes`, but its legal basis is `legitimate_interest`; only consent purposes map to TCF",
            "purpose `orders` has `tcf_special_features`, but its legal basis is `contract`; only consent purposes map to TCF",
        ]
    );
    let help: Vec<&str> = report.errors().filter_map(|d| d.help.as_deref()).collect();
    assert!(help[0].contains("never legitimate interest"), "{}", help[0]);
    assert!(help[1].contains("cannot switch"), "{}", help[1]);
}

#[test]
fn a_tcf_purpose_is_mapped_from_one_purpose_only() {
    let second = newsletter_mapping("tcf_purposes = [3, 4]\ntcf_special_features = [2]")
        .replace("\"newsletter\"", "\"ads\"");
    let source = with_org(&format!(
        "{}{second}{TCF}",
        newsletter_mapping("tcf_purposes = [1, 3]\ntcf_special_features = [2]")
    ));
    let report = refused(&source);
    assert_eq!(
        messages(&report),
        [
            "TCF purpose 3 is mapped from both `newsletter` and `ads`",
            "TCF special feature 2 is mapped from both `newsletter` and `ads`",
        ]
    );
    // The error points at the second mapping and names the line of the first.
    let (line, _) = report.line_column(report.errors().next().unwrap());
    assert_eq!(
        source.lines().nth(line - 1).unwrap(),
        "tcf_purposes = [3, 4]"
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn a_mapping_needs_a_tcf_table() {
    let report = refused(&with_org(&newsletter_mapping("tcf_purposes = [1]")));
    assert_eq!(
        messages(&report),
        ["purpose `newsletter` maps to TCF, but the catalog has no [tcf] table"]
    );
    insta::assert_snapshot!(report.render());
}

#[test]
fn a_tcf_table_needs_a_mapping() {
    let report = refused(&with_org(&format!("{NEWSLETTER}{TCF}")));
    assert_eq!(
        messages(&report),
        ["the catalog has a [tcf] table, but no purpose maps to a TCF purpose or special feature"]
    );
}

#[test]
fn the_tcf_table_is_checked() {
    let mapped = newsletter_mapping("tcf_purposes = [1]");
    let cases: [(&str, &[&str]); 7] = [
        (
            "[tcf]\ncmp_id = 1\ncmp_version = 4096\npublisher_country = \"nl\"\nvendors = [755]\n",
            &[
                "`cmp_id` in [tcf] is 1; it runs from 2 to 4095",
                "`cmp_version` in [tcf] is 4096; it runs from 0 to 4095",
                "`nl` is not a country code (publisher_country of [tcf])",
            ],
        ),
        (
            "[tcf]\ncmp_id = \"300\"\ncmp_version = -1\npublisher_country = \"NL\"\nvendors = []\n",
            &[
                "`cmp_id` in [tcf] must be a whole number, but it is a string",
                "`cmp_version` in [tcf] is -1; it runs from 0 to 4095",
                "`vendors` of [tcf] is empty",
            ],
        ),
        (
            "[tcf]\ncmp_id = 300\ncmp_version = 1\npublisher_country = \"NL\"\nvendors = [0, 755, 70000, 755]\n",
            &[
                "0 in `vendors` of [tcf] is not a vendor id: they run from 1 to 65535",
                "70000 in `vendors` of [tcf] is not a vendor id: they run from 1 to 65535",
                "vendor 755 is listed twice in `vendors` of [tcf]",
            ],
        ),
        (
            "[tcf]\n",
            &[
                "[tcf] is missing `cmp_id`",
                "[tcf] is missing `cmp_version`",
                "[tcf] is missing `publisher_country`",
                "[tcf] is missing `vendors`",
            ],
        ),
        (
            "[tcf]\ncmp_id = 300\ncmp_verison = 1\npublisher_country = \"NL\"\nvendors = [755]\n",
            &["unknown key `cmp_verison` in [tcf]"],
        ),
        ("tcf = 3\n", &["`tcf` in the catalog must be a table, but it is a number"]),
        (
            "[tfc]\ncmp_id = 300\n",
            &["unknown key `tfc` in the catalog"],
        ),
    ];
    for (table, expected) in cases {
        // A bare `tcf = 3` goes above the first table, or TOML puts it in that table.
        let source = if table.starts_with('[') {
            with_org(&format!("{mapped}\n{table}"))
        } else {
            format!("{table}{}", with_org(&mapped))
        };
        let report = refused(&source);
        assert_eq!(messages(&report), expected, "{}", report.render());
        for d in report.errors() {
            assert!(d.help.as_deref().is_some_and(|h| !h.is_empty()));
        }
    }
}

#[test]
fn tcf_vendors_are_checked_against_a_vendor_list() {
    use keuze_core::catalog::parse_catalog_against;
    let mut gvl = sample_vendor_list();
    gvl.vendors.get_mut(&12).unwrap().deleted_date = Some("2023-05-01T00:00:00Z".into());
    let source = with_org(&format!(
        "{}{}",
        newsletter_mapping("tcf_purposes = [1, 2]"),
        TCF.replace("[755, 12]", "[755, 12, 9999, 950, 46]")
    ));
    // Without a list, any id is taken at its word.
    assert!(parse_catalog("catalog.toml", &source).is_ok());
    let report = match parse_catalog_against("catalog.toml", &source, &gvl) {
        Ok((_, r)) => panic!("accepted:\n{}", r.render()),
        Err(e) => e.0,
    };
    assert_eq!(
        messages(&report),
        [
            "vendor 12 (BeeswaxIO Corporation) was deleted from the vendor list on 2023-05-01T00:00:00Z (version 7)",
            "vendor 9999 is not on the vendor list (version 7)",
        ]
    );
    // A vendor that could never get consent from this catalog's mappings is a warning:
    // 950 declares no purpose at all, 46 only purposes 7 and 8.
    let warnings: Vec<&str> = report.warnings().map(|d| d.message.as_str()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("vendor 950 (Stream Eye OOD) declares none of the TCF purposes")
    );
    assert!(warnings[1].starts_with("vendor 46 (Skimbit Ltd) declares none"));
    insta::assert_snapshot!(report.render());

    // Mapping purpose 7, which 46 declares as flexible, is enough for it.
    let source = with_org(&format!(
        "{}{}",
        newsletter_mapping("tcf_purposes = [1, 7]"),
        TCF.replace("[755, 12]", "[755, 46]")
    ));
    let (_, report) = parse_catalog_against("catalog.toml", &source, &sample_vendor_list())
        .unwrap_or_else(|e| panic!("{}", e.0.render()));
    assert!(report.diagnostics.is_empty(), "{}", report.render());
}

#[test]
fn the_sample_catalog_maps_to_tcf_and_fits_the_sample_vendor_list() {
    let (catalog, report) = keuze_core::catalog::parse_catalog_against(
        "catalog.toml",
        SAMPLE_CATALOG,
        &sample_vendor_list(),
    )
    .unwrap_or_else(|e| panic!("{}", e.0.render()));
    assert!(report.diagnostics.is_empty(), "{}", report.render());
    assert!(catalog.tcf.is_some());
    assert!(catalog.tcf_mapped().count() >= 1);
}
