//! Text a customer reads, in every locale the catalog supports. Its own module so that
//! the taxonomy and the catalog can both hold texts without depending on each other.

use crate::ids::Locale;
use serde::Serialize;
use std::collections::BTreeMap;

/// A text in every locale the catalog supports; `en` and `nl` are always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(BTreeMap<Locale, String>);

impl Text {
    /// The locales every text must have.
    pub const REQUIRED: [&'static str; 2] = ["en", "nl"];

    /// Builds a text; the caller (the parser) has checked that `en` and `nl` are there.
    pub fn from_map(map: BTreeMap<Locale, String>) -> Self {
        Self(map)
    }

    /// The text in `locale`, falling back to English.
    pub fn get(&self, locale: &Locale) -> &str {
        self.0
            .get(locale)
            .or_else(|| self.0.get(&Locale::en()))
            .map_or("", String::as_str)
    }

    pub fn locales(&self) -> impl Iterator<Item = &Locale> {
        self.0.keys()
    }
}
