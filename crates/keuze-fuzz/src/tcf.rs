//! TC strings (keuze-tcf): any text decodes to a model or to an error that points
//! inside the string; a decoded model survives its JSON form; a model that encodes
//! decodes back to itself and re-encodes to the same string; validating against the
//! sample vendor list never fails to answer.

use std::sync::OnceLock;

use keuze_tcf::{decode, encode, validate, Gvl, TcModel};

/// The sample Global Vendor List (version 7, 376 vendors).
pub const SAMPLE_GVL: &str = keuze_tcf::SAMPLE_VENDOR_LIST;

fn gvl() -> &'static Gvl {
    static GVL: OnceLock<Gvl> = OnceLock::new();
    GVL.get_or_init(|| Gvl::from_json(SAMPLE_GVL).unwrap())
}

pub fn tc_string(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let model = match decode(text) {
        Ok(model) => model,
        Err(e) => {
            let segments: Vec<&str> = text.trim().split('.').collect();
            assert!(e.segment_index < segments.len(), "{e} for {text:?}");
            let chars = segments[e.segment_index].trim_end_matches('=').len();
            assert!(
                e.bit <= chars * 6,
                "{e}: bit beyond the segment's {chars} characters"
            );
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let json = serde_json::to_string(&model).unwrap();
    assert_eq!(TcModel::from_json(&json).unwrap(), model, "{json}");
    let _ = validate(&model, gvl());
    if let Ok(string) = encode(&model) {
        let again = decode(&string).unwrap_or_else(|e| panic!("{string} from {text:?}: {e}"));
        assert_eq!(again, model, "{text:?} → {string}");
        assert_eq!(encode(&again).unwrap(), string);
    }
}

/// Seeds: the specification's samples and strings made by the encoder.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        (
            "spec-global-four-segments".to_string(),
            b"COw4XqLOw4XqLAAAAAENAXCAAAAAAAAAAAAAAAAAAAAA.IFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.QFukWSQgAIQwgI0QEByFAAAAeIAACAIgSAAQAIAgEQACEABAAAgAQFAEAIAAAGBAAgAAAAQAIFAAMCQAAgAAQiRAEQAAAAANAAIAAggAIYQFAAARmggBC3ZCYzU2yIA.YAAAAAAAAAAAAAAAAAA".to_vec(),
        ),
        (
            "spec-service-specific".to_string(),
            b"CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA".to_vec(),
        ),
    ];
    let mut m = TcModel::new(300, 2, time::macros::date!(2026 - 11 - 29));
    m.vendor_list_version = 7;
    m.purpose_consents = [1, 2, 3, 4, 7, 9, 10].into_iter().collect();
    m.special_feature_opt_ins = [1].into_iter().collect();
    m.vendor_consents = gvl()
        .vendors
        .keys()
        .copied()
        .filter(|id| id % 3 == 0)
        .collect();
    m.disclosed_vendors = Some(gvl().vendors.keys().copied().collect());
    out.push(("keuze-bitfield".into(), encode(&m).unwrap().into_bytes()));
    m.vendor_consents = (1..=900).collect();
    m.publisher_restrictions
        .push(keuze_tcf::PublisherRestriction {
            purpose_id: 2,
            restriction_type: keuze_tcf::RestrictionType::RequireConsent,
            vendors: [8, 9, 10, 755].into_iter().collect(),
        });
    m.publisher_tc = Some(keuze_tcf::PublisherTc {
        consents: [1, 3].into_iter().collect(),
        num_custom_purposes: 3,
        custom_consents: [2].into_iter().collect(),
        ..Default::default()
    });
    out.push(("keuze-ranges".into(), encode(&m).unwrap().into_bytes()));
    out
}
