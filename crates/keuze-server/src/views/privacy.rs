//! The public transparency pages, generated from the catalog in force: `/privacy` (HTML
//! for people), `/privacy.json` (the same content for machines) and `/privacy/changes`
//! (every published version and what changed, in plain words). No account needed.
//! English and Dutch: `?lang=` wins, else the best of `Accept-Language`, else English.

use super::{html, Frame, PageQuery};
use crate::json::QueryParams;
use crate::language::{accept_language, negotiate, words};
use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use keuze_app::AppState;
use keuze_core::change::{in_eea, CatalogDiff, Change, PurposeDiffKind};
use keuze_core::{CatalogVersion, LegalBasis, Locale, Period, Purpose};
use keuze_words::changes;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The transparency routes, documented in the OpenAPI document like every other route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(page))
        .routes(routes!(document))
        .routes(routes!(changes))
}

/// `?lang=` on `/privacy.json`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// `en` or `nl` for the texts in one language; `all` for every text as `{en, nl}`.
    /// Wins over `Accept-Language`; anything else is ignored.
    pub lang: Option<String>,
}

// --- the document ----------------------------------------------------------------------

/// A text in each language the pages are written in (`?lang=all`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Localized {
    pub en: String,
    pub nl: String,
}

/// Which texts a document carries: one language's, or English and Dutch side by side.
pub(crate) trait Texts {
    type Out;
    fn text(&self, f: &dyn Fn(&Locale) -> String) -> Self::Out;
}

pub(crate) struct OneLanguage(pub(crate) Locale);

impl Texts for OneLanguage {
    type Out = String;
    fn text(&self, f: &dyn Fn(&Locale) -> String) -> String {
        f(&self.0)
    }
}

struct EveryLanguage;

impl Texts for EveryLanguage {
    type Out = Localized;
    fn text(&self, f: &dyn Fn(&Locale) -> String) -> Localized {
        Localized {
            en: f(&Locale::en()),
            nl: f(&Locale::nl()),
        }
    }
}

/// What `/privacy` says, for machines. `T` is a text: a string in the requested language,
/// or [`Localized`] with `?lang=all`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrivacyDocument<T> {
    /// The catalog version in force.
    pub version: u32,
    /// `sha256:` and the hex digest of the catalog's canonical form.
    pub digest: String,
    /// When this version was published, RFC 3339.
    pub published_at: String,
    /// `en` or `nl`, or `all` when every text is given as `{en, nl}`.
    pub locale: String,
    pub organisation: OrganisationView<T>,
    /// In the order the catalog declares them.
    pub purposes: Vec<PurposeView<T>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView<T> {
    pub name: String,
    /// Where customers reach the organisation.
    pub contact: String,
    /// Where customers reach whoever handles privacy questions.
    pub privacy_contact: String,
    /// ISO 3166-1 alpha-2, e.g. `NL`.
    pub country: String,
    pub country_name: T,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeView<T> {
    pub id: String,
    pub title: T,
    pub description: T,
    pub legal_basis: LegalBasisView<T>,
    /// The data used, in plain words.
    pub data: Vec<DataView<T>>,
    /// Who else gets the data. Empty when no one does.
    pub recipients: Vec<RecipientView<T>>,
    pub retention: PeriodView<T>,
    /// How long a yes lasts before the customer is asked again; `null` when it lasts
    /// until it is withdrawn.
    pub consent_lifetime: Option<PeriodView<T>>,
    /// Whether a Global Privacy Control signal from the browser counts as a no.
    pub gpc: bool,
    /// What the customer gets in return. Always given for `consent` and
    /// `legitimate_interest`; may be `null` otherwise.
    pub benefit: Option<T>,
    /// What happens if the customer says no (or objects). Always given for `consent` and
    /// `legitimate_interest`; may be `null` otherwise.
    pub alternative: Option<T>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LegalBasisView<T> {
    /// `consent`, `legitimate_interest`, `contract` or `legal_obligation`.
    pub code: String,
    /// The basis in plain words, e.g. "Your consent".
    pub name: T,
    /// What it means for the customer, e.g. "We do this unless you object."
    pub explanation: T,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataView<T> {
    /// The taxonomy id, e.g. `contact.email`.
    pub category: String,
    /// Plain words for it, e.g. "E-mail address".
    pub name: T,
    /// A special category (GDPR art. 9, e.g. health), or under one.
    pub sensitive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView<T> {
    pub name: String,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: String,
    pub country_name: T,
    /// Whether the data leaves the European Economic Area.
    pub outside_eea: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView<T> {
    /// As the catalog says it, e.g. `2 years`.
    pub period: String,
    /// The period in days, a month counted as 30 and a year as 365.
    pub days: i64,
    /// In a sentence, e.g. "We keep it for 2 years."
    pub text: T,
}

/// `/privacy.json`: texts in one language, or in every language with `?lang=all`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PrivacyJson {
    One(PrivacyDocument<String>),
    Every(PrivacyDocument<Localized>),
}

fn privacy_document<X: Texts>(
    version: &CatalogVersion,
    texts: &X,
    locale: String,
) -> PrivacyDocument<X::Out> {
    let catalog = &version.catalog;
    let org = &catalog.organisation;
    PrivacyDocument {
        version: version.number,
        digest: version.digest.to_string(),
        published_at: version.published_at.to_rfc3339(),
        locale,
        organisation: OrganisationView {
            name: org.name.clone(),
            contact: org.contact.clone(),
            privacy_contact: org.privacy_contact.clone(),
            country: org.country.to_string(),
            country_name: texts.text(&|l| words(l).country_name(&org.country)),
        },
        purposes: catalog
            .purposes
            .iter()
            .map(|p| purpose_view(p, catalog, texts))
            .collect(),
    }
}

pub(crate) fn purpose_view<X: Texts>(
    p: &Purpose,
    catalog: &keuze_core::Catalog,
    texts: &X,
) -> PurposeView<X::Out> {
    let period = |period: Period, text: X::Out| PeriodView {
        period: period.to_string(),
        days: period.days(),
        text,
    };
    PurposeView {
        id: p.id.to_string(),
        title: texts.text(&|l| p.title.get(l).to_owned()),
        description: texts.text(&|l| p.description.get(l).to_owned()),
        legal_basis: LegalBasisView {
            code: p.legal_basis.as_str().to_owned(),
            name: texts.text(&|l| words(l).legal_basis_name(p.legal_basis)),
            explanation: texts.text(&|l| words(l).legal_basis_explanation(p.legal_basis)),
        },
        data: p
            .categories
            .iter()
            .map(|c| DataView {
                category: c.to_string(),
                name: texts.text(&|l| catalog.taxonomy.name(c, l).unwrap_or(c.as_str()).to_owned()),
                sensitive: catalog.taxonomy.is_sensitive(c),
            })
            .collect(),
        recipients: p
            .recipients
            .iter()
            .map(|r| RecipientView {
                name: r.name.clone(),
                country: r.country.to_string(),
                country_name: texts.text(&|l| words(l).country_name(&r.country)),
                outside_eea: !in_eea(&r.country),
            })
            .collect(),
        retention: period(
            p.retention,
            texts.text(&|l| words(l).period_sentence("privacy-retention-sentence", p.retention)),
        ),
        consent_lifetime: p.consent_lifetime.map(|c| {
            period(
                c,
                texts.text(&|l| words(l).period_sentence("privacy-ask-again-sentence", c)),
            )
        }),
        gpc: p.gpc,
        benefit: p
            .benefit
            .as_ref()
            .map(|b| texts.text(&|l| b.get(l).to_owned())),
        alternative: p
            .alternative
            .as_ref()
            .map(|a| texts.text(&|l| a.get(l).to_owned())),
    }
}

// --- the pages -------------------------------------------------------------------------

/// The transparency pages need no script, no images, no forms and no outside resources.
const PUBLIC_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A link target for a contact: web addresses as they are, e-mail addresses as `mailto:`.
fn contact_href(contact: &str) -> Option<String> {
    let contact = contact.trim();
    if contact.starts_with("https://") || contact.starts_with("http://") {
        Some(contact.to_owned())
    } else if contact.contains('@') && !contact.contains(|c: char| c.is_whitespace() || c == ':') {
        Some(format!("mailto:{contact}"))
    } else {
        None
    }
}

#[derive(Template)]
#[template(path = "privacy.html", whitespace = "minimize")]
struct PrivacyPage {
    frame: Frame,
    doc: PrivacyDocument<String>,
    contact_href: Option<String>,
    privacy_contact_href: Option<String>,
    any_sensitive: bool,
    published_on: String,
}

impl PrivacyPage {
    fn new(version: &CatalogVersion, locale: &Locale) -> Self {
        let doc = privacy_document(version, &OneLanguage(locale.clone()), locale.to_string());
        let org = &doc.organisation;
        let title = words(locale).t_args("privacy-title", &[("org", org.name.as_str().into())]);
        Self {
            frame: Frame::new(locale, "/privacy", title, &org.name),
            contact_href: contact_href(&org.contact),
            privacy_contact_href: contact_href(&org.privacy_contact),
            any_sensitive: doc
                .purposes
                .iter()
                .flat_map(|p| &p.data)
                .any(|d| d.sensitive),
            published_on: words(locale).date(version.published_at),
            doc,
        }
    }
}

/// One published version on the changes page.
struct VersionView {
    number: u32,
    published_at: String,
    published_on: String,
    in_force: bool,
    first: bool,
    purposes: Vec<PurposeChanges>,
    organisation: Vec<ChangeLine>,
    categories: Vec<ChangeLine>,
}

impl VersionView {
    fn is_empty(&self) -> bool {
        self.purposes.is_empty() && self.organisation.is_empty() && self.categories.is_empty()
    }
}

struct PurposeChanges {
    title: String,
    /// Where the purpose is described now; `None` once it is no longer used.
    href: Option<String>,
    status: Cow<'static, str>,
    material: bool,
    /// For a material change: what it means for a yes given before.
    note: Option<Cow<'static, str>>,
    lines: Vec<ChangeLine>,
}

struct ChangeLine {
    text: String,
    material: bool,
}

fn change_lines(changes: &[Change], locale: &Locale) -> Vec<ChangeLine> {
    changes
        .iter()
        .filter(|c| c.is_visible_in(locale))
        .map(|c| ChangeLine {
            text: changes::explain(words(locale), c),
            material: c.is_material(),
        })
        .collect()
}

fn version_view(
    version: &CatalogVersion,
    diff: Option<&CatalogDiff>,
    current: &CatalogVersion,
    locale: &Locale,
) -> VersionView {
    let l = words(locale);
    let lang = l.code();
    let purposes = diff
        .map(|d| {
            d.purposes
                .iter()
                .filter_map(|pd| {
                    let lines = match pd.kind {
                        PurposeDiffKind::Changed => change_lines(&pd.changes, locale),
                        PurposeDiffKind::Added | PurposeDiffKind::Removed => {
                            changes::explain_purpose(l, pd)
                                .into_iter()
                                .map(|text| ChangeLine {
                                    text,
                                    material: false,
                                })
                                .collect()
                        }
                    };
                    if lines.is_empty() {
                        return None;
                    }
                    let status = match pd.kind {
                        PurposeDiffKind::Added => l.t("privacy-new-purpose"),
                        PurposeDiffKind::Removed => l.t("privacy-removed-purpose"),
                        PurposeDiffKind::Changed if pd.is_material() => l.t("privacy-important"),
                        PurposeDiffKind::Changed => l.t("privacy-changed-purpose"),
                    };
                    let now = current.catalog.purpose(pd.purpose.as_str());
                    // Only a consent purpose has a yes that we stop counting on.
                    let note = pd.is_material().then(|| match now.map(|p| p.legal_basis) {
                        Some(LegalBasis::Consent) => l.t("privacy-important-note"),
                        _ => l.t("privacy-important-note-other"),
                    });
                    Some(PurposeChanges {
                        title: pd.title.get(locale).to_owned(),
                        href: now.map(|p| format!("/privacy?lang={lang}#{}", p.id)),
                        status,
                        material: pd.is_material(),
                        note,
                        lines,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    VersionView {
        number: version.number,
        published_at: version.published_at.to_rfc3339(),
        published_on: l.date(version.published_at),
        in_force: version.number == current.number,
        first: diff.is_none(),
        purposes,
        organisation: diff
            .map(|d| change_lines(&d.organisation, locale))
            .unwrap_or_default(),
        categories: diff
            .map(|d| change_lines(&d.categories, locale))
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "privacy_changes.html", whitespace = "minimize")]
struct ChangesPage {
    frame: Frame,
    /// Newest first.
    versions: Vec<VersionView>,
}

impl ChangesPage {
    fn new(history: &keuze_core::CatalogHistory, locale: &Locale) -> Self {
        let current = history.current();
        let org = &current.catalog.organisation.name;
        let title = words(locale).t_args("privacy-changes-title", &[("org", org.as_str().into())]);
        let mut versions: Vec<VersionView> = history
            .changes()
            .map(|(v, d)| version_view(v, Some(d), current, locale))
            .collect();
        if let Some(first) = history.versions().next() {
            versions.insert(0, version_view(first, None, current, locale));
        }
        versions.reverse();
        Self {
            frame: Frame::new(locale, "/privacy/changes", title, org),
            versions,
        }
    }
}

/// The transparency page: per purpose the data, who else gets it, how long it is kept,
/// the legal basis in plain words, what the customer gets and what happens if they say no.
#[utoipa::path(
    get,
    path = "/privacy",
    tag = "transparency",
    params(
        PageQuery,
        ("Accept-Language" = Option<String>, Header, description = "Used when `lang` is not given: the best of `en` and `nl`, else `en`."),
    ),
    responses((status = 200, content_type = "text/html", body = String, description = "The page, in English or Dutch (see `Content-Language`)"))
)]
pub async fn page(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = negotiate(query.lang.as_deref(), accept_language(&headers));
    let history = state.catalog();
    let page = PrivacyPage::new(history.current(), &locale);
    html(&page, page.frame.w, PUBLIC_CSP)
}

/// The transparency page as JSON, for machines: the same content as `/privacy`.
#[utoipa::path(
    get,
    path = "/privacy.json",
    tag = "transparency",
    params(
        DocumentQuery,
        ("Accept-Language" = Option<String>, Header, description = "Used when `lang` is not given: the best of `en` and `nl`, else `en`."),
    ),
    responses((status = 200, body = PrivacyJson, description = "Texts in one language (see `locale`), or as `{en, nl}` with `lang=all`"))
)]
pub async fn document(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<DocumentQuery>,
    headers: HeaderMap,
) -> Response {
    let history = state.catalog();
    let current = history.current();
    let every = query
        .lang
        .as_deref()
        .is_some_and(|l| l.trim().eq_ignore_ascii_case("all"));
    let (body, language) = if every {
        let doc = privacy_document(current, &EveryLanguage, "all".to_owned());
        (PrivacyJson::Every(doc), "en, nl")
    } else {
        let locale = negotiate(query.lang.as_deref(), accept_language(&headers));
        let language = words(&locale).code();
        let doc = privacy_document(current, &OneLanguage(locale), language.to_owned());
        (PrivacyJson::One(doc), language)
    };
    (
        [
            (header::CONTENT_LANGUAGE, HeaderValue::from_static(language)),
            (header::VARY, HeaderValue::from_static("Accept-Language")),
        ],
        Json(body),
    )
        .into_response()
}

/// Every published catalog version, newest first, with what changed in plain words.
#[utoipa::path(
    get,
    path = "/privacy/changes",
    tag = "transparency",
    params(
        PageQuery,
        ("Accept-Language" = Option<String>, Header, description = "Used when `lang` is not given: the best of `en` and `nl`, else `en`."),
    ),
    responses((status = 200, content_type = "text/html", body = String, description = "The history, in English or Dutch (see `Content-Language`)"))
)]
pub async fn changes(
    State(state): State<AppState>,
    QueryParams(query): QueryParams<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let locale = negotiate(query.lang.as_deref(), accept_language(&headers));
    let history = state.catalog();
    let page = ChangesPage::new(&history, &locale);
    html(&page, page.frame.w, PUBLIC_CSP)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use keuze_core::catalog::parse_catalog;
    use keuze_core::{CatalogHistory, Timestamp};

    #[test]
    fn contacts_become_links_only_when_they_are_addresses() {
        assert_eq!(
            contact_href("privacy@x.example").as_deref(),
            Some("mailto:privacy@x.example")
        );
        assert_eq!(
            contact_href("https://x.example/c").as_deref(),
            Some("https://x.example/c")
        );
        assert_eq!(contact_href("javascript:alert(1)"), None);
        assert_eq!(contact_href("Call us at 030 123 4567"), None);
    }

    const SENSITIVE: &str = r#"
[organisation]
name = "Hartslag & Co"
contact = "hallo@hartslag.example"
privacy_contact = "privacy@hartslag.example"
country = "NL"

[[purposes]]
id = "training_advice"
legal_basis = "consent"
categories = ["health.activity", "contact.email"]
retention = "1 year"
title = { en = "Training advice", nl = "Trainingsadvies" }
description = { en = "We look at your heart rate to give you advice.", nl = "We kijken naar je hartslag om je advies te geven." }
benefit = { en = "Advice that fits you.", nl = "Advies dat bij je past." }
alternative = { en = "You get general advice.", nl = "Je krijgt algemeen advies." }

[[purposes.recipients]]
name = "Coach <Cloud>"
country = "US"
"#;

    fn small_history() -> CatalogHistory {
        let (catalog, _) = parse_catalog("small", SENSITIVE).unwrap();
        CatalogHistory::new(CatalogVersion {
            number: 1,
            digest: catalog.digest(),
            catalog,
            published_at: Timestamp::from_unix_millis(1_800_000_000_000),
        })
    }

    #[test]
    fn sensitive_data_is_marked_in_both_languages() {
        let history = small_history();
        for (locale, marked, note) in [
            (
                Locale::en(),
                "Heart rate and fitness data <span class=\"mark\">(sensitive)</span>",
                "Data marked (sensitive)",
            ),
            (
                Locale::nl(),
                "Hartslag en conditiegegevens <span class=\"mark\">(gevoelig)</span>",
                "Gegevens met (gevoelig)",
            ),
        ] {
            let html = PrivacyPage::new(history.current(), &locale)
                .render()
                .unwrap();
            assert!(html.contains(marked), "{html}");
            assert!(html.contains(note), "{html}");
            // Only the sensitive category is marked.
            assert_eq!(html.matches("class=\"mark\">(").count(), 1, "{html}");
            // Catalog texts are escaped.
            assert!(
                html.contains("Hartslag &#38; Co") || html.contains("Hartslag &amp; Co"),
                "{html}"
            );
            assert!(
                html.contains("Coach &#60;Cloud&#62;") || html.contains("Coach &lt;Cloud&gt;"),
                "{html}"
            );
        }
        let doc = privacy_document(history.current(), &OneLanguage(Locale::nl()), "nl".into());
        let data: Vec<(&str, bool)> = doc.purposes[0]
            .data
            .iter()
            .map(|d| (d.name.as_str(), d.sensitive))
            .collect();
        assert_eq!(
            data,
            [
                ("Hartslag en conditiegegevens", true),
                ("E-mailadres", false)
            ]
        );
        assert!(doc.purposes[0].recipients[0].outside_eea);
    }

    #[test]
    fn the_first_version_is_shown_as_first_published() {
        let history = small_history();
        let html = ChangesPage::new(&history, &Locale::en()).render().unwrap();
        assert!(html.contains("Catalog version 1 (in force now)"), "{html}");
        assert!(html.contains("The first version we published."), "{html}");
    }
}
