//! Reading the Global Vendor List (format version 3) and validating models against it.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use keuze_tcf::{validate, Gvl, PublisherRestriction, RestrictionType, TcModel, VendorSet};

const SAMPLE: &str = keuze_tcf::SAMPLE_VENDOR_LIST;

fn sample() -> Gvl {
    Gvl::from_json(SAMPLE).unwrap()
}

/// A model that validates: consent from vendors that declare consent purposes, all of
/// them disclosed, at day precision, against list 7 of policy 4.
fn clean(gvl: &Gvl) -> TcModel {
    let mut m = TcModel::new(300, 1, time::macros::date!(2026 - 11 - 29));
    m.vendor_list_version = gvl.vendor_list_version;
    m.policy_version = gvl.tcf_policy_version;
    m.purpose_consents = [1, 2, 3, 4, 7].into_iter().collect();
    m.special_feature_opt_ins = [1].into_iter().collect();
    m.vendor_consents = [1, 2, 8].into_iter().collect();
    m.disclosed_vendors = Some([1, 2, 8, 20].into_iter().collect());
    m.publisher_restrictions.push(PublisherRestriction {
        purpose_id: 2,
        restriction_type: RestrictionType::RequireConsent,
        vendors: [8, 20].into_iter().collect(),
    });
    m
}

#[test]
fn the_sample_list_reads_whole() {
    let gvl = sample();
    assert_eq!((gvl.vendor_list_version, gvl.tcf_policy_version), (7, 4));
    assert_eq!(gvl.vendors.len(), 376);
    assert_eq!(gvl.purposes.len(), 11);
    assert_eq!(gvl.special_features.len(), 2);
    let v = &gvl.vendors[&1];
    assert_eq!(v.name, "Exponential Interactive, Inc d/b/a VDX.tv");
    assert_eq!(v.purposes, [1, 2, 3, 4, 7, 8, 9, 10]);
    assert_eq!(v.flexible_purposes, [7, 8, 9, 10]);
    assert!(
        validate(&clean(&gvl), &gvl).is_empty(),
        "{:?}",
        validate(&clean(&gvl), &gvl)
    );
}

#[test]
fn a_bad_list_is_refused_with_where_and_what() {
    let e = Gvl::from_json(&SAMPLE.replacen(
        "\"gvlSpecificationVersion\": 3",
        "\"gvlSpecificationVersion\": 2",
        1,
    ))
    .unwrap_err();
    assert_eq!(e.path, "gvlSpecificationVersion");
    assert!(
        e.to_string().contains("format version 2 is not read"),
        "{e}"
    );
    let e = Gvl::from_json(&SAMPLE.replacen(
        "\"id\": 1,\n      \"name\": \"Exponential",
        "\"id\": 99,\n      \"name\": \"Exponential",
        1,
    ))
    .unwrap_err();
    assert_eq!(e.path, "vendors.1.id", "{e}");
    let e = Gvl::from_json(r#"{"gvlSpecificationVersion": 3, "vendorListVersion": 1, "tcfPolicyVersion": 4, "purposes": {}, "vendors": {"7": {"id": 7, "name": "X", "purposes": ["one"]}}}"#)
        .unwrap_err();
    assert_eq!(e.path, "vendors.7.purposes[0]", "{e}");
    assert!(Gvl::from_json("{")
        .unwrap_err()
        .to_string()
        .starts_with("vendor list"));
}

/// A change to the clean model, and the start of the finding it must cause.
type Case = (&'static str, Box<dyn Fn(&mut TcModel)>);

fn problems(m: &TcModel, gvl: &Gvl) -> Vec<String> {
    validate(m, gvl)
        .into_iter()
        .map(|f| format!("{}: {}", f.field, f.problem))
        .collect()
}

#[test]
fn every_departure_from_the_list_or_policy_is_found() {
    let gvl = sample();
    let cases: Vec<Case> = vec![
        ("VendorListVersion: the string names vendor list 8", Box::new(|m| m.vendor_list_version = 8)),
        ("TcfPolicyVersion: the string says policy 5", Box::new(|m| m.policy_version = 5)),
        ("Created: 2026-11-29T00:00:00.5Z is not at day precision", Box::new(|m| m.created.0 += 5)),
        ("LastUpdated: 2026-11-28T00:00:00Z is before Created", Box::new(|m| m.last_updated.0 -= 864_000)),
        ("PurposesConsent: purpose 12 is not on the vendor list", Box::new(|m| { m.purpose_consents.insert(12); })),
        ("PurposesLITransparency: purpose 3 may only rest on consent", Box::new(|m| { m.purpose_legitimate_interests.insert(3); })),
        ("SpecialFeatureOptIns: special feature 3 is not on the vendor list", Box::new(|m| { m.special_feature_opt_ins.insert(3); })),
        ("PurposeOneTreatment: is set in a globally-scoped string", Box::new(|m| { m.is_service_specific = false; m.purpose_one_treatment = true; })),
        ("VendorConsents: vendor 3 is not on the vendor list", Box::new(|m| { m.vendor_consents.insert(3); m.disclosed_vendors.as_mut().unwrap().insert(3); })),
        ("VendorConsents: vendor 431 (", Box::new(|m| { m.vendor_consents.insert(431); m.disclosed_vendors.as_mut().unwrap().insert(431); })),
        ("VendorLegitimateInterests: vendor 26 (", Box::new(|m| { m.vendor_legitimate_interests.insert(26); m.disclosed_vendors.as_mut().unwrap().insert(26); })),
        ("DisclosedVendors: the segment is missing", Box::new(|m| m.disclosed_vendors = None)),
        ("VendorConsents: vendor 2 has a signal but was not disclosed", Box::new(|m| { m.disclosed_vendors.as_mut().unwrap().remove(2); })),
        ("AllowedVendors: the segment is for globally-scoped strings", Box::new(|m| m.allowed_vendors = Some(VendorSet::new()))),
        ("RestrictionType: type 3 on purpose 2 is reserved", Box::new(|m| m.publisher_restrictions[0].restriction_type = RestrictionType::Undefined)),
        ("PubRestrictionEntry: vendor 1 (Exponential Interactive, Inc d/b/a VDX.tv) does not declare purpose 2 as flexible", Box::new(|m| { m.publisher_restrictions[0].vendors.insert(1); })),
        ("PubRestrictionEntry: vendor 8 has two restrictions on purpose 2", Box::new(|m| m.publisher_restrictions.push(PublisherRestriction { purpose_id: 2, restriction_type: RestrictionType::NotAllowed, vendors: [8].into_iter().collect() }))),
        ("PurposeId: restricted purpose 40 is not on the vendor list", Box::new(|m| m.publisher_restrictions[0].purpose_id = 40)),
    ];
    for (want, change) in cases {
        let mut m = clean(&gvl);
        change(&mut m);
        let found = problems(&m, &gvl);
        assert!(
            found.iter().any(|p| p.starts_with(want)),
            "wanted {want:?}, found {found:?}"
        );
    }
}
