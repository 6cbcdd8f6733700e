//! The TC model: every field a version-2 TC string carries, as plain values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// A set of small ids (purposes, special features, custom purposes): 1 to 64.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IdSet(u64);

impl IdSet {
    pub const EMPTY: IdSet = IdSet(0);

    pub fn new() -> Self {
        IdSet(0)
    }

    /// Adds `id`; ids outside 1..=64 are refused.
    pub fn insert(&mut self, id: u8) -> bool {
        if (1..=64).contains(&id) {
            self.0 |= 1 << (id - 1);
            true
        } else {
            false
        }
    }

    pub fn remove(&mut self, id: u8) {
        if (1..=64).contains(&id) {
            self.0 &= !(1 << (id - 1));
        }
    }

    pub fn contains(&self, id: u8) -> bool {
        (1..=64).contains(&id) && self.0 & (1 << (id - 1)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The highest id in the set, 0 if it is empty.
    pub fn max(&self) -> u8 {
        (64 - self.0.leading_zeros()) as u8
    }

    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (1..=64u8).filter(|id| self.contains(*id))
    }

    /// Bit `i` (0-based, MSB-first in a field of `width` bits) is id `i + 1`.
    pub(crate) fn to_field(self, width: u32) -> u64 {
        (0..width).fold(0u64, |acc, i| {
            (acc << 1) | u64::from(self.contains(i as u8 + 1))
        })
    }

    pub(crate) fn from_field(field: u64, width: u32) -> Self {
        let mut set = IdSet(0);
        for i in 0..width {
            if field >> (width - 1 - i) & 1 == 1 {
                set.insert(i as u8 + 1);
            }
        }
        set
    }
}

impl FromIterator<u8> for IdSet {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        let mut set = IdSet::new();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

impl fmt::Debug for IdSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for IdSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for IdSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids = Vec::<u8>::deserialize(d)?;
        let mut set = IdSet::new();
        for id in ids {
            if !set.insert(id) {
                return Err(serde::de::Error::custom(format!(
                    "id {id} is out of range: ids run from 1 to 64"
                )));
            }
        }
        Ok(set)
    }
}

/// The highest vendor id a TC string can name (MaxVendorId is 16 bits).
pub const MAX_VENDOR_ID: u16 = u16::MAX;

/// A set of vendor ids (1 to 65535) as a bitmap: 8 KiB at most, whatever a range
/// encoding claims.
#[derive(Clone, Default)]
pub struct VendorSet {
    words: Vec<u64>,
}

impl VendorSet {
    pub fn new() -> Self {
        VendorSet { words: Vec::new() }
    }

    fn slot(id: u16) -> (usize, u64) {
        let bit = usize::from(id - 1);
        (bit / 64, 1 << (bit % 64))
    }

    /// Adds `id`; 0 is not a vendor id and is refused.
    pub fn insert(&mut self, id: u16) -> bool {
        if id == 0 {
            return false;
        }
        let (word, mask) = Self::slot(id);
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if let Some(w) = self.words.get_mut(word) {
            *w |= mask;
        }
        true
    }

    /// Adds every id from `first` to `last` inclusive (both at least 1).
    pub fn insert_range(&mut self, first: u16, last: u16) {
        if first == 0 || last < first {
            return;
        }
        let (lo, hi) = (usize::from(first - 1), usize::from(last - 1));
        if self.words.len() <= hi / 64 {
            self.words.resize(hi / 64 + 1, 0);
        }
        for word in lo / 64..=hi / 64 {
            let start = if word == lo / 64 { lo % 64 } else { 0 };
            let end = if word == hi / 64 { hi % 64 } else { 63 };
            let mask = (u64::MAX >> (63 - (end - start))) << start;
            if let Some(w) = self.words.get_mut(word) {
                *w |= mask;
            }
        }
    }

    pub fn remove(&mut self, id: u16) {
        if id == 0 {
            return;
        }
        let (word, mask) = Self::slot(id);
        if let Some(w) = self.words.get_mut(word) {
            *w &= !mask;
        }
        self.trim();
    }

    fn trim(&mut self) {
        while self.words.last() == Some(&0) {
            self.words.pop();
        }
    }

    pub fn contains(&self, id: u16) -> bool {
        if id == 0 {
            return false;
        }
        let (word, mask) = Self::slot(id);
        self.words.get(word).is_some_and(|w| w & mask != 0)
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The highest id in the set, 0 if it is empty: the section's MaxVendorId.
    pub fn max(&self) -> u16 {
        for (i, w) in self.words.iter().enumerate().rev() {
            if *w != 0 {
                return (i * 64 + 64 - w.leading_zeros() as usize) as u16;
            }
        }
        0
    }

    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.words.iter().enumerate().flat_map(|(i, w)| {
            let mut bits = *w;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some((i * 64 + b + 1) as u16)
            })
        })
    }

    /// The set as maximal runs of consecutive ids, in order.
    pub fn runs(&self) -> impl Iterator<Item = (u16, u16)> + '_ {
        let mut ids = self.iter().peekable();
        std::iter::from_fn(move || {
            let first = ids.next()?;
            let mut last = first;
            while ids.peek() == Some(&(last.wrapping_add(1))) && last != u16::MAX {
                last += 1;
                ids.next();
            }
            Some((first, last))
        })
    }

    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }

    /// A set from its bitmap words (word `i` holds ids `64i+1..=64i+64`, low bit first).
    pub(crate) fn from_words(words: Vec<u64>) -> Self {
        let mut set = VendorSet { words };
        set.trim();
        set
    }
}

impl PartialEq for VendorSet {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.words, &other.words);
        let n = a.len().max(b.len());
        (0..n).all(|i| a.get(i).copied().unwrap_or(0) == b.get(i).copied().unwrap_or(0))
    }
}

impl Eq for VendorSet {}

impl FromIterator<u16> for VendorSet {
    fn from_iter<I: IntoIterator<Item = u16>>(iter: I) -> Self {
        let mut set = VendorSet::new();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

impl fmt::Debug for VendorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for VendorSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for VendorSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids = Vec::<u16>::deserialize(d)?;
        let mut set = VendorSet::new();
        for id in ids {
            if !set.insert(id) {
                return Err(serde::de::Error::custom(
                    "vendor id 0 is not a vendor: ids run from 1 to 65535",
                ));
            }
        }
        Ok(set)
    }
}

/// Two letters A–Z: a language (ISO 639-1) or a country (ISO 3166-1 alpha-2), stored
/// upper-case as the string encodes them.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Letters([u8; 2]);

impl Letters {
    /// Two ASCII letters in either case.
    pub fn new(code: &str) -> Option<Self> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Letters([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The 12-bit field: each letter 0 (A) to 25 (Z) in six bits.
    pub(crate) fn to_field(self) -> u64 {
        u64::from(self.0[0] - b'A') << 6 | u64::from(self.0[1] - b'A')
    }

    /// The letters of a 12-bit field, or the first value above 25.
    pub(crate) fn from_field(field: u64) -> Result<Self, u8> {
        let (a, b) = ((field >> 6) as u8 & 63, field as u8 & 63);
        for v in [a, b] {
            if v > 25 {
                return Err(v);
            }
        }
        Ok(Letters([b'A' + a, b'A' + b]))
    }
}

impl fmt::Debug for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

impl fmt::Display for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Letters {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Letters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Letters::new(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("{s:?} is not two letters A-Z, like \"EN\""))
        })
    }
}

/// A moment as the string stores it: deciseconds since the Unix epoch, 36 bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deciseconds(pub u64);

/// Deciseconds in a day.
const DAY: u64 = 864_000;

impl Deciseconds {
    /// The largest value the 36-bit field holds (in the year 2187).
    pub const MAX: Deciseconds = Deciseconds((1 << 36) - 1);

    /// Midnight UTC of `date`, the day precision TCF policy 4 and later require.
    pub fn day(date: Date) -> Self {
        let seconds = date.midnight().assume_utc().unix_timestamp();
        Deciseconds(u64::try_from(seconds).unwrap_or(0) * 10)
    }

    /// `at`, rounded down to the decisecond (0 before 1970).
    pub fn at(at: OffsetDateTime) -> Self {
        let ds = at.unix_timestamp_nanos() / 100_000_000;
        Deciseconds(u64::try_from(ds).unwrap_or(0))
    }

    pub fn is_midnight_utc(&self) -> bool {
        self.0.is_multiple_of(DAY)
    }

    pub fn to_datetime(self) -> OffsetDateTime {
        let nanos = i128::from(self.0) * 100_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for Deciseconds {
    /// RFC 3339 in UTC with the tenths of a second the field carries, if any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_datetime();
        let (date, clock) = (t.date(), t.time());
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            date.year(),
            u8::from(date.month()),
            date.day(),
            clock.hour(),
            clock.minute(),
            clock.second()
        )?;
        if !self.0.is_multiple_of(10) {
            write!(f, ".{}", self.0 % 10)?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for Deciseconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Deciseconds {
    type Err = String;

    /// An RFC 3339 moment with at most tenths of a second, or a bare date (midnight
    /// UTC).
    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(date) = Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        {
            return Ok(Deciseconds::day(date));
        }
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            format!("{s:?} is not an RFC 3339 time like \"2026-11-29T00:00:00Z\" or a date like \"2026-11-29\": {e}")
        })?;
        if t.nanosecond() % 100_000_000 != 0 {
            return Err(format!(
                "{s:?} is more precise than the string can hold: a TC string stores tenths of a second"
            ));
        }
        let t = t.to_offset(UtcOffset::UTC);
        if t < OffsetDateTime::UNIX_EPOCH || Deciseconds::at(t) > Deciseconds::MAX {
            return Err(format!(
                "{s:?} is outside 1970 to 2187, the range a TC string holds"
            ));
        }
        Ok(Deciseconds::at(t))
    }
}

impl Serialize for Deciseconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Deciseconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What a publisher restriction asks of the vendors it names (2 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestrictionType {
    /// 0: the purpose is not allowed for these vendors.
    NotAllowed,
    /// 1: these vendors need consent for the purpose.
    RequireConsent,
    /// 2: these vendors need legitimate interest for the purpose.
    RequireLegitimateInterest,
    /// 3: reserved by the specification; decoded so that nothing is lost, flagged by
    /// validation.
    Undefined,
}

impl RestrictionType {
    pub(crate) fn from_bits(v: u64) -> Self {
        match v & 3 {
            0 => RestrictionType::NotAllowed,
            1 => RestrictionType::RequireConsent,
            2 => RestrictionType::RequireLegitimateInterest,
            _ => RestrictionType::Undefined,
        }
    }

    pub(crate) fn bits(self) -> u64 {
        self as u64
    }
}

/// One publisher restriction: a purpose, what is asked, and of which vendors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublisherRestriction {
    pub purpose_id: u8,
    pub restriction_type: RestrictionType,
    pub vendors: VendorSet,
}

/// The publisher purposes transparency and consent segment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublisherTc {
    #[serde(default)]
    pub consents: IdSet,
    #[serde(default)]
    pub legitimate_interests: IdSet,
    /// How many custom purposes the publisher declared (0 to 63); the custom sets hold
    /// ids up to this number.
    #[serde(default)]
    pub num_custom_purposes: u8,
    #[serde(default)]
    pub custom_consents: IdSet,
    #[serde(default)]
    pub custom_legitimate_interests: IdSet,
}

/// Everything a version-2 TC string says. Segments other than the core are `None` when
/// the string does not carry them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TcModel {
    pub created: Deciseconds,
    pub last_updated: Deciseconds,
    pub cmp_id: u16,
    pub cmp_version: u16,
    #[serde(default)]
    pub consent_screen: u8,
    pub consent_language: Letters,
    pub vendor_list_version: u16,
    pub policy_version: u8,
    #[serde(default = "yes")]
    pub is_service_specific: bool,
    #[serde(default)]
    pub use_non_standard_texts: bool,
    #[serde(default)]
    pub special_feature_opt_ins: IdSet,
    #[serde(default)]
    pub purpose_consents: IdSet,
    #[serde(default)]
    pub purpose_legitimate_interests: IdSet,
    #[serde(default)]
    pub purpose_one_treatment: bool,
    pub publisher_country_code: Letters,
    #[serde(default)]
    pub vendor_consents: VendorSet,
    #[serde(default)]
    pub vendor_legitimate_interests: VendorSet,
    #[serde(default)]
    pub publisher_restrictions: Vec<PublisherRestriction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosed_vendors: Option<VendorSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_vendors: Option<VendorSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_tc: Option<PublisherTc>,
}

fn yes() -> bool {
    true
}

impl TcModel {
    /// A service-specific model with nothing consented, stamped at `day` (both
    /// created and last updated, as policy 4 and later require).
    pub fn new(cmp_id: u16, cmp_version: u16, day: Date) -> Self {
        let stamp = Deciseconds::day(day);
        TcModel {
            created: stamp,
            last_updated: stamp,
            cmp_id,
            cmp_version,
            consent_screen: 0,
            consent_language: Letters(*b"EN"),
            vendor_list_version: 0,
            policy_version: crate::CURRENT_POLICY_VERSION,
            is_service_specific: true,
            use_non_standard_texts: false,
            special_feature_opt_ins: IdSet::new(),
            purpose_consents: IdSet::new(),
            purpose_legitimate_interests: IdSet::new(),
            purpose_one_treatment: false,
            publisher_country_code: Letters(*b"AA"),
            vendor_consents: VendorSet::new(),
            vendor_legitimate_interests: VendorSet::new(),
            publisher_restrictions: Vec::new(),
            disclosed_vendors: None,
            allowed_vendors: None,
            publisher_tc: None,
        }
    }

    /// Reads a model from its JSON form (the form [`serde_json::to_string`] writes),
    /// naming the path of the first bad field.
    pub fn from_json(json: &str) -> Result<Self, String> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." || path.is_empty() {
                inner.to_string()
            } else {
                format!("at {path}: {inner}")
            }
        })
    }
}
