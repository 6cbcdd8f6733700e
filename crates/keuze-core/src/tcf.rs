//! The IAB Transparency and Consent Framework seen from the catalog: the names of its
//! purposes and special features, which catalog vendors a Global Vendor List knows, and
//! the TC string of one subject's current choices.
//!
//! Keuze is consent-only: a TC string it makes carries the TCF purposes and special
//! features of the consent purposes the customer has granted, and never a legitimate
//! interest signal (purpose and vendor legitimate interests stay empty).

use crate::catalog::{Catalog, Tcf};
use crate::decision::{Decision, LastChoice};
use crate::ids::{Locale, PurposeId};
use crate::index::DecisionIndex;
use crate::published::CatalogHistory;
use crate::subject::SubjectId;
use crate::time::Timestamp;
use keuze_tcf::{EncodeError, IdSet, Letters, TcModel, VendorSet};

/// The vendor list type, so that users of this module need not name the codec.
pub use keuze_tcf::Gvl;
use std::fmt;

/// A sample Global Vendor List (format 3, version 7, policy 4, 376 vendors): what the
/// sample catalog's vendors are checked against when no other list is given, so that
/// the sample serves TC strings out of the box. Not for production: the IAB publishes
/// the current list every week.
pub const SAMPLE_VENDOR_LIST: &str = include_str!("../../keuze-tcf/tests/data/vendor-list-v7.json");

/// The TCF purposes (policy 4 and later), by id: English, Dutch.
const PURPOSES: [(&str, &str); 11] = [
    (
        "Store and/or access information on a device",
        "Informatie op een apparaat opslaan en/of lezen",
    ),
    (
        "Use limited data to select advertising",
        "Beperkte gegevens gebruiken om advertenties te kiezen",
    ),
    (
        "Create profiles for personalised advertising",
        "Profielen maken voor advertenties op maat",
    ),
    (
        "Use profiles to select personalised advertising",
        "Profielen gebruiken om advertenties op maat te kiezen",
    ),
    (
        "Create profiles to personalise content",
        "Profielen maken om content op maat te maken",
    ),
    (
        "Use profiles to select personalised content",
        "Profielen gebruiken om content op maat te kiezen",
    ),
    (
        "Measure advertising performance",
        "Meten hoe advertenties presteren",
    ),
    ("Measure content performance", "Meten hoe content presteert"),
    (
        "Understand audiences through statistics or combinations of data from different sources",
        "Doelgroepen begrijpen met statistieken of combinaties van gegevens uit verschillende bronnen",
    ),
    (
        "Develop and improve services",
        "Diensten ontwikkelen en verbeteren",
    ),
    (
        "Use limited data to select content",
        "Beperkte gegevens gebruiken om content te kiezen",
    ),
];

/// The TCF special features, by id: English, Dutch.
const SPECIAL_FEATURES: [(&str, &str); 2] = [
    (
        "Use precise geolocation data",
        "Precieze locatiegegevens gebruiken",
    ),
    (
        "Actively scan device characteristics for identification",
        "Apparaatkenmerken actief scannen om je te herkennen",
    ),
];

/// The highest TCF purpose id (TCF v2.2 and later).
pub const MAX_PURPOSE: u8 = PURPOSES.len() as u8;
/// The highest TCF special feature id.
pub const MAX_SPECIAL_FEATURE: u8 = SPECIAL_FEATURES.len() as u8;

fn pick(names: &[(&'static str, &'static str)], id: u8, locale: &Locale) -> Option<&'static str> {
    let (en, nl) = names.get(usize::from(id).checked_sub(1)?)?;
    Some(if locale.as_str() == "nl" { nl } else { en })
}

/// A TCF purpose's name in `locale` (Dutch for `nl`, English otherwise).
pub fn purpose_name(id: u8, locale: &Locale) -> Option<&'static str> {
    pick(&PURPOSES, id, locale)
}

/// A TCF special feature's name in `locale` (Dutch for `nl`, English otherwise).
pub fn special_feature_name(id: u8, locale: &Locale) -> Option<&'static str> {
    pick(&SPECIAL_FEATURES, id, locale)
}

/// A catalog vendor a Global Vendor List does not let receive signals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorProblem {
    NotOnList {
        vendor: u16,
        list_version: u16,
    },
    Deleted {
        vendor: u16,
        name: String,
        /// As the list writes it.
        deleted: String,
        list_version: u16,
    },
}

impl VendorProblem {
    pub fn vendor(&self) -> u16 {
        match self {
            Self::NotOnList { vendor, .. } | Self::Deleted { vendor, .. } => *vendor,
        }
    }
}

impl fmt::Display for VendorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotOnList {
                vendor,
                list_version,
            } => write!(f, "vendor {vendor} is not on the vendor list (version {list_version})"),
            Self::Deleted {
                vendor,
                name,
                deleted,
                list_version,
            } => write!(
                f,
                "vendor {vendor} ({name}) was deleted from the vendor list on {deleted} (version {list_version})"
            ),
        }
    }
}

/// The catalog's vendors that `gvl` does not list, or lists as deleted.
pub fn vendor_problems(tcf: &Tcf, gvl: &Gvl) -> Vec<VendorProblem> {
    tcf.vendors
        .iter()
        .filter_map(|&id| vendor_problem(id, gvl))
        .collect()
}

/// Why `gvl` does not let vendor `id` receive signals, if it does not.
pub fn vendor_problem(id: u16, gvl: &Gvl) -> Option<VendorProblem> {
    match gvl.vendors.get(&id) {
        None => Some(VendorProblem::NotOnList {
            vendor: id,
            list_version: gvl.vendor_list_version,
        }),
        Some(v) => v.deleted_date.as_ref().map(|d| VendorProblem::Deleted {
            vendor: id,
            name: v.name.clone(),
            deleted: d.clone(),
            list_version: gvl.vendor_list_version,
        }),
    }
}

/// Why there is no TC string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TcfError {
    #[error("the catalog in force has no [tcf] table")]
    NoTcfTable,
    #[error("the TC string cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
}

/// One mapped purpose, and the decision that put its TCF signals in the string or left
/// them out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    pub purpose: PurposeId,
    pub tcf_purposes: Vec<u8>,
    pub tcf_special_features: Vec<u8>,
    pub decision: Decision,
    /// The subject's last choice for the purpose, if any.
    pub last: Option<LastChoice>,
}

/// A subject's TC string and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectTc {
    pub model: TcModel,
    pub tc_string: String,
    /// Every purpose of the catalog in force that maps to TCF, in catalog order.
    pub based_on: Vec<Basis>,
}

/// The TC string of `subject`'s current choices, decided exactly as every other decision
/// is (expiry, re-consent after a material change, withdrawal, erasure).
///
/// - Purpose consents and special feature opt-ins: those of the mapped purposes the
///   subject is allowed for now, as far as `gvl` declares them.
/// - Disclosed vendors: the catalog's vendors that are active on `gvl`.
/// - Vendor consents: the disclosed vendors that declare (as consent or flexible purpose)
///   a consented purpose, or an opted-in special feature.
/// - Created and last updated: the UTC day of the subject's latest choice for a mapped
///   purpose, or `now`'s day if there is none.
/// - Service-specific, CMP and publisher country from the catalog, vendor list and
///   policy version from `gvl`, no legitimate interest signals.
/// - Consent language: `language`, or English (the language every catalog text has).
pub fn for_subject(
    history: &CatalogHistory,
    index: &DecisionIndex,
    subject: &SubjectId,
    gvl: &Gvl,
    language: Option<Letters>,
    now: Timestamp,
) -> Result<SubjectTc, TcfError> {
    let catalog = &history.current().catalog;
    let based_on: Vec<Basis> = catalog
        .tcf_mapped()
        .map(|p| Basis {
            purpose: p.id.clone(),
            tcf_purposes: p.tcf_purposes.clone(),
            tcf_special_features: p.tcf_special_features.clone(),
            decision: index.decide(history, subject, p.id.as_str(), &[], now),
            last: index.last(subject, p.id.as_str()),
        })
        .collect();
    let model = model(catalog, &based_on, gvl, language, now)?;
    let tc_string = model.encode()?;
    Ok(SubjectTc {
        model,
        tc_string,
        based_on,
    })
}

/// The model of [`for_subject`], from the decisions already made.
pub fn model(
    catalog: &Catalog,
    based_on: &[Basis],
    gvl: &Gvl,
    language: Option<Letters>,
    now: Timestamp,
) -> Result<TcModel, TcfError> {
    let tcf = catalog.tcf.as_ref().ok_or(TcfError::NoTcfTable)?;
    let mut purposes = IdSet::new();
    let mut features = IdSet::new();
    for b in based_on.iter().filter(|b| b.decision.allowed) {
        for &id in b
            .tcf_purposes
            .iter()
            .filter(|id| gvl.purposes.contains_key(id))
        {
            purposes.insert(id);
        }
        let declared = |id: &&u8| gvl.special_features.contains_key(id);
        for &id in b.tcf_special_features.iter().filter(declared) {
            features.insert(id);
        }
    }
    let disclosed: VendorSet = tcf
        .vendors
        .iter()
        .copied()
        .filter(|id| gvl.active_vendor(*id).is_some())
        .collect();
    let consents: VendorSet = disclosed
        .iter()
        .filter(|&id| {
            gvl.active_vendor(id).is_some_and(|v| {
                let on_consent = v.purposes.iter().chain(&v.flexible_purposes);
                on_consent.clone().any(|p| purposes.contains(*p))
                    || (on_consent.count() > 0
                        && v.special_features.iter().any(|f| features.contains(*f)))
            })
        })
        .collect();
    let day = based_on
        .iter()
        .filter_map(|b| b.last.map(|l| l.recorded_at))
        .max()
        .unwrap_or(now)
        .utc_date();
    // `new` writes English.
    let mut model = TcModel::new(tcf.cmp_id, tcf.cmp_version, day);
    if let Some(language) = language {
        model.consent_language = language;
    }
    model.vendor_list_version = gvl.vendor_list_version;
    model.policy_version = gvl.tcf_policy_version;
    model.is_service_specific = true;
    if let Some(country) = Letters::new(tcf.publisher_country.as_str()) {
        model.publisher_country_code = country;
    }
    model.purpose_consents = purposes;
    model.special_feature_opt_ins = features;
    model.vendor_consents = consents;
    model.disclosed_vendors = Some(disclosed);
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_both_languages() {
        assert_eq!(
            purpose_name(1, &Locale::en()),
            Some("Store and/or access information on a device")
        );
        assert_eq!(
            purpose_name(11, &Locale::nl()),
            Some("Beperkte gegevens gebruiken om content te kiezen")
        );
        assert_eq!(purpose_name(0, &Locale::en()), None);
        assert_eq!(purpose_name(12, &Locale::en()), None);
        assert_eq!(
            special_feature_name(2, &Locale::en()),
            Some("Actively scan device characteristics for identification")
        );
        assert_eq!(special_feature_name(3, &Locale::en()), None);
    }

    /// The built-in English names are the IAB's, as the sample vendor list writes them.
    #[test]
    fn english_names_are_the_vendor_lists() {
        let gvl = Gvl::from_json(SAMPLE_VENDOR_LIST).unwrap_or_else(|e| panic!("{e}"));
        for (id, p) in &gvl.purposes {
            assert_eq!(purpose_name(*id, &Locale::en()), Some(p.name.as_str()));
        }
        for (id, f) in &gvl.special_features {
            assert_eq!(
                special_feature_name(*id, &Locale::en()),
                Some(f.name.as_str())
            );
        }
        assert_eq!(gvl.purposes.len(), usize::from(MAX_PURPOSE));
        assert_eq!(gvl.special_features.len(), usize::from(MAX_SPECIAL_FEATURE));
    }
}
