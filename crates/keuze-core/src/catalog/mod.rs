//! The catalog: what an organisation declares about the data it uses and why. Written
//! by a privacy officer as TOML ([`parse`]), checked with precise errors, and published
//! as immutable versions identified by the SHA-256 digest of their canonical form.

pub mod parse;

pub use crate::digest::Digest256;
use crate::event::Action;
use crate::ids::{CategoryId, CountryCode, Locale, PurposeId};
use crate::taxonomy::Taxonomy;
pub use crate::text::Text;
use serde::Serialize;
use std::fmt;

pub use parse::{
    parse_catalog, parse_catalog_against, CatalogError, CatalogReport, Diagnostic, Severity,
};

/// The sample catalog of a Dutch bicycle shop: what `keuze init` writes, and the example
/// in docs/catalog.md.
pub const SAMPLE_CATALOG: &str = include_str!("../../sample/catalog.toml");

/// A whole catalog, as checked: every category a purpose names exists in `taxonomy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    pub organisation: Organisation,
    /// The built-in taxonomy plus the categories this catalog adds.
    pub taxonomy: Taxonomy,
    /// In the order the catalog declares them; ids are unique.
    pub purposes: Vec<Purpose>,
    /// Ready-made sets of choices the preference center offers ("only what is needed",
    /// "balanced", "everything"). Left out of the canonical form while there are none, so
    /// catalogs written before presets existed keep their digest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub presets: Vec<Preset>,
    /// The organisation as an IAB TCF publisher: which CMP makes its TC strings and
    /// which vendors it works with. Left out of the canonical form while absent, so
    /// catalogs written before TCF existed keep their digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcf: Option<Tcf>,
}

/// The `[tcf]` table: what a TC string needs that is not a customer's choice. Which
/// customer choices it carries is said per purpose ([`Purpose::tcf_purposes`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tcf {
    /// The id the IAB assigned to the organisation's CMP, 2 to 4095.
    pub cmp_id: u16,
    /// The CMP's version, 0 to 4095; raise it when what customers are shown changes.
    pub cmp_version: u16,
    /// The country whose law governs the organisation as a publisher.
    pub publisher_country: CountryCode,
    /// Global Vendor List ids of the vendors the organisation works with and discloses
    /// to customers; ascending, each once.
    pub vendors: Vec<u16>,
}

/// A ready-made set of choices: applying it grants the purposes it lists and says no to
/// every other purpose the customer can switch, one event per purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preset {
    pub id: PurposeId,
    pub title: Text,
    pub description: Text,
    /// Switchable purposes, each at most once; every other switchable purpose is refused.
    pub grants: Vec<PurposeId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub name: String,
    /// Where customers reach the organisation (an e-mail address or a web address).
    pub contact: String,
    /// Where customers reach whoever handles privacy questions.
    pub privacy_contact: String,
    pub country: CountryCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purpose {
    pub id: PurposeId,
    pub legal_basis: LegalBasis,
    pub title: Text,
    pub description: Text,
    pub categories: Vec<CategoryId>,
    pub recipients: Vec<Recipient>,
    pub retention: Period,
    /// What the customer gets in return. Required for `consent` and `legitimate_interest`.
    pub benefit: Option<Text>,
    /// What happens if the customer says no. Required for `consent` and `legitimate_interest`.
    pub alternative: Option<Text>,
    /// How long a grant lasts before the customer is asked again.
    pub consent_lifetime: Option<Period>,
    /// Whether a Global Privacy Control signal counts as a refusal for this purpose.
    pub gpc: bool,
    /// Google Consent Mode v2 signals (`ad_storage`, `analytics_storage`, ...) that may be
    /// `granted` only while this purpose is allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consent_mode: Vec<String>,
    /// The author's mark for what the purpose means, from 1. Raising it says the meaning
    /// changed, which makes the change material whatever else changed. Left out of the
    /// canonical form while it is 1, so catalogs written before it existed keep their
    /// digest.
    #[serde(skip_serializing_if = "is_first_revision")]
    pub revision: u32,
    /// IAB TCF purposes (1 to 11) a grant of this purpose consents to in TC strings;
    /// ascending. Only consent purposes map, and each TCF purpose from one purpose at
    /// most. Left out of the canonical form while empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcf_purposes: Vec<u8>,
    /// IAB TCF special features (1 to 2) a grant of this purpose opts in to; as
    /// `tcf_purposes`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tcf_special_features: Vec<u8>,
}

fn is_first_revision(revision: &u32) -> bool {
    *revision == 1
}

/// Why the organisation may use data for a purpose, which decides who may switch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Opt-in: denied until the customer grants.
    Consent,
    /// Allowed until the customer objects.
    LegitimateInterest,
    /// Needed to deliver what the customer asked for; explained, not switchable.
    Contract,
    /// Required by law; explained, not switchable.
    LegalObligation,
}

impl LegalBasis {
    pub const ALL: [LegalBasis; 4] = [
        Self::Consent,
        Self::LegitimateInterest,
        Self::Contract,
        Self::LegalObligation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::LegitimateInterest => "legitimate_interest",
            Self::Contract => "contract",
            Self::LegalObligation => "legal_obligation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Whether the customer can switch this purpose on and off.
    pub fn is_switchable(self) -> bool {
        matches!(self, Self::Consent | Self::LegitimateInterest)
    }

    /// The action by which the customer says no to a purpose on this basis: withdrawing
    /// consent, objecting to a legitimate interest. None for a basis they cannot switch.
    pub fn refusal(self) -> Option<Action> {
        match self {
            Self::Consent => Some(Action::Withdraw),
            Self::LegitimateInterest => Some(Action::Object),
            Self::Contract | Self::LegalObligation => None,
        }
    }

    /// The action that says yes (a grant) or no ([`LegalBasis::refusal`]) to a purpose on
    /// this basis. None for a basis the customer cannot switch.
    pub fn answer(self, yes: bool) -> Option<Action> {
        match yes {
            true => self.is_switchable().then_some(Action::Grant),
            false => self.refusal(),
        }
    }
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub name: String,
    pub country: CountryCode,
}

/// A length of time as people say it: `13 months`, `2 years`, `30 days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub amount: u32,
    pub unit: PeriodUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl Period {
    /// Parses `N days|weeks|months|years` (singular accepted for 1).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split_whitespace();
        let amount: u32 = parts.next()?.parse().ok()?;
        let unit = match parts.next()? {
            "day" | "days" => PeriodUnit::Days,
            "week" | "weeks" => PeriodUnit::Weeks,
            "month" | "months" => PeriodUnit::Months,
            "year" | "years" => PeriodUnit::Years,
            _ => return None,
        };
        if parts.next().is_some() || amount == 0 {
            return None;
        }
        Some(Self { amount, unit })
    }

    /// The period in days, counting a month as 30 and a year as 365 days. Used to
    /// compare retentions and to expire consent; never for calendar arithmetic.
    pub fn days(self) -> i64 {
        let per = match self.unit {
            PeriodUnit::Days => 1,
            PeriodUnit::Weeks => 7,
            PeriodUnit::Months => 30,
            PeriodUnit::Years => 365,
        };
        i64::from(self.amount) * per
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match (self.unit, self.amount) {
            (PeriodUnit::Days, 1) => "day",
            (PeriodUnit::Days, _) => "days",
            (PeriodUnit::Weeks, 1) => "week",
            (PeriodUnit::Weeks, _) => "weeks",
            (PeriodUnit::Months, 1) => "month",
            (PeriodUnit::Months, _) => "months",
            (PeriodUnit::Years, 1) => "year",
            (PeriodUnit::Years, _) => "years",
        };
        write!(f, "{} {unit}", self.amount)
    }
}

/// The Google Consent Mode v2 signals a purpose can map to.
pub const CONSENT_MODE_SIGNALS: [&str; 7] = [
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
];

impl Catalog {
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id.as_str() == id)
    }

    pub fn preset(&self, id: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.id.as_str() == id)
    }

    /// The purposes whose choices a TC string carries, in catalog order.
    pub fn tcf_mapped(&self) -> impl Iterator<Item = &Purpose> {
        self.purposes.iter().filter(|p| p.maps_to_tcf())
    }

    /// The canonical form: compact JSON with fields in declaration order and text maps
    /// sorted by locale. Two catalogs that mean the same thing have the same bytes,
    /// whatever their TOML formatting or comments.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The digest that identifies this catalog's content.
    pub fn digest(&self) -> Digest256 {
        Digest256::of(self.canonical_json().as_bytes())
    }
}

impl Purpose {
    /// The exact notice a customer is shown for this purpose in `locale`: title,
    /// description, the data, recipients, retention, benefit and alternative. Its
    /// digest goes into every consent event, so a grant proves what was read.
    pub fn notice(&self, locale: &Locale, taxonomy: &Taxonomy) -> String {
        let mut out = String::new();
        let mut line = |k: &str, v: &str| {
            out.push_str(k);
            out.push_str(": ");
            out.push_str(v);
            out.push('\n');
        };
        line("purpose", self.id.as_str());
        line("legal_basis", self.legal_basis.as_str());
        line("title", self.title.get(locale));
        line("description", self.description.get(locale));
        let data: Vec<String> = self
            .categories
            .iter()
            .map(|c| taxonomy.name(c, locale).unwrap_or(c.as_str()).to_owned())
            .collect();
        line("data", &data.join("; "));
        let recipients: Vec<String> = self
            .recipients
            .iter()
            .map(|r| format!("{} ({})", r.name, r.country))
            .collect();
        line("recipients", &recipients.join("; "));
        line("retention", &self.retention.to_string());
        if let Some(b) = &self.benefit {
            line("benefit", b.get(locale));
        }
        if let Some(a) = &self.alternative {
            line("alternative", a.get(locale));
        }
        if let Some(l) = &self.consent_lifetime {
            line("consent_lifetime", &l.to_string());
        }
        out
    }

    pub fn notice_digest(&self, locale: &Locale, taxonomy: &Taxonomy) -> Digest256 {
        Digest256::of(self.notice(locale, taxonomy).as_bytes())
    }

    /// Whether a choice for this purpose goes into TC strings.
    pub fn maps_to_tcf(&self) -> bool {
        !self.tcf_purposes.is_empty() || !self.tcf_special_features.is_empty()
    }

    /// Whether `category` (or one of its ancestors) is declared for this purpose.
    pub fn declares(&self, category: &CategoryId) -> bool {
        category
            .self_and_ancestors()
            .any(|c| self.categories.iter().any(|d| d.as_str() == c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_compare() {
        assert_eq!(Period::parse("13 months").map(Period::days), Some(390));
        assert_eq!(
            Period::parse("1 year").map(|p| p.to_string()),
            Some("1 year".into())
        );
        assert_eq!(Period::parse("0 days"), None);
        assert_eq!(Period::parse("forever"), None);
        assert_eq!(Period::parse("3 fortnights"), None);
        assert_eq!(Period::parse("3 days extra"), None);
    }

    #[test]
    fn each_switchable_basis_has_one_way_to_say_no() {
        assert_eq!(LegalBasis::Consent.refusal(), Some(Action::Withdraw));
        assert_eq!(
            LegalBasis::LegitimateInterest.refusal(),
            Some(Action::Object)
        );
        assert_eq!(LegalBasis::Contract.refusal(), None);
        assert_eq!(LegalBasis::LegalObligation.refusal(), None);
        for basis in LegalBasis::ALL {
            assert_eq!(basis.refusal().is_some(), basis.is_switchable());
            assert_eq!(basis.answer(false), basis.refusal());
            let yes = basis.is_switchable().then_some(Action::Grant);
            assert_eq!(basis.answer(true), yes);
        }
    }
}
