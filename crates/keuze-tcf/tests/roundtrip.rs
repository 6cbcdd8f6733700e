//! Encoding and decoding are inverse: `decode(encode(m)) == m` for random models, and
//! `encode(decode(s)) == s` for strings the encoder made. Decoding never panics.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use keuze_tcf::{decode, encode, RestrictionType, TcModel};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoding_an_encoded_model_gives_the_model(m in common::model(false)) {
        let s = encode(&m).unwrap();
        prop_assert_eq!(decode(&s).unwrap(), m);
    }

    #[test]
    fn encoding_a_decoded_string_gives_the_string(m in common::model(false)) {
        let s = encode(&m).unwrap();
        prop_assert_eq!(encode(&decode(&s).unwrap()).unwrap(), s);
    }

    #[test]
    fn the_json_form_round_trips(m in common::model(false)) {
        let json = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(TcModel::from_json(&json).unwrap(), m);
    }

    #[test]
    fn any_input_decodes_or_fails_cleanly(s in "[A-Za-z0-9_=.+/-]{0,300}") {
        if let Ok(m) = decode(&s) {
            // What decodes and re-encodes must decode to the same model.
            if let Ok(again) = encode(&m) {
                prop_assert_eq!(decode(&again).unwrap(), m);
            }
        }
    }

    #[test]
    fn a_cut_or_flipped_string_fails_cleanly_or_decodes(m in common::model(false), cut in 0usize..400, flip in 0usize..2400) {
        let s = encode(&m).unwrap();
        let cut = cut.min(s.len());
        let _ = decode(&s[..cut]);
        let mut bytes = s.into_bytes();
        if !bytes.is_empty() {
            let i = flip % bytes.len();
            bytes[i] = if bytes[i] == b'A' { b'_' } else { b'A' };
        }
        let _ = decode(std::str::from_utf8(&bytes).unwrap());
    }
}

fn base() -> TcModel {
    TcModel::new(10, 1, time::macros::date!(2026 - 11 - 29))
}

/// Characters of a string whose core has `bits` of vendor consents section after the
/// 213 bits of fixed fields, an empty legitimate-interest section (17 bits) and no
/// restrictions (12): padded to 24 bits, four characters each.
fn length_with_consents_section(bits: usize) -> usize {
    (213 + bits + 17 + 12).div_ceil(24) * 4
}

#[test]
fn each_vendor_section_takes_the_shorter_form() {
    // One vendor at 60000: the range form (16 + 1 + 12 + one 17-bit entry) beats a
    // field of 60000 bits.
    let mut m = base();
    m.vendor_consents = [60_000].into_iter().collect();
    assert_eq!(
        encode(&m).unwrap().len(),
        length_with_consents_section(16 + 1 + 12 + 17)
    );
    // Every other vendor up to 200: 100 single entries would cost 1700 bits, the field 200.
    m.vendor_consents = (1..=200).filter(|i| i % 2 == 0).collect();
    let dense = encode(&m).unwrap();
    assert_eq!(dense.len(), length_with_consents_section(16 + 1 + 200));
    assert_eq!(decode(&dense).unwrap(), m);
    // One run 1..=1000: one 33-bit range entry.
    m.vendor_consents = (1..=1000).collect();
    assert_eq!(
        encode(&m).unwrap().len(),
        length_with_consents_section(16 + 1 + 12 + 33)
    );
}

#[test]
fn restrictions_keep_their_order_and_type() {
    let mut m = base();
    for (purpose_id, restriction_type) in [
        (7, RestrictionType::RequireLegitimateInterest),
        (2, RestrictionType::NotAllowed),
        (2, RestrictionType::RequireConsent),
    ] {
        m.publisher_restrictions
            .push(keuze_tcf::PublisherRestriction {
                purpose_id,
                restriction_type,
                vendors: [1, 2, 3, 9, 700].into_iter().collect(),
            });
    }
    assert_eq!(decode(&encode(&m).unwrap()).unwrap(), m);
}

#[test]
fn out_of_range_fields_are_refused_by_name() {
    let mut m = base();
    m.cmp_id = 4096;
    let e = encode(&m).unwrap_err();
    assert_eq!(
        e.to_string(),
        "CmpId: 4096 does not fit in its 12 bits (0 to 4095)"
    );
    let mut m = base();
    m.special_feature_opt_ins.insert(13);
    assert_eq!(encode(&m).unwrap_err().field, "SpecialFeatureOptIns");
    let mut m = base();
    m.publisher_tc = Some(keuze_tcf::PublisherTc {
        num_custom_purposes: 2,
        custom_consents: [3].into_iter().collect(),
        ..Default::default()
    });
    assert_eq!(encode(&m).unwrap_err().field, "CustomPurposesConsent");
    let mut m = base();
    m.policy_version = 3;
    assert_eq!(encode(&m).unwrap_err().field, "TcfPolicyVersion");
}
