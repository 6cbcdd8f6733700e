//! What changed from one catalog version to the next, and whether it matters for consent
//! already given. Each change is classified **material** or **minor** by a named rule
//! ([`Rule`]): material when a customer who agreed to the old version did not agree to
//! what the new one does (more data, more recipients, data leaving the EEA, longer
//! retention, a longer-lasting yes, another legal basis, a new meaning), minor when it
//! only rewords or narrows. The rule alone decides: the author can mark a purpose's
//! meaning as changed by raising its `revision`, which adds a material change, but can
//! never make a rule's material change minor.
//!
//! Every change explains itself in plain words, in English and Dutch, for the privacy
//! officer ([`CatalogDiff::render`]) and for the customer ([`explain_for_customer`]).
//!
//! The order of purposes, of categories and of recipients is not compared: it changes
//! what customers see first, not what is done with their data.

use crate::catalog::{Catalog, LegalBasis, Organisation, Period, Purpose, Recipient, Tcf, Text};
use crate::ids::{CategoryId, CountryCode, Locale, PurposeId};
use crate::taxonomy::Taxonomy;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Whether a change affects consent already given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Materiality {
    /// Consent given before the change no longer covers what is done: the customer is
    /// asked again (`reconsent_required`).
    Material,
    /// Consent given before the change still covers what is done.
    Minor,
}

/// The rule that classified a change. Its snake_case id is stable: it is shown to the
/// author and written to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The purpose uses a data category its old version did not cover.
    CategoryAdded,
    /// The purpose shares data with a new recipient in the EEA.
    RecipientAdded,
    /// The purpose shares data with a recipient outside the EEA that it did not before,
    /// whether a new recipient or a known one that moved there.
    RecipientOutsideEea,
    /// The data is kept longer.
    RetentionLengthened,
    /// The purpose rests on another legal basis.
    LegalBasisChanged,
    /// The author raised the purpose's `revision`: its meaning changed.
    MeaningChanged,
    /// A yes lasts longer than the customer agreed to.
    ConsentLifetimeLengthened,
    /// A Global Privacy Control signal no longer counts as a no.
    GpcNoLongerHonoured,
    /// A text was reworded, or a period written another way with the same length.
    Wording,
    /// Less is done: data or recipients dropped, shorter retention, a shorter-lasting
    /// yes, GPC honoured, a recipient moved into the EEA.
    Narrowing,
    /// A recipient moved from one EEA country to another.
    RecipientMovedWithinEea,
    /// The organisation is now established in another country.
    OrganisationMoved,
    /// A category the catalog declares was marked sensitive or no longer sensitive.
    CategoryReclassified,
    /// A grant now also consents, in TC strings, to a TCF purpose or special feature
    /// it did not before.
    TcfSignalAdded,
    /// A grant now also reaches, in TC strings, a vendor it did not before.
    TcfVendorAdded,
    /// The CMP or publisher country the TC strings name changed.
    TcfSettingsChanged,
}

impl Rule {
    pub const ALL: [Rule; 16] = [
        Self::CategoryAdded,
        Self::RecipientAdded,
        Self::RecipientOutsideEea,
        Self::RetentionLengthened,
        Self::LegalBasisChanged,
        Self::MeaningChanged,
        Self::ConsentLifetimeLengthened,
        Self::GpcNoLongerHonoured,
        Self::Wording,
        Self::Narrowing,
        Self::RecipientMovedWithinEea,
        Self::OrganisationMoved,
        Self::CategoryReclassified,
        Self::TcfSignalAdded,
        Self::TcfVendorAdded,
        Self::TcfSettingsChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CategoryAdded => "category_added",
            Self::RecipientAdded => "recipient_added",
            Self::RecipientOutsideEea => "recipient_outside_eea",
            Self::RetentionLengthened => "retention_lengthened",
            Self::LegalBasisChanged => "legal_basis_changed",
            Self::MeaningChanged => "meaning_changed",
            Self::ConsentLifetimeLengthened => "consent_lifetime_lengthened",
            Self::GpcNoLongerHonoured => "gpc_no_longer_honoured",
            Self::Wording => "wording",
            Self::Narrowing => "narrowing",
            Self::RecipientMovedWithinEea => "recipient_moved_within_eea",
            Self::OrganisationMoved => "organisation_moved",
            Self::CategoryReclassified => "category_reclassified",
            Self::TcfSignalAdded => "tcf_signal_added",
            Self::TcfVendorAdded => "tcf_vendor_added",
            Self::TcfSettingsChanged => "tcf_settings_changed",
        }
    }

    /// What a change under this rule means for consent already given.
    pub fn materiality(self) -> Materiality {
        match self {
            Self::CategoryAdded
            | Self::RecipientAdded
            | Self::RecipientOutsideEea
            | Self::RetentionLengthened
            | Self::LegalBasisChanged
            | Self::MeaningChanged
            | Self::ConsentLifetimeLengthened
            | Self::GpcNoLongerHonoured
            | Self::TcfSignalAdded
            | Self::TcfVendorAdded => Materiality::Material,
            Self::Wording
            | Self::Narrowing
            | Self::RecipientMovedWithinEea
            | Self::OrganisationMoved
            | Self::CategoryReclassified
            | Self::TcfSettingsChanged => Materiality::Minor,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What changed, with what the explanation needs, so a diff explains itself without the
/// catalogs it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    MeaningChanged {
        from_rev: u32,
        to_rev: u32,
    },
    LegalBasisChanged {
        from: LegalBasis,
        to: LegalBasis,
    },
    CategoryAdded {
        category: CategoryId,
        name: Text,
    },
    CategoryRemoved {
        category: CategoryId,
        name: Text,
    },
    RecipientAdded {
        recipient: Recipient,
    },
    RecipientRemoved {
        recipient: Recipient,
    },
    /// A recipient of the same name now processes the data in another country.
    RecipientMoved {
        name: String,
        from: CountryCode,
        to: CountryCode,
    },
    RetentionLengthened {
        from: Period,
        to: Period,
    },
    RetentionShortened {
        from: Period,
        to: Period,
    },
    /// The same length written another way (`4 weeks` for `28 days`).
    RetentionRestated {
        from: Period,
        to: Period,
    },
    /// `None` is a yes that lasts until it is withdrawn.
    ConsentLifetimeChanged {
        from: Option<Period>,
        to: Option<Period>,
    },
    GpcChanged {
        from: bool,
        to: bool,
    },
    TitleReworded {
        from: Text,
        to: Text,
    },
    DescriptionReworded {
        from: Text,
        to: Text,
    },
    BenefitReworded {
        from: Option<Text>,
        to: Option<Text>,
    },
    AlternativeReworded {
        from: Option<Text>,
        to: Option<Text>,
    },
    OrganisationRenamed {
        from: String,
        to: String,
    },
    ContactChanged {
        from: String,
        to: String,
    },
    PrivacyContactChanged {
        from: String,
        to: String,
    },
    OrganisationMoved {
        from: CountryCode,
        to: CountryCode,
    },
    /// A category the catalog declares has a new name.
    CategoryRenamed {
        category: CategoryId,
        from: Text,
        to: Text,
    },
    /// A category the catalog declares was marked sensitive (or no longer).
    CategoryReclassified {
        category: CategoryId,
        name: Text,
        sensitive: bool,
    },
    /// A grant now also consents, in TC strings, to these TCF purposes and special
    /// features.
    TcfSignalsAdded {
        purposes: Vec<u8>,
        special_features: Vec<u8>,
    },
    TcfSignalsRemoved {
        purposes: Vec<u8>,
        special_features: Vec<u8>,
    },
    /// A grant now also reaches these vendors (Global Vendor List ids) in TC strings.
    TcfVendorsAdded {
        vendors: Vec<u16>,
    },
    TcfVendorsRemoved {
        vendors: Vec<u16>,
    },
    /// The CMP or publisher country of the TC strings changed.
    TcfSettingsChanged {
        from: TcfSettings,
        to: TcfSettings,
    },
}

/// What a TC string says about who made it, as the `[tcf]` table sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcfSettings {
    pub cmp_id: u16,
    pub cmp_version: u16,
    pub publisher_country: CountryCode,
}

impl TcfSettings {
    fn of(tcf: &Tcf) -> Self {
        Self {
            cmp_id: tcf.cmp_id,
            cmp_version: tcf.cmp_version,
            publisher_country: tcf.publisher_country.clone(),
        }
    }
}

/// One change, its materiality and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub what: ChangeKind,
    /// Always `rule.materiality()`.
    pub materiality: Materiality,
    pub rule: Rule,
}

impl Change {
    fn new(what: ChangeKind, rule: Rule) -> Self {
        Self {
            what,
            materiality: rule.materiality(),
            rule,
        }
    }

    pub fn is_material(&self) -> bool {
        self.materiality == Materiality::Material
    }

    /// The change in plain words, in `locale` (Dutch for `nl`, English otherwise).
    pub fn explain(&self, locale: &Locale) -> String {
        let lang = Lang::of(locale);
        explain(&self.what, lang, locale)
    }

    /// Whether a reader in `locale` sees a difference: a reworded text whose wording in
    /// that language stayed the same is no news to them.
    pub fn is_visible_in(&self, locale: &Locale) -> bool {
        let same = |from: &Text, to: &Text| from.get(locale) == to.get(locale);
        match &self.what {
            ChangeKind::TitleReworded { from, to }
            | ChangeKind::DescriptionReworded { from, to }
            | ChangeKind::CategoryRenamed { from, to, .. } => !same(from, to),
            ChangeKind::BenefitReworded {
                from: Some(from),
                to: Some(to),
            }
            | ChangeKind::AlternativeReworded {
                from: Some(from),
                to: Some(to),
            } => !same(from, to),
            _ => true,
        }
    }
}

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

/// How a purpose differs between the versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeDiffKind {
    /// Only in the new version. No consent was given for it, so nothing carries over.
    Added,
    /// Only in the old version.
    Removed,
    /// In both, with at least one change.
    Changed,
}

/// What changed for one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurposeDiff {
    pub purpose: PurposeId,
    /// The purpose's title in the new version (the old one for a removed purpose).
    pub title: Text,
    pub kind: PurposeDiffKind,
    /// Empty for an added or removed purpose.
    pub changes: Vec<Change>,
}

impl PurposeDiff {
    /// Whether consent given for the old version no longer covers the new one.
    pub fn is_material(&self) -> bool {
        self.kind == PurposeDiffKind::Changed && self.changes.iter().any(Change::is_material)
    }

    /// "What changed since you last agreed", as sentences in `locale`, leaving out
    /// rewordings that did not change the text in that language.
    pub fn explain_for_customer(&self, locale: &Locale) -> Vec<String> {
        let lang = Lang::of(locale);
        match self.kind {
            PurposeDiffKind::Added => vec![lang
                .pick("This purpose is new.", "Dit doel is nieuw.")
                .to_owned()],
            PurposeDiffKind::Removed => vec![lang
                .pick(
                    "We no longer use your data for this purpose.",
                    "We gebruiken je gegevens niet meer voor dit doel.",
                )
                .to_owned()],
            PurposeDiffKind::Changed => self
                .changes
                .iter()
                .filter(|c| c.is_visible_in(locale))
                .map(|c| c.explain(locale))
                .collect(),
        }
    }
}

/// Everything that changed from one catalog version to the next.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogDiff {
    /// Changed and added purposes in the new catalog's order, then removed ones in the
    /// old catalog's order. Unchanged purposes are left out.
    pub purposes: Vec<PurposeDiff>,
    /// Changes to the organisation's details; all minor.
    pub organisation: Vec<Change>,
    /// Changes to the categories the catalog declares itself; all minor (a purpose that
    /// starts using a category says so in its own changes).
    pub categories: Vec<Change>,
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

/// A diff that cannot be made: the new catalog breaks a promise the old one made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// Revisions only go up, so a consent can always be matched to the meaning it was
    /// given for.
    #[error("{}", lines(.0))]
    RevisionLowered(Vec<LoweredRevision>),
}

/// A purpose whose `revision` is lower in the new catalog than in the old one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoweredRevision {
    pub purpose: PurposeId,
    pub from: u32,
    pub to: u32,
}

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

/// Compares two versions of a catalog.
pub fn diff(old: &Catalog, new: &Catalog) -> Result<CatalogDiff, DiffError> {
    let lowered: Vec<LoweredRevision> = new
        .purposes
        .iter()
        .filter_map(|n| {
            let o = old.purpose(n.id.as_str())?;
            (n.revision < o.revision).then(|| LoweredRevision {
                purpose: n.id.clone(),
                from: o.revision,
                to: n.revision,
            })
        })
        .collect();
    if !lowered.is_empty() {
        return Err(DiffError::RevisionLowered(lowered));
    }

    let mut purposes = Vec::new();
    for n in &new.purposes {
        let (kind, changes) = match old.purpose(n.id.as_str()) {
            None => (PurposeDiffKind::Added, Vec::new()),
            Some(o) => {
                let mut changes = purpose_changes(o, n, &old.taxonomy, &new.taxonomy);
                changes.extend(tcf_changes(o, n, tcf_vendors(old, o), tcf_vendors(new, n)));
                if changes.is_empty() {
                    continue;
                }
                (PurposeDiffKind::Changed, changes)
            }
        };
        purposes.push(PurposeDiff {
            purpose: n.id.clone(),
            title: n.title.clone(),
            kind,
            changes,
        });
    }
    for o in &old.purposes {
        if new.purpose(o.id.as_str()).is_none() {
            purposes.push(PurposeDiff {
                purpose: o.id.clone(),
                title: o.title.clone(),
                kind: PurposeDiffKind::Removed,
                changes: Vec::new(),
            });
        }
    }
    let mut organisation = organisation_changes(&old.organisation, &new.organisation);
    if let (Some(o), Some(n)) = (&old.tcf, &new.tcf) {
        let (from, to) = (TcfSettings::of(o), TcfSettings::of(n));
        if from != to {
            organisation.push(Change::new(
                ChangeKind::TcfSettingsChanged { from, to },
                Rule::TcfSettingsChanged,
            ));
        }
    }
    Ok(CatalogDiff {
        purposes,
        organisation,
        categories: category_changes(&old.taxonomy, &new.taxonomy),
    })
}

/// "What changed since you last agreed" for one purpose, in `locale`: the plain
/// sentences of [`CatalogDiff::render`] without the rules. Empty when the purpose did
/// not change.
pub fn explain_for_customer(diff: &CatalogDiff, purpose: &str, locale: &Locale) -> Vec<String> {
    diff.purpose(purpose)
        .map(|p| p.explain_for_customer(locale))
        .unwrap_or_default()
}

impl CatalogDiff {
    /// Whether the two versions mean the same.
    pub fn is_empty(&self) -> bool {
        self.purposes.is_empty() && self.organisation.is_empty() && self.categories.is_empty()
    }

    /// Purposes in both versions with at least one material change: consent given for
    /// them under the old version is no longer relied on.
    pub fn materially_changed(&self) -> impl Iterator<Item = &PurposeId> {
        self.purposes
            .iter()
            .filter(|p| p.is_material())
            .map(|p| &p.purpose)
    }

    /// The changes to one purpose, if it changed.
    pub fn purpose(&self, id: &str) -> Option<&PurposeDiff> {
        self.purposes.iter().find(|p| p.purpose.as_str() == id)
    }

    /// The diff in plain words for the catalog's author, in `locale` (Dutch for `nl`,
    /// English otherwise): per purpose a heading with its title, then one line per
    /// change ending in its materiality and rule.
    ///
    /// ```text
    /// Our ads on other sites (advertising_partners): material change
    /// - We now also share this data with Acme Ads (United States). That is outside the EEA. [material: recipient_outside_eea]
    /// ```
    pub fn render(&self, locale: &Locale) -> String {
        let lang = Lang::of(locale);
        if self.is_empty() {
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
        for p in &self.purposes {
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
        if !self.organisation.is_empty() {
            section(
                lang.pick(
                    "Organisation: minor changes",
                    "Organisatie: kleine wijzigingen",
                )
                .to_owned(),
                &self.organisation,
            );
        }
        if !self.categories.is_empty() {
            section(
                lang.pick(
                    "Data categories: minor changes",
                    "Soorten gegevens: kleine wijzigingen",
                )
                .to_owned(),
                &self.categories,
            );
        }
        let count = |kind: PurposeDiffKind, material: bool| {
            self.purposes
                .iter()
                .filter(|p| {
                    p.kind == kind
                        && (kind != PurposeDiffKind::Changed || p.is_material() == material)
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
}

// --- the rules -------------------------------------------------------------------------

fn purpose_changes(
    old: &Purpose,
    new: &Purpose,
    old_tax: &Taxonomy,
    new_tax: &Taxonomy,
) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |what: ChangeKind, rule: Rule| out.push(Change::new(what, rule));

    if new.revision > old.revision {
        push(
            ChangeKind::MeaningChanged {
                from_rev: old.revision,
                to_rev: new.revision,
            },
            Rule::MeaningChanged,
        );
    }
    if new.legal_basis != old.legal_basis {
        push(
            ChangeKind::LegalBasisChanged {
                from: old.legal_basis,
                to: new.legal_basis,
            },
            Rule::LegalBasisChanged,
        );
    }

    // A category counts as added only if the old version did not cover it, itself or
    // through a parent: going from `contact` to `contact.email` narrows.
    for c in new.categories.iter().filter(|c| !old.declares(c)) {
        push(
            ChangeKind::CategoryAdded {
                category: c.clone(),
                name: category_name(new_tax, c),
            },
            Rule::CategoryAdded,
        );
    }
    for c in old.categories.iter().filter(|c| !new.declares(c)) {
        push(
            ChangeKind::CategoryRemoved {
                category: c.clone(),
                name: category_name(old_tax, c),
            },
            Rule::Narrowing,
        );
    }

    // Recipients: the same name in the same country is unchanged; the same name in
    // another country has moved; anything else is added or removed.
    let mut old_left: Vec<&Recipient> = old.recipients.iter().collect();
    let mut new_left: Vec<&Recipient> = Vec::new();
    for r in &new.recipients {
        match old_left.iter().position(|o| *o == r) {
            Some(i) => {
                old_left.remove(i);
            }
            None => new_left.push(r),
        }
    }
    for r in new_left {
        match old_left.iter().position(|o| o.name == r.name) {
            Some(i) => {
                let o = old_left.remove(i);
                let rule = if !in_eea(&r.country) {
                    Rule::RecipientOutsideEea
                } else if !in_eea(&o.country) {
                    Rule::Narrowing
                } else {
                    Rule::RecipientMovedWithinEea
                };
                push(
                    ChangeKind::RecipientMoved {
                        name: r.name.clone(),
                        from: o.country.clone(),
                        to: r.country.clone(),
                    },
                    rule,
                );
            }
            None => {
                let rule = if in_eea(&r.country) {
                    Rule::RecipientAdded
                } else {
                    Rule::RecipientOutsideEea
                };
                push(
                    ChangeKind::RecipientAdded {
                        recipient: r.clone(),
                    },
                    rule,
                );
            }
        }
    }
    for o in old_left {
        push(
            ChangeKind::RecipientRemoved {
                recipient: o.clone(),
            },
            Rule::Narrowing,
        );
    }

    let (from, to) = (old.retention, new.retention);
    match to.days().cmp(&from.days()) {
        std::cmp::Ordering::Greater => push(
            ChangeKind::RetentionLengthened { from, to },
            Rule::RetentionLengthened,
        ),
        std::cmp::Ordering::Less => {
            push(ChangeKind::RetentionShortened { from, to }, Rule::Narrowing)
        }
        std::cmp::Ordering::Equal if from != to => {
            push(ChangeKind::RetentionRestated { from, to }, Rule::Wording);
        }
        std::cmp::Ordering::Equal => {}
    }

    let (from, to) = (old.consent_lifetime, new.consent_lifetime);
    if from != to {
        // No lifetime is a yes until withdrawn: longer than any period.
        let length = |p: Option<Period>| p.map_or(i64::MAX, Period::days);
        let rule = match length(to).cmp(&length(from)) {
            std::cmp::Ordering::Greater => Rule::ConsentLifetimeLengthened,
            std::cmp::Ordering::Less => Rule::Narrowing,
            std::cmp::Ordering::Equal => Rule::Wording,
        };
        push(ChangeKind::ConsentLifetimeChanged { from, to }, rule);
    }

    if old.gpc != new.gpc {
        let rule = if new.gpc {
            Rule::Narrowing
        } else {
            Rule::GpcNoLongerHonoured
        };
        push(
            ChangeKind::GpcChanged {
                from: old.gpc,
                to: new.gpc,
            },
            rule,
        );
    }

    if old.title != new.title {
        push(
            ChangeKind::TitleReworded {
                from: old.title.clone(),
                to: new.title.clone(),
            },
            Rule::Wording,
        );
    }
    if old.description != new.description {
        push(
            ChangeKind::DescriptionReworded {
                from: old.description.clone(),
                to: new.description.clone(),
            },
            Rule::Wording,
        );
    }
    if old.benefit != new.benefit {
        push(
            ChangeKind::BenefitReworded {
                from: old.benefit.clone(),
                to: new.benefit.clone(),
            },
            Rule::Wording,
        );
    }
    if old.alternative != new.alternative {
        push(
            ChangeKind::AlternativeReworded {
                from: old.alternative.clone(),
                to: new.alternative.clone(),
            },
            Rule::Wording,
        );
    }
    out
}

/// The vendors a grant of `purpose` reaches in TC strings: the catalog's, if the purpose
/// maps to TCF.
fn tcf_vendors<'a>(catalog: &'a Catalog, purpose: &Purpose) -> &'a [u16] {
    match &catalog.tcf {
        Some(tcf) if purpose.maps_to_tcf() => &tcf.vendors,
        _ => &[],
    }
}

/// What a grant of the purpose passes on in TC strings, and to whom: more is material,
/// less narrows.
fn tcf_changes(
    old: &Purpose,
    new: &Purpose,
    old_vendors: &[u16],
    new_vendors: &[u16],
) -> Vec<Change> {
    fn minus<T: Copy + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().copied().filter(|x| !b.contains(x)).collect()
    }
    let mut out = Vec::new();
    let added = (
        minus(&new.tcf_purposes, &old.tcf_purposes),
        minus(&new.tcf_special_features, &old.tcf_special_features),
    );
    if !added.0.is_empty() || !added.1.is_empty() {
        out.push(Change::new(
            ChangeKind::TcfSignalsAdded {
                purposes: added.0,
                special_features: added.1,
            },
            Rule::TcfSignalAdded,
        ));
    }
    let removed = (
        minus(&old.tcf_purposes, &new.tcf_purposes),
        minus(&old.tcf_special_features, &new.tcf_special_features),
    );
    if !removed.0.is_empty() || !removed.1.is_empty() {
        out.push(Change::new(
            ChangeKind::TcfSignalsRemoved {
                purposes: removed.0,
                special_features: removed.1,
            },
            Rule::Narrowing,
        ));
    }
    let vendors = minus(new_vendors, old_vendors);
    if !vendors.is_empty() {
        out.push(Change::new(
            ChangeKind::TcfVendorsAdded { vendors },
            Rule::TcfVendorAdded,
        ));
    }
    let vendors = minus(old_vendors, new_vendors);
    if !vendors.is_empty() {
        out.push(Change::new(
            ChangeKind::TcfVendorsRemoved { vendors },
            Rule::Narrowing,
        ));
    }
    out
}

fn organisation_changes(old: &Organisation, new: &Organisation) -> Vec<Change> {
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(Change::new(
            ChangeKind::OrganisationRenamed {
                from: old.name.clone(),
                to: new.name.clone(),
            },
            Rule::Wording,
        ));
    }
    if old.contact != new.contact {
        out.push(Change::new(
            ChangeKind::ContactChanged {
                from: old.contact.clone(),
                to: new.contact.clone(),
            },
            Rule::Wording,
        ));
    }
    if old.privacy_contact != new.privacy_contact {
        out.push(Change::new(
            ChangeKind::PrivacyContactChanged {
                from: old.privacy_contact.clone(),
                to: new.privacy_contact.clone(),
            },
            Rule::Wording,
        ));
    }
    if old.country != new.country {
        out.push(Change::new(
            ChangeKind::OrganisationMoved {
                from: old.country.clone(),
                to: new.country.clone(),
            },
            Rule::OrganisationMoved,
        ));
    }
    out
}

/// Categories the catalog declares in both versions, renamed or reclassified. Built-in
/// categories come with Keuze, not with the catalog, so they do not differ here.
fn category_changes(old: &Taxonomy, new: &Taxonomy) -> Vec<Change> {
    let mut out = Vec::new();
    for n in new.iter().filter(|c| !c.builtin) {
        let Some(o) = old.get(&n.id) else {
            continue;
        };
        if o.name != n.name {
            out.push(Change::new(
                ChangeKind::CategoryRenamed {
                    category: n.id.clone(),
                    from: o.name.clone(),
                    to: n.name.clone(),
                },
                Rule::Wording,
            ));
        }
        if o.sensitive != n.sensitive {
            out.push(Change::new(
                ChangeKind::CategoryReclassified {
                    category: n.id.clone(),
                    name: n.name.clone(),
                    sensitive: n.sensitive,
                },
                Rule::CategoryReclassified,
            ));
        }
    }
    out
}

fn category_name(taxonomy: &Taxonomy, id: &CategoryId) -> Text {
    taxonomy.get(id).map_or_else(
        || Text::from_map(BTreeMap::from([(Locale::en(), id.to_string())])),
        |c| c.name.clone(),
    )
}

// --- countries -------------------------------------------------------------------------

/// The EEA: the 27 EU member states, Iceland, Liechtenstein and Norway. Data may go
/// anywhere in it under the same rules; outside it, the customer should know.
const EEA: [&str; 30] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

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

/// Whether the country is in the European Economic Area.
pub fn in_eea(country: &CountryCode) -> bool {
    EEA.contains(&country.as_str())
}

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

/// A category name in the middle of a sentence: `E-mail address` becomes
/// `e-mail address`, but `IP address` stays as it is.
/// `name` ending a sentence: `Fietsen B.V.` already ends in a full stop, `Acme` gets one.
fn full_stop(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

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

fn explain(what: &ChangeKind, lang: Lang, locale: &Locale) -> String {
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
    let purposes = purposes.iter().map(|&id| {
        crate::tcf::purpose_name(id, locale).map_or_else(|| id.to_string(), mid_sentence)
    });
    let features = features.iter().map(|&id| {
        crate::tcf::special_feature_name(id, locale).map_or_else(|| id.to_string(), mid_sentence)
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
    fn every_rule_has_a_distinct_id() {
        let mut ids: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
        for rule in Rule::ALL {
            assert_eq!(
                serde_json::to_value(rule).unwrap(),
                serde_json::Value::String(rule.as_str().to_owned())
            );
        }
    }

    #[test]
    fn the_eea_is_the_eu_and_three_more() {
        let code = |c: &str| CountryCode::parse(c).unwrap();
        assert!(in_eea(&code("NL")));
        assert!(in_eea(&code("NO")));
        assert!(!in_eea(&code("CH")));
        assert!(!in_eea(&code("GB")));
        assert!(!in_eea(&code("US")));
        for c in EEA {
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
