//! TC string → [`TcModel`].

use std::fmt;

use crate::bits::{first_bad_char, BitReader};
use crate::model::{
    Deciseconds, IdSet, Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel,
    VendorSet,
};

/// The segments after the core, by their 3-bit SegmentType.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    Core,
    DisclosedVendors,
    AllowedVendors,
    PublisherTc,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Segment::Core => "core",
            Segment::DisclosedVendors => "disclosed vendors",
            Segment::AllowedVendors => "allowed vendors",
            Segment::PublisherTc => "publisher TC",
        })
    }
}

/// Why a string could not be decoded, and exactly where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DecodeError {
    /// The segment's position in the string, counting the core as 0.
    pub segment_index: usize,
    /// What the segment is, when that was known before the failure.
    pub segment: Option<Segment>,
    /// The field being read, as the specification names it.
    pub field: &'static str,
    /// The bit offset of that field within its segment.
    pub bit: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The string (or a segment) is empty.
    Empty,
    /// A character that is not base64url, at this character position in the segment.
    NotBase64Url { position: usize, found: char },
    /// The segment ends before the field does.
    Truncated { needed: usize, available: usize },
    /// Only version 2 is decoded.
    UnsupportedVersion(u64),
    /// A language or country letter above 25 (Z).
    NotALetter(u8),
    /// A vendor id of 0 in a range entry.
    VendorIdZero,
    /// A range entry whose end comes before its start.
    BackwardsRange { start: u16, end: u16 },
    /// A purpose id of 0 in a publisher restriction.
    PurposeIdZero,
    /// A segment type the specification does not define (4–7), or the core (0) again.
    UnknownSegmentType(u64),
    /// The first segment is not the core.
    CoreNotFirst(Segment),
    /// The same segment appears twice.
    Repeated(Segment),
}

impl DecodeError {
    fn describe(&self) -> String {
        let place = match self.segment {
            Some(s) => format!("segment {} ({s})", self.segment_index),
            None => format!("segment {}", self.segment_index),
        };
        let what = match &self.kind {
            DecodeErrorKind::Empty => return format!("{place} is empty: a TC string starts with its core segment, like \"CQ…\""),
            DecodeErrorKind::NotBase64Url { position, found } => {
                return format!("{place}: character {found:?} at position {position} is not base64url (A-Z, a-z, 0-9, '-' or '_'); a TC string is segments of those joined by '.'")
            }
            DecodeErrorKind::Truncated { needed, available } => format!(
                "the segment ends: the field needs {needed} bits but only {available} are left; the string is cut short"
            ),
            DecodeErrorKind::UnsupportedVersion(v) => format!(
                "version {v} is not supported: only TC strings of version 2 (TCF v2.x, starting with 'C') are decoded"
            ),
            DecodeErrorKind::NotALetter(v) => {
                format!("letter value {v} is not a letter: each letter is 0 (A) to 25 (Z)")
            }
            DecodeErrorKind::VendorIdZero => "vendor id 0 is not a vendor: ids start at 1".into(),
            DecodeErrorKind::BackwardsRange { start, end } => {
                format!("the range {start}..{end} ends before it starts")
            }
            DecodeErrorKind::PurposeIdZero => "purpose id 0 is not a purpose: ids start at 1".into(),
            DecodeErrorKind::UnknownSegmentType(t) => format!(
                "segment type {t} is not one the specification defines (1 disclosed vendors, 2 allowed vendors, 3 publisher TC)"
            ),
            DecodeErrorKind::CoreNotFirst(s) => {
                format!("the string starts with a {s} segment; the core segment must come first")
            }
            DecodeErrorKind::Repeated(s) => format!("the {s} segment appears twice"),
        };
        format!("{place}, field {} at bit {}: {what}", self.field, self.bit)
    }
}

/// Decodes a TC string: the core segment, then any of disclosed vendors, allowed
/// vendors and publisher TC in any order. Padding (`=`) and pad bits are ignored.
/// Never panics; every failure names the segment, the field and the bit.
pub fn decode(tc_string: &str) -> Result<TcModel, DecodeError> {
    let tc_string = tc_string.trim();
    let mut segments = tc_string.split('.');
    let core_text = segments.next().unwrap_or("");
    let mut core = SegmentReader::open(0, core_text)?;
    // A non-core segment starts with its 3-bit type; the core's first 3 bits are the top
    // of its version, 0 for versions below 8.
    let head = core.peek_type();
    if head != 0 {
        return Err(core.fail_at(0, "SegmentType", type_kind(head)));
    }
    let mut model = core.core()?;
    for (i, text) in segments.enumerate() {
        let mut seg = SegmentReader::open(i + 1, text)?;
        let kind = seg.field("SegmentType", 3)?;
        let segment = match kind {
            1 => Segment::DisclosedVendors,
            2 => Segment::AllowedVendors,
            3 => Segment::PublisherTc,
            other => {
                return Err(seg.fail_at(
                    0,
                    "SegmentType",
                    DecodeErrorKind::UnknownSegmentType(other),
                ))
            }
        };
        seg.segment = Some(segment);
        let repeated = match segment {
            Segment::DisclosedVendors => model.disclosed_vendors.is_some(),
            Segment::AllowedVendors => model.allowed_vendors.is_some(),
            _ => model.publisher_tc.is_some(),
        };
        if repeated {
            return Err(seg.fail_at(0, "SegmentType", DecodeErrorKind::Repeated(segment)));
        }
        match segment {
            Segment::DisclosedVendors => {
                model.disclosed_vendors = Some(seg.vendors(&SectionNames::OOB)?)
            }
            Segment::AllowedVendors => {
                model.allowed_vendors = Some(seg.vendors(&SectionNames::OOB)?)
            }
            _ => model.publisher_tc = Some(seg.publisher_tc()?),
        }
    }
    Ok(model)
}

fn type_kind(head: u64) -> DecodeErrorKind {
    match head {
        1 => DecodeErrorKind::CoreNotFirst(Segment::DisclosedVendors),
        2 => DecodeErrorKind::CoreNotFirst(Segment::AllowedVendors),
        3 => DecodeErrorKind::CoreNotFirst(Segment::PublisherTc),
        other => DecodeErrorKind::UnknownSegmentType(other),
    }
}

/// The field names of one vendor section, for errors.
struct SectionNames {
    max: &'static str,
    encoding: &'static str,
    bitfield: &'static str,
}

impl SectionNames {
    const CONSENTS: SectionNames = SectionNames {
        max: "VendorConsents.MaxVendorId",
        encoding: "VendorConsents.IsRangeEncoding",
        bitfield: "VendorConsents.BitField",
    };
    const LEGITIMATE_INTERESTS: SectionNames = SectionNames {
        max: "VendorLegitimateInterests.MaxVendorId",
        encoding: "VendorLegitimateInterests.IsRangeEncoding",
        bitfield: "VendorLegitimateInterests.BitField",
    };
    const OOB: SectionNames = SectionNames {
        max: "MaxVendorId",
        encoding: "IsRangeEncoding",
        bitfield: "BitField",
    };
}

struct SegmentReader {
    index: usize,
    segment: Option<Segment>,
    bits: BitReader,
}

impl SegmentReader {
    fn open(index: usize, text: &str) -> Result<Self, DecodeError> {
        let text = text.trim_end_matches('=');
        let fail = |kind| DecodeError {
            segment_index: index,
            segment: (index == 0).then_some(Segment::Core),
            field: if index == 0 { "Version" } else { "SegmentType" },
            bit: 0,
            kind,
        };
        if text.is_empty() {
            return Err(fail(DecodeErrorKind::Empty));
        }
        if let Some((position, found)) = first_bad_char(text) {
            return Err(fail(DecodeErrorKind::NotBase64Url { position, found }));
        }
        Ok(SegmentReader {
            index,
            segment: (index == 0).then_some(Segment::Core),
            bits: BitReader::new(text),
        })
    }

    /// The first three bits, without consuming them.
    fn peek_type(&self) -> u64 {
        self.bits.peek(3).unwrap_or(0)
    }

    fn fail_at(&self, bit: usize, field: &'static str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            segment_index: self.index,
            segment: self.segment,
            field,
            bit,
            kind,
        }
    }

    fn field(&mut self, name: &'static str, width: u32) -> Result<u64, DecodeError> {
        let at = self.bits.position();
        self.bits.read(width).ok_or_else(|| {
            self.fail_at(
                at,
                name,
                DecodeErrorKind::Truncated {
                    needed: width as usize,
                    available: self.bits.remaining(),
                },
            )
        })
    }

    fn flag(&mut self, name: &'static str) -> Result<bool, DecodeError> {
        Ok(self.field(name, 1)? == 1)
    }

    fn letters(&mut self, name: &'static str) -> Result<Letters, DecodeError> {
        let at = self.bits.position();
        let v = self.field(name, 12)?;
        Letters::from_field(v)
            .map_err(|bad| self.fail_at(at, name, DecodeErrorKind::NotALetter(bad)))
    }

    fn ids(&mut self, name: &'static str, width: u32) -> Result<IdSet, DecodeError> {
        Ok(IdSet::from_field(self.field(name, width)?, width))
    }

    fn core(&mut self) -> Result<TcModel, DecodeError> {
        let version = self.field("Version", 6)?;
        if version != 2 {
            return Err(self.fail_at(0, "Version", DecodeErrorKind::UnsupportedVersion(version)));
        }
        let created = Deciseconds(self.field("Created", 36)?);
        let last_updated = Deciseconds(self.field("LastUpdated", 36)?);
        let cmp_id = self.field("CmpId", 12)? as u16;
        let cmp_version = self.field("CmpVersion", 12)? as u16;
        let consent_screen = self.field("ConsentScreen", 6)? as u8;
        let consent_language = self.letters("ConsentLanguage")?;
        let vendor_list_version = self.field("VendorListVersion", 12)? as u16;
        let policy_version = self.field("TcfPolicyVersion", 6)? as u8;
        let is_service_specific = self.flag("IsServiceSpecific")?;
        let use_non_standard_texts = self.flag("UseNonStandardTexts")?;
        let special_feature_opt_ins = self.ids("SpecialFeatureOptIns", 12)?;
        let purpose_consents = self.ids("PurposesConsent", 24)?;
        let purpose_legitimate_interests = self.ids("PurposesLITransparency", 24)?;
        let purpose_one_treatment = self.flag("PurposeOneTreatment")?;
        let publisher_country_code = self.letters("PublisherCC")?;
        let vendor_consents = self.vendors(&SectionNames::CONSENTS)?;
        let vendor_legitimate_interests = self.vendors(&SectionNames::LEGITIMATE_INTERESTS)?;
        let publisher_restrictions = self.restrictions()?;
        Ok(TcModel {
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
            special_feature_opt_ins,
            purpose_consents,
            purpose_legitimate_interests,
            purpose_one_treatment,
            publisher_country_code,
            vendor_consents,
            vendor_legitimate_interests,
            publisher_restrictions,
            disclosed_vendors: None,
            allowed_vendors: None,
            publisher_tc: None,
        })
    }

    /// A vendor section: MaxVendorId, IsRangeEncoding, then a bit field or ranges.
    fn vendors(&mut self, names: &SectionNames) -> Result<VendorSet, DecodeError> {
        let max = self.field(names.max, 16)? as usize;
        let is_range = self.flag(names.encoding)?;
        if !is_range {
            let at = self.bits.position();
            let available = self.bits.remaining();
            if max > available {
                return Err(self.fail_at(
                    at,
                    names.bitfield,
                    DecodeErrorKind::Truncated {
                        needed: max,
                        available,
                    },
                ));
            }
            // 64 vendors at a time: the field's first bit is vendor 1, a word's low bit.
            let mut words = Vec::with_capacity(max.div_ceil(64));
            let mut left = max;
            while left > 0 {
                let take = left.min(64) as u32;
                let chunk = self.bits.read(take).unwrap_or(0);
                words.push((chunk << (64 - take)).reverse_bits());
                left -= take as usize;
            }
            return Ok(VendorSet::from_words(words));
        }
        let mut set = VendorSet::new();
        let entries = self.field("NumEntries", 12)?;
        for _ in 0..entries {
            self.range_entry(&mut set)?;
        }
        Ok(set)
    }

    fn range_entry(&mut self, set: &mut VendorSet) -> Result<(), DecodeError> {
        let is_range = self.flag("IsARange")?;
        let at = self.bits.position();
        let start = self.field("StartOrOnlyVendorId", 16)? as u16;
        if start == 0 {
            return Err(self.fail_at(at, "StartOrOnlyVendorId", DecodeErrorKind::VendorIdZero));
        }
        if !is_range {
            set.insert(start);
            return Ok(());
        }
        let at = self.bits.position();
        let end = self.field("EndVendorId", 16)? as u16;
        if end < start {
            return Err(self.fail_at(
                at,
                "EndVendorId",
                DecodeErrorKind::BackwardsRange { start, end },
            ));
        }
        set.insert_range(start, end);
        Ok(())
    }

    fn restrictions(&mut self) -> Result<Vec<PublisherRestriction>, DecodeError> {
        let count = self.field("NumPubRestrictions", 12)?;
        let mut out = Vec::new();
        for _ in 0..count {
            let at = self.bits.position();
            let purpose_id = self.field("PurposeId", 6)? as u8;
            if purpose_id == 0 {
                return Err(self.fail_at(at, "PurposeId", DecodeErrorKind::PurposeIdZero));
            }
            let restriction_type = RestrictionType::from_bits(self.field("RestrictionType", 2)?);
            let entries = self.field("NumEntries", 12)?;
            let mut vendors = VendorSet::new();
            for _ in 0..entries {
                self.range_entry(&mut vendors)?;
            }
            out.push(PublisherRestriction {
                purpose_id,
                restriction_type,
                vendors,
            });
        }
        Ok(out)
    }

    fn publisher_tc(&mut self) -> Result<PublisherTc, DecodeError> {
        let consents = self.ids("PubPurposesConsent", 24)?;
        let legitimate_interests = self.ids("PubPurposesLITransparency", 24)?;
        let num_custom_purposes = self.field("NumCustomPurposes", 6)? as u8;
        let n = u32::from(num_custom_purposes);
        let custom_consents = self.ids("CustomPurposesConsent", n)?;
        let custom_legitimate_interests = self.ids("CustomPurposesLITransparency", n)?;
        Ok(PublisherTc {
            consents,
            legitimate_interests,
            num_custom_purposes,
            custom_consents,
            custom_legitimate_interests,
        })
    }
}
