//! Which language to speak to a person: the languages the pages and the banner speak, and
//! the negotiation with what the request asks for. The words are in `keuze-words`.

use axum::http::{header, HeaderMap};
use keuze_core::catalog::Text;
use keuze_core::Locale;
use keuze_words::{Lang, Words};
use std::sync::OnceLock;

/// The languages the pages speak: those there are words for that every catalog also has
/// texts in (`Text::REQUIRED`); the source language first.
pub fn page_languages() -> &'static [Locale] {
    static LANGUAGES: OnceLock<Vec<Locale>> = OnceLock::new();
    LANGUAGES.get_or_init(|| {
        Words::get()
            .languages()
            .iter()
            .filter(|l| Text::REQUIRED.contains(&l.as_str()))
            .cloned()
            .collect()
    })
}

/// The page's language: `?lang=` if it names one of ours, else the best match in
/// `Accept-Language`, else English.
pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Locale {
    keuze_words::negotiate(query, accept_language, page_languages())
}

/// One of our languages, if `tag` names it.
pub fn supported(tag: &str) -> Option<Locale> {
    keuze_words::exact(tag, page_languages())
}

/// The language of ours the reader prefers most (RFC 9110 §12.5.4).
pub fn best_of_accept_language(header: &str) -> Option<Locale> {
    keuze_words::best_of_accept_language(header, page_languages())
}

pub fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

/// The words of the pages in `locale`.
pub fn words(locale: &Locale) -> Lang<'static> {
    Words::get().lang(locale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_speak_english_and_dutch() {
        assert_eq!(page_languages(), [Locale::en(), Locale::nl()]);
        assert_eq!(negotiate(Some("NL"), None), Locale::nl());
        assert_eq!(negotiate(None, Some("nl-BE, en;q=0.5")), Locale::nl());
        assert_eq!(best_of_accept_language("de"), None);
        assert_eq!(supported("de"), None);
    }
}
