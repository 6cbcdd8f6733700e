//! Catalog changes in words, English and Dutch: each change as a sentence for the
//! customer ([`explain`], [`explain_for_customer`]) and the whole diff for the catalog's
//! author ([`render`]), the diff as JSON with those sentences, why a diff is refused, and
//! the country names the sentences use. Every sentence about a change is written here and
//! nowhere else; [`crate::change`] classifies without words, so nothing that decides
//! depends on this module.

use crate::catalog::{LegalBasis, Period};
use crate::change::{
    in_eea, CatalogDiff, Change, ChangeKind, DiffError, LoweredRevision, Materiality, PurposeDiff,
    PurposeDiffKind, Rule, TcfSettings,
};
use crate::gvl;
use crate::ids::{CountryCode, Locale, PurposeId};
use crate::text::Text;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// The change in plain words, in `locale` (Dutch for `nl`, English otherwise).
pub fn explain(change: &Change, locale: &Locale) -> String {
    sentence(&change.what, Lang::of(locale), locale)
}

/// "What changed since you last agreed" for one changed purpose, as sentences in
/// `locale`, leaving out rewordings that did not change the text in that language.
pub fn explain_purpose(purpose: &PurposeDiff, locale: &Locale) -> Vec<String> {
    let lang = Lang::of(locale);
    match purpose.kind {
        PurposeDiffKind::Added => vec![lang
            .pick("This purpose is new.", "Dit doel is nieuw.")
            .to_owned()],
        PurposeDiffKind::Removed => vec![lang
            .pick(
                "We no longer use your data for this purpose.",
                "We gebruiken je gegevens niet meer voor dit doel.",
            )
            .to_owned()],
        PurposeDiffKind::Changed => purpose
            .changes
            .iter()
            .filter(|c| c.is_visible_in(locale))
            .map(|c| c.explain(locale))
            .collect(),
    }
}

/// "What changed since you last agreed" for one purpose, in `locale`: the plain
/// sentences of [`render`] without the rules. Empty when the purpose did
/// not change.
pub fn explain_for_customer(diff: &CatalogDiff, purpose: &str, locale: &Locale) -> Vec<String> {
    diff.purpose(purpose)
        .map(|p| explain_purpose(p, locale))
        .unwrap_or_default()
}

/// The diff in plain words for the catalog's author, in `locale` (Dutch for `nl`,
/// English otherwise): per purpose a heading with its title, then one line per
/// change ending in its materiality and rule.
///
/// ```text
/// Our ads on other sites (advertising_partners): material change
/// - We now also share this data with Acme Ads (United States). That is outside the EEA. [material: recipient_outside_eea]
/// ```
pub fn render(diff: &CatalogDiff, locale: &Locale) -> String {
    let lang = Lang::of(locale);
    if diff.is_empty() {
        return format!("{}\n", lang.pick("No changes.", "Geen wijzigingen."));
    }
    let mut out = String::new();
    let mut section = |heading: String, changes: &[Change]| {
        out.push_str(&heading);
        out.push('\n');
        for c in changes {
            let materiality = match c.materiality {
                Materiality::Material => lang.pick("material", "materieel"),
                Materiality::Minor => lang.pick("minor", "klein"),
            };
            out.push_str(&format!(
                "- {} [{materiality}: {}]\n",
                c.explain(locale),
                c.rule
            ));
        }
        out.push('\n');
    };
    for p in &diff.purposes {
        let status = match p.kind {
            PurposeDiffKind::Added => lang.pick("new purpose", "nieuw doel"),
            PurposeDiffKind::Removed => lang.pick("removed", "verwijderd"),
            PurposeDiffKind::Changed if p.is_material() => {
                lang.pick("material change", "materiële wijziging")
            }
            PurposeDiffKind::Changed => {
                lang.pick("minor changes only", "alleen kleine wijzigingen")
            }
        };
        section(
            format!("{} ({}): {status}", p.title.get(locale), p.purpose),
            &p.changes,
        );
    }
    if !diff.organisation.is_empty() {
        section(
            lang.pick(
                "Organisation: minor changes",
                "Organisatie: kleine wijzigingen",
            )
            .to_owned(),
            &diff.organisation,
        );
    }
    if !diff.categories.is_empty() {
        section(
            lang.pick(
                "Data categories: minor changes",
                "Soorten gegevens: kleine wijzigingen",
            )
            .to_owned(),
            &diff.categories,
        );
    }
    let count = |kind: PurposeDiffKind, material: bool| {
        diff.purposes
            .iter()
            .filter(|p| {
                p.kind == kind && (kind != PurposeDiffKind::Changed || p.is_material() == material)
            })
            .count()
    };
    let material = count(PurposeDiffKind::Changed, true);
    out.push_str(&match lang {
        Lang::En => format!(
            "Purposes: {material} changed materially, {} changed in minor ways only, {} new, {} removed.\n",
            count(PurposeDiffKind::Changed, false),
            count(PurposeDiffKind::Added, false),
            count(PurposeDiffKind::Removed, false),
        ),
        Lang::Nl => format!(
            "Doelen: {material} materieel gewijzigd, {} alleen op kleine punten gewijzigd, {} nieuw, {} verwijderd.\n",
            count(PurposeDiffKind::Changed, false),
            count(PurposeDiffKind::Added, false),
            count(PurposeDiffKind::Removed, false),
        ),
    });
    if material > 0 {
        out.push_str(lang.pick(
            "Customers who agreed to a materially changed purpose are asked again; until they say yes, their earlier consent is not relied on.\n",
            "Klanten die instemden met een materieel gewijzigd doel, vragen we het opnieuw; tot ze ja zeggen, gaan we niet uit van hun eerdere toestemming.\n",
        ));
    }
    out
}

// --- the methods callers used before the split, kept while they move ------------------

impl Change {
    /// See [`explain`].
    pub fn explain(&self, locale: &Locale) -> String {
        explain(self, locale)
    }
}

impl PurposeDiff {
    /// See [`explain_purpose`].
    pub fn explain_for_customer(&self, locale: &Locale) -> Vec<String> {
        explain_purpose(self, locale)
    }
}

impl CatalogDiff {
    /// See [`render`].
    pub fn render(&self, locale: &Locale) -> String {
        render(self, locale)
    }
}

// --- the diff as JSON: every change with its sentence in each language ----------------

impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            #[serde(flatten)]
            what: &'a ChangeKind,
            materiality: Materiality,
            rule: Rule,
            /// The explanation in each language Keuze writes.
            text: BTreeMap<Locale, String>,
        }
        let text = [Locale::en(), Locale::nl()]
            .into_iter()
            .map(|l| {
                let t = self.explain(&l);
                (l, t)
            })
            .collect();
        Shown {
            what: &self.what,
            materiality: self.materiality,
            rule: self.rule,
            text,
        }
        .serialize(s)
    }
}

impl Serialize for PurposeDiff {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            purpose: &'a PurposeId,
            title: &'a Text,
            kind: PurposeDiffKind,
            changes: &'a [Change],
        }
        Shown {
            purpose: &self.purpose,
            title: &self.title,
            kind: self.kind,
            changes: &self.changes,
        }
        .serialize(s)
    }
}

impl Serialize for CatalogDiff {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            materially_changed: Vec<&'a PurposeId>,
            purposes: &'a [PurposeDiff],
            organisation: &'a [Change],
            categories: &'a [Change],
        }
        Shown {
            materially_changed: self.materially_changed().collect(),
            purposes: &self.purposes,
            organisation: &self.organisation,
            categories: &self.categories,
        }
        .serialize(s)
    }
}

// --- why a diff is refused ----------------------------------------------------------------

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RevisionLowered(lowered) => f.write_str(&lines(lowered)),
        }
    }
}

impl std::error::Error for DiffError {}

impl fmt::Display for LoweredRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the revision of purpose `{}` went down from {} to {}, but a revision can only go up: set it back to {}, or to {} if the purpose's meaning changed",
            self.purpose,
            self.from,
            self.to,
            self.from,
            self.from.saturating_add(1)
        )
    }
}

fn lines(lowered: &[LoweredRevision]) -> String {
    lowered
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

// --- countries -------------------------------------------------------------------------

/// Country names as customers read them: code, English, Dutch.
const COUNTRY_NAMES: &[(&str, &str, &str)] = &[
    ("AT", "Austria", "Oostenrijk"),
    ("BE", "Belgium", "België"),
    ("BG", "Bulgaria", "Bulgarije"),
    ("HR", "Croatia", "Kroatië"),
    ("CY", "Cyprus", "Cyprus"),
    ("CZ", "Czechia", "Tsjechië"),
    ("DK", "Denmark", "Denemarken"),
    ("EE", "Estonia", "Estland"),
    ("FI", "Finland", "Finland"),
    ("FR", "France", "Frankrijk"),
    ("DE", "Germany", "Duitsland"),
    ("GR", "Greece", "Griekenland"),
    ("HU", "Hungary", "Hongarije"),
    ("IE", "Ireland", "Ierland"),
    ("IT", "Italy", "Italië"),
    ("LV", "Latvia", "Letland"),
    ("LT", "Lithuania", "Litouwen"),
    ("LU", "Luxembourg", "Luxemburg"),
    ("MT", "Malta", "Malta"),
    ("NL", "the Netherlands", "Nederland"),
    ("PL", "Poland", "Polen"),
    ("PT", "Portugal", "Portugal"),
    ("RO", "Romania", "Roemenië"),
    ("SK", "Slovakia", "Slowakije"),
    ("SI", "Slovenia", "Slovenië"),
    ("ES", "Spain", "Spanje"),
    ("SE", "Sweden", "Zweden"),
    ("IS", "Iceland", "IJsland"),
    ("LI", "Liechtenstein", "Liechtenstein"),
    ("NO", "Norway", "Noorwegen"),
    ("US", "United States", "Verenigde Staten"),
    ("GB", "United Kingdom", "Verenigd Koninkrijk"),
    ("CH", "Switzerland", "Zwitserland"),
    ("CA", "Canada", "Canada"),
    ("IN", "India", "India"),
    ("CN", "China", "China"),
    ("JP", "Japan", "Japan"),
    ("AU", "Australia", "Australië"),
];

/// The country's name in `locale` (Dutch for `nl`, English otherwise), or its code for
/// a country Keuze has no name for.
pub fn country_name<'a>(country: &'a CountryCode, locale: &Locale) -> &'a str {
    let lang = Lang::of(locale);
    COUNTRY_NAMES
        .iter()
        .find(|(code, _, _)| *code == country.as_str())
        .map_or(country.as_str(), |&(_, en, nl)| lang.pick(en, nl))
}

// --- plain words -----------------------------------------------------------------------

/// The languages Keuze writes explanations in; every other locale reads English.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Nl,
}

impl Lang {
    fn of(locale: &Locale) -> Self {
        if locale.as_str() == "nl" {
            Self::Nl
        } else {
            Self::En
        }
    }

    fn pick<'a>(self, en: &'a str, nl: &'a str) -> &'a str {
        match self {
            Self::En => en,
            Self::Nl => nl,
        }
    }
}

fn period(p: Period, lang: Lang) -> String {
    p.in_words(&match lang {
        Lang::En => Locale::en(),
        Lang::Nl => Locale::nl(),
    })
}

fn basis(b: LegalBasis, lang: Lang) -> &'static str {
    match b {
        LegalBasis::Consent => lang.pick("your consent", "jouw toestemming"),
        LegalBasis::LegitimateInterest => {
            lang.pick("our legitimate interest", "ons gerechtvaardigd belang")
        }
        LegalBasis::Contract => lang.pick("our contract with you", "onze overeenkomst met jou"),
        LegalBasis::LegalObligation => lang.pick("a legal duty", "een wettelijke plicht"),
    }
}

/// What the new basis means for the customer, in one sentence.
fn basis_means(b: LegalBasis, lang: Lang) -> &'static str {
    match b {
        LegalBasis::Consent => lang.pick(
            "We only do it if you say yes.",
            "We doen het alleen als je ja zegt.",
        ),
        LegalBasis::LegitimateInterest => lang.pick(
            "You can object to it at any time.",
            "Je kunt er altijd bezwaar tegen maken.",
        ),
        LegalBasis::Contract => lang.pick(
            "We need it to deliver what you asked for.",
            "We hebben het nodig om te leveren wat je vroeg.",
        ),
        LegalBasis::LegalObligation => {
            lang.pick("The law requires it.", "De wet verplicht ons ertoe.")
        }
    }
}

/// `name` ending a sentence: `Fietsen B.V.` already ends in a full stop, `Acme` gets one.
fn full_stop(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// A category name in the middle of a sentence: `E-mail address` becomes
/// `e-mail address`, but `IP address` stays as it is.
fn mid_sentence(name: &str) -> String {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(first), second)
            if first.is_uppercase() && !second.is_some_and(char::is_uppercase) =>
        {
            first.to_lowercase().chain(name.chars().skip(1)).collect()
        }
        _ => name.to_owned(),
    }
}

/// The languages whose text differs, for "in another language (nl)".
fn changed_languages(from: &Text, to: &Text) -> String {
    let mut locales: Vec<&Locale> = from.locales().chain(to.locales()).collect();
    locales.sort();
    locales.dedup();
    locales
        .into_iter()
        .filter(|l| from.get(l) != to.get(l))
        .map(Locale::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn sentence(what: &ChangeKind, lang: Lang, locale: &Locale) -> String {
    let country = |c: &CountryCode| country_name(c, locale).to_owned();
    let outside = |c: &CountryCode| {
        if in_eea(c) {
            String::new()
        } else {
            format!(
                " {}",
                lang.pick("That is outside the EEA.", "Dat is buiten de EER.")
            )
        }
    };
    let p = |x: Period| period(x, lang);
    let text_in = |t: &Text| t.get(locale).to_owned();
    match what {
        ChangeKind::MeaningChanged { .. } => lang
            .pick(
                "We changed what we do for this purpose. Please read its description again.",
                "We hebben veranderd wat we voor dit doel doen. Lees de beschrijving daarom opnieuw.",
            )
            .to_owned(),
        ChangeKind::LegalBasisChanged { from, to } => match lang {
            Lang::En => format!(
                "We now do this based on {}, instead of {}. {}",
                basis(*to, lang),
                basis(*from, lang),
                basis_means(*to, lang)
            ),
            Lang::Nl => format!(
                "We doen dit nu op basis van {}, in plaats van {}. {}",
                basis(*to, lang),
                basis(*from, lang),
                basis_means(*to, lang)
            ),
        },
        ChangeKind::CategoryAdded { name, .. } => format!(
            "{} {}.",
            lang.pick("We now also use this data:", "We gebruiken nu ook deze gegevens:"),
            mid_sentence(name.get(locale))
        ),
        ChangeKind::CategoryRemoved { name, .. } => format!(
            "{} {}.",
            lang.pick("We no longer use this data:", "We gebruiken deze gegevens niet meer:"),
            mid_sentence(name.get(locale))
        ),
        ChangeKind::RecipientAdded { recipient: r } => format!(
            "{} {} ({}).{}",
            lang.pick(
                "We now also share this data with",
                "We delen deze gegevens nu ook met"
            ),
            r.name,
            country(&r.country),
            outside(&r.country)
        ),
        ChangeKind::RecipientRemoved { recipient: r } => format!(
            "{} {} ({}).",
            lang.pick(
                "We no longer share this data with",
                "We delen deze gegevens niet meer met"
            ),
            r.name,
            country(&r.country)
        ),
        ChangeKind::RecipientMoved { name, from, to } => match lang {
            Lang::En => format!(
                "{name} now handles this data in another country: {} (before: {}).{}",
                country(to),
                country(from),
                outside(to)
            ),
            Lang::Nl => format!(
                "{name} verwerkt deze gegevens nu in een ander land: {} (eerst: {}).{}",
                country(to),
                country(from),
                outside(to)
            ),
        },
        ChangeKind::RetentionLengthened { from, to } => match lang {
            Lang::En => format!("We now keep this data longer: {} instead of {}.", p(*to), p(*from)),
            Lang::Nl => format!(
                "We bewaren deze gegevens nu langer: {} in plaats van {}.",
                p(*to),
                p(*from)
            ),
        },
        ChangeKind::RetentionShortened { from, to } => match lang {
            Lang::En => format!("We now keep this data for a shorter time: {} instead of {}.", p(*to), p(*from)),
            Lang::Nl => format!(
                "We bewaren deze gegevens nu korter: {} in plaats van {}.",
                p(*to),
                p(*from)
            ),
        },
        ChangeKind::RetentionRestated { from, to } => match lang {
            Lang::En => format!(
                "We now keep this data for {} instead of {}. That is just as long.",
                p(*to),
                p(*from)
            ),
            Lang::Nl => format!(
                "We bewaren deze gegevens nu {} in plaats van {}. Dat is even lang.",
                p(*to),
                p(*from)
            ),
        },
        ChangeKind::ConsentLifetimeChanged { from, to } => match (from, to, lang) {
            (Some(f), Some(t), Lang::En) if t.days() > f.days() => {
                format!("Your yes now counts for longer: {} instead of {}.", p(*t), p(*f))
            }
            (Some(f), Some(t), Lang::Nl) if t.days() > f.days() => {
                format!("Je ja geldt nu langer: {} in plaats van {}.", p(*t), p(*f))
            }
            (Some(f), Some(t), Lang::En) if t.days() < f.days() => format!(
                "Your yes now counts for a shorter time: {} instead of {}.",
                p(*t),
                p(*f)
            ),
            (Some(f), Some(t), Lang::Nl) if t.days() < f.days() => {
                format!("Je ja geldt nu korter: {} in plaats van {}.", p(*t), p(*f))
            }
            (Some(f), Some(t), Lang::En) => format!(
                "Your yes counts just as long as before: {} (written as {} before).",
                p(*t),
                p(*f)
            ),
            (Some(f), Some(t), Lang::Nl) => format!(
                "Je ja geldt even lang als eerst: {} (eerst geschreven als {}).",
                p(*t),
                p(*f)
            ),
            (Some(f), None, Lang::En) => format!(
                "Your yes now counts until you take it back, no longer for {}.",
                p(*f)
            ),
            (Some(f), None, Lang::Nl) => format!(
                "Je ja geldt nu tot je het intrekt, niet meer {}.",
                p(*f)
            ),
            (None, Some(t), Lang::En) => format!(
                "Your yes now counts for {}. Then we ask you again.",
                p(*t)
            ),
            (None, Some(t), Lang::Nl) => format!(
                "Je ja geldt nu {}. Daarna vragen we het je opnieuw.",
                p(*t)
            ),
            (None, None, _) => String::new(),
        },
        ChangeKind::GpcChanged { to: true, .. } => lang
            .pick(
                "We now treat a Global Privacy Control signal from your browser as a no.",
                "We zien een Global Privacy Control-signaal van je browser nu als een nee.",
            )
            .to_owned(),
        ChangeKind::GpcChanged { to: false, .. } => lang
            .pick(
                "We no longer treat a Global Privacy Control signal from your browser as a no.",
                "We zien een Global Privacy Control-signaal van je browser niet meer als een nee.",
            )
            .to_owned(),
        ChangeKind::TitleReworded { from, to } => {
            if from.get(locale) == to.get(locale) {
                format!(
                    "{} ({}).",
                    lang.pick(
                        "We changed the title in another language",
                        "We hebben de titel in een andere taal aangepast"
                    ),
                    changed_languages(from, to)
                )
            } else {
                match lang {
                    Lang::En => format!("We renamed this purpose. It was called \"{}\".", text_in(from)),
                    Lang::Nl => format!(
                        "We hebben dit doel een nieuwe naam gegeven. Eerst heette het \"{}\".",
                        text_in(from)
                    ),
                }
            }
        }
        ChangeKind::DescriptionReworded { from, to } => {
            if from.get(locale) == to.get(locale) {
                format!(
                    "{} ({}).",
                    lang.pick(
                        "We reworded the description in another language",
                        "We hebben de beschrijving in een andere taal herschreven"
                    ),
                    changed_languages(from, to)
                )
            } else {
                lang.pick(
                    "We reworded the description.",
                    "We hebben de beschrijving herschreven.",
                )
                .to_owned()
            }
        }
        ChangeKind::BenefitReworded { from, to } => reworded(
            from.as_ref(),
            to.as_ref(),
            lang,
            locale,
            (
                "what you get in return",
                "wat je ervoor terugkrijgt",
            ),
        ),
        ChangeKind::AlternativeReworded { from, to } => reworded(
            from.as_ref(),
            to.as_ref(),
            lang,
            locale,
            (
                "what happens if you say no",
                "wat er gebeurt als je nee zegt",
            ),
        ),
        ChangeKind::OrganisationRenamed { from, to } => match lang {
            Lang::En => format!("Our name is now {} It was {}", full_stop(to), full_stop(from)),
            Lang::Nl => format!(
                "Onze naam is nu {} Eerst was het {}",
                full_stop(to),
                full_stop(from)
            ),
        },
        ChangeKind::ContactChanged { to, .. } => match lang {
            Lang::En => format!("You now reach us at {to}."),
            Lang::Nl => format!("Je bereikt ons nu via {to}."),
        },
        ChangeKind::PrivacyContactChanged { to, .. } => match lang {
            Lang::En => format!("For questions about privacy, you now reach us at {to}."),
            Lang::Nl => format!("Voor vragen over privacy bereik je ons nu via {to}."),
        },
        ChangeKind::OrganisationMoved { from, to } => match lang {
            Lang::En => format!(
                "We are now established in another country: {} (before: {}).",
                country(to),
                country(from)
            ),
            Lang::Nl => format!(
                "We zijn nu gevestigd in een ander land: {} (eerst: {}).",
                country(to),
                country(from)
            ),
        },
        ChangeKind::CategoryRenamed { from, to, .. } => {
            if from.get(locale) == to.get(locale) {
                format!(
                    "{} \"{}\" {} ({}).",
                    lang.pick("We renamed", "We hebben"),
                    text_in(to),
                    lang.pick(
                        "in another language",
                        "in een andere taal een nieuwe naam gegeven"
                    ),
                    changed_languages(from, to)
                )
            } else {
                match lang {
                    Lang::En => format!(
                        "We renamed a kind of data: \"{}\" is now \"{}\".",
                        text_in(from),
                        text_in(to)
                    ),
                    Lang::Nl => format!(
                        "We hebben een soort gegevens een nieuwe naam gegeven: \"{}\" heet nu \"{}\".",
                        text_in(from),
                        text_in(to)
                    ),
                }
            }
        }
        ChangeKind::CategoryReclassified {
            name, sensitive, ..
        } => format!(
            "{} {}.",
            match sensitive {
                true => lang.pick(
                    "We now treat this data as sensitive:",
                    "We behandelen deze gegevens nu als gevoelig:"
                ),
                false => lang.pick(
                    "We no longer treat this data as sensitive:",
                    "We behandelen deze gegevens niet meer als gevoelig:"
                ),
            },
            mid_sentence(name.get(locale))
        ),
        ChangeKind::TcfSignalsAdded {
            purposes,
            special_features,
        } => format!(
            "{} {}.",
            lang.pick(
                "We now also pass your yes on to the vendors we work with (through the IAB's TCF), for:",
                "We geven je ja nu ook door aan de partijen waarmee we werken (via de TCF van IAB), voor:"
            ),
            tcf_signals(purposes, special_features, locale)
        ),
        ChangeKind::TcfSignalsRemoved {
            purposes,
            special_features,
        } => format!(
            "{} {}.",
            lang.pick(
                "We no longer pass your yes on to vendors for:",
                "We geven je ja niet meer door aan partijen voor:"
            ),
            tcf_signals(purposes, special_features, locale)
        ),
        ChangeKind::TcfVendorsAdded { vendors } => format!(
            "{} {}.",
            lang.pick(
                "We now also pass your yes on to these vendors on the IAB's vendor list:",
                "We geven je ja nu ook door aan deze partijen op de lijst van IAB:"
            ),
            vendor_ids(vendors, lang)
        ),
        ChangeKind::TcfVendorsRemoved { vendors } => format!(
            "{} {}.",
            lang.pick(
                "We no longer pass your yes on to these vendors on the IAB's vendor list:",
                "We geven je ja niet meer door aan deze partijen op de lijst van IAB:"
            ),
            vendor_ids(vendors, lang)
        ),
        ChangeKind::TcfSettingsChanged { from, to } => match lang {
            Lang::En => format!(
                "We changed technical details of the consent signals (TC strings) we make: {} (before: {}).",
                tcf_settings(to, lang, locale),
                tcf_settings(from, lang, locale)
            ),
            Lang::Nl => format!(
                "We hebben technische gegevens van onze toestemmingssignalen (TC-strings) aangepast: {} (eerst: {}).",
                tcf_settings(to, lang, locale),
                tcf_settings(from, lang, locale)
            ),
        },
    }
}

/// TCF purposes and special features by name, mid-sentence: `create profiles for
/// personalised advertising; use precise geolocation data`.
fn tcf_signals(purposes: &[u8], features: &[u8], locale: &Locale) -> String {
    let purposes = purposes
        .iter()
        .map(|&id| gvl::purpose_name(id, locale).map_or_else(|| id.to_string(), mid_sentence));
    let features = features.iter().map(|&id| {
        gvl::special_feature_name(id, locale).map_or_else(|| id.to_string(), mid_sentence)
    });
    purposes.chain(features).collect::<Vec<_>>().join("; ")
}

/// Vendor ids as a list: at most ten, then how many more.
fn vendor_ids(vendors: &[u16], lang: Lang) -> String {
    let shown: Vec<String> = vendors.iter().take(10).map(u16::to_string).collect();
    let mut out = shown.join(", ");
    if vendors.len() > 10 {
        let more = vendors.len() - 10;
        out.push_str(&match lang {
            Lang::En => format!(" and {more} more"),
            Lang::Nl => format!(" en nog {more}"),
        });
    }
    out
}

fn tcf_settings(s: &TcfSettings, lang: Lang, locale: &Locale) -> String {
    let country = country_name(&s.publisher_country, locale);
    match lang {
        Lang::En => format!(
            "CMP {} version {}, publisher country {country}",
            s.cmp_id, s.cmp_version
        ),
        Lang::Nl => format!(
            "CMP {} versie {}, land van de uitgever {country}",
            s.cmp_id, s.cmp_version
        ),
    }
}

/// A benefit or alternative that was added, removed or reworded; `what` names it in
/// English and Dutch.
fn reworded(
    from: Option<&Text>,
    to: Option<&Text>,
    lang: Lang,
    locale: &Locale,
    what: (&str, &str),
) -> String {
    let what = lang.pick(what.0, what.1);
    match (from, to, lang) {
        (None, _, Lang::En) => format!("We now say {what}."),
        (None, _, Lang::Nl) => format!("We vertellen nu {what}."),
        (_, None, Lang::En) => format!("We no longer say {what}."),
        (_, None, Lang::Nl) => format!("We vertellen niet meer {what}."),
        (Some(f), Some(t), Lang::En) if f.get(locale) == t.get(locale) => {
            format!(
                "We reworded {what} in another language ({}).",
                changed_languages(f, t)
            )
        }
        (Some(f), Some(t), Lang::Nl) if f.get(locale) == t.get(locale) => format!(
            "We hebben in een andere taal herschreven {what} ({}).",
            changed_languages(f, t)
        ),
        (Some(_), Some(_), Lang::En) => format!("We reworded {what}."),
        (Some(_), Some(_), Lang::Nl) => format!("We hebben herschreven {what}."),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_eea_country_has_a_name() {
        let code = |c: &str| CountryCode::parse(c).unwrap();
        for c in crate::change::EEA {
            assert!(
                COUNTRY_NAMES.iter().any(|(code, _, _)| *code == c),
                "{c} has no name"
            );
        }
        assert_eq!(country_name(&code("US"), &Locale::nl()), "Verenigde Staten");
        assert_eq!(country_name(&code("BR"), &Locale::nl()), "BR");
    }

    #[test]
    fn category_names_in_a_sentence() {
        assert_eq!(mid_sentence("E-mail address"), "e-mail address");
        assert_eq!(mid_sentence("IP address"), "IP address");
        assert_eq!(mid_sentence("Je naam"), "je naam");
        assert_eq!(mid_sentence("X"), "x");
    }

    #[test]
    fn dutch_periods() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert_eq!(period(p("1 year"), Lang::Nl), "1 jaar");
        assert_eq!(period(p("2 years"), Lang::Nl), "2 jaar");
        assert_eq!(period(p("13 months"), Lang::Nl), "13 maanden");
        assert_eq!(period(p("1 day"), Lang::Nl), "1 dag");
        assert_eq!(period(p("6 weeks"), Lang::En), "6 weeks");
    }
}
