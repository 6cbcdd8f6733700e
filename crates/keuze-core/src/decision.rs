//! Decisions: "may data of categories C of subject S be used for purpose P now?"
//! This file is the one place where that question is answered.

use crate::catalog::LegalBasis;
use crate::event::{Action, ConsentEvent};
use crate::ids::{CategoryId, PurposeId};
use crate::published::CatalogHistory;
use crate::subject::SubjectId;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// Why a decision came out the way it did. Machine-readable and stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The customer granted consent, and it still holds.
    Granted,
    /// A consent purpose the customer has not answered yet: denied until they do.
    NotAsked,
    /// The customer withdrew consent.
    Withdrawn,
    /// The customer objected to a legitimate-interest purpose.
    Objected,
    /// A material change since the grant: the customer must confirm again.
    ReconsentRequired,
    /// The grant is older than the purpose's consent lifetime.
    Expired,
    /// The catalog has no such purpose.
    UnknownPurpose,
    /// The request names data categories the purpose does not declare.
    CategoryNotDeclared,
    /// The customer's data was erased.
    SubjectErased,
    /// Contract or legal obligation: allowed, explained, not switchable.
    NotRequired,
    /// Legitimate interest, and the customer has not objected.
    LegitimateInterest,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::NotAsked => "not_asked",
            Self::Withdrawn => "withdrawn",
            Self::Objected => "objected",
            Self::ReconsentRequired => "reconsent_required",
            Self::Expired => "expired",
            Self::UnknownPurpose => "unknown_purpose",
            Self::CategoryNotDeclared => "category_not_declared",
            Self::SubjectErased => "subject_erased",
            Self::NotRequired => "not_required",
            Self::LegitimateInterest => "legitimate_interest",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to one question, with the event it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
    /// Ledger sequence number of the event this decision rests on, if any.
    pub event: Option<u64>,
    /// With `category_not_declared`: the categories the purpose does not declare.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undeclared: Vec<CategoryId>,
}

impl Decision {
    fn new(allowed: bool, reason: Reason, event: Option<u64>) -> Self {
        Self {
            allowed,
            reason,
            event,
            undeclared: Vec::new(),
        }
    }
}

/// The latest choice a subject made for one purpose: all a decision needs of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LastChoice {
    pub seq: u64,
    pub action: Action,
    pub catalog_version: u32,
    pub recorded_at: Timestamp,
}

impl From<&ConsentEvent> for LastChoice {
    fn from(e: &ConsentEvent) -> Self {
        Self {
            seq: e.seq,
            action: e.event.action,
            catalog_version: e.event.catalog_version,
            recorded_at: e.event.recorded_at,
        }
    }
}

/// Decides one question from the published catalog versions and the subject's last
/// choice for the purpose.
pub fn decide(
    history: &CatalogHistory,
    purpose: &str,
    categories: &[CategoryId],
    last: Option<LastChoice>,
    now: Timestamp,
) -> Decision {
    let Some(p) = history.current().catalog.purpose(purpose) else {
        return Decision::new(false, Reason::UnknownPurpose, None);
    };
    let undeclared: Vec<CategoryId> = categories
        .iter()
        .filter(|c| !p.declares(c))
        .cloned()
        .collect();
    if !undeclared.is_empty() {
        return Decision {
            undeclared,
            ..Decision::new(false, Reason::CategoryNotDeclared, None)
        };
    }
    let seq = last.map(|l| l.seq);
    if let Some(l) = last.filter(|l| l.action == Action::Erase) {
        return Decision::new(false, Reason::SubjectErased, Some(l.seq));
    }
    match p.legal_basis {
        LegalBasis::Contract | LegalBasis::LegalObligation => {
            Decision::new(true, Reason::NotRequired, None)
        }
        LegalBasis::LegitimateInterest => match last.map(|l| l.action) {
            Some(Action::Object | Action::Withdraw | Action::Erase) => {
                Decision::new(false, Reason::Objected, seq)
            }
            Some(Action::Grant) => Decision::new(true, Reason::LegitimateInterest, seq),
            None => Decision::new(true, Reason::LegitimateInterest, None),
        },
        LegalBasis::Consent => match last {
            None => Decision::new(false, Reason::NotAsked, None),
            Some(l) => match l.action {
                Action::Withdraw | Action::Object | Action::Erase => {
                    Decision::new(false, Reason::Withdrawn, seq)
                }
                Action::Grant if !history.still_covers(purpose, l.catalog_version) => {
                    Decision::new(false, Reason::ReconsentRequired, seq)
                }
                Action::Grant => {
                    let expired = p
                        .consent_lifetime
                        .is_some_and(|life| now >= l.recorded_at.plus_days(life.days()));
                    if expired {
                        Decision::new(false, Reason::Expired, seq)
                    } else {
                        Decision::new(true, Reason::Granted, seq)
                    }
                }
            },
        },
    }
}

/// Every subject's last choice per purpose, kept in memory so decisions never wait on
/// storage. Built from the store's projection at start and updated on each commit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DecisionIndex {
    subjects: HashMap<SubjectId, HashMap<PurposeId, LastChoice>>,
    /// Erased subjects, with the sequence number of their erasure.
    erased: HashMap<SubjectId, u64>,
}

impl DecisionIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies committed events in ledger order; an older event never overwrites a newer.
    /// An erasure forgets the subject's choices and marks it erased for good.
    pub fn apply(&mut self, event: &ConsentEvent) {
        if event.event.action == Action::Erase {
            self.subjects.remove(&event.event.subject);
            self.erased.entry(event.event.subject).or_insert(event.seq);
            return;
        }
        if self.erased.contains_key(&event.event.subject) {
            return;
        }
        let slot = self
            .subjects
            .entry(event.event.subject)
            .or_default()
            .entry(event.event.purpose.clone());
        match slot {
            std::collections::hash_map::Entry::Occupied(mut o) => {
                if o.get().seq < event.seq {
                    o.insert(LastChoice::from(event));
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(LastChoice::from(event));
            }
        }
    }

    pub fn last(&self, subject: &SubjectId, purpose: &str) -> Option<LastChoice> {
        self.subjects
            .get(subject)
            .and_then(|m| m.get(purpose))
            .copied()
    }

    /// All last choices of one subject, by purpose.
    pub fn subject(&self, subject: &SubjectId) -> Option<&HashMap<PurposeId, LastChoice>> {
        self.subjects.get(subject)
    }

    /// Marks a subject erased without its erasure event at hand (loading at start).
    pub fn mark_erased(&mut self, subject: SubjectId) {
        self.subjects.remove(&subject);
        self.erased.entry(subject).or_insert(0);
    }

    pub fn is_erased(&self, subject: &SubjectId) -> bool {
        self.erased.contains_key(subject)
    }

    pub fn decide(
        &self,
        history: &CatalogHistory,
        subject: &SubjectId,
        purpose: &str,
        categories: &[CategoryId],
        now: Timestamp,
    ) -> Decision {
        if let Some(&seq) = self.erased.get(subject) {
            if history.current().catalog.purpose(purpose).is_some() {
                return Decision::new(false, Reason::SubjectErased, (seq > 0).then_some(seq));
            }
        }
        decide(
            history,
            purpose,
            categories,
            self.last(subject, purpose),
            now,
        )
    }

    pub fn subject_count(&self) -> usize {
        self.subjects.len()
    }
}
