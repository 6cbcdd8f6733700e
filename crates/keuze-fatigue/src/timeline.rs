//! The catalog's year: the sample catalog published on day 0, then minor and material
//! edits to different purposes, each published as a real catalog version (edited TOML,
//! parsed and checked like `keuze catalog publish` does) and each classified by Keuze's
//! own diff. An edit whose classification is not the one intended stops the simulation,
//! so "material" here means exactly what Keuze means by it.

use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{CatalogHistory, CatalogVersion, LegalBasis, PurposeId, Timestamp};
use serde::Serialize;

/// Day 0 of the simulated year: 2026-01-01T00:00:00Z.
pub const START: Timestamp = Timestamp::from_unix_millis(1_767_225_600_000);

const DAY_MS: i64 = 86_400_000;

/// The consent purposes material edits go to, in turn.
const MATERIAL_ORDER: [&str; 4] = [
    "personalised_recommendations",
    "newsletter",
    "advertising_partners",
    "product_reviews",
];

/// The purposes minor edits go to, in turn: the consent purposes first.
const MINOR_ORDER: [&str; 9] = [
    "newsletter",
    "personalised_recommendations",
    "advertising_partners",
    "product_reviews",
    "fraud_prevention",
    "service_analytics",
    "order_fulfilment",
    "payment_processing",
    "tax_records",
];

/// Data categories a material edit may add, the first one the purpose lacks.
const NEW_CATEGORIES: [&str; 7] = [
    "location.approximate",
    "behaviour.purchase_history",
    "behaviour.search",
    "behaviour.clicks",
    "device.browser",
    "behaviour.preferences",
    "contact.phone",
];

/// Countries of the recipients a material edit adds (all in the EEA).
const RECIPIENT_COUNTRIES: [&str; 6] = ["NL", "DE", "BE", "FR", "IE", "DK"];

/// Sentences a minor edit adds to a description, English and Dutch.
const REWORDINGS: [(&str, &str); 4] = [
    (
        "You can change your mind at any time.",
        "Je kunt altijd van gedachten veranderen.",
    ),
    (
        "Ask us if anything is unclear.",
        "Vraag het ons als iets niet duidelijk is.",
    ),
    (
        "We keep this text short on purpose.",
        "We houden deze tekst bewust kort.",
    ),
    (
        "Nothing else changes for you.",
        "Verder verandert er niets voor je.",
    ),
];

/// Whether a change matters for consent already given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Minor,
    Material,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Material => "material",
        }
    }
}

/// One published change of the year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Day of the year it was published (at 00:00 UTC), from 0.
    pub day: u32,
    /// The catalog version it created.
    pub version: u32,
    pub purpose: PurposeId,
    /// What was intended, and what Keuze's diff found.
    pub kind: Kind,
    /// The edit in words.
    pub edit: String,
    /// The rules of Keuze's diff that classified it.
    pub rules: Vec<String>,
}

impl Change {
    pub fn published_at(&self) -> Timestamp {
        START.plus_days(i64::from(self.day))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("the sample catalog is not valid TOML: {0}")]
    Toml(#[from] toml_edit::TomlError),
    #[error("catalog version {version} does not pass the checks:\n{report}")]
    Invalid { version: u32, report: String },
    #[error("catalog version {version}: {message}")]
    Edit { version: u32, message: String },
    #[error("catalog version {version} cannot follow the one before: {source}")]
    Diff {
        version: u32,
        source: keuze_core::change::DiffError,
    },
    #[error("catalog version {version}: the {intended} edit of `{purpose}` ({edit}) was classified {found} by Keuze's diff")]
    Misclassified {
        version: u32,
        purpose: String,
        edit: String,
        intended: &'static str,
        found: String,
    },
}

/// The catalog as the server holds it on each day of the year.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Version 1 only.
    first: CatalogHistory,
    /// `later[i]`: every version up to the one change `i` published.
    later: Vec<CatalogHistory>,
    pub changes: Vec<Change>,
    pub days: u32,
}

enum Edit {
    Reword(usize),
    AddCategory,
    AddRecipient(usize),
}

impl Timeline {
    /// The sample catalog on day 0, then `minor + material` changes spread evenly over
    /// `days`, the material ones evenly among them.
    pub fn build(days: u32, minor: u32, material: u32) -> Result<Self, TimelineError> {
        let n = minor + material;
        let material_slots: Vec<u32> = (0..material)
            .map(|j| ((j + 1) * n) / (material + 1))
            .collect();
        let mut source = SAMPLE_CATALOG.to_owned();
        let first = CatalogHistory::new(publish(1, &source, START)?);
        let originals = descriptions(&source)?;
        let mut history = first.clone();
        let mut later = Vec::new();
        let mut changes = Vec::new();
        let (mut minors, mut materials) = (0usize, 0usize);
        for k in 0..n {
            let version = k + 2;
            let day = u32::try_from((u64::from(k + 1) * u64::from(days)) / u64::from(n + 1))
                .unwrap_or(days);
            let (kind, purpose, edit) = if material_slots.contains(&k) {
                let purpose = cycle(&MATERIAL_ORDER, materials);
                let edit = if materials % 2 == 0 {
                    Edit::AddCategory
                } else {
                    Edit::AddRecipient(materials)
                };
                materials += 1;
                (Kind::Material, purpose, edit)
            } else {
                let purpose = cycle(&MINOR_ORDER, minors);
                minors += 1;
                (Kind::Minor, purpose, Edit::Reword(minors))
            };
            let before = history.current().catalog.clone();
            let (next, words) = apply(&source, purpose, &edit, &before, &originals)
                .map_err(|message| TimelineError::Edit { version, message })?;
            source = next;
            let v = publish(version, &source, START.plus_days(i64::from(day)))?;
            let diff = history
                .push(v)
                .map_err(|source| TimelineError::Diff { version, source })?;
            let found = classify(diff, purpose);
            let rules: Vec<String> = diff
                .purpose(purpose)
                .map(|pd| pd.changes.iter().map(|c| c.rule.to_string()).collect())
                .unwrap_or_default();
            if found.as_deref() != Some(kind.as_str()) {
                return Err(TimelineError::Misclassified {
                    version,
                    purpose: purpose.to_owned(),
                    edit: words,
                    intended: kind.as_str(),
                    found: found.unwrap_or_else(|| "something else".into()),
                });
            }
            changes.push(Change {
                day,
                version,
                purpose: PurposeId::parse(purpose).map_err(|e| TimelineError::Edit {
                    version,
                    message: e.to_string(),
                })?,
                kind,
                edit: words,
                rules,
            });
            later.push(history.clone());
        }
        Ok(Self {
            first,
            later,
            changes,
            days,
        })
    }

    /// The versions published by `at`, as the server would hold them then.
    pub fn at(&self, at: Timestamp) -> &CatalogHistory {
        let published = self
            .later
            .partition_point(|h| h.current().published_at <= at);
        published
            .checked_sub(1)
            .and_then(|i| self.later.get(i))
            .unwrap_or(&self.first)
    }

    /// Every version of the year.
    pub fn last(&self) -> &CatalogHistory {
        self.later.last().unwrap_or(&self.first)
    }

    /// The end of the simulated year.
    pub fn end(&self) -> Timestamp {
        START.plus_days(i64::from(self.days))
    }

    /// The day of the year `at` falls on, from 0.
    pub fn day_of(at: Timestamp) -> usize {
        usize::try_from((at.unix_millis() - START.unix_millis()) / DAY_MS).unwrap_or(0)
    }
}

fn cycle<'a>(list: &[&'a str], i: usize) -> &'a str {
    list.get(i % list.len().max(1)).copied().unwrap_or_default()
}

fn publish(number: u32, source: &str, at: Timestamp) -> Result<CatalogVersion, TimelineError> {
    let file = format!("catalog-v{number}.toml");
    let (catalog, _) = parse_catalog(&file, source).map_err(|e| TimelineError::Invalid {
        version: number,
        report: e.0.render(),
    })?;
    Ok(CatalogVersion {
        number,
        digest: catalog.digest(),
        catalog,
        published_at: at,
    })
}

/// `minor` or `material` if the diff changed exactly `purpose` and nothing else.
fn classify(diff: &keuze_core::change::CatalogDiff, purpose: &str) -> Option<String> {
    let [only] = diff.purposes.as_slice() else {
        return None;
    };
    if only.purpose.as_str() != purpose
        || !diff.organisation.is_empty()
        || !diff.categories.is_empty()
    {
        return None;
    }
    Some(
        if only.is_material() {
            "material"
        } else {
            "minor"
        }
        .into(),
    )
}

type Descriptions = Vec<(String, String, String)>;

/// Each purpose's description in the sample catalog: (id, en, nl).
fn descriptions(source: &str) -> Result<Descriptions, TimelineError> {
    let doc: toml_edit::DocumentMut = source.parse()?;
    let purposes = doc
        .get("purposes")
        .and_then(toml_edit::Item::as_array_of_tables);
    Ok(purposes
        .into_iter()
        .flat_map(|a| a.iter())
        .filter_map(|t| {
            let id = t.get("id")?.as_str()?;
            let d = t.get("description")?.as_inline_table()?;
            Some((
                id.to_owned(),
                d.get("en")?.as_str()?.to_owned(),
                d.get("nl")?.as_str()?.to_owned(),
            ))
        })
        .collect())
}

/// The catalog source with `edit` applied to `purpose`, and the edit in words.
fn apply(
    source: &str,
    purpose: &str,
    edit: &Edit,
    before: &keuze_core::Catalog,
    originals: &Descriptions,
) -> Result<(String, String), String> {
    let mut doc: toml_edit::DocumentMut = source.parse().map_err(|e| format!("{e}"))?;
    let table = doc
        .get_mut("purposes")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
        .and_then(|a| {
            a.iter_mut()
                .find(|t| t.get("id").and_then(toml_edit::Item::as_str) == Some(purpose))
        })
        .ok_or_else(|| format!("the catalog has no purpose `{purpose}`"))?;
    let declared = before
        .purpose(purpose)
        .ok_or_else(|| format!("the catalog has no purpose `{purpose}`"))?;
    let words = match edit {
        Edit::Reword(n) => {
            let (_, en, nl) = originals
                .iter()
                .find(|(id, _, _)| id == purpose)
                .ok_or_else(|| format!("`{purpose}` has no description"))?;
            let (add_en, add_nl) = REWORDINGS
                .get(n % REWORDINGS.len())
                .copied()
                .unwrap_or_default();
            let d = table
                .get_mut("description")
                .and_then(toml_edit::Item::as_inline_table_mut)
                .ok_or_else(|| format!("`{purpose}` has no description table"))?;
            d.insert("en", format!("{en} {add_en}").into());
            d.insert("nl", format!("{nl} {add_nl}").into());
            format!("description reworded (adds \"{add_en}\")")
        }
        Edit::AddCategory => {
            let category = NEW_CATEGORIES
                .iter()
                .find(|c| !declared.categories.iter().any(|d| d.as_str() == **c))
                .ok_or_else(|| format!("`{purpose}` already has every category to add"))?;
            table
                .get_mut("categories")
                .and_then(toml_edit::Item::as_array_mut)
                .ok_or_else(|| format!("`{purpose}` has no categories"))?
                .push(*category);
            format!("new data category `{category}`")
        }
        Edit::AddRecipient(n) => {
            if declared.legal_basis != LegalBasis::Consent {
                return Err(format!("`{purpose}` is not a consent purpose"));
            }
            let name = format!("Partner {}", n + 1);
            let country = cycle(&RECIPIENT_COUNTRIES, *n);
            let mut recipient = toml_edit::Table::new();
            recipient.insert("name", toml_edit::value(name.as_str()));
            recipient.insert("country", toml_edit::value(country));
            table
                .entry("recipients")
                .or_insert(toml_edit::Item::ArrayOfTables(
                    toml_edit::ArrayOfTables::new(),
                ))
                .as_array_of_tables_mut()
                .ok_or_else(|| format!("`{purpose}`: recipients is not a list of tables"))?
                .push(recipient);
            format!("new recipient {name} ({country})")
        }
    };
    Ok((doc.to_string(), words))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_default_year_has_six_minor_and_two_material_changes_on_different_purposes() {
        let t = Timeline::build(365, 6, 2).unwrap();
        let kinds: Vec<(u32, Kind, &str)> = t
            .changes
            .iter()
            .map(|c| (c.day, c.kind, c.purpose.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (40, Kind::Minor, "newsletter"),
                (81, Kind::Minor, "personalised_recommendations"),
                (121, Kind::Material, "personalised_recommendations"),
                (162, Kind::Minor, "advertising_partners"),
                (202, Kind::Minor, "product_reviews"),
                (243, Kind::Material, "newsletter"),
                (283, Kind::Minor, "fraud_prevention"),
                (324, Kind::Minor, "service_analytics"),
            ]
        );
        assert_eq!(t.changes[2].rules, ["category_added"]);
        assert_eq!(t.changes[5].rules, ["recipient_added"]);
        assert!(t.changes[0].rules.iter().all(|r| r == "wording"));
        assert_eq!(t.last().current().number, 9);
        assert_eq!(
            t.last().material_since("personalised_recommendations"),
            Some(4)
        );
        assert_eq!(t.last().material_since("newsletter"), Some(7));
        assert_eq!(t.last().material_since("advertising_partners"), Some(1));
    }

    #[test]
    fn the_catalog_on_a_day_is_the_one_published_by_then() {
        let t = Timeline::build(365, 6, 2).unwrap();
        assert_eq!(t.at(START).current().number, 1);
        assert_eq!(t.at(START.plus_days(40)).current().number, 2);
        assert_eq!(
            t.at(Timestamp::from_unix_millis(
                START.plus_days(40).unix_millis() - 1
            ))
            .current()
            .number,
            1
        );
        assert_eq!(t.at(START.plus_days(364)).current().number, 9);
        assert_eq!(t.at(START.plus_days(121)).versions().count(), 4);
    }

    #[test]
    fn many_changes_still_classify_as_intended() {
        let t = Timeline::build(365, 20, 8).unwrap();
        assert_eq!(t.changes.len(), 28);
        let material = t
            .changes
            .iter()
            .filter(|c| c.kind == Kind::Material)
            .count();
        assert_eq!(material, 8);
        let none = Timeline::build(365, 0, 0).unwrap();
        assert!(none.changes.is_empty());
        assert_eq!(none.at(START.plus_days(300)).current().number, 1);
    }
}
