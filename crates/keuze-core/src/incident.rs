//! Privacy incidents: what happened to customers' data, told to the customers it
//! happened to, in plain language, with proof in the ledger of who was told what and when.
//!
//! An incident is recorded once and never changed: its canonical JSON is digested, and
//! that digest is what every notice entry in the ledger commits to. Who is affected is
//! either a list of the organisation's identifiers (pseudonymised on the way in, like
//! every identifier) or a [`Rule`] evaluated against the ledger by [`select`].
//!
//! Telling a customer, and their acknowledgement, are [`NoticeEntry`] leaves of the same
//! Merkle tree as consent and admin entries, under their own header line
//! (`keuze-notice-entry-v1`), naming the customer only by the salted commitment consent
//! entries use: erasing the customer shreds these too.

use crate::catalog::{Digest256, Text};
use crate::event::{Action, ConsentEvent, Source};
use crate::ids::{CategoryId, Locale, PurposeId};
use crate::leaf::Leaf;
use crate::merkle::{self, Hash};
use crate::published::CatalogHistory;
use crate::readability::{self, Readability};
use crate::subject::SubjectId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// First line of a notice entry's canonical bytes.
const NOTICE_HEADER: &str = "keuze-notice-entry-v1";

/// The longest plain-language text of an incident, in characters, in any locale.
pub const MAX_TEXT_CHARS: usize = 2000;

/// An incident as an organisation writes it (the API's JSON body, or the TOML file
/// `keuze incident record` reads). [`IncidentDraft::check`] turns it into an [`Incident`].
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentDraft {
    /// A short label: "Our mailing provider was broken into".
    pub title: BTreeMap<String, String>,
    /// What happened, in plain language.
    pub what_happened: BTreeMap<String, String>,
    /// When customers' data was exposed: RFC 3339 times, `from` before `to`.
    pub window: WindowDraft,
    /// When the organisation found out, if it is known (RFC 3339).
    #[serde(default)]
    pub discovered_at: Option<String>,
    /// The data categories involved, as the catalog's taxonomy names them.
    pub categories: Vec<String>,
    /// The catalog purposes the data was held for.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Who else had or got the data (processors, attackers are not named here).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// What may happen to customers because of it.
    pub consequences: BTreeMap<String, String>,
    /// What the organisation did about it.
    pub measures: BTreeMap<String, String>,
    /// What the customer can do.
    pub advice: BTreeMap<String, String>,
    /// Where customers can ask questions: an e-mail address, phone number or web page.
    pub contact: String,
    /// Whether the incident is likely to result in a high risk to customers' rights and
    /// freedoms (GDPR art. 34): then every affected customer must be told.
    pub high_risk: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowDraft {
    pub from: String,
    pub to: String,
}

/// When customers' data was exposed: `from` up to and including `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    #[serde(serialize_with = "rfc3339")]
    pub from: Timestamp,
    #[serde(serialize_with = "rfc3339")]
    pub to: Timestamp,
}

fn rfc3339<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339())
}

fn rfc3339_opt<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339()),
        None => s.serialize_none(),
    }
}

/// A recorded incident: every text in `en` and `nl` at least, every category and purpose
/// one the catalog declares. Its [`Incident::canonical_json`] is what gets digested.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub title: Text,
    pub what_happened: Text,
    pub window: Window,
    #[serde(serialize_with = "rfc3339_opt")]
    pub discovered_at: Option<Timestamp>,
    pub categories: Vec<CategoryId>,
    pub purposes: Vec<PurposeId>,
    pub recipients: Vec<String>,
    pub consequences: Text,
    pub measures: Text,
    pub advice: Text,
    pub contact: String,
    pub high_risk: bool,
}

/// One thing wrong with a draft: the field (a JSON pointer-like path such as
/// `what_happened.nl`), what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftProblem {
    pub field: String,
    pub message: String,
    pub help: String,
}

/// How easy one incident text in one language is to read: the catalog's check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextReadability {
    pub field: &'static str,
    pub locale: Locale,
    #[serde(flatten)]
    pub readability: Readability,
}

impl TextReadability {
    /// The warning the catalog check would give, if the text is hard to read.
    pub fn warning(&self) -> Option<String> {
        self.readability.is_hard().then(|| {
            format!(
                "`{}.{}` is hard to read ({} {:.0}, below {}); its longest sentence has {} words: \"{}\". Use shorter sentences and everyday words.",
                self.field,
                self.locale,
                self.readability.formula.name(),
                self.readability.score,
                readability::WARN_BELOW,
                self.readability.longest_sentence_words,
                self.readability.longest_sentence
            )
        })
    }
}

/// The prose fields the readability check scores (titles are labels).
const PROSE: [&str; 4] = ["what_happened", "consequences", "measures", "advice"];

pub fn parse_time(s: &str) -> Option<Timestamp> {
    let t =
        ::time::OffsetDateTime::parse(s, &::time::format_description::well_known::Rfc3339).ok()?;
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).ok().map(Timestamp::from_unix_millis)
}

impl IncidentDraft {
    /// Checks every field at once against the published catalogs: a data category or
    /// purpose of any version may be named (an incident may concern a purpose since
    /// removed). The incident, with the readability of its prose texts, or every problem.
    pub fn check(
        &self,
        history: &CatalogHistory,
    ) -> Result<(Incident, Vec<TextReadability>), Vec<DraftProblem>> {
        let mut c = Checker::default();
        let title = c.text("title", &self.title);
        let what_happened = c.text("what_happened", &self.what_happened);
        let consequences = c.text("consequences", &self.consequences);
        let measures = c.text("measures", &self.measures);
        let advice = c.text("advice", &self.advice);

        let from = c.time("window.from", &self.window.from);
        let to = c.time("window.to", &self.window.to);
        let discovered_at = self
            .discovered_at
            .as_deref()
            .and_then(|d| c.time("discovered_at", d));
        let window = match (from, to) {
            (Some(from), Some(to)) if from <= to => Some(Window { from, to }),
            (Some(_), Some(_)) => {
                c.problem(
                    "window",
                    "the window ends before it starts".into(),
                    "`window.from` is when exposure began and must not be after `window.to`",
                );
                None
            }
            _ => None,
        };

        let mut categories = Vec::new();
        if self.categories.is_empty() {
            c.problem(
                "categories",
                "no data category is named".into(),
                "name every kind of data involved, e.g. `contact.email`",
            );
        }
        for (i, cat) in self.categories.iter().enumerate() {
            let field = format!("categories[{i}]");
            match CategoryId::parse(cat) {
                Ok(id)
                    if history
                        .versions()
                        .any(|v| v.catalog.taxonomy.get(&id).is_some()) =>
                {
                    if !categories.contains(&id) {
                        categories.push(id);
                    }
                }
                Ok(_) => c.problem(
                    &field,
                    format!("`{cat}` is not a data category of any published catalog"),
                    "use a category of the catalog's taxonomy (see `keuze catalog check`)",
                ),
                Err(e) => c.problem(&field, e.0, "e.g. `contact.email`"),
            }
        }
        let mut purposes = Vec::new();
        for (i, p) in self.purposes.iter().enumerate() {
            let field = format!("purposes[{i}]");
            match PurposeId::parse(p) {
                Ok(id)
                    if history
                        .versions()
                        .any(|v| v.catalog.purpose(id.as_str()).is_some()) =>
                {
                    if !purposes.contains(&id) {
                        purposes.push(id);
                    }
                }
                Ok(_) => c.problem(
                    &field,
                    format!("`{p}` is not a purpose of any published catalog version"),
                    "use the id of a purpose in the catalog (GET /v1/catalog lists them)",
                ),
                Err(e) => c.problem(&field, e.0, "e.g. `newsletter`"),
            }
        }
        let mut recipients: Vec<String> = Vec::new();
        for (i, r) in self.recipients.iter().enumerate() {
            let r = r.trim();
            if !one_line(r) {
                c.problem(
                    &format!("recipients[{i}]"),
                    "a recipient must be a name of 1 to 200 characters on one line".into(),
                    "name the organisation, e.g. `Mailer B.V.`",
                );
            } else if !recipients.iter().any(|x| x == r) {
                recipients.push(r.to_owned());
            }
        }
        if self.purposes.is_empty() && self.recipients.is_empty() {
            c.problem(
                "purposes",
                "neither a purpose nor a recipient is named".into(),
                "say what the data was held for (`purposes`) or who had it (`recipients`), or both",
            );
        }
        let contact = self.contact.trim();
        if !one_line(contact) {
            c.problem(
                "contact",
                "the contact must be 1 to 200 characters on one line".into(),
                "give an e-mail address, phone number or web page customers can use",
            );
        }
        let window = match window {
            Some(w) if c.problems.is_empty() => w,
            _ => return Err(c.problems),
        };
        let incident = Incident {
            title,
            what_happened,
            window,
            discovered_at,
            categories,
            purposes,
            recipients,
            consequences,
            measures,
            advice,
            contact: contact.to_owned(),
            high_risk: self.high_risk,
        };
        let readability = incident.readability();
        Ok((incident, readability))
    }
}

fn one_line(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control) && s.chars().count() <= 200
}

/// Collects every problem of a draft.
#[derive(Default)]
struct Checker {
    problems: Vec<DraftProblem>,
}

impl Checker {
    fn problem(&mut self, field: &str, message: String, help: &str) {
        self.problems.push(DraftProblem {
            field: field.to_owned(),
            message,
            help: help.to_owned(),
        });
    }

    fn text(&mut self, field: &'static str, map: &BTreeMap<String, String>) -> Text {
        let mut out = BTreeMap::new();
        for required in Text::REQUIRED {
            if !map.contains_key(required) {
                self.problem(
                    &format!("{field}.{required}"),
                    format!("`{field}` has no `{required}` text"),
                    "write every incident text in English (`en`) and Dutch (`nl`) at least",
                );
            }
        }
        for (locale, value) in map {
            let at = format!("{field}.{locale}");
            let Ok(parsed) = Locale::parse(locale) else {
                self.problem(
                    &at,
                    format!("`{locale}` is not a locale"),
                    "use two-letter lower-case language codes such as `en` and `nl`",
                );
                continue;
            };
            let trimmed = value.trim();
            let chars = trimmed.chars().count();
            if trimmed.is_empty() {
                self.problem(
                    &at,
                    format!("`{at}` is empty"),
                    "say it in a sentence or two; customers read this",
                );
            } else if chars > MAX_TEXT_CHARS {
                self.problem(
                    &at,
                    format!("`{at}` is {chars} characters long"),
                    "keep each text under 2000 characters; link to details from the contact page",
                );
            }
            out.insert(parsed, trimmed.to_owned());
        }
        Text::from_map(out)
    }

    fn time(&mut self, field: &str, value: &str) -> Option<Timestamp> {
        let t = parse_time(value);
        if t.is_none() {
            self.problem(
                field,
                format!("`{value}` is not a time"),
                "write an RFC 3339 time with its offset, e.g. `2026-11-02T09:00:00Z`",
            );
        }
        t
    }
}

impl Incident {
    /// The incident as canonical JSON: fields in declaration order, texts by locale.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What every notice entry of this incident commits to: SHA-256 of the canonical JSON.
    pub fn digest(&self) -> Digest256 {
        Digest256::of(self.canonical_json().as_bytes())
    }

    /// The prose texts, scored like the catalog's purpose texts.
    pub fn readability(&self) -> Vec<TextReadability> {
        let texts = [
            &self.what_happened,
            &self.consequences,
            &self.measures,
            &self.advice,
        ];
        let mut out = Vec::new();
        for (field, text) in PROSE.into_iter().zip(texts) {
            for locale in text.locales() {
                if let Some(readability) = readability::measure(text.get(locale), locale) {
                    out.push(TextReadability {
                        field,
                        locale: locale.clone(),
                        readability,
                    });
                }
            }
        }
        out
    }

    /// The rule that selects the customers who had granted any of the incident's purposes
    /// during its window.
    pub fn default_rule(&self) -> Rule {
        Rule {
            granted_any_of: self.purposes.clone(),
            window: self.window,
        }
    }
}

/// Reads back the canonical JSON a store holds.
pub fn from_canonical(json: &str) -> Result<Incident, String> {
    #[derive(Deserialize)]
    struct Stored {
        title: BTreeMap<Locale, String>,
        what_happened: BTreeMap<Locale, String>,
        window: WindowDraft,
        discovered_at: Option<String>,
        categories: Vec<CategoryId>,
        purposes: Vec<PurposeId>,
        recipients: Vec<String>,
        consequences: BTreeMap<Locale, String>,
        measures: BTreeMap<Locale, String>,
        advice: BTreeMap<Locale, String>,
        contact: String,
        high_risk: bool,
    }
    let s: Stored = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let time = |v: &str| parse_time(v).ok_or_else(|| format!("`{v}` is not a time"));
    let incident = Incident {
        title: Text::from_map(s.title),
        what_happened: Text::from_map(s.what_happened),
        window: Window {
            from: time(&s.window.from)?,
            to: time(&s.window.to)?,
        },
        discovered_at: s.discovered_at.as_deref().map(time).transpose()?,
        categories: s.categories,
        purposes: s.purposes,
        recipients: s.recipients,
        consequences: Text::from_map(s.consequences),
        measures: Text::from_map(s.measures),
        advice: Text::from_map(s.advice),
        contact: s.contact,
        high_risk: s.high_risk,
    };
    if incident.canonical_json() != json {
        return Err("it is not in canonical form".into());
    }
    Ok(incident)
}

/// Who is affected, as a question to the ledger: every customer who, at any moment in
/// `window`, had granted any of `granted_any_of`. A grant made before the window and not
/// withdrawn before it starts counts; so does one made inside it, however briefly it
/// held; one made after it, or withdrawn before it, does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub granted_any_of: Vec<PurposeId>,
    pub window: Window,
}

/// The customers `rule` selects from `events` (any order; each subject's events are
/// taken in seq order). Erased customers are not in `events` and so are never selected.
pub fn select<'a>(
    rule: &Rule,
    events: impl IntoIterator<Item = &'a ConsentEvent>,
) -> BTreeSet<SubjectId> {
    let wanted: BTreeSet<&str> = rule.granted_any_of.iter().map(PurposeId::as_str).collect();
    // Per (subject, purpose): the last action before the window, and whether a grant
    // fell inside it, tracked in seq order.
    #[derive(Default)]
    struct Track {
        before: Option<(u64, Action)>,
        granted_inside: bool,
    }
    let mut tracks: HashMap<(SubjectId, &str), Track> = HashMap::new();
    for e in events {
        let purpose = e.event.purpose.as_str();
        let Some(&purpose) = wanted.get(purpose) else {
            continue;
        };
        let at = e.event.recorded_at;
        if at > rule.window.to {
            continue;
        }
        let track = tracks.entry((e.event.subject, purpose)).or_default();
        if at < rule.window.from {
            if track.before.is_none_or(|(seq, _)| seq < e.seq) {
                track.before = Some((e.seq, e.event.action));
            }
        } else if e.event.action == Action::Grant {
            track.granted_inside = true;
        }
    }
    tracks
        .into_iter()
        .filter(|(_, t)| t.granted_inside || matches!(t.before, Some((_, Action::Grant))))
        .map(|((subject, _), _)| subject)
        .collect()
}

/// What a notice entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The customer was told (the notice was issued to them: shown first in `/me`, and
    /// sent out as an event for the organisation's own channels).
    Notified,
    /// The customer said they had read it.
    Acknowledged,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 2] = [Self::Notified, Self::Acknowledged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notified => "notified",
            Self::Acknowledged => "acknowledged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A notice entry before the ledger numbers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewNotice {
    pub subject: SubjectId,
    /// The incident's number.
    pub incident: u32,
    pub kind: NoticeKind,
    /// [`Incident::digest`]: exactly what the customer was told.
    pub notice_digest: Digest256,
    /// The language the notice is given in.
    pub locale: Locale,
    pub source: Source,
    pub recorded_at: Timestamp,
}

/// A notice entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeEvent {
    pub seq: u64,
    #[serde(flatten)]
    pub notice: NewNotice,
}

/// What a notice entry's leaf commits to: the subject only as its salted commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeEntry {
    pub seq: u64,
    pub subject_commitment: Digest256,
    pub incident: u32,
    pub kind: NoticeKind,
    pub notice_digest: Digest256,
    pub locale: Locale,
    pub source: Source,
    pub recorded_at: Timestamp,
}

impl NoticeEntry {
    pub fn of(seq: u64, commitment: Digest256, notice: &NewNotice) -> Self {
        Self {
            seq,
            subject_commitment: commitment,
            incident: notice.incident,
            kind: notice.kind,
            notice_digest: notice.notice_digest,
            locale: notice.locale.clone(),
            source: notice.source,
            recorded_at: notice.recorded_at,
        }
    }

    /// The bytes the leaf hash covers: the header line `keuze-notice-entry-v1`, then
    /// `key=value` lines in a fixed order, each ending in `\n`. No value can hold a
    /// newline or `=`: numbers, hex digests and parsed identifiers only.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut leaf = Leaf::new(NOTICE_HEADER);
        leaf.line("seq", &self.seq.to_string())
            .line("subject_commitment", &self.subject_commitment.to_hex())
            .line("incident", &self.incident.to_string())
            .line("kind", self.kind.as_str())
            .line("notice_digest", &self.notice_digest.to_hex())
            .line("locale", self.locale.as_str())
            .line("source", self.source.as_str())
            .line(
                "recorded_at_ms",
                &self.recorded_at.unix_millis().to_string(),
            );
        leaf.into_bytes()
    }

    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }
}

/// Of a customer's notice events (any order), the incidents they were told about and have
/// not acknowledged, by number, each with the notified event.
pub fn unacknowledged(events: &[NoticeEvent]) -> Vec<&NoticeEvent> {
    let mut last: BTreeMap<u32, &NoticeEvent> = BTreeMap::new();
    for e in events {
        let slot = last.entry(e.notice.incident).or_insert(e);
        if slot.seq < e.seq {
            *slot = e;
        }
    }
    last.into_values()
        .filter(|e| e.notice.kind == NoticeKind::Notified)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::event::NewEvent;

    fn t(day: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_790_000_000_000).plus_days(day)
    }

    fn ev(seq: u64, who: u8, purpose: &str, action: Action, day: i64) -> ConsentEvent {
        ConsentEvent {
            seq,
            event: NewEvent {
                subject: SubjectId::from_bytes([who; 32]),
                purpose: PurposeId::parse(purpose).unwrap(),
                action,
                source: Source::Api,
                catalog_version: 1,
                notice_digest: Digest256([0; 32]),
                locale: Locale::en(),
                recorded_at: t(day),
                context_digest: Digest256([0; 32]),
            },
        }
    }

    #[test]
    fn notice_entries_are_domain_separated_and_fixed() {
        let entry = NoticeEntry {
            seq: 9,
            subject_commitment: Digest256([1; 32]),
            incident: 2,
            kind: NoticeKind::Notified,
            notice_digest: Digest256([2; 32]),
            locale: Locale::nl(),
            source: Source::System,
            recorded_at: Timestamp::from_unix_millis(5),
        };
        let text = String::from_utf8(entry.canonical_bytes()).unwrap();
        assert!(text.starts_with("keuze-notice-entry-v1\nseq=9\nsubject_commitment=0101"));
        assert!(text.ends_with("kind=notified\nnotice_digest=0202020202020202020202020202020202020202020202020202020202020202\nlocale=nl\nsource=system\nrecorded_at_ms=5\n"));
        assert_eq!(
            text,
            format!(
                "keuze-notice-entry-v1\nseq=9\nsubject_commitment={}\nincident=2\nkind=notified\n\
                 notice_digest={}\nlocale=nl\nsource=system\nrecorded_at_ms=5\n",
                "01".repeat(32),
                "02".repeat(32)
            )
        );
    }

    #[test]
    fn unacknowledged_is_the_last_entry_per_incident() {
        let n = |seq, incident, kind| NoticeEvent {
            seq,
            notice: NewNotice {
                subject: SubjectId::from_bytes([1; 32]),
                incident,
                kind,
                notice_digest: Digest256([0; 32]),
                locale: Locale::en(),
                source: Source::System,
                recorded_at: t(0),
            },
        };
        let events = [
            n(1, 1, NoticeKind::Notified),
            n(3, 1, NoticeKind::Acknowledged),
            n(2, 2, NoticeKind::Notified),
        ];
        let open: Vec<u32> = unacknowledged(&events)
            .iter()
            .map(|e| e.notice.incident)
            .collect();
        assert_eq!(open, [2]);
    }

    #[test]
    fn selection_follows_the_state_at_the_window() {
        let rule = Rule {
            granted_any_of: vec![PurposeId::parse("mail").unwrap()],
            window: Window {
                from: t(10),
                to: t(20),
            },
        };
        let events = [
            ev(1, 1, "mail", Action::Grant, 5), // granted before, still granted: in
            ev(2, 2, "mail", Action::Grant, 5), // granted before, withdrawn before: out
            ev(3, 2, "mail", Action::Withdraw, 8),
            ev(4, 3, "mail", Action::Grant, 25), // granted after: out
            ev(5, 4, "other", Action::Grant, 15), // another purpose: out
            ev(6, 5, "mail", Action::Withdraw, 2), // refused, then granted inside: in
            ev(7, 5, "mail", Action::Grant, 12),
            ev(8, 6, "mail", Action::Grant, 1), // withdrawn inside: in
            ev(9, 6, "mail", Action::Withdraw, 11),
        ];
        let picked: Vec<u8> = select(&rule, &events)
            .into_iter()
            .map(|s| s.as_bytes()[0])
            .collect();
        assert_eq!(picked, [1, 5, 6]);
    }
}
