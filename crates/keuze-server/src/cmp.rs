//! The IAB CMP API's view of a banner visitor: the `TCData` object that `__tcfapi` in
//! `/banner.js` hands to the ad-tech vendors on the page (IAB Tech Lab, "CMP API v2",
//! TCData), made from the same TC string `GET /v1/subjects/{pseudonym}/tcf` returns.
//! The script adds what only the page knows: `eventStatus`, `cmpStatus` and `listenerId`.

use keuze_app::AppState;
use keuze_core::tcf;
use keuze_core::{Locale, SubjectId};
use keuze_tcf::{IdSet, Letters, RestrictionType, TcModel, VendorSet};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Signals by id: `true` for a yes, `false` for an id that was disclosed and has none.
pub type Signals = BTreeMap<String, bool>;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TcData {
    pub tc_string: String,
    pub tcf_policy_version: u8,
    pub cmp_id: u16,
    pub cmp_version: u16,
    /// The version of the vendor list the string was made against (for `ping`).
    pub gvl_version: u16,
    /// Keuze asks every visitor as the GDPR requires.
    pub gdpr_applies: bool,
    pub is_service_specific: bool,
    pub use_non_standard_texts: bool,
    /// The name TCF v2.0 gave `useNonStandardTexts`; some vendors still read it.
    pub use_non_standard_stacks: bool,
    #[serde(rename = "publisherCC")]
    pub publisher_cc: String,
    pub purpose_one_treatment: bool,
    pub purpose: Legal,
    pub vendor: Legal,
    pub special_feature_optins: Signals,
    pub publisher: Publisher,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Legal {
    pub consents: Signals,
    /// Always empty: Keuze relies on consent only.
    pub legitimate_interests: Signals,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Publisher {
    pub consents: Signals,
    pub legitimate_interests: Signals,
    pub custom_purpose: Legal,
    /// Purpose id → vendor id → restriction type (0 not allowed, 1 require consent,
    /// 2 require legitimate interest).
    pub restrictions: BTreeMap<String, BTreeMap<String, u8>>,
}

fn ids(ids: impl Iterator<Item = u16>, yes: impl Fn(u16) -> bool) -> Signals {
    ids.map(|id| (id.to_string(), yes(id))).collect()
}

fn small(set: IdSet, all: impl Iterator<Item = u8>) -> Signals {
    ids(all.map(u16::from), |id| set.contains(id as u8))
}

fn vendors(set: &VendorSet, disclosed: Option<&VendorSet>) -> Signals {
    match disclosed {
        Some(d) => ids(d.iter(), |id| set.contains(id)),
        None => ids(set.iter(), |_| true),
    }
}

/// The `TCData` of a model (without the page's statuses).
pub fn of_model(m: &TcModel, tc_string: String, gvl: &keuze_tcf::Gvl) -> TcData {
    let disclosed = m.disclosed_vendors.as_ref();
    let mut restrictions: BTreeMap<String, BTreeMap<String, u8>> = BTreeMap::new();
    for r in &m.publisher_restrictions {
        if r.restriction_type == RestrictionType::Undefined {
            continue;
        }
        let by_vendor = restrictions.entry(r.purpose_id.to_string()).or_default();
        for v in r.vendors.iter() {
            by_vendor.insert(v.to_string(), r.restriction_type as u8);
        }
    }
    let publisher = m.publisher_tc.clone().unwrap_or_default();
    let custom = 1..=publisher.num_custom_purposes;
    TcData {
        tc_string,
        tcf_policy_version: m.policy_version,
        cmp_id: m.cmp_id,
        cmp_version: m.cmp_version,
        gvl_version: m.vendor_list_version,
        gdpr_applies: true,
        is_service_specific: m.is_service_specific,
        use_non_standard_texts: m.use_non_standard_texts,
        use_non_standard_stacks: m.use_non_standard_texts,
        publisher_cc: m.publisher_country_code.to_string(),
        purpose_one_treatment: m.purpose_one_treatment,
        purpose: Legal {
            consents: small(m.purpose_consents, gvl.purposes.keys().copied()),
            legitimate_interests: small(
                m.purpose_legitimate_interests,
                gvl.purposes.keys().copied(),
            ),
        },
        vendor: Legal {
            consents: vendors(&m.vendor_consents, disclosed),
            legitimate_interests: vendors(&m.vendor_legitimate_interests, disclosed),
        },
        special_feature_optins: small(
            m.special_feature_opt_ins,
            gvl.special_features.keys().copied(),
        ),
        publisher: Publisher {
            consents: small(publisher.consents, gvl.purposes.keys().copied()),
            legitimate_interests: small(
                publisher.legitimate_interests,
                gvl.purposes.keys().copied(),
            ),
            custom_purpose: Legal {
                consents: small(publisher.custom_consents, custom.clone()),
                legitimate_interests: small(publisher.custom_legitimate_interests, custom),
            },
            restrictions,
        },
    }
}

/// The visitor's `TCData`, when the server holds a vendor list and the catalog in force
/// has a `[tcf]` table; `None` otherwise (the banner then offers no `__tcfapi`).
pub fn for_visitor(state: &AppState, subject: &SubjectId, locale: &Locale) -> Option<TcData> {
    let gvl = state.vendor_list()?;
    let history = state.catalog();
    history.current().catalog.tcf.as_ref()?;
    let language = Letters::new(locale.as_str().get(..2)?);
    let made = {
        let index = state
            .index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tcf::for_subject(&history, &index, subject, gvl, language, state.now())
    };
    match made {
        Ok(made) => Some(of_model(&made.model, made.tc_string, gvl)),
        Err(e) => {
            tracing::warn!(error = %e, "no TC string for the banner");
            None
        }
    }
}
