//! Which language to speak: an explicit choice (`?lang=`) first, then the reader's
//! `Accept-Language`, then English.
//!
//! Matching a requested language to ours (`nl-BE` reads `nl`, case does not matter) is
//! `fluent-langneg`'s. Reading the header's weights is ours: `fluent-langneg` reads only
//! the order of the ranges and drops their weights, so `nl;q=0` (RFC 9110: "not this
//! one"), `*`, and ranges listed out of weight order would be misread.

use fluent_langneg::{negotiate_languages, NegotiationStrategy};
use keuze_core::Locale;
use unic_langid::LanguageIdentifier;

/// The language to speak: `query` when it names one of `available` exactly (any case),
/// else the best of `accept_language`, else English (or the first of `available` when
/// English is not among them).
pub fn negotiate(
    query: Option<&str>,
    accept_language: Option<&str>,
    available: &[Locale],
) -> Locale {
    query
        .and_then(|q| exact(q, available))
        .or_else(|| accept_language.and_then(|h| best_of_accept_language(h, available)))
        .or_else(|| {
            available
                .iter()
                .find(|l| l.as_str() == crate::SOURCE_LANGUAGE)
                .or(available.first())
                .cloned()
        })
        .unwrap_or_else(Locale::en)
}

/// The language of `available` that `tag` names exactly, ignoring case and spaces.
pub fn exact(tag: &str, available: &[Locale]) -> Option<Locale> {
    let tag = tag.trim();
    available
        .iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(tag))
        .cloned()
}

/// The language of `available` the reader prefers most (RFC 9110 §12.5.4): ranges in
/// order of weight, a tie going to the range named first; `*` for every language not
/// named otherwise; weight 0 refuses a language no other range asks for. Malformed
/// ranges and weights are skipped.
pub fn best_of_accept_language(header: &str, available: &[Locale]) -> Option<Locale> {
    let mut ranges: Vec<(u16, Range)> = header
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let mut weight = Some(1000);
            for param in parts {
                if let Some((k, v)) = param.trim().split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        weight = qvalue(v.trim());
                    }
                }
            }
            let range = if tag == "*" {
                Range::Any
            } else {
                Range::Language(tag.parse::<LanguageIdentifier>().ok()?)
            };
            Some((weight?, range))
        })
        .collect();
    // Stable: equal weights keep the header's order.
    ranges.sort_by_key(|r| std::cmp::Reverse(r.0));
    let named = |lang: &LanguageIdentifier, positive: bool| {
        ranges.iter().any(|(w, r)| {
            (*w > 0) == positive && matches!(r, Range::Language(l) if l.language == lang.language)
        })
    };
    let ours: Vec<(Locale, LanguageIdentifier)> = available
        .iter()
        .filter_map(|l| Some((l.clone(), l.as_str().parse().ok()?)))
        .collect();
    let allowed: Vec<&(Locale, LanguageIdentifier)> = ours
        .iter()
        .filter(|(_, id)| named(id, true) || !named(id, false))
        .collect();
    let mut requested: Vec<LanguageIdentifier> = Vec::new();
    for (weight, range) in &ranges {
        if *weight == 0 {
            continue;
        }
        match range {
            Range::Language(l) => requested.push(l.clone()),
            Range::Any => requested.extend(
                allowed
                    .iter()
                    .filter(|(_, id)| !named(id, true))
                    .map(|(_, id)| id.clone()),
            ),
        }
    }
    let candidates: Vec<LanguageIdentifier> = allowed.iter().map(|(_, id)| id.clone()).collect();
    let best = negotiate_languages(
        &requested,
        &candidates,
        None,
        NegotiationStrategy::Filtering,
    )
    .into_iter()
    .next()?;
    ours.iter()
        .find(|(_, id)| id == best)
        .map(|(locale, _)| locale.clone())
}

enum Range {
    Language(LanguageIdentifier),
    Any,
}

/// An RFC 9110 qvalue in thousandths: `0`, `0.5`, `0.875`, `1`, `1.000`.
pub(crate) fn qvalue(s: &str) -> Option<u16> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ours() -> Vec<Locale> {
        vec![Locale::en(), Locale::nl()]
    }

    fn lang(query: Option<&str>, header: Option<&str>) -> String {
        negotiate(query, header, &ours()).to_string()
    }

    #[test]
    fn lang_wins_then_accept_language_then_english() {
        assert_eq!(lang(Some("nl"), Some("en")), "nl");
        assert_eq!(lang(Some("EN"), Some("nl")), "en");
        assert_eq!(lang(Some("de"), Some("nl")), "nl");
        assert_eq!(lang(Some("all"), None), "en");
        assert_eq!(lang(None, None), "en");
        assert_eq!(lang(None, Some("")), "en");
        // Without English, the first language offered.
        assert_eq!(negotiate(None, Some("de"), &[Locale::nl()]), Locale::nl());
    }

    #[test]
    fn accept_language_by_weight_then_order() {
        let best = |h: &str| best_of_accept_language(h, &ours()).map(|l| l.to_string());
        assert_eq!(best("nl-NL,nl;q=0.9,en;q=0.8").as_deref(), Some("nl"));
        assert_eq!(best("nl-NL,nl;q=0.9").as_deref(), Some("nl"));
        assert_eq!(best("NL-be").as_deref(), Some("nl"));
        assert_eq!(best("en-US,en;q=0.9,nl;q=0.8").as_deref(), Some("en"));
        assert_eq!(best("de-DE, nl;q=0.5, en;q=0.4").as_deref(), Some("nl"));
        assert_eq!(best("nl;q=0.5, en;q=0.5").as_deref(), Some("nl"));
        assert_eq!(best("en;q=0.5 , nl ; q=0.5").as_deref(), Some("en"));
        assert_eq!(best("fr, *;q=0.1").as_deref(), Some("en"));
        assert_eq!(best("en;q=0, *").as_deref(), Some("nl"));
        assert_eq!(best("nl;q=0").as_deref(), None);
        assert_eq!(best("de, fr").as_deref(), None);
        // Out of order: the weight counts, not the position.
        assert_eq!(best("en;q=0.2, nl;q=0.9").as_deref(), Some("nl"));
        // A refusal of the language does not outweigh a range that asks for it.
        assert_eq!(best("nl;q=0, nl-BE").as_deref(), Some("nl"));
        // Malformed weights are skipped, not read as 1.
        assert_eq!(best("nl;q=1.5, en;q=0.1").as_deref(), Some("en"));
        assert_eq!(best("nl;q=abc, en;q=0.1").as_deref(), Some("en"));
        assert_eq!(best(",,;q=0.5,").as_deref(), None);
    }

    #[test]
    fn qvalues() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0.8"), Some(800));
        assert_eq!(qvalue("0.875"), Some(875));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0."), Some(0));
        assert_eq!(qvalue("1.001"), None);
        assert_eq!(qvalue("0.8755"), None);
        assert_eq!(qvalue("-0.5"), None);
        assert_eq!(qvalue("inf"), None);
        assert_eq!(qvalue(""), None);
    }
}
