//! Privacy incidents: recording one, finding who it affected, telling them. Shared by the
//! admin API (`/v1/incidents`) and `keuze incident`, so both refuse and do exactly the
//! same things.
//!
//! Telling is idempotent: a customer already told of an incident is not told again, so a
//! notification that stopped half-way (a crash, an outage) is finished by running it again.

use keuze_core::admin::Attribution;
use keuze_core::incident::{
    self, DraftProblem, Incident, IncidentDraft, NewNotice, NoticeKind, Rule, TextReadability,
};
use keuze_core::{CatalogHistory, ConsentEvent, Locale, Source, SubjectId, SubjectKey, Timestamp};
use keuze_core::{Pseudonymizer, PurposeId};
use keuze_store::{Store, StoreError, StoredIncident};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Notice entries appended per transaction.
const NOTIFY_BATCH: usize = 5_000;

/// Ledger events read per page when a rule is evaluated.
const RULE_PAGE: u32 = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("the incident is refused: {}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<DraftProblem>),
    #[error("there is no incident {0}")]
    Unknown(u32),
    #[error("no catalog is published; publish one before recording incidents, whose purposes and data categories it declares")]
    NoCatalog,
    #[error("incident {number} as stored cannot be read: {why}")]
    Unreadable { number: u32, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A recorded incident with the readability of its texts.
#[derive(Debug)]
pub struct Recorded {
    pub stored: StoredIncident,
    pub incident: Incident,
    pub readability: Vec<TextReadability>,
}

/// Checks `draft` against the published catalogs and records it.
pub async fn record(
    store: &dyn Store,
    catalogs: Option<&CatalogHistory>,
    draft: &IncidentDraft,
    by: &Attribution,
) -> Result<Recorded, IncidentError> {
    let catalogs = catalogs.ok_or(IncidentError::NoCatalog)?;
    let (incident, readability) = draft.check(catalogs).map_err(IncidentError::Invalid)?;
    let stored = store
        .record_incident(incident.digest(), incident.canonical_json(), by)
        .await?;
    Ok(Recorded {
        stored,
        incident,
        readability,
    })
}

/// A stored incident, read back.
pub async fn load(
    store: &dyn Store,
    number: u32,
) -> Result<(StoredIncident, Incident), IncidentError> {
    let stored = store
        .incident(number)
        .await?
        .ok_or(IncidentError::Unknown(number))?;
    let incident = parse(&stored)?;
    Ok((stored, incident))
}

pub fn parse(stored: &StoredIncident) -> Result<Incident, IncidentError> {
    let incident =
        incident::from_canonical(&stored.canonical).map_err(|why| IncidentError::Unreadable {
            number: stored.number,
            why,
        })?;
    if incident.digest() != stored.digest {
        return Err(IncidentError::Unreadable {
            number: stored.number,
            why: "its text does not match its digest".into(),
        });
    }
    Ok(incident)
}

/// Every customer `rule` selects, read from the whole ledger in pages.
pub async fn select(store: &dyn Store, rule: &Rule) -> Result<BTreeSet<SubjectId>, StoreError> {
    let wanted: HashSet<&PurposeId> = rule.granted_any_of.iter().collect();
    let mut relevant: Vec<ConsentEvent> = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_after(after, RULE_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        let full = page.len() == RULE_PAGE as usize;
        relevant.extend(page.into_iter().filter(|e| {
            wanted.contains(&e.event.purpose) && e.event.recorded_at <= rule.window.to
        }));
        if !full {
            break;
        }
    }
    Ok(incident::select(rule, &relevant))
}

/// The organisation's identifiers as pseudonyms, as every identifier is turned into one
/// on the way in: the list itself is not kept. Blank lines are skipped; duplicates count
/// once.
pub fn pseudonymise<'a>(
    pseudonymizer: &Pseudonymizer,
    identifiers: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<SubjectId> {
    identifiers
        .into_iter()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| pseudonymizer.pseudonym(&SubjectKey::Customer(id.to_owned())))
        .collect()
}

/// What telling the affected customers did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Notified {
    /// The customers selected or listed.
    pub affected: u64,
    /// Told now: a `notified` entry each.
    pub notified: u64,
    /// Told before (not told twice).
    pub already_notified: u64,
    /// Erased: there is no one left to tell.
    pub erased: u64,
    /// The first and last seq of the entries appended now.
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
}

/// Tells every customer of `affected` about the incident: a `notified` entry each,
/// committing to the incident's digest, in the language of their latest choice (English
/// for customers who never chose). Customers told before and erased customers are
/// skipped. `appended` is called after each committed batch with its last seq.
pub async fn notify(
    store: &dyn Store,
    stored: &StoredIncident,
    affected: &BTreeSet<SubjectId>,
    at: Timestamp,
    mut appended: impl FnMut(u64, u64),
) -> Result<Notified, IncidentError> {
    let told: HashSet<SubjectId> = store
        .notified_subjects(stored.number)
        .await?
        .into_iter()
        .collect();
    let erased: HashSet<SubjectId> = store.erased_subjects().await?.into_iter().collect();
    let locales = latest_locales(store).await?;
    let mut out = Notified {
        affected: affected.len() as u64,
        ..Notified::default()
    };
    let mut batch = Vec::with_capacity(NOTIFY_BATCH.min(affected.len()));
    let todo = affected.iter().filter(|s| {
        if erased.contains(*s) {
            out.erased += 1;
            false
        } else if told.contains(*s) {
            out.already_notified += 1;
            false
        } else {
            true
        }
    });
    let todo: Vec<&SubjectId> = todo.collect();
    for chunk in todo.chunks(NOTIFY_BATCH) {
        batch.clear();
        batch.extend(chunk.iter().map(|subject| NewNotice {
            subject: **subject,
            incident: stored.number,
            kind: NoticeKind::Notified,
            notice_digest: stored.digest,
            locale: locales.get(*subject).cloned().unwrap_or_else(Locale::en),
            source: Source::System,
            recorded_at: at,
        }));
        let done = store.append_notices(std::mem::take(&mut batch)).await?;
        if let (Some(first), Some(last)) = (done.first(), done.last()) {
            out.first_seq.get_or_insert(first.seq);
            out.last_seq = Some(last.seq);
            appended(first.seq, last.seq);
        }
        out.notified += done.len() as u64;
    }
    Ok(out)
}

/// Each subject's language: that of its latest choice.
async fn latest_locales(store: &dyn Store) -> Result<HashMap<SubjectId, Locale>, StoreError> {
    let mut latest: HashMap<SubjectId, (u64, Locale)> = HashMap::new();
    for e in store.projection().await? {
        let slot = latest
            .entry(e.event.subject)
            .or_insert((0, e.event.locale.clone()));
        if e.seq >= slot.0 {
            *slot = (e.seq, e.event.locale);
        }
    }
    Ok(latest.into_iter().map(|(s, (_, l))| (s, l)).collect())
}

/// An incident a customer was told of: when they were told, and when they said they had
/// read it.
#[derive(Debug)]
pub struct Told {
    pub stored: StoredIncident,
    pub incident: Incident,
    pub notified: Option<Timestamp>,
    pub acknowledged: Option<Timestamp>,
}

/// Every incident `subject` was told of, by incident number.
pub async fn told(store: &dyn Store, subject: &SubjectId) -> Result<Vec<Told>, IncidentError> {
    let entries = store.notices(subject).await?;
    let mut told: std::collections::BTreeMap<u32, (Option<Timestamp>, Option<Timestamp>)> =
        std::collections::BTreeMap::new();
    for e in &entries {
        let slot = told.entry(e.notice.incident).or_default();
        match e.notice.kind {
            NoticeKind::Notified => {
                slot.0.get_or_insert(e.notice.recorded_at);
            }
            NoticeKind::Acknowledged => slot.1 = Some(e.notice.recorded_at),
        }
    }
    let mut out = Vec::with_capacity(told.len());
    for (number, (notified, acknowledged)) in told {
        let (stored, incident) = load(store, number).await?;
        out.push(Told {
            stored,
            incident,
            notified,
            acknowledged,
        });
    }
    Ok(out)
}

impl crate::AppState {
    /// The customer has read the notice of incident `number`: an `acknowledged` ledger
    /// entry committing to the incident's digest. Acknowledging what the customer was not
    /// told of, or again, writes nothing; the answer says whether anything was written.
    pub async fn acknowledge_incident(
        &self,
        subject: SubjectId,
        number: u32,
        locale: &Locale,
    ) -> Result<bool, IncidentError> {
        let entries = self.store().notices(&subject).await?;
        let open = incident::unacknowledged(&entries)
            .into_iter()
            .any(|e| e.notice.incident == number);
        if !open {
            return Ok(false);
        }
        let (stored, _) = load(&**self.store(), number).await?;
        let written = self
            .store()
            .append_notices(vec![NewNotice {
                subject,
                incident: number,
                kind: NoticeKind::Acknowledged,
                notice_digest: stored.digest,
                locale: locale.clone(),
                source: Source::PreferenceCenter,
                recorded_at: self.now(),
            }])
            .await?;
        if let Some(e) = written.first() {
            self.appended_elsewhere(e.seq, e.seq);
        }
        Ok(true)
    }
}
