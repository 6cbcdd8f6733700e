//! A catalog change in words: each change as a sentence for the customer ([`explain`],
//! [`explain_purpose`], [`explain_for_customer`]), the whole diff for the catalog's author
//! ([`render`]), the diff as JSON with every change's sentence in each language
//! ([`DiffJson`]), and the country and TCF names those sentences use. keuze-core
//! classifies a change ([`keuze_core::change`]); every sentence about it is a message in
//! `locales/<language>/changes.ftl`, named here.
//!
//! Catalog texts quoted in a sentence (a title, a category's name) are taken in the
//! language of the words, so a sentence never mixes two languages.

use crate::{Lang, Value, Words};
use keuze_core::change::{
    in_eea, CatalogDiff, Change, ChangeKind, Materiality, PurposeDiff, PurposeDiffKind, Rule,
    TcfSettings,
};
use keuze_core::gvl::{MAX_PURPOSE, MAX_SPECIAL_FEATURE};
use keuze_core::{CountryCode, LegalBasis, Locale, Period, PurposeId, Text};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// The change in plain words.
pub fn explain(lang: Lang<'_>, change: &Change) -> String {
    sentence(lang, &change.what)
}

/// "What changed since you last agreed" for one changed purpose, leaving out rewordings
/// that did not change the text in the reader's language.
pub fn explain_purpose(lang: Lang<'_>, purpose: &PurposeDiff) -> Vec<String> {
    match purpose.kind {
        PurposeDiffKind::Added => vec![lang.t("change-purpose-added").into_owned()],
        PurposeDiffKind::Removed => vec![lang.t("change-purpose-removed").into_owned()],
        PurposeDiffKind::Changed => {
            let locale = lang.locale();
            purpose
                .changes
                .iter()
                .filter(|c| c.is_visible_in(&locale))
                .map(|c| explain(lang, c))
                .collect()
        }
    }
}

/// [`explain_purpose`] for the purpose `purpose` of `diff`; empty when it did not change.
pub fn explain_for_customer(lang: Lang<'_>, diff: &CatalogDiff, purpose: &str) -> Vec<String> {
    diff.purpose(purpose)
        .map(|p| explain_purpose(lang, p))
        .unwrap_or_default()
}

/// The diff for the catalog's author: per purpose a heading with its title, then one
/// line per change ending in its materiality and rule, then a count.
///
/// ```text
/// Our ads on other sites (advertising_partners): material change
/// - We now also share this data with Acme Ads (United States). That is outside the EEA. [material: recipient_outside_eea]
/// ```
pub fn render(lang: Lang<'_>, diff: &CatalogDiff) -> String {
    if diff.is_empty() {
        return format!("{}\n", lang.t("changes-none"));
    }
    let locale = lang.locale();
    let mut out = String::new();
    let mut section = |heading: String, changes: &[Change]| {
        out.push_str(&heading);
        out.push('\n');
        for c in changes {
            let materiality = match c.materiality {
                Materiality::Material => lang.t("changes-material"),
                Materiality::Minor => lang.t("changes-minor"),
            };
            out.push_str(&format!(
                "- {} [{materiality}: {}]\n",
                explain(lang, c),
                c.rule
            ));
        }
        out.push('\n');
    };
    for p in &diff.purposes {
        let status = match p.kind {
            PurposeDiffKind::Added => "added",
            PurposeDiffKind::Removed => "removed",
            PurposeDiffKind::Changed if p.is_material() => "material",
            PurposeDiffKind::Changed => "minor",
        };
        let heading = lang.t_args(
            "changes-purpose-heading",
            &[
                ("title", p.title.get(&locale).into()),
                ("purpose", p.purpose.as_str().into()),
                ("status", status.into()),
            ],
        );
        section(heading, &p.changes);
    }
    if !diff.organisation.is_empty() {
        section(
            lang.t("changes-organisation-heading").into_owned(),
            &diff.organisation,
        );
    }
    if !diff.categories.is_empty() {
        section(
            lang.t("changes-categories-heading").into_owned(),
            &diff.categories,
        );
    }
    let count = |kind: PurposeDiffKind, material: bool| {
        diff.purposes
            .iter()
            .filter(|p| {
                p.kind == kind && (kind != PurposeDiffKind::Changed || p.is_material() == material)
            })
            .count()
    };
    let material = count(PurposeDiffKind::Changed, true);
    let summary = lang.t_args(
        "changes-summary",
        &[
            ("material", material.to_string().into()),
            (
                "minor",
                count(PurposeDiffKind::Changed, false).to_string().into(),
            ),
            (
                "added",
                count(PurposeDiffKind::Added, false).to_string().into(),
            ),
            (
                "removed",
                count(PurposeDiffKind::Removed, false).to_string().into(),
            ),
        ],
    );
    out.push_str(&summary);
    out.push('\n');
    if material > 0 {
        out.push_str(&lang.t("changes-ask-again"));
        out.push('\n');
    }
    out
}

// --- the diff as JSON: every change with its sentence in each language ----------------

/// The diff as JSON, as `keuze catalog diff --format json` and `POST /v1/catalog` show
/// it: the classification, with each change's sentence in every language there are
/// words for (`"text": {"en": …, "nl": …}`).
pub struct DiffJson<'a>(pub &'a CatalogDiff);

impl Serialize for DiffJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            materially_changed: Vec<&'a PurposeId>,
            purposes: Vec<PurposeJson<'a>>,
            organisation: Vec<ChangeJson<'a>>,
            categories: Vec<ChangeJson<'a>>,
        }
        let d = self.0;
        Shown {
            materially_changed: d.materially_changed().collect(),
            purposes: d.purposes.iter().map(PurposeJson::of).collect(),
            organisation: d.organisation.iter().map(ChangeJson::of).collect(),
            categories: d.categories.iter().map(ChangeJson::of).collect(),
        }
        .serialize(s)
    }
}

#[derive(Serialize)]
struct PurposeJson<'a> {
    purpose: &'a PurposeId,
    title: &'a Text,
    kind: PurposeDiffKind,
    changes: Vec<ChangeJson<'a>>,
}

impl<'a> PurposeJson<'a> {
    fn of(p: &'a PurposeDiff) -> Self {
        Self {
            purpose: &p.purpose,
            title: &p.title,
            kind: p.kind,
            changes: p.changes.iter().map(ChangeJson::of).collect(),
        }
    }
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    #[serde(flatten)]
    what: &'a ChangeKind,
    materiality: Materiality,
    rule: Rule,
    /// The explanation in each language there are words for.
    text: BTreeMap<Locale, String>,
}

impl<'a> ChangeJson<'a> {
    fn of(c: &'a Change) -> Self {
        let words = Words::get();
        let text = words
            .languages()
            .iter()
            .map(|l| (l.clone(), explain(words.lang(l), c)))
            .collect();
        Self {
            what: &c.what,
            materiality: c.materiality,
            rule: c.rule,
            text,
        }
    }
}

// --- names -----------------------------------------------------------------------------

impl Lang<'_> {
    /// The country's name (`country-NL`), or its code for a country the words have no
    /// name for.
    pub fn country_name(&self, country: &CountryCode) -> String {
        let code = country.as_str();
        self.t_opt(&format!("country-{code}"))
            .map_or_else(|| code.to_owned(), |name| name.into_owned())
    }

    /// A TCF purpose's name; `None` for an id the TCF does not define.
    pub fn tcf_purpose_name(&self, id: u8) -> Option<String> {
        (1..=MAX_PURPOSE)
            .contains(&id)
            .then(|| self.t_args("tcf-purpose-name", &[("id", id.into())]))
    }

    /// A TCF special feature's name; `None` for an id the TCF does not define.
    pub fn tcf_special_feature_name(&self, id: u8) -> Option<String> {
        (1..=MAX_SPECIAL_FEATURE)
            .contains(&id)
            .then(|| self.t_args("tcf-special-feature-name", &[("id", id.into())]))
    }
}

// --- the sentences ---------------------------------------------------------------------

fn sentence(lang: Lang<'_>, what: &ChangeKind) -> String {
    let locale = lang.locale();
    let text = |t: &Text| t.get(&locale).to_owned();
    let country = |c: &CountryCode| lang.country_name(c);
    let outside = |c: &CountryCode| if in_eea(c) { "no" } else { "yes" };
    let period = |p: &Period| lang.period(*p);
    let from_to = |from: String, to: String| -> [(&'static str, Value<'static>); 2] {
        [("from", from.into()), ("to", to.into())]
    };
    match what {
        ChangeKind::MeaningChanged { .. } => lang.t("change-meaning").into_owned(),
        ChangeKind::LegalBasisChanged { from, to } => lang.t_args(
            "change-legal-basis",
            &[
                ("to", basis_mid_sentence(lang, *to).into()),
                ("from", basis_mid_sentence(lang, *from).into()),
                ("means", lang.legal_basis_explanation(*to).into()),
            ],
        ),
        ChangeKind::CategoryAdded { name, .. } => lang.t_args(
            "change-category-added",
            &[("name", mid_sentence(name.get(&locale)).into())],
        ),
        ChangeKind::CategoryRemoved { name, .. } => lang.t_args(
            "change-category-removed",
            &[("name", mid_sentence(name.get(&locale)).into())],
        ),
        ChangeKind::RecipientAdded { recipient: r } => lang.t_args(
            "change-recipient-added",
            &[
                ("name", r.name.as_str().into()),
                ("country", country(&r.country).into()),
                ("outside-eea", outside(&r.country).into()),
            ],
        ),
        ChangeKind::RecipientRemoved { recipient: r } => lang.t_args(
            "change-recipient-removed",
            &[
                ("name", r.name.as_str().into()),
                ("country", country(&r.country).into()),
            ],
        ),
        ChangeKind::RecipientMoved { name, from, to } => lang.t_args(
            "change-recipient-moved",
            &[
                ("name", name.as_str().into()),
                ("to", country(to).into()),
                ("from", country(from).into()),
                ("outside-eea", outside(to).into()),
            ],
        ),
        ChangeKind::RetentionLengthened { from, to } => lang.t_args(
            "change-retention-longer",
            &from_to(period(from), period(to)),
        ),
        ChangeKind::RetentionShortened { from, to } => lang.t_args(
            "change-retention-shorter",
            &from_to(period(from), period(to)),
        ),
        ChangeKind::RetentionRestated { from, to } => lang.t_args(
            "change-retention-restated",
            &from_to(period(from), period(to)),
        ),
        ChangeKind::ConsentLifetimeChanged { from, to } => match (from, to) {
            (Some(f), Some(t)) if t.days() > f.days() => {
                lang.t_args("change-lifetime-longer", &from_to(period(f), period(t)))
            }
            (Some(f), Some(t)) if t.days() < f.days() => {
                lang.t_args("change-lifetime-shorter", &from_to(period(f), period(t)))
            }
            (Some(f), Some(t)) => {
                lang.t_args("change-lifetime-restated", &from_to(period(f), period(t)))
            }
            (Some(f), None) => {
                lang.t_args("change-lifetime-unlimited", &[("from", period(f).into())])
            }
            (None, Some(t)) => lang.t_args("change-lifetime-limited", &[("to", period(t).into())]),
            (None, None) => String::new(),
        },
        ChangeKind::GpcChanged { to: true, .. } => lang.t("change-gpc-on").into_owned(),
        ChangeKind::GpcChanged { to: false, .. } => lang.t("change-gpc-off").into_owned(),
        ChangeKind::TitleReworded { from, to } => {
            if from.get(&locale) == to.get(&locale) {
                lang.t_args(
                    "change-title-elsewhere",
                    &[("languages", changed_languages(from, to).into())],
                )
            } else {
                lang.t_args("change-title", &[("from", text(from).into())])
            }
        }
        ChangeKind::DescriptionReworded { from, to } => {
            if from.get(&locale) == to.get(&locale) {
                lang.t_args(
                    "change-description-elsewhere",
                    &[("languages", changed_languages(from, to).into())],
                )
            } else {
                lang.t("change-description").into_owned()
            }
        }
        ChangeKind::BenefitReworded { from, to } => {
            told(lang, "benefit", from.as_ref(), to.as_ref())
        }
        ChangeKind::AlternativeReworded { from, to } => {
            told(lang, "alternative", from.as_ref(), to.as_ref())
        }
        ChangeKind::OrganisationRenamed { from, to } => lang.t_args(
            "change-organisation-renamed",
            &from_to(full_stop(from), full_stop(to)),
        ),
        ChangeKind::ContactChanged { to, .. } => {
            lang.t_args("change-contact", &[("to", to.as_str().into())])
        }
        ChangeKind::PrivacyContactChanged { to, .. } => {
            lang.t_args("change-privacy-contact", &[("to", to.as_str().into())])
        }
        ChangeKind::OrganisationMoved { from, to } => lang.t_args(
            "change-organisation-moved",
            &from_to(country(from), country(to)),
        ),
        ChangeKind::CategoryRenamed { from, to, .. } => {
            if from.get(&locale) == to.get(&locale) {
                lang.t_args(
                    "change-category-renamed-elsewhere",
                    &[
                        ("name", text(to).into()),
                        ("languages", changed_languages(from, to).into()),
                    ],
                )
            } else {
                lang.t_args("change-category-renamed", &from_to(text(from), text(to)))
            }
        }
        ChangeKind::CategoryReclassified {
            name, sensitive, ..
        } => {
            let name = [("name", mid_sentence(name.get(&locale)).into())];
            if *sensitive {
                lang.t_args("change-category-sensitive", &name)
            } else {
                lang.t_args("change-category-not-sensitive", &name)
            }
        }
        ChangeKind::TcfSignalsAdded {
            purposes,
            special_features,
        } => lang.t_args(
            "change-tcf-signals-added",
            &[(
                "signals",
                tcf_signals(lang, purposes, special_features).into(),
            )],
        ),
        ChangeKind::TcfSignalsRemoved {
            purposes,
            special_features,
        } => lang.t_args(
            "change-tcf-signals-removed",
            &[(
                "signals",
                tcf_signals(lang, purposes, special_features).into(),
            )],
        ),
        ChangeKind::TcfVendorsAdded { vendors } => lang.t_args(
            "change-tcf-vendors-added",
            &[("vendors", vendor_ids(lang, vendors).into())],
        ),
        ChangeKind::TcfVendorsRemoved { vendors } => lang.t_args(
            "change-tcf-vendors-removed",
            &[("vendors", vendor_ids(lang, vendors).into())],
        ),
        ChangeKind::TcfSettingsChanged { from, to } => lang.t_args(
            "change-tcf-settings",
            &from_to(tcf_settings(lang, from), tcf_settings(lang, to)),
        ),
    }
}

/// The legal basis's name as the pages write it, in the middle of a sentence.
fn basis_mid_sentence(lang: Lang<'_>, basis: LegalBasis) -> String {
    lang.t_args(
        "legal-basis-name.mid-sentence",
        &[("basis", basis.as_str().into())],
    )
}

/// A benefit or alternative (`what`) that was added, removed or reworded.
fn told(lang: Lang<'_>, what: &str, from: Option<&Text>, to: Option<&Text>) -> String {
    let locale = lang.locale();
    let what: (&str, Value<'_>) = ("what", what.into());
    match (from, to) {
        (None, _) => lang.t_args("change-told-added", &[what]),
        (_, None) => lang.t_args("change-told-removed", &[what]),
        (Some(f), Some(t)) if f.get(&locale) == t.get(&locale) => lang.t_args(
            "change-told-elsewhere",
            &[what, ("languages", changed_languages(f, t).into())],
        ),
        (Some(_), Some(_)) => lang.t_args("change-told-reworded", &[what]),
    }
}

/// TCF purposes and special features by name, mid-sentence: `create profiles for
/// personalised advertising; use precise geolocation data`; by number when unnamed.
fn tcf_signals(lang: Lang<'_>, purposes: &[u8], features: &[u8]) -> String {
    let name =
        |id: u8, name: Option<String>| name.map_or_else(|| id.to_string(), |n| mid_sentence(&n));
    let purposes = purposes
        .iter()
        .map(|&id| name(id, lang.tcf_purpose_name(id)));
    let features = features
        .iter()
        .map(|&id| name(id, lang.tcf_special_feature_name(id)));
    purposes.chain(features).collect::<Vec<_>>().join("; ")
}

/// Vendor ids as a list: at most ten, then how many more.
fn vendor_ids(lang: Lang<'_>, vendors: &[u16]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = vendors.iter().take(SHOWN).map(u16::to_string).collect();
    let shown = shown.join(", ");
    match vendors.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => lang.t_args(
            "change-tcf-vendors-more",
            &[("shown", shown.into()), ("more", more.to_string().into())],
        ),
        _ => shown,
    }
}

fn tcf_settings(lang: Lang<'_>, s: &TcfSettings) -> String {
    lang.t_args(
        "change-tcf-settings-values",
        &[
            ("cmp", s.cmp_id.to_string().into()),
            ("version", s.cmp_version.to_string().into()),
            ("country", lang.country_name(&s.publisher_country).into()),
        ],
    )
}

/// `name` ending a sentence: `Fietsen B.V.` already ends in a full stop, `Acme` gets one.
fn full_stop(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// A name in the middle of a sentence: `E-mail address` becomes `e-mail address`, but
/// `IP address` stays as it is.
fn mid_sentence(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(first), second)
            if first.is_uppercase() && !second.is_some_and(char::is_uppercase) =>
        {
            first.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_owned(),
    }
}

/// The languages whose text differs, for "in another language (nl)".
fn changed_languages(from: &Text, to: &Text) -> String {
    let mut locales: Vec<&Locale> = from.locales().chain(to.locales()).collect();
    locales.sort();
    locales.dedup();
    locales
        .into_iter()
        .filter(|l| from.get(l) != to.get(l))
        .map(Locale::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::mid_sentence;

    #[test]
    fn names_in_a_sentence() {
        assert_eq!(mid_sentence("E-mail address"), "e-mail address");
        assert_eq!(mid_sentence("IP address"), "IP address");
        assert_eq!(mid_sentence("Je naam"), "je naam");
        assert_eq!(mid_sentence("X"), "x");
    }
}
