//! Decisions: "may data of categories C of subject S be used for purpose P now?"
//! This file is the one place where that question is answered.

use crate::catalog::LegalBasis;
use crate::event::{Action, ConsentEvent};
use crate::ids::CategoryId;
use crate::published::CatalogHistory;
use crate::time::Timestamp;
use serde::Serialize;
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
    /// Denied: the subject was erased (by the erasure event `seq`, if known).
    pub(crate) fn erased(seq: Option<u64>) -> Self {
        Self::new(false, Reason::SubjectErased, seq)
    }

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
    let Some((p, material_since)) = history.purpose_in_force(purpose) else {
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
                Action::Grant if l.catalog_version < material_since => {
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
