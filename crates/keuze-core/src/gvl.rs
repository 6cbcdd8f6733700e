//! What the IAB's TCF lists define, as Keuze knows them: the TCF purposes and special
//! features (ids, and names as the IAB writes them), the sample Global Vendor List, and why a
//! vendor list does not let a vendor receive signals. Depends on no other module of the
//! crate but ids, so the catalog parser and the TC string maker can both use it.

use keuze_tcf::Gvl;
use std::fmt;

/// A sample Global Vendor List (format 3, version 7, policy 4, 376 vendors): what the
/// sample catalog's vendors are checked against when no other list is given, so that
/// the sample serves TC strings out of the box. Not for production: the IAB publishes
/// the current list every week.
pub use keuze_tcf::SAMPLE_VENDOR_LIST;

/// The TCF purposes (policy 4 and later), by id, as the IAB names them.
const PURPOSES: [&str; 11] = [
    "Store and/or access information on a device",
    "Use limited data to select advertising",
    "Create profiles for personalised advertising",
    "Use profiles to select personalised advertising",
    "Create profiles to personalise content",
    "Use profiles to select personalised content",
    "Measure advertising performance",
    "Measure content performance",
    "Understand audiences through statistics or combinations of data from different sources",
    "Develop and improve services",
    "Use limited data to select content",
];

/// The TCF special features, by id, as the IAB names them.
const SPECIAL_FEATURES: [&str; 2] = [
    "Use precise geolocation data",
    "Actively scan device characteristics for identification",
];

/// The highest TCF purpose id (TCF v2.2 and later).
pub const MAX_PURPOSE: u8 = PURPOSES.len() as u8;
/// The highest TCF special feature id.
pub const MAX_SPECIAL_FEATURE: u8 = SPECIAL_FEATURES.len() as u8;

fn pick(names: &[&'static str], id: u8) -> Option<&'static str> {
    names.get(usize::from(id).checked_sub(1)?).copied()
}

/// A TCF purpose's name as the IAB writes it (English). Customers read it from the
/// words (`tcf-purpose-name`).
pub fn purpose_name(id: u8) -> Option<&'static str> {
    pick(&PURPOSES, id)
}

/// A TCF special feature's name as the IAB writes it (English).
pub fn special_feature_name(id: u8) -> Option<&'static str> {
    pick(&SPECIAL_FEATURES, id)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_by_id() {
        assert_eq!(
            purpose_name(1),
            Some("Store and/or access information on a device")
        );
        assert_eq!(purpose_name(0), None);
        assert_eq!(purpose_name(12), None);
        assert_eq!(
            special_feature_name(2),
            Some("Actively scan device characteristics for identification")
        );
        assert_eq!(special_feature_name(3), None);
    }

    /// The built-in English names are the IAB's, as the sample vendor list writes them.
    #[test]
    fn english_names_are_the_vendor_lists() {
        let gvl = Gvl::from_json(SAMPLE_VENDOR_LIST).unwrap_or_else(|e| panic!("{e}"));
        for (id, p) in &gvl.purposes {
            assert_eq!(purpose_name(*id), Some(p.name.as_str()));
        }
        for (id, f) in &gvl.special_features {
            assert_eq!(special_feature_name(*id), Some(f.name.as_str()));
        }
        assert_eq!(gvl.purposes.len(), usize::from(MAX_PURPOSE));
        assert_eq!(gvl.special_features.len(), usize::from(MAX_SPECIAL_FEATURE));
    }
}
