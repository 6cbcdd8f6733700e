//! Random TC models for the property and differential tests.
#![allow(dead_code)]

use keuze_tcf::{
    Deciseconds, IdSet, Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel,
    VendorSet,
};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::sample::select;

/// Days from 1970 to 2180: every day the 36-bit field holds at day precision.
fn day() -> impl Strategy<Value = Deciseconds> {
    (0u64..77_000).prop_map(|d| Deciseconds(d * 864_000))
}

fn letters() -> impl Strategy<Value = Letters> {
    (b'A'..=b'Z', b'A'..=b'Z').prop_map(|(a, b)| {
        let s = String::from_utf8(vec![a, b]).unwrap_or_default();
        Letters::new(&s).unwrap_or_else(|| unreachable!())
    })
}

fn ids(width: u8) -> impl Strategy<Value = IdSet> {
    btree_set(1..=width, 0..=width as usize).prop_map(|s| s.into_iter().collect())
}

/// Vendor sets of the shapes real strings have: empty, a few scattered ids (range form
/// wins), dense blocks (bit field wins), long runs, and ids near the 16-bit limit.
pub fn vendors() -> impl Strategy<Value = VendorSet> {
    prop_oneof![
        1 => Just(VendorSet::new()),
        3 => btree_set(1u16..=3000, 0..40).prop_map(|s| s.into_iter().collect()),
        3 => vec(any::<bool>(), 1..1500).prop_map(|bits| {
            bits.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i as u16 + 1).collect()
        }),
        2 => vec((1u16..60_000, 0u16..400), 0..12).prop_map(|runs| {
            let mut set = VendorSet::new();
            for (start, len) in runs {
                set.insert_range(start, start.saturating_add(len));
            }
            set
        }),
        1 => btree_set(60_000u16..=u16::MAX, 1..5).prop_map(|s| s.into_iter().collect()),
    ]
}

fn small_vendors() -> impl Strategy<Value = VendorSet> {
    prop_oneof![
        btree_set(1u16..=1200, 1..20).prop_map(|s| s.into_iter().collect::<VendorSet>()),
        (1u16..1000, 1u16..300).prop_map(|(a, n)| {
            let mut set = VendorSet::new();
            set.insert_range(a, a + n);
            set
        }),
    ]
}

fn restriction_type(reference_safe: bool) -> BoxedStrategy<RestrictionType> {
    let mut types = vec![
        RestrictionType::NotAllowed,
        RestrictionType::RequireConsent,
        RestrictionType::RequireLegitimateInterest,
    ];
    if !reference_safe {
        types.push(RestrictionType::Undefined);
    }
    select(types).boxed()
}

/// Publisher restrictions. With `reference_safe`, each (purpose, type) pair appears once
/// with at least one vendor and type 3 is left out, the shapes the IAB's library keeps.
fn restrictions(reference_safe: bool) -> BoxedStrategy<Vec<PublisherRestriction>> {
    let one = (1u8..=63, restriction_type(reference_safe), small_vendors()).prop_map(
        |(purpose_id, restriction_type, vendors)| PublisherRestriction {
            purpose_id,
            restriction_type,
            vendors,
        },
    );
    vec(one, 0..5)
        .prop_map(move |mut list| {
            if reference_safe {
                let mut seen = std::collections::BTreeSet::new();
                list.retain(|r| seen.insert((r.purpose_id, r.restriction_type)));
            }
            list
        })
        .boxed()
}

fn publisher_tc() -> impl Strategy<Value = PublisherTc> {
    (ids(24), ids(24), 0u8..=63, any::<u64>(), any::<u64>()).prop_map(
        |(consents, legitimate_interests, n, c, l)| {
            let custom = |bits: u64| (1..=n).filter(|i| bits >> (i - 1) & 1 == 1).collect();
            PublisherTc {
                consents,
                legitimate_interests,
                num_custom_purposes: n,
                custom_consents: custom(c),
                custom_legitimate_interests: custom(l),
            }
        },
    )
}

/// A model the encoder accepts. With `reference_safe`, also one the IAB's library
/// reads back whole: CmpId of at least 2 and restrictions as above.
pub fn model(reference_safe: bool) -> impl Strategy<Value = TcModel> {
    let min_cmp = if reference_safe { 2 } else { 0 };
    let header = (
        (day(), day()),
        (min_cmp..4096u16, 0..4096u16, 0..64u8),
        (letters(), 0..4096u16, 4..64u8),
        (any::<bool>(), any::<bool>(), any::<bool>(), letters()),
    );
    let choices = (ids(12), ids(24), ids(24));
    let sections = (
        vendors(),
        vendors(),
        restrictions(reference_safe),
        proptest::option::of(vendors()),
        proptest::option::of(vendors()),
        proptest::option::of(publisher_tc()),
    );
    (header, choices, sections).prop_map(|(h, c, s)| {
        let ((created, last_updated), (cmp_id, cmp_version, consent_screen), l, f) = h;
        let (consent_language, vendor_list_version, policy_version) = l;
        let (is_service_specific, use_non_standard_texts, purpose_one_treatment, country) = f;
        TcModel {
            created,
            last_updated,
            cmp_id,
            cmp_version,
            consent_screen,
            consent_language,
            vendor_list_version,
            policy_version,
            is_service_specific,
            use_non_standard_texts,
            special_feature_opt_ins: c.0,
            purpose_consents: c.1,
            purpose_legitimate_interests: c.2,
            purpose_one_treatment,
            publisher_country_code: country,
            vendor_consents: s.0,
            vendor_legitimate_interests: s.1,
            publisher_restrictions: s.2,
            disclosed_vendors: s.3,
            allowed_vendors: s.4,
            publisher_tc: s.5,
        }
    })
}
