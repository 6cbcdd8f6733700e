//! What changed from one catalog version to the next, and whether it matters for consent
//! already given. Each change is classified **material** or **minor** by a named rule
//! ([`Rule`]): material when a customer who agreed to the old version did not agree to
//! what the new one does (more data, more recipients, data leaving the EEA, longer
//! retention, a longer-lasting yes, another legal basis, a new meaning), minor when it
//! only rewords or narrows. The rule alone decides: the author can mark a purpose's
//! meaning as changed by raising its `revision`, which adds a material change, but can
//! never make a rule's material change minor.
//!
//! This module classifies and writes no sentence for customers: a change carries what its
//! explanation needs (names, countries, periods), and the `keuze-words` crate puts it in
//! words, so that deciding (through [`crate::published`]) never depends on how a change is
//! worded.
//!
//! The order of purposes, of categories and of recipients is not compared: it changes
//! what customers see first, not what is done with their data.

use crate::catalog::{Catalog, LegalBasis, Organisation, Period, Purpose, Recipient, Tcf};
use crate::ids::{CategoryId, CountryCode, Locale, PurposeId};
use crate::taxonomy::Taxonomy;
use crate::text::Text;
use serde::Serialize;
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A diff that cannot be made: the new catalog breaks a promise the old one made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffError {
    /// Revisions only go up, so a consent can always be matched to the meaning it was
    /// given for.
    RevisionLowered(Vec<LoweredRevision>),
}

/// A purpose whose `revision` is lower in the new catalog than in the old one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoweredRevision {
    pub purpose: PurposeId,
    pub from: u32,
    pub to: u32,
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RevisionLowered(lowered) => {
                let lines: Vec<String> = lowered.iter().map(ToString::to_string).collect();
                f.write_str(&lines.join("\n"))
            }
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

// --- the EEA ---------------------------------------------------------------------------

/// The EEA: the 27 EU member states, Iceland, Liechtenstein and Norway. Data may go
/// anywhere in it under the same rules; outside it, the customer should know.
pub(crate) const EEA: [&str; 30] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// Whether the country is in the European Economic Area.
pub fn in_eea(country: &CountryCode) -> bool {
    EEA.contains(&country.as_str())
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
        assert_eq!(EEA.len(), 30);
    }
}
