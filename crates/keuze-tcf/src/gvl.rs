//! The Global Vendor List (format version 3) and validation of a model against it.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{RestrictionType, TcModel, VendorSet};

/// A GVL that could not be read: where, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("vendor list{}: {problem}", if path.is_empty() { String::new() } else { format!(", at {path}") })]
pub struct GvlError {
    pub path: String,
    pub problem: String,
}

/// A purpose, special purpose, feature or special feature as the GVL names it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Declared {
    pub id: u8,
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A vendor's declarations.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Vendor {
    pub id: u16,
    pub name: String,
    #[serde(default)]
    pub purposes: Vec<u8>,
    #[serde(default)]
    pub leg_int_purposes: Vec<u8>,
    #[serde(default)]
    pub flexible_purposes: Vec<u8>,
    #[serde(default)]
    pub special_purposes: Vec<u8>,
    #[serde(default)]
    pub features: Vec<u8>,
    #[serde(default)]
    pub special_features: Vec<u8>,
    #[serde(default)]
    pub deleted_date: Option<String>,
}

impl Vendor {
    pub fn is_deleted(&self) -> bool {
        self.deleted_date.is_some()
    }
}

/// A Global Vendor List of format version 3 (TCF v2.2 and later).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Gvl {
    pub gvl_specification_version: u8,
    pub vendor_list_version: u16,
    pub tcf_policy_version: u8,
    #[serde(default)]
    pub last_updated: String,
    pub purposes: BTreeMap<u8, Declared>,
    #[serde(default)]
    pub special_purposes: BTreeMap<u8, Declared>,
    #[serde(default)]
    pub features: BTreeMap<u8, Declared>,
    #[serde(default)]
    pub special_features: BTreeMap<u8, Declared>,
    pub vendors: BTreeMap<u16, Vendor>,
}

impl Gvl {
    /// Reads a vendor list's JSON. Only format version 3 is read; every key must match
    /// the id inside its entry.
    pub fn from_json(json: &str) -> Result<Self, GvlError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let gvl: Gvl = serde_path_to_error::deserialize(de).map_err(|e| GvlError {
            path: e.path().to_string().trim_start_matches('.').to_string(),
            problem: e.into_inner().to_string(),
        })?;
        if gvl.gvl_specification_version != 3 {
            return Err(GvlError {
                path: "gvlSpecificationVersion".into(),
                problem: format!(
                    "format version {} is not read; this reads format version 3 (TCF v2.2 and later, vendor-list.json of /v3/)",
                    gvl.gvl_specification_version
                ),
            });
        }
        for (key, vendor) in &gvl.vendors {
            if *key != vendor.id {
                return Err(GvlError {
                    path: format!("vendors.{key}.id"),
                    problem: format!("the entry under key {key} says id {}", vendor.id),
                });
            }
        }
        for (section, map) in [
            ("purposes", &gvl.purposes),
            ("specialPurposes", &gvl.special_purposes),
            ("features", &gvl.features),
            ("specialFeatures", &gvl.special_features),
        ] {
            for (key, item) in map {
                if *key != item.id {
                    return Err(GvlError {
                        path: format!("{section}.{key}.id"),
                        problem: format!("the entry under key {key} says id {}", item.id),
                    });
                }
            }
        }
        Ok(gvl)
    }

    /// A vendor that is on the list and not deleted.
    pub fn active_vendor(&self, id: u16) -> Option<&Vendor> {
        self.vendors.get(&id).filter(|v| !v.is_deleted())
    }
}

/// One way a model departs from the vendor list or from policy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The field, as the specification names it.
    pub field: String,
    pub problem: String,
}

/// Purposes that may never rest on legitimate interest from policy 4 on.
const CONSENT_ONLY_PURPOSES: [u8; 5] = [1, 3, 4, 5, 6];

/// Checks a model against a vendor list and the TCF policy. An empty result means every
/// id is one the list declares, every vendor signal is one the vendor can receive, and
/// the string follows policy 4 and later. Decoding does not call this: a string from an
/// older list still decodes.
pub fn validate(model: &TcModel, gvl: &Gvl) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut find = |field: &str, problem: String| {
        out.push(Finding {
            field: field.to_string(),
            problem,
        })
    };
    if model.vendor_list_version != gvl.vendor_list_version {
        find(
            "VendorListVersion",
            format!(
                "the string names vendor list {} but is checked against {}",
                model.vendor_list_version, gvl.vendor_list_version
            ),
        );
    }
    if model.policy_version != gvl.tcf_policy_version {
        find(
            "TcfPolicyVersion",
            format!(
                "the string says policy {} but the vendor list is of policy {}",
                model.policy_version, gvl.tcf_policy_version
            ),
        );
    }
    for (field, at) in [
        ("Created", model.created),
        ("LastUpdated", model.last_updated),
    ] {
        if model.policy_version >= 4 && !at.is_midnight_utc() {
            find(
                field,
                format!(
                    "{at} is not at day precision (00:00:00 UTC), as policy 4 and later require"
                ),
            );
        }
    }
    if model.last_updated < model.created {
        find(
            "LastUpdated",
            format!("{} is before Created {}", model.last_updated, model.created),
        );
    }
    for id in model.purpose_consents.iter() {
        if !gvl.purposes.contains_key(&id) {
            find(
                "PurposesConsent",
                format!("purpose {id} is not on the vendor list"),
            );
        }
    }
    for id in model.purpose_legitimate_interests.iter() {
        if !gvl.purposes.contains_key(&id) {
            find(
                "PurposesLITransparency",
                format!("purpose {id} is not on the vendor list"),
            );
        } else if model.policy_version >= 4 && CONSENT_ONLY_PURPOSES.contains(&id) {
            find(
                "PurposesLITransparency",
                format!("purpose {id} may only rest on consent from policy 4 on, never on legitimate interest"),
            );
        }
    }
    for id in model.special_feature_opt_ins.iter() {
        if !gvl.special_features.contains_key(&id) {
            find(
                "SpecialFeatureOptIns",
                format!("special feature {id} is not on the vendor list"),
            );
        }
    }
    if model.purpose_one_treatment && !model.is_service_specific {
        find(
            "PurposeOneTreatment",
            "is set in a globally-scoped string, which makes the string invalid".into(),
        );
    }
    let sections: [(&str, Option<&VendorSet>); 4] = [
        ("VendorConsents", Some(&model.vendor_consents)),
        (
            "VendorLegitimateInterests",
            Some(&model.vendor_legitimate_interests),
        ),
        ("DisclosedVendors", model.disclosed_vendors.as_ref()),
        ("AllowedVendors", model.allowed_vendors.as_ref()),
    ];
    for (field, set) in sections {
        for id in set.into_iter().flat_map(|s| s.iter()) {
            match gvl.vendors.get(&id) {
                None => find(field, format!("vendor {id} is not on the vendor list")),
                Some(v) if v.is_deleted() => find(
                    field,
                    format!("vendor {id} ({}) was deleted from the list", v.name),
                ),
                Some(_) => {}
            }
        }
    }
    for id in model.vendor_consents.iter() {
        if let Some(v) = gvl.active_vendor(id) {
            if v.purposes.is_empty() && v.flexible_purposes.is_empty() {
                find(
                    "VendorConsents",
                    format!("vendor {id} ({}) declares no purpose on consent, so it cannot receive consent", v.name),
                );
            }
        }
    }
    for id in model.vendor_legitimate_interests.iter() {
        if let Some(v) = gvl.active_vendor(id) {
            if v.leg_int_purposes.is_empty()
                && v.flexible_purposes.is_empty()
                && v.special_purposes.is_empty()
            {
                find(
                    "VendorLegitimateInterests",
                    format!(
                        "vendor {id} ({}) declares no purpose on legitimate interest",
                        v.name
                    ),
                );
            }
        }
    }
    match &model.disclosed_vendors {
        None => find(
            "DisclosedVendors",
            "the segment is missing: TCF v2.3 requires every string to list the vendors disclosed to the user".into(),
        ),
        Some(disclosed) => {
            for (field, set) in [
                ("VendorConsents", &model.vendor_consents),
                ("VendorLegitimateInterests", &model.vendor_legitimate_interests),
            ] {
                for id in set.iter().filter(|id| !disclosed.contains(*id)) {
                    find(field, format!("vendor {id} has a signal but was not disclosed to the user"));
                }
            }
        }
    }
    if model.is_service_specific && model.allowed_vendors.is_some() {
        find(
            "AllowedVendors",
            "the segment is for globally-scoped strings; a service-specific string must not carry it".into(),
        );
    }
    let mut seen: BTreeMap<(u8, u16), RestrictionType> = BTreeMap::new();
    for r in &model.publisher_restrictions {
        if !gvl.purposes.contains_key(&r.purpose_id) {
            find(
                "PurposeId",
                format!(
                    "restricted purpose {} is not on the vendor list",
                    r.purpose_id
                ),
            );
        }
        if r.restriction_type == RestrictionType::Undefined {
            find(
                "RestrictionType",
                format!(
                    "type 3 on purpose {} is reserved, not a restriction",
                    r.purpose_id
                ),
            );
        }
        for id in r.vendors.iter() {
            if let Some(previous) = seen.insert((r.purpose_id, id), r.restriction_type) {
                find(
                    "PubRestrictionEntry",
                    format!(
                        "vendor {id} has two restrictions on purpose {} ({previous:?} and {:?}); a vendor has at most one per purpose",
                        r.purpose_id, r.restriction_type
                    ),
                );
            }
            match gvl.active_vendor(id) {
                None => find(
                    "PubRestrictionEntry",
                    format!("vendor {id} is not an active vendor on the list"),
                ),
                Some(v) => {
                    let switches = matches!(
                        r.restriction_type,
                        RestrictionType::RequireConsent
                            | RestrictionType::RequireLegitimateInterest
                    );
                    if switches && !v.flexible_purposes.contains(&r.purpose_id) {
                        find(
                            "PubRestrictionEntry",
                            format!(
                                "vendor {id} ({}) does not declare purpose {} as flexible, so its legal basis cannot be switched",
                                v.name, r.purpose_id
                            ),
                        );
                    }
                }
            }
        }
    }
    out
}
