//! Parsed identifiers: the constructor is the only way in, so an invalid purpose id,
//! category id, locale or country code cannot travel through the system.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Why an identifier was refused, phrased so it can be shown to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IdError(pub String);

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, IdError> {
                $check(s)?;
                Ok(Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        // Hash and Eq agree with `str`'s, so maps keyed by the id can be searched by `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

string_id!(
    /// A purpose's id: lower-case ASCII letters, digits and `_`, starting with a letter,
    /// at most 64 characters, e.g. `personalised_recommendations`.
    PurposeId,
    check_purpose_id
);

string_id!(
    /// A data category's id: dot-separated segments of lower-case letters, digits and
    /// `_`, e.g. `contact.email` or `behaviour.purchase_history`.
    CategoryId,
    check_category_id
);

string_id!(
    /// A locale as a lower-case ISO 639-1 language code, e.g. `en` or `nl`.
    Locale,
    check_locale
);

string_id!(
    /// An ISO 3166-1 alpha-2 country code in upper case, e.g. `NL` or `US`.
    CountryCode,
    check_country
);

fn is_snake_segment(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

fn check_purpose_id(s: &str) -> Result<(), IdError> {
    if s.len() > 64 || !is_snake_segment(s) {
        return Err(IdError(format!(
            "`{s}` is not a valid purpose id: use lower-case letters, digits and `_`, starting with a letter, at most 64 characters (e.g. `newsletter`)"
        )));
    }
    Ok(())
}

fn check_category_id(s: &str) -> Result<(), IdError> {
    if s.len() > 96 || s.split('.').any(|seg| !is_snake_segment(seg)) {
        return Err(IdError(format!(
            "`{s}` is not a valid data category id: use dot-separated lower-case segments (e.g. `contact.email`)"
        )));
    }
    Ok(())
}

fn check_locale(s: &str) -> Result<(), IdError> {
    if s.len() != 2 || !s.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(IdError(format!(
            "`{s}` is not a valid locale: use a two-letter lower-case language code such as `en` or `nl`"
        )));
    }
    Ok(())
}

fn check_country(s: &str) -> Result<(), IdError> {
    if s.len() != 2 || !s.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(IdError(format!(
            "`{s}` is not a valid country code: use a two-letter upper-case ISO 3166-1 code such as `NL` or `US`"
        )));
    }
    Ok(())
}

impl Locale {
    pub fn en() -> Self {
        Self("en".to_owned())
    }

    pub fn nl() -> Self {
        Self("nl".to_owned())
    }
}

impl CategoryId {
    /// This category and each of its ancestors, nearest first:
    /// `contact.email` gives `contact.email`, then `contact`.
    pub fn self_and_ancestors(&self) -> impl Iterator<Item = &str> {
        let s = self.0.as_str();
        std::iter::successors(Some(s), |cur| cur.rfind('.').map(|i| &cur[..i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purpose_ids_are_snake_case() {
        assert!(PurposeId::parse("personalised_recommendations").is_ok());
        assert!(PurposeId::parse("Newsletter").is_err());
        assert!(PurposeId::parse("1st").is_err());
        assert!(PurposeId::parse("").is_err());
    }

    #[test]
    fn category_ancestors_nearest_first() {
        let c = CategoryId::parse("behaviour.purchase_history.online").unwrap();
        let all: Vec<_> = c.self_and_ancestors().collect();
        assert_eq!(
            all,
            [
                "behaviour.purchase_history.online",
                "behaviour.purchase_history",
                "behaviour"
            ]
        );
        assert!(CategoryId::parse("contact..email").is_err());
    }

    #[test]
    fn locales_and_countries() {
        assert!(Locale::parse("nl").is_ok());
        assert!(Locale::parse("NL").is_err());
        assert!(CountryCode::parse("US").is_ok());
        assert!(CountryCode::parse("usa").is_err());
    }
}
