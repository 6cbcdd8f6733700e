//! The words as the pages use them: dates, periods, lists and legal bases in each
//! language, and what happens when a message is missing.

#![allow(clippy::unwrap_used)]

use keuze_core::{LegalBasis, Locale, Period, Timestamp};
use keuze_words::Words;

fn en() -> keuze_words::Lang<'static> {
    Words::get().lang(&Locale::en())
}

fn nl() -> keuze_words::Lang<'static> {
    Words::get().lang(&Locale::nl())
}

#[test]
fn periods_and_dates_in_plain_words() {
    let p = |s: &str| Period::parse(s).unwrap();
    let keep = "privacy-retention-sentence";
    let again = "privacy-ask-again-sentence";
    assert_eq!(
        en().period_sentence(keep, p("2 years")),
        "We keep it for 2 years."
    );
    assert_eq!(
        en().period_sentence(keep, p("1 year")),
        "We keep it for 1 year."
    );
    assert_eq!(
        nl().period_sentence(keep, p("2 years")),
        "We bewaren deze gegevens 2 jaar."
    );
    assert_eq!(
        nl().period_sentence(keep, p("1 week")),
        "We bewaren deze gegevens 1 week."
    );
    assert_eq!(
        nl().period_sentence(keep, p("30 days")),
        "We bewaren deze gegevens 30 dagen."
    );
    assert_eq!(
        en().period_sentence(again, p("13 months")),
        "We ask again after 13 months."
    );
    assert_eq!(
        nl().period_sentence(again, p("13 months")),
        "Na 13 maanden vragen we het je opnieuw."
    );
    for s in [
        "1 day",
        "2 days",
        "1 week",
        "3 weeks",
        "1 month",
        "13 months",
        "1 year",
        "2 years",
    ] {
        // English periods read as the catalog writes them.
        assert_eq!(en().period(p(s)), s);
    }
    assert_eq!(nl().period(p("1 day")), "1 dag");
    assert_eq!(nl().period(p("1 month")), "1 maand");
    let t = Timestamp::from_unix_millis(1_800_000_000_000);
    assert_eq!(en().date(t), "15 January 2027");
    assert_eq!(nl().date(t), "15 januari 2027");
    assert_eq!(en().moment(t), "15 January 2027, 08:00 UTC");
}

#[test]
fn every_month_has_its_name() {
    let day = 86_400_000;
    let mut names = Vec::new();
    for month in 0..12 {
        // The 15th of each month of 2027.
        let t = Timestamp::from_unix_millis(1_798_761_600_000 + (month * 31 + 14) * day);
        names.push(nl().date(t));
    }
    assert_eq!(names[0], "15 januari 2027");
    assert_eq!(names[4].split(' ').nth(1), Some("mei"));
    assert!(names.iter().all(|n| !n.contains('{')), "{names:?}");
}

#[test]
fn lists_in_each_language() {
    let t = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(en().list(&t(&[])), "");
    assert_eq!(en().list(&t(&["A"])), "A");
    assert_eq!(en().list(&t(&["A", "B", "C"])), "A, B and C");
    assert_eq!(nl().list(&t(&["A", "B"])), "A en B");
}

#[test]
fn legal_bases_in_plain_words() {
    assert_eq!(en().legal_basis_name(LegalBasis::Consent), "Your consent");
    assert_eq!(
        nl().legal_basis_name(LegalBasis::LegitimateInterest),
        "Ons gerechtvaardigd belang"
    );
    assert_eq!(
        en().legal_basis_explanation(LegalBasis::LegitimateInterest),
        "We do this unless you object."
    );
    assert_eq!(
        nl().legal_basis_explanation(LegalBasis::LegalObligation),
        "De wet verplicht ons hiertoe."
    );
}

#[test]
fn a_language_we_do_not_speak_reads_english() {
    let de = Locale::parse("de").unwrap();
    assert_eq!(Words::get().lang(&de).code(), "en");
    assert_eq!(Words::get().lang(&de).t("page-skip"), "Skip to content");
}

#[test]
fn a_missing_message_shows_its_id_and_is_counted() {
    let before = Words::get().misses();
    assert_eq!(nl().t("no-such-message"), "no-such-message");
    assert!(Words::get().misses() > before);
    // A variable left out is counted too, and the rest of the sentence still shows.
    let before = Words::get().misses();
    let text = en().t_args("privacy-title", &[]);
    assert!(text.starts_with("How "), "{text}");
    assert!(Words::get().misses() > before);
}

#[test]
fn no_invisible_isolation_marks() {
    let text = en().t_args("privacy-title", &[("org", "Fietsen B.V.".into())]);
    assert_eq!(text, "How Fietsen B.V. uses your data");
}
