//! The HTML pages people read: the preference center (`/me`), the transparency pages
//! (`/privacy`, `/privacy/changes`) and the incident register. Each is its own edge over
//! the application; what they share is here: the frame every page has. Which language to
//! speak is [`crate::language`]'s; the words are in `keuze-words`.

pub mod incidents;
pub mod me;
pub mod privacy;

use crate::language::{page_languages, words};
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keuze_core::Locale;
use keuze_words::Lang;

/// `?lang=` on the HTML pages.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// `en` or `nl`; wins over `Accept-Language`. Anything else is ignored.
    pub lang: Option<String>,
}

// --- the page ----------------------------------------------------------------------------

/// What every page shares: its language and words, title, and the way to the other
/// languages.
pub(crate) struct Frame {
    pub(crate) lang: &'static str,
    /// The page's words: templates ask them for messages, `frame.w.t("page-skip")`.
    pub(crate) w: Lang<'static>,
    pub(crate) title: String,
    pub(crate) org: String,
    /// Every other language of the pages, each named in itself.
    pub(crate) others: Vec<OtherLanguage>,
}

pub(crate) struct OtherLanguage {
    pub(crate) lang: &'static str,
    pub(crate) name: String,
    pub(crate) href: String,
}

impl Frame {
    pub(crate) fn new(locale: &Locale, path: &str, title: String, org: &str) -> Self {
        let w = words(locale);
        let others = page_languages()
            .iter()
            .map(words)
            .filter(|other| other.code() != w.code())
            .map(|other| OtherLanguage {
                lang: other.code(),
                name: other.t("language-name").into_owned(),
                href: format!("{path}?lang={}", other.code()),
            })
            .collect();
        Self {
            lang: w.code(),
            w,
            title,
            org: org.to_owned(),
            others,
        }
    }
}

/// An HTML page with the headers every page sends; `csp` is its Content-Security-Policy,
/// to which the hashes of the page's own `<style>` elements are added as `style-src`, so
/// that no other style (injected markup, say) applies: no `'unsafe-inline'`.
pub(crate) fn html(template: &impl Template, w: Lang<'static>, csp: &'static str) -> Response {
    match template.render() {
        Ok(body) => {
            let policy = format!("{csp}; style-src {}", style_hashes(&body));
            let mut res = (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CONTENT_LANGUAGE, HeaderValue::from_static(w.code())),
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
                w.t("page-not-rendered").into_owned(),
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
    fn the_frame_links_to_every_other_language_in_its_own_name() {
        let frame = Frame::new(&Locale::nl(), "/privacy", "t".into(), "Org");
        assert_eq!(frame.lang, "nl");
        assert_eq!(frame.others.len(), 1);
        assert_eq!(frame.others[0].name, "English");
        assert_eq!(frame.others[0].href, "/privacy?lang=en");
    }
}
