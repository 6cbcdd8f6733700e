//! The sample strings of the IAB's specification ("Consent string and vendor list
//! formats v2", section "TC String Format") decode to their field values.
//!
//! The specification prints the strings without a field table, so the values below were
//! read off the bits by hand (the header fields are spelled out in the comments) and
//! agree with the IAB's reference library `@iabtechlabtcf/core` 1.5.21, which decodes
//! the second string to the same values (it refuses the first: its CmpId is 0).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use keuze_tcf::{decode, encode, Deciseconds, Letters, Segment, TcModel, VendorSet};

/// A globally-scoped string with all four segments, as surfaced through the CMP API.
const GLOBAL_FOUR_SEGMENTS: &str = "COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.QFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.YAAAAAAAAAAAAAAAAAA";

/// A service-specific string with core and publisher TC.
const SERVICE_SPECIFIC: &str = "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA";

fn ids(set: &VendorSet) -> Vec<u16> {
    set.iter().collect()
}

#[test]
fn the_service_specific_sample_decodes_to_its_fields() {
    let m = decode(SERVICE_SPECIFIC).unwrap();
    // "C" = 000010: version 2. Created = the next 36 bits = 12286442577 deciseconds.
    assert_eq!(m.created, Deciseconds(12_286_442_577));
    assert_eq!(m.created.to_string(), "2008-12-07T10:04:17.7Z");
    assert_eq!(m.last_updated.to_string(), "2012-01-10T17:10:13.4Z");
    assert_eq!((m.cmp_id, m.cmp_version, m.consent_screen), (21, 7, 2));
    assert_eq!(m.consent_language, Letters::new("EN").unwrap());
    assert_eq!((m.vendor_list_version, m.policy_version), (23, 2));
    assert!(m.is_service_specific);
    assert!(!m.use_non_standard_texts);
    assert_eq!(m.special_feature_opt_ins.iter().collect::<Vec<_>>(), [2]);
    assert_eq!(m.purpose_consents.iter().collect::<Vec<_>>(), [1, 3, 9, 10]);
    assert_eq!(
        m.purpose_legitimate_interests.iter().collect::<Vec<_>>(),
        [3, 4, 5, 8, 9, 10]
    );
    assert!(!m.purpose_one_treatment);
    assert_eq!(m.publisher_country_code.as_str(), "KM");
    assert_eq!(
        ids(&m.vendor_consents),
        [
            2, 3, 6, 7, 8, 10, 12, 13, 14, 15, 16, 21, 25, 27, 30, 31, 34, 35, 37, 38, 39, 42, 43,
            49, 52, 54, 55, 56, 57, 59, 60, 63, 64, 65, 66, 67, 68, 69, 73, 74, 76, 78, 83, 86, 87,
            89, 90, 92, 96, 99, 100, 106, 109, 110, 114, 115
        ]
    );
    assert_eq!(
        ids(&m.vendor_legitimate_interests),
        [1, 9, 26, 27, 30, 36, 37, 43, 86, 97, 110, 113]
    );
    assert!(m.publisher_restrictions.is_empty());
    assert_eq!(m.disclosed_vendors, None);
    assert_eq!(m.allowed_vendors, None);
    let p = m.publisher_tc.as_ref().unwrap();
    assert_eq!(p.consents.iter().collect::<Vec<_>>(), [2, 4, 6, 8, 9, 10]);
    assert_eq!(
        p.legitimate_interests.iter().collect::<Vec<_>>(),
        [2, 4, 5, 7, 10]
    );
    assert_eq!(p.num_custom_purposes, 0);
}

#[test]
fn the_four_segment_sample_decodes_every_segment() {
    let m = decode(GLOBAL_FOUR_SEGMENTS).unwrap();
    assert_eq!(m.cmp_id, 0);
    assert_eq!(m.created, m.last_updated);
    assert_eq!(m.consent_language.as_str(), "EN");
    assert!(!m.is_service_specific);
    assert!(m.purpose_consents.is_empty());
    assert!(m.vendor_consents.is_empty());
    let disclosed = m.disclosed_vendors.as_ref().unwrap();
    let allowed = m.allowed_vendors.as_ref().unwrap();
    // Both OOB segments carry the same bit field after their type (001 and 010).
    assert_eq!(disclosed, allowed);
    assert!(disclosed.len() > 50, "{} vendors", disclosed.len());
    assert_eq!(m.publisher_tc.as_ref().unwrap(), &Default::default());
}

#[test]
fn segments_after_the_core_may_come_in_any_order_and_with_padding() {
    let parts: Vec<&str> = GLOBAL_FOUR_SEGMENTS.split('.').collect();
    let reordered = format!("{}.{}.{}.{}", parts[0], parts[3], parts[2], parts[1]);
    assert_eq!(
        decode(&reordered).unwrap(),
        decode(GLOBAL_FOUR_SEGMENTS).unwrap()
    );
    let padded = format!("{}==.{}=", parts[0], parts[3]);
    let m = decode(&padded).unwrap();
    assert!(m.publisher_tc.is_some());
}

#[test]
fn the_core_must_come_first_and_segments_only_once() {
    let parts: Vec<&str> = GLOBAL_FOUR_SEGMENTS.split('.').collect();
    let e = decode(&format!("{}.{}", parts[1], parts[0])).unwrap_err();
    assert_eq!((e.segment_index, e.field, e.bit), (0, "SegmentType", 0));
    assert!(
        e.to_string().contains("core segment must come first"),
        "{e}"
    );
    let e = decode(&format!("{}.{}.{}", parts[0], parts[3], parts[3])).unwrap_err();
    assert_eq!(
        (e.segment_index, e.segment),
        (2, Some(Segment::PublisherTc))
    );
    assert!(e.to_string().contains("appears twice"), "{e}");
}

#[test]
fn a_cut_string_names_the_field_and_bit_where_it_ends() {
    // 213 bits of fixed core fields, then the consent section's MaxVendorId.
    let cut = &SERVICE_SPECIFIC[..36]; // 216 bits: MaxVendorId starts at 213.
    let e = decode(cut).unwrap_err();
    assert_eq!(e.field, "VendorConsents.MaxVendorId");
    assert_eq!(e.bit, 213);
    assert_eq!(
        e.to_string(),
        "segment 0 (core), field VendorConsents.MaxVendorId at bit 213: the segment ends: the field needs 16 bits but only 3 are left; the string is cut short"
    );
}

#[test]
fn bad_characters_and_versions_are_named() {
    let e = decode("COw4Xq+Ow4XqL").unwrap_err();
    assert!(e.to_string().contains("character '+' at position 6"), "{e}");
    let e = decode("BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA").unwrap_err();
    assert!(e.to_string().contains("version 1 is not supported"), "{e}");
    assert!(decode("").unwrap_err().to_string().contains("empty"));
    assert!(decode("CLcVDxRM..argAC0g").is_err());
}

#[test]
fn a_model_from_an_older_policy_is_read_but_not_written() {
    let m = decode(SERVICE_SPECIFIC).unwrap();
    let e = encode(&m).unwrap_err();
    assert_eq!(e.field, "TcfPolicyVersion");
    let mut m: TcModel = m;
    m.policy_version = 4;
    let e = encode(&m).unwrap_err();
    assert_eq!(e.field, "Created");
    assert!(e.problem.contains("day precision"), "{e}");
    m.created = Deciseconds(m.created.0 - m.created.0 % 864_000);
    m.last_updated = Deciseconds(m.last_updated.0 - m.last_updated.0 % 864_000);
    let s = encode(&m).unwrap();
    assert_eq!(decode(&s).unwrap(), m);
}

#[test]
fn pad_bits_may_be_anything_and_any_length() {
    // An empty model's core is 259 bits (213 fixed, two empty vendor sections of 17,
    // NumPubRestrictions 12), written as 44 characters: the last one holds bit 258, a
    // zero, then five pad bits.
    let m = TcModel::new(10, 1, time::macros::date!(2026 - 11 - 29));
    let s = encode(&m).unwrap();
    assert_eq!(s.len(), 44);
    assert!(s.ends_with('A'));
    let mut set_pad = s.clone();
    set_pad.pop();
    set_pad.push('f'); // 011111: the data bit 0, every pad bit 1
    assert_eq!(decode(&set_pad).unwrap(), m);
    // A length of 4k+1 characters, which a byte-oriented base64 decoder refuses.
    assert_eq!(decode(&format!("{s}A")).unwrap(), m);
    assert_eq!(decode(&format!("{s}A=")).unwrap(), m);
    // One more data bit set is not padding: NumPubRestrictions becomes 1.
    let mut one_more = s.clone();
    one_more.pop();
    one_more.push('g'); // 100000
    let e = decode(&one_more).unwrap_err();
    assert_eq!((e.field, e.bit), ("PurposeId", 259));
}
