//! The IAB Transparency and Consent Framework seen from the catalog: which catalog
//! vendors a Global Vendor List knows, and the TC string of one subject's current
//! choices. What the IAB's lists define (purpose names, vendor problems) is in
//! [`crate::gvl`], which the catalog parser uses without depending on decisions.
//!
//! Keuze is consent-only: a TC string it makes carries the TCF purposes and special
//! features of the consent purposes the customer has granted, and never a legitimate
//! interest signal (purpose and vendor legitimate interests stay empty).

use crate::catalog::{Catalog, Tcf};
use crate::decision::{Decision, LastChoice};
use crate::ids::PurposeId;
use crate::index::DecisionIndex;
use crate::published::CatalogHistory;
use crate::subject::SubjectId;
use crate::time::Timestamp;
use keuze_tcf::{EncodeError, IdSet, Letters, TcModel, VendorSet};

/// The vendor list type, so that users of this module need not name the codec.
pub use keuze_tcf::Gvl;

use crate::gvl::{vendor_problem, VendorProblem};

/// Kept at this path for other crates while they move to [`crate::gvl`].
pub use crate::gvl::{purpose_name, special_feature_name, SAMPLE_VENDOR_LIST};

/// The catalog's vendors that `gvl` does not list, or lists as deleted.
pub fn vendor_problems(tcf: &Tcf, gvl: &Gvl) -> Vec<VendorProblem> {
    tcf.vendors
        .iter()
        .filter_map(|&id| vendor_problem(id, gvl))
        .collect()
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
