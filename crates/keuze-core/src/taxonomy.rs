//! The data-category taxonomy: a built-in hierarchy (`contact.email`,
//! `behaviour.purchase_history`, ...) that a catalog may extend with its own categories.
//! Special categories (GDPR art. 9, e.g. health) are flagged sensitive.

use crate::ids::{CategoryId, Locale};
use crate::text::Text;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: CategoryId,
    /// Plain words for the category, as shown to customers.
    pub name: Text,
    pub sensitive: bool,
    /// Part of Keuze's built-in taxonomy rather than added by the catalog.
    #[serde(skip)]
    pub builtin: bool,
}

/// All categories a catalog may use. Serializes only the categories the catalog adds, so a
/// catalog's digest does not change when a Keuze release rewords a built-in name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    categories: BTreeMap<CategoryId, Category>,
}

impl Serialize for Taxonomy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.categories.values().filter(|c| !c.builtin))
    }
}

/// The built-in categories: id, English name, Dutch name, sensitive. Names are what a
/// customer reads in a notice, so they are plain words rather than legal terms.
const BUILTIN: &[(&str, &str, &str, bool)] = &[
    ("identity", "Who you are", "Wie je bent", false),
    ("identity.name", "Your name", "Je naam", false),
    (
        "identity.date_of_birth",
        "Date of birth",
        "Geboortedatum",
        false,
    ),
    ("identity.gender", "Gender", "Geslacht", false),
    (
        "identity.customer_number",
        "Customer number",
        "Klantnummer",
        false,
    ),
    (
        "identity.account",
        "Account and login name",
        "Account en inlognaam",
        false,
    ),
    (
        "identity.government_id",
        "ID number, such as passport or BSN",
        "Identiteitsnummer, zoals paspoort of BSN",
        false,
    ),
    ("contact", "How to reach you", "Hoe we je bereiken", false),
    (
        "contact.name",
        "Name we use to address you",
        "Naam waarmee we je aanspreken",
        false,
    ),
    ("contact.email", "E-mail address", "E-mailadres", false),
    ("contact.phone", "Phone number", "Telefoonnummer", false),
    (
        "contact.postal_address",
        "Postal address",
        "Postadres",
        false,
    ),
    ("financial", "Money matters", "Geldzaken", false),
    (
        "financial.payment_card",
        "Payment card details",
        "Gegevens van je betaalkaart",
        false,
    ),
    (
        "financial.bank_account",
        "Bank account number",
        "Rekeningnummer",
        false,
    ),
    (
        "financial.transactions",
        "Payments and refunds",
        "Betalingen en terugbetalingen",
        false,
    ),
    ("financial.invoices", "Invoices", "Facturen", false),
    (
        "financial.credit_check",
        "Credit check result",
        "Uitslag van een kredietcheck",
        false,
    ),
    ("behaviour", "What you do", "Wat je doet", false),
    (
        "behaviour.purchase_history",
        "What you bought",
        "Wat je hebt gekocht",
        false,
    ),
    (
        "behaviour.browsing",
        "Pages you viewed",
        "Pagina's die je bekeek",
        false,
    ),
    (
        "behaviour.clicks",
        "What you clicked",
        "Waar je op klikte",
        false,
    ),
    (
        "behaviour.search",
        "What you searched for",
        "Waar je naar zocht",
        false,
    ),
    (
        "behaviour.preferences",
        "Your choices and likes",
        "Je keuzes en voorkeuren",
        false,
    ),
    (
        "behaviour.email_engagement",
        "Whether you open our e-mails",
        "Of je onze e-mails opent",
        false,
    ),
    ("device", "Your device", "Je apparaat", false),
    ("device.ip_address", "IP address", "IP-adres", false),
    (
        "device.identifiers",
        "Device and advertising ID",
        "Apparaat- en advertentie-ID",
        false,
    ),
    ("device.cookie_id", "Cookie ID", "Cookie-ID", false),
    (
        "device.browser",
        "Browser and operating system",
        "Browser en besturingssysteem",
        false,
    ),
    ("location", "Where you are", "Waar je bent", false),
    (
        "location.precise",
        "Exact location (GPS)",
        "Precieze locatie (gps)",
        false,
    ),
    (
        "location.approximate",
        "Rough location, such as your city",
        "Globale locatie, zoals je woonplaats",
        false,
    ),
    (
        "communications",
        "Contact with us",
        "Contact met ons",
        false,
    ),
    (
        "communications.messages",
        "Messages you send us",
        "Berichten die je ons stuurt",
        false,
    ),
    (
        "communications.calls",
        "Phone calls with us",
        "Telefoongesprekken met ons",
        false,
    ),
    ("content", "What you post", "Wat je plaatst", false),
    (
        "content.reviews",
        "Reviews you write",
        "Reviews die je schrijft",
        false,
    ),
    (
        "content.photos",
        "Photos you upload",
        "Foto's die je uploadt",
        false,
    ),
    ("health", "Health", "Gezondheid", true),
    (
        "health.conditions",
        "Health conditions",
        "Aandoeningen en klachten",
        true,
    ),
    (
        "health.activity",
        "Heart rate and fitness data",
        "Hartslag en conditiegegevens",
        true,
    ),
    ("biometric", "Biometric data", "Biometrische gegevens", true),
    ("biometric.face", "Face scan", "Gezichtsscan", true),
    ("biometric.fingerprint", "Fingerprint", "Vingerafdruk", true),
    (
        "genetic",
        "Genetic data (DNA)",
        "Genetische gegevens (dna)",
        true,
    ),
    (
        "ethnicity",
        "Race or ethnic origin",
        "Ras of etnische afkomst",
        true,
    ),
    (
        "religion",
        "Religion or beliefs",
        "Geloof of levensovertuiging",
        true,
    ),
    (
        "political_opinion",
        "Political views",
        "Politieke voorkeur",
        true,
    ),
    (
        "sexual_orientation",
        "Sex life or sexual orientation",
        "Seksleven of seksuele voorkeur",
        true,
    ),
    (
        "trade_union",
        "Trade union membership",
        "Lidmaatschap van een vakbond",
        true,
    ),
    (
        "criminal_record",
        "Criminal record",
        "Strafrechtelijke gegevens",
        true,
    ),
];

impl Taxonomy {
    /// The built-in taxonomy: about fifty categories under seventeen top-level ones.
    pub fn builtin() -> Self {
        let categories = BUILTIN
            .iter()
            .filter_map(|&(id, en, nl, sensitive)| {
                let id = CategoryId::parse(id).ok()?;
                let name = Text::from_map(BTreeMap::from([
                    (Locale::en(), en.to_owned()),
                    (Locale::nl(), nl.to_owned()),
                ]));
                Some((
                    id.clone(),
                    Category {
                        id,
                        name,
                        sensitive,
                        builtin: true,
                    },
                ))
            })
            .collect();
        Self { categories }
    }

    pub fn get(&self, id: &CategoryId) -> Option<&Category> {
        self.categories.get(id)
    }

    pub fn contains(&self, id: &str) -> bool {
        CategoryId::parse(id).is_ok_and(|c| self.categories.contains_key(&c))
    }

    /// The category's plain-language name in `locale` (English if that locale is missing).
    pub fn name(&self, id: &CategoryId, locale: &Locale) -> Option<&str> {
        self.categories.get(id).map(|c| c.name.get(locale))
    }

    /// Whether the category or any ancestor is sensitive.
    pub fn is_sensitive(&self, id: &CategoryId) -> bool {
        id.self_and_ancestors().any(|a| {
            CategoryId::parse(a)
                .ok()
                .and_then(|a| self.categories.get(&a))
                .is_some_and(|c| c.sensitive)
        })
    }

    /// Adds a category; the caller has checked that its id is new.
    pub fn insert(&mut self, category: Category) {
        self.categories.insert(category.id.clone(), category);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    pub fn len(&self) -> usize {
        self.categories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// The known category closest to a misspelt one, if any is close enough to be what
    /// the writer meant: `contact.emial` gives `contact.email`, and a bare `email` gives
    /// `contact.email`.
    pub fn suggest(&self, unknown: &str) -> Option<&CategoryId> {
        let whole = self
            .categories
            .keys()
            .map(|id| (strsim::damerau_levenshtein(unknown, id.as_str()), id))
            .filter(|&(d, id)| d <= close_enough(id.as_str()))
            .min_by_key(|&(d, _)| d)
            .map(|(_, id)| id);
        // Someone who leaves out the parent (`email`) still gets pointed to the right child.
        whole.or_else(|| {
            let leaf = unknown.rsplit('.').next().unwrap_or(unknown);
            self.categories
                .keys()
                .filter_map(|id| {
                    let own = id.as_str().rsplit('.').next().unwrap_or(id.as_str());
                    let d = strsim::damerau_levenshtein(leaf, own);
                    (d <= close_enough(own) && own.len() > 2).then_some((d, id))
                })
                .min_by_key(|&(d, _)| d)
                .map(|(_, id)| id)
        })
    }
}

/// How many edits still count as a typo of `word`: one per four characters, at least one.
fn close_enough(word: &str) -> usize {
    (word.chars().count() / 4).max(1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn id(s: &str) -> CategoryId {
        CategoryId::parse(s).unwrap()
    }

    #[test]
    fn builtin_has_enough_categories_and_all_parse() {
        let t = Taxonomy::builtin();
        assert!(t.len() >= 30, "only {} categories", t.len());
        assert_eq!(
            t.len(),
            BUILTIN.len(),
            "every built-in id parses and is unique"
        );
        assert!(t.iter().all(|c| c.builtin));
    }

    #[test]
    fn every_child_has_a_parent() {
        let t = Taxonomy::builtin();
        for c in t.iter() {
            for ancestor in c.id.self_and_ancestors().skip(1) {
                assert!(t.contains(ancestor), "{} has no parent {ancestor}", c.id);
            }
        }
    }

    #[test]
    fn every_name_is_in_english_and_dutch() {
        let t = Taxonomy::builtin();
        for c in t.iter() {
            let locales: Vec<&str> = c.name.locales().map(Locale::as_str).collect();
            assert_eq!(locales, ["en", "nl"], "{}", c.id);
            assert!(!c.name.get(&Locale::en()).is_empty());
            assert!(!c.name.get(&Locale::nl()).is_empty());
        }
    }

    #[test]
    fn special_categories_are_sensitive() {
        let t = Taxonomy::builtin();
        for s in [
            "health",
            "health.conditions",
            "biometric.face",
            "genetic",
            "ethnicity",
            "religion",
            "political_opinion",
            "sexual_orientation",
            "trade_union",
        ] {
            assert!(t.is_sensitive(&id(s)), "{s} should be sensitive");
        }
        for s in [
            "contact.email",
            "behaviour.purchase_history",
            "device.ip_address",
        ] {
            assert!(!t.is_sensitive(&id(s)), "{s} should not be sensitive");
        }
    }

    #[test]
    fn children_of_sensitive_categories_are_sensitive() {
        let mut t = Taxonomy::builtin();
        t.insert(Category {
            id: id("health.allergies"),
            name: Text::from_map(BTreeMap::from([(Locale::en(), "Allergies".to_owned())])),
            sensitive: false,
            builtin: false,
        });
        assert!(t.is_sensitive(&id("health.allergies")));
    }

    #[test]
    fn suggests_the_closest_category() {
        let t = Taxonomy::builtin();
        let s = |u: &str| t.suggest(u).map(|c| c.as_str().to_owned());
        assert_eq!(s("contact.emial").as_deref(), Some("contact.email"));
        assert_eq!(s("contact.mail").as_deref(), Some("contact.email"));
        assert_eq!(
            s("behavior.browsing").as_deref(),
            Some("behaviour.browsing")
        );
        assert_eq!(s("email").as_deref(), Some("contact.email"));
        assert_eq!(s("ip_adress").as_deref(), Some("device.ip_address"));
        assert_eq!(s("shoe_size"), None);
        assert_eq!(s("completely.unrelated"), None);
    }

    #[test]
    fn only_added_categories_serialize() {
        let mut t = Taxonomy::builtin();
        assert_eq!(serde_json::to_string(&t).unwrap(), "[]");
        t.insert(Category {
            id: id("loyalty"),
            name: Text::from_map(BTreeMap::from([(Locale::en(), "Loyalty".to_owned())])),
            sensitive: false,
            builtin: false,
        });
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"[{"id":"loyalty","name":{"en":"Loyalty"},"sensitive":false}]"#
        );
    }
}
