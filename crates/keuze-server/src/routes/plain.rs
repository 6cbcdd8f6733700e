//! Plain words shared by the pages people read (`/privacy`, `/me`): which language to
//! speak, legal bases, periods and dates in words, and the frame every page shares.

use askama::Template;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keuze_core::{LegalBasis, Locale, Period, Timestamp};

// --- language --------------------------------------------------------------------------

/// The languages the pages are written in, in the order that breaks ties.
pub(crate) const LANGUAGES: [&str; 2] = ["en", "nl"];

/// The page's language: `?lang=` if it names one of ours, else the best match in
/// `Accept-Language`, else English.
pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Locale {
    query
        .and_then(supported)
        .or_else(|| accept_language.and_then(best_of_accept_language))
        .unwrap_or_else(Locale::en)
}

/// One of our languages, if `tag` names it.
pub(crate) fn supported(tag: &str) -> Option<Locale> {
    let tag = tag.trim().to_ascii_lowercase();
    LANGUAGES
        .iter()
        .find(|l| **l == tag)
        .and_then(|l| Locale::parse(l).ok())
}

/// The language of ours the reader prefers most (RFC 9110 §12.5.4): each range counts for
/// the language of its primary subtag (`nl-NL` asks for Dutch), `*` for every language
/// not named otherwise; a language gets the highest weight of its ranges, weight 0 means
/// "not this one", and a tie goes to the range named first. Malformed ranges are skipped.
pub fn best_of_accept_language(header: &str) -> Option<Locale> {
    // Per language: (weight in thousandths, position of the range that gave it).
    let mut named: [Option<(u16, usize)>; LANGUAGES.len()] = [None; LANGUAGES.len()];
    let mut wildcard: Option<(u16, usize)> = None;
    for (position, range) in header.split(',').enumerate() {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if tag.is_empty() {
            continue;
        }
        let mut weight = Some(1000);
        for param in parts {
            match param.trim().split_once('=') {
                Some((k, v)) if k.trim().eq_ignore_ascii_case("q") => weight = qvalue(v.trim()),
                _ => {}
            }
        }
        let Some(weight) = weight else { continue };
        if tag == "*" {
            wildcard = better(wildcard, (weight, position));
            continue;
        }
        let primary = tag.split('-').next().unwrap_or("");
        for (slot, lang) in named.iter_mut().zip(LANGUAGES) {
            if primary == lang {
                *slot = better(*slot, (weight, position));
            }
        }
    }
    let mut best: Option<(u16, usize, &str)> = None;
    for (slot, lang) in named.iter().zip(LANGUAGES) {
        let Some((weight, position)) = slot.or(wildcard) else {
            continue;
        };
        let wins = best.is_none_or(|(w, p, _)| weight > w || (weight == w && position < p));
        if weight > 0 && wins {
            best = Some((weight, position, lang));
        }
    }
    best.and_then(|(_, _, lang)| Locale::parse(lang).ok())
}

pub(crate) fn better(current: Option<(u16, usize)>, new: (u16, usize)) -> Option<(u16, usize)> {
    match current {
        Some(c) if c.0 >= new.0 => Some(c),
        _ => Some(new),
    }
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

pub(crate) fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

// --- plain words -----------------------------------------------------------------------

pub(crate) fn is_dutch(locale: &Locale) -> bool {
    locale.as_str() == "nl"
}

pub(crate) fn pick(locale: &Locale, en: &'static str, nl: &'static str) -> &'static str {
    if is_dutch(locale) {
        nl
    } else {
        en
    }
}

pub(crate) fn basis_name(basis: LegalBasis, locale: &Locale) -> &'static str {
    match basis {
        LegalBasis::Consent => pick(locale, "Your consent", "Jouw toestemming"),
        LegalBasis::LegitimateInterest => pick(
            locale,
            "Our legitimate interest",
            "Ons gerechtvaardigd belang",
        ),
        LegalBasis::Contract => pick(locale, "Our contract with you", "Onze overeenkomst met jou"),
        LegalBasis::LegalObligation => pick(locale, "A legal duty", "Een wettelijke plicht"),
    }
}

/// What the legal basis means for the reader, in one or two short sentences.
pub(crate) fn basis_explanation(basis: LegalBasis, locale: &Locale) -> &'static str {
    match basis {
        LegalBasis::Consent => pick(
            locale,
            "Only with your permission. You can say no, and change your mind at any time.",
            "Alleen met jouw toestemming. Je kunt nee zeggen, en je kunt altijd van gedachten veranderen.",
        ),
        LegalBasis::LegitimateInterest => pick(
            locale,
            "We do this unless you object.",
            "We doen dit, tenzij je bezwaar maakt.",
        ),
        LegalBasis::Contract => pick(
            locale,
            "We need this to deliver what you asked for.",
            "We hebben dit nodig om te leveren wat je vroeg.",
        ),
        LegalBasis::LegalObligation => pick(
            locale,
            "The law requires this.",
            "De wet verplicht ons hiertoe.",
        ),
    }
}

pub(crate) fn retention_sentence(period: Period, locale: &Locale) -> String {
    if is_dutch(locale) {
        format!("We bewaren deze gegevens {}.", period.in_words(locale))
    } else {
        format!("We keep it for {}.", period.in_words(locale))
    }
}

pub(crate) fn ask_again_sentence(period: Period, locale: &Locale) -> String {
    if is_dutch(locale) {
        format!("Na {} vragen we het je opnieuw.", period.in_words(locale))
    } else {
        format!("We ask again after {}.", period.in_words(locale))
    }
}

/// A date as people write it: `15 January 2027`, `15 januari 2027` (UTC).
pub(crate) fn date_in_words(at: Timestamp, locale: &Locale) -> String {
    use time::Month;
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(at.unix_millis().div_euclid(1000)) else {
        return at.to_rfc3339();
    };
    let month = match t.month() {
        Month::January => pick(locale, "January", "januari"),
        Month::February => pick(locale, "February", "februari"),
        Month::March => pick(locale, "March", "maart"),
        Month::April => pick(locale, "April", "april"),
        Month::May => pick(locale, "May", "mei"),
        Month::June => pick(locale, "June", "juni"),
        Month::July => pick(locale, "July", "juli"),
        Month::August => pick(locale, "August", "augustus"),
        Month::September => pick(locale, "September", "september"),
        Month::October => pick(locale, "October", "oktober"),
        Month::November => pick(locale, "November", "november"),
        Month::December => pick(locale, "December", "december"),
    };
    format!("{} {month} {}", t.day(), t.year())
}

// --- the page ----------------------------------------------------------------------------

/// What every page shares: its language, title, and the way to the other language.
/// What every page shares: its language, title, and the way to the other language.
/// `L` is the page's own words (`l.skip` and `l.language` are used by `base.html`).
pub(crate) struct Frame<L: 'static> {
    pub(crate) lang: &'static str,
    pub(crate) title: String,
    pub(crate) org: String,
    pub(crate) l: &'static L,
    pub(crate) other_lang: &'static str,
    pub(crate) other_name: &'static str,
    pub(crate) other_href: String,
}

impl<L> Frame<L> {
    pub(crate) fn new(
        locale: &Locale,
        path: &str,
        title: String,
        org: &str,
        l: &'static L,
    ) -> Self {
        let (lang, other_lang, other_name) = if is_dutch(locale) {
            ("nl", "en", "English")
        } else {
            ("en", "nl", "Nederlands")
        };
        Self {
            lang,
            title,
            org: org.to_owned(),
            l,
            other_lang,
            other_name,
            other_href: format!("{path}?lang={other_lang}"),
        }
    }
}

/// An HTML page with the headers every page sends; `csp` is its Content-Security-Policy,
/// to which the hashes of the page's own `<style>` elements are added as `style-src`, so
/// that no other style (injected markup, say) applies: no `'unsafe-inline'`.
pub(crate) fn html(template: &impl Template, lang: &'static str, csp: &'static str) -> Response {
    match template.render() {
        Ok(body) => {
            let policy = format!("{csp}; style-src {}", style_hashes(&body));
            let mut res = (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CONTENT_LANGUAGE, HeaderValue::from_static(lang)),
                    (header::VARY, HeaderValue::from_static("Accept-Language")),
                ],
                body,
            )
                .into_response();
            // Hashes are base64 and the policy a static string: always a valid value.
            if let Ok(v) = HeaderValue::from_str(&policy) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered; try again later",
            )
                .into_response()
        }
    }
}

/// The CSP source list that allows exactly the `<style>` elements of `page`:
/// `'sha256-…'` per element, or `'none'` for a page without one.
fn style_hashes(page: &str) -> String {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let mut out = String::new();
    let mut rest = page;
    while let Some(open) = rest.find("<style>") {
        let after = rest.get(open + "<style>".len()..).unwrap_or("");
        let Some(close) = after.find("</style>") else {
            break;
        };
        let css = after.get(..close).unwrap_or("");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css));
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("'sha256-");
        out.push_str(&hash);
        out.push('\'');
        rest = after.get(close..).unwrap_or("");
    }
    if out.is_empty() {
        out.push_str("'none'");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lang(query: Option<&str>, header: Option<&str>) -> String {
        negotiate(query, header).to_string()
    }

    #[test]
    fn every_style_element_is_hashed_and_nothing_else() {
        let page = "<head><style>a{color:red}</style></head><body><style>b{}</style><p>style</p>";
        let hashes = style_hashes(page);
        // echo -n 'a{color:red}' | openssl dgst -sha256 -binary | base64
        assert!(
            hashes.starts_with("'sha256-6hWWMOcF+mJesSJGYhmK2lkIIEw9Xc5XKGLPVzh8yxs=' 'sha256-"),
            "{hashes}"
        );
        assert_eq!(hashes.matches("'sha256-").count(), 2);
        assert_eq!(style_hashes("<p>no styles</p>"), "'none'");
    }

    #[test]
    fn lang_wins_then_accept_language_then_english() {
        assert_eq!(lang(Some("nl"), Some("en")), "nl");
        assert_eq!(lang(Some("EN"), Some("nl")), "en");
        assert_eq!(lang(Some("de"), Some("nl")), "nl");
        assert_eq!(lang(Some("all"), None), "en");
        assert_eq!(lang(None, None), "en");
        assert_eq!(lang(None, Some("")), "en");
    }

    #[test]
    fn accept_language_by_weight_then_order() {
        let best = |h: &str| best_of_accept_language(h).map(|l| l.to_string());
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

    #[test]
    fn periods_and_dates_in_plain_words() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert_eq!(
            retention_sentence(p("2 years"), &Locale::en()),
            "We keep it for 2 years."
        );
        assert_eq!(
            retention_sentence(p("2 years"), &Locale::nl()),
            "We bewaren deze gegevens 2 jaar."
        );
        assert_eq!(
            retention_sentence(p("1 week"), &Locale::nl()),
            "We bewaren deze gegevens 1 week."
        );
        assert_eq!(
            retention_sentence(p("30 days"), &Locale::nl()),
            "We bewaren deze gegevens 30 dagen."
        );
        assert_eq!(
            ask_again_sentence(p("13 months"), &Locale::en()),
            "We ask again after 13 months."
        );
        assert_eq!(
            ask_again_sentence(p("13 months"), &Locale::nl()),
            "Na 13 maanden vragen we het je opnieuw."
        );
        let t = Timestamp::from_unix_millis(1_800_000_000_000);
        assert_eq!(date_in_words(t, &Locale::en()), "15 January 2027");
        assert_eq!(date_in_words(t, &Locale::nl()), "15 januari 2027");
    }
}
