//! [`TcModel`] → TC string.

use crate::bits::BitWriter;
use crate::model::{Deciseconds, IdSet, TcModel, VendorSet};

/// The oldest policy version the encoder writes: TCF v2.2's. Strings of older policies
/// are decoded but not made.
pub const MIN_POLICY_VERSION: u8 = 4;

/// Why a model could not be encoded: the field, as the specification names it, and
/// what is wrong with its value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct EncodeError {
    pub field: &'static str,
    pub problem: String,
}

fn refuse(field: &'static str, problem: impl Into<String>) -> EncodeError {
    EncodeError {
        field,
        problem: problem.into(),
    }
}

fn fits(field: &'static str, value: u64, width: u32) -> Result<u64, EncodeError> {
    let max = (1u64 << width) - 1;
    if value > max {
        return Err(refuse(
            field,
            format!("{value} does not fit in its {width} bits (0 to {max})"),
        ));
    }
    Ok(value)
}

fn ids_fit(field: &'static str, set: IdSet, width: u32) -> Result<u64, EncodeError> {
    if u32::from(set.max()) > width {
        return Err(refuse(
            field,
            format!(
                "id {} is above {width}, the highest this field holds",
                set.max()
            ),
        ));
    }
    Ok(set.to_field(width))
}

fn day_stamp(field: &'static str, at: Deciseconds) -> Result<u64, EncodeError> {
    if at > Deciseconds::MAX {
        return Err(refuse(field, "is after 2187, beyond the 36-bit field"));
    }
    if !at.is_midnight_utc() {
        return Err(refuse(
            field,
            format!(
                "{at} is not at day precision: TCF policy 4 and later require 00:00:00 UTC of the day (TcModel::new and Deciseconds::day make one)"
            ),
        ));
    }
    Ok(at.0)
}

/// Encodes a model as a TC string: the core segment, then the disclosed vendors, allowed
/// vendors and publisher TC segments the model carries, in that order. Each vendor
/// section takes the bit field or the range form, whichever is shorter.
///
/// The model must follow policy 4 or later: its policy version at least 4, and created
/// and last updated at midnight UTC.
pub fn encode(model: &TcModel) -> Result<String, EncodeError> {
    let mut out = String::with_capacity(64);
    let mut core = BitWriter::with_capacity(512);
    write_core(model, &mut core)?;
    core.finish(&mut out);
    for (kind, set) in [
        (1u64, &model.disclosed_vendors),
        (2, &model.allowed_vendors),
    ] {
        if let Some(set) = set {
            let mut seg = BitWriter::with_capacity(64);
            seg.push(kind, 3);
            write_vendors(set, &mut seg);
            out.push('.');
            seg.finish(&mut out);
        }
    }
    if let Some(p) = &model.publisher_tc {
        let n = fits("NumCustomPurposes", u64::from(p.num_custom_purposes), 6)? as u32;
        let mut seg = BitWriter::with_capacity(128);
        seg.push(3, 3);
        seg.push(ids_fit("PubPurposesConsent", p.consents, 24)?, 24);
        seg.push(
            ids_fit("PubPurposesLITransparency", p.legitimate_interests, 24)?,
            24,
        );
        seg.push(u64::from(n), 6);
        seg.push(ids_fit("CustomPurposesConsent", p.custom_consents, n)?, n);
        seg.push(
            ids_fit(
                "CustomPurposesLITransparency",
                p.custom_legitimate_interests,
                n,
            )?,
            n,
        );
        out.push('.');
        seg.finish(&mut out);
    }
    Ok(out)
}

fn write_core(m: &TcModel, w: &mut BitWriter) -> Result<(), EncodeError> {
    if m.policy_version < MIN_POLICY_VERSION {
        return Err(refuse(
            "TcfPolicyVersion",
            format!(
                "{} is older than {MIN_POLICY_VERSION}, the policy of TCF v2.2; strings of older policies are read but not made",
                m.policy_version
            ),
        ));
    }
    w.push(2, 6);
    w.push(day_stamp("Created", m.created)?, 36);
    w.push(day_stamp("LastUpdated", m.last_updated)?, 36);
    w.push(fits("CmpId", u64::from(m.cmp_id), 12)?, 12);
    w.push(fits("CmpVersion", u64::from(m.cmp_version), 12)?, 12);
    w.push(fits("ConsentScreen", u64::from(m.consent_screen), 6)?, 6);
    w.push(m.consent_language.to_field(), 12);
    w.push(
        fits("VendorListVersion", u64::from(m.vendor_list_version), 12)?,
        12,
    );
    w.push(fits("TcfPolicyVersion", u64::from(m.policy_version), 6)?, 6);
    w.push_bool(m.is_service_specific);
    w.push_bool(m.use_non_standard_texts);
    w.push(
        ids_fit("SpecialFeatureOptIns", m.special_feature_opt_ins, 12)?,
        12,
    );
    w.push(ids_fit("PurposesConsent", m.purpose_consents, 24)?, 24);
    w.push(
        ids_fit("PurposesLITransparency", m.purpose_legitimate_interests, 24)?,
        24,
    );
    w.push_bool(m.purpose_one_treatment);
    w.push(m.publisher_country_code.to_field(), 12);
    write_vendors(&m.vendor_consents, w);
    write_vendors(&m.vendor_legitimate_interests, w);
    w.push(
        fits(
            "NumPubRestrictions",
            m.publisher_restrictions.len() as u64,
            12,
        )?,
        12,
    );
    for r in &m.publisher_restrictions {
        if r.purpose_id == 0 {
            return Err(refuse(
                "PurposeId",
                "purpose 0 is not a purpose: ids start at 1",
            ));
        }
        w.push(fits("PurposeId", u64::from(r.purpose_id), 6)?, 6);
        w.push(r.restriction_type.bits(), 2);
        let runs = r.vendors.runs().count();
        w.push(fits("NumEntries", runs as u64, 12)?, 12);
        write_entries(r.vendors.runs(), w);
    }
    Ok(())
}

/// The set's runs, if its range form (12 bits of NumEntries, then 17 bits per single
/// id and 33 per range) is shorter than a bit field of `max` bits; `None` as soon as it
/// cannot be, so a dense set costs only its first few runs.
fn shorter_as_ranges(set: &VendorSet, max: usize) -> Option<Vec<(u16, u16)>> {
    let mut bits = 12;
    if bits >= max {
        return None;
    }
    let mut runs = Vec::new();
    for (a, b) in set.runs() {
        bits += if a == b { 17 } else { 33 };
        if bits >= max || runs.len() == 4095 {
            return None;
        }
        runs.push((a, b));
    }
    Some(runs)
}

fn write_vendors(set: &VendorSet, w: &mut BitWriter) {
    let max = set.max();
    w.push(u64::from(max), 16);
    if let Some(runs) = shorter_as_ranges(set, usize::from(max)) {
        w.push_bool(true);
        w.push(runs.len() as u64, 12);
        write_entries(runs.into_iter(), w);
        return;
    }
    w.push_bool(false);
    // Vendor 1 is the field's first bit; word i holds ids 64i+1.. from its low bit up.
    let mut left = usize::from(max);
    for word in set.words() {
        let take = left.min(64) as u32;
        if take == 0 {
            break;
        }
        w.push(word.reverse_bits() >> (64 - take), take);
        left -= take as usize;
    }
}

/// Range entries: IsARange, StartOrOnlyVendorId and, for a range, EndVendorId.
fn write_entries(runs: impl Iterator<Item = (u16, u16)>, w: &mut BitWriter) {
    for (first, last) in runs {
        w.push_bool(first != last);
        w.push(u64::from(first), 16);
        if first != last {
            w.push(u64::from(last), 16);
        }
    }
}
