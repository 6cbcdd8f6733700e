//! Subjects: a customer is known only by a pseudonym, the HMAC-SHA256 of their
//! identifier under the server's secret. The raw identifier never leaves this module.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use std::fmt;

/// How the organisation names a customer when it talks to Keuze. Never stored.
#[derive(Clone, PartialEq, Eq)]
pub enum SubjectKey {
    /// The organisation's own identifier: an e-mail address, a customer number.
    Customer(String),
    /// An anonymous device id that Keuze issued (see [`SubjectKey::new_device_id`]).
    Device(String),
}

impl fmt::Debug for SubjectKey {
    // Raw identifiers must never reach a log line, not even through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Customer(_) => f.write_str("SubjectKey::Customer(<redacted>)"),
            Self::Device(_) => f.write_str("SubjectKey::Device(<redacted>)"),
        }
    }
}

impl SubjectKey {
    /// A device id from 16 random bytes supplied by the caller: `dev_` and 32 hex digits.
    pub fn new_device_id(random: [u8; 16]) -> String {
        format!("dev_{}", hex::encode(random))
    }

    /// Whether `s` has the shape of a device id that Keuze issued.
    pub fn is_device_id(s: &str) -> bool {
        s.len() == 36
            && s.starts_with("dev_")
            && s.bytes()
                .skip(4)
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

/// The pseudonym under which Keuze stores everything about one customer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubjectId([u8; 32]);

impl SubjectId {
    pub const fn from_bytes(b: [u8; 32]) -> Self {
        Self(b)
    }

    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the 64 lower-case hex digits that [`SubjectId::to_hex`] writes.
    /// Without a branch per digit, which random digits would mispredict half the time:
    /// batches of decisions name thousands of subjects this way.
    pub fn parse_hex(s: &str) -> Option<Self> {
        let digits = s.as_bytes();
        if digits.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        let mut valid = true;
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            let &[hi, lo] = pair else { return None };
            let (h, h_ok) = lower_hex_digit(hi);
            let (l, l_ok) = lower_hex_digit(lo);
            valid &= h_ok & l_ok;
            *byte = (h << 4) | l;
        }
        valid.then_some(Self(out))
    }
}

/// The value of one lower-case hex digit, and whether it is one; computed without branches.
const fn lower_hex_digit(c: u8) -> (u8, bool) {
    let digit = c.wrapping_sub(b'0');
    let letter = c.wrapping_sub(b'a');
    let is_digit = digit < 10;
    let is_letter = letter < 6;
    let value =
        digit.wrapping_mul(is_digit as u8) | letter.wrapping_add(10).wrapping_mul(is_letter as u8);
    (value & 0x0f, is_digit | is_letter)
}

impl fmt::Debug for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectId({})", self.to_hex())
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for SubjectId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SubjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_hex(&s).ok_or_else(|| {
            serde::de::Error::custom("a subject pseudonym is 64 lower-case hex digits")
        })
    }
}

/// Turns identifiers into pseudonyms with the server's secret.
#[derive(Clone)]
pub struct Pseudonymizer {
    secret: [u8; 32],
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonymizer(<secret>)")
    }
}

impl Pseudonymizer {
    pub const fn new(secret: [u8; 32]) -> Self {
        Self { secret }
    }

    pub fn pseudonym(&self, key: &SubjectKey) -> SubjectId {
        // Domain separation: a customer number can never collide with a device id.
        let (domain, raw) = match key {
            SubjectKey::Customer(s) => (b"customer\0".as_slice(), s.as_str()),
            SubjectKey::Device(s) => (b"device\0".as_slice(), s.as_str()),
        };
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.secret) {
            Ok(m) => m,
            // HMAC accepts keys of any length; this arm cannot be reached.
            Err(_) => return SubjectId([0; 32]),
        };
        mac.update(domain);
        mac.update(raw.as_bytes());
        SubjectId(mac.finalize().into_bytes().into())
    }

    /// A key for another use of the server's secret, such as signing customer sessions:
    /// the HMAC of `purpose` under the secret. The secret never leaves this type, no two
    /// purposes share a key, and no derived key equals a pseudonym (their inputs start
    /// differently).
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.secret) {
            Ok(m) => m,
            // HMAC accepts keys of any length; this arm cannot be reached.
            Err(_) => return [0; 32],
        };
        mac.update(b"keuze derived key\0");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_and_domain_separated() {
        let a = Pseudonymizer::new([1; 32]);
        let b = Pseudonymizer::new([2; 32]);
        let alice = SubjectKey::Customer("alice@example.com".into());
        assert_eq!(a.pseudonym(&alice), a.pseudonym(&alice));
        assert_ne!(a.pseudonym(&alice), b.pseudonym(&alice));
        assert_ne!(
            a.pseudonym(&SubjectKey::Customer("x".into())),
            a.pseudonym(&SubjectKey::Device("x".into()))
        );
        let hex = a.pseudonym(&alice).to_hex();
        assert_eq!(SubjectId::parse_hex(&hex), Some(a.pseudonym(&alice)));
        assert!(!format!("{alice:?}").contains("alice"));
    }

    #[test]
    fn pseudonyms_parse_from_lower_case_hex_only() {
        let id = SubjectId::from_bytes(std::array::from_fn(|i| (i as u8).wrapping_mul(37)));
        let hex = id.to_hex();
        assert_eq!(SubjectId::parse_hex(&hex), Some(id));
        assert_eq!(SubjectId::parse_hex(&hex.to_uppercase()), None);
        assert_eq!(SubjectId::parse_hex(&hex[..62]), None);
        assert_eq!(SubjectId::parse_hex(&format!("{hex}00")), None);
        for bad in ["g", "G", " ", "-", "é"] {
            let s = format!("{}{bad}", &hex[..64 - bad.len()]);
            assert_eq!(SubjectId::parse_hex(&s), None, "{s}");
        }
        assert_eq!(SubjectId::parse_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn hex_digits_are_exactly_0_to_9_and_a_to_f() {
        for c in 0..=255u8 {
            let expected = (c as char)
                .to_digit(16)
                .filter(|_| !c.is_ascii_uppercase())
                .map(|d| d as u8);
            let (value, ok) = lower_hex_digit(c);
            assert_eq!(ok.then_some(value), expected, "{c}");
        }
    }

    #[test]
    fn derived_keys_are_separate_from_the_secret_and_each_other() {
        let a = Pseudonymizer::new([1; 32]);
        assert_eq!(a.derive_key("session"), a.derive_key("session"));
        assert_ne!(a.derive_key("session"), a.derive_key("link"));
        assert_ne!(a.derive_key("session"), [1; 32]);
        assert_ne!(
            a.derive_key("session"),
            Pseudonymizer::new([2; 32]).derive_key("session")
        );
    }

    #[test]
    fn device_ids_have_a_fixed_shape() {
        let id = SubjectKey::new_device_id([0xab; 16]);
        assert!(SubjectKey::is_device_id(&id));
        assert!(!SubjectKey::is_device_id("dev_xyz"));
    }
}
