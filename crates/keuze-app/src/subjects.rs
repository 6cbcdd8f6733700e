//! What the application answers about one subject: their status per purpose, their
//! history, a receipt for one of their events; and erasing them.

use crate::AppState;
use keuze_core::admin::Attribution;
use keuze_core::decision::LastChoice;
use keuze_core::receipt::{subject_commitment, NoticeContext, Receipt, ReceiptProof};
use keuze_core::{ConsentEvent, LegalBasis, Locale, PurposeId, Reason, Source, SubjectId};
use keuze_store::StoreError;

/// A subject's status for one purpose of the current catalog.
#[derive(Debug, Clone)]
pub struct PurposeStatus {
    pub purpose: PurposeId,
    pub legal_basis: LegalBasis,
    pub allowed: bool,
    pub reason: Reason,
    /// The event the status rests on.
    pub event: Option<u64>,
    /// The subject's last choice for the purpose, if any.
    pub last: Option<LastChoice>,
}

/// A subject's status for every purpose of the current catalog, in catalog order.
#[derive(Debug, Clone)]
pub struct SubjectStatus {
    pub catalog_version: u32,
    pub purposes: Vec<PurposeStatus>,
}

/// Why a receipt could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("no events for this subject")]
    NoEvents,
    #[error("this subject has no event {0}")]
    NotTheirs(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tree(#[from] crate::log::TreeError),
    #[error(transparent)]
    Sign(#[from] crate::log::SignError),
}

impl AppState {
    /// `subject`'s status for every purpose of the current catalog, now.
    pub fn subject_status(&self, subject: &SubjectId) -> SubjectStatus {
        let history = self.catalog();
        let current = history.current();
        let now = self.now();
        let index = self
            .index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let purposes = current
            .catalog
            .purposes
            .iter()
            .map(|p| {
                let d = index.decide(&history, subject, p.id.as_str(), &[], now);
                PurposeStatus {
                    purpose: p.id.clone(),
                    legal_basis: p.legal_basis,
                    allowed: d.allowed,
                    reason: d.reason,
                    event: d.event,
                    last: index.last(subject, p.id.as_str()),
                }
            })
            .collect();
        SubjectStatus {
            catalog_version: current.number,
            purposes,
        }
    }

    /// Every choice of `subject`, oldest first.
    pub async fn subject_history(
        &self,
        subject: &SubjectId,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        self.store().history(subject).await
    }

    /// A receipt for event `seq` of `subject`, verifiable offline; not found unless the
    /// event is theirs. The one path every receipt takes (the API, the preference center).
    pub async fn receipt(&self, subject: &SubjectId, seq: u64) -> Result<Receipt, ReceiptError> {
        let store = self.store();
        let salt = match store.subject_salt(subject).await? {
            Some(s) => s,
            None if self.is_erased(subject) => return Err(StoreError::Erased.into()),
            None => return Err(ReceiptError::NoEvents),
        };
        let entry = store
            .ledger_entries(seq.saturating_sub(1), 1)
            .await?
            .into_iter()
            .find(|e| e.seq == seq)
            .filter(|e| e.subject_commitment == subject_commitment(&salt.0, subject))
            .ok_or(ReceiptError::NotTheirs(seq))?;
        let history = self.catalog();
        let context = history
            .version(entry.catalog_version)
            .and_then(|v| NoticeContext::from_catalog(&v.catalog, &entry.purpose))
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "event {} names catalog version {} and purpose `{}`, which are not published",
                    entry.seq, entry.catalog_version, entry.purpose
                ))
            })?;
        let cp = self
            .signer()
            .sign_latest(&**store, self.now())
            .await?
            .filter(|c| c.size >= entry.seq)
            .ok_or(ReceiptError::NotTheirs(seq))?;
        let inclusion = crate::log::inclusion_proof(&**store, cp.size, entry.seq - 1).await?;
        let proof = ReceiptProof {
            leaf_index: entry.seq - 1,
            tree_size: cp.size,
            inclusion,
            checkpoint: cp.note,
        };
        Receipt::issue(&entry, subject, &salt, &context, proof)
            .map_err(|e| StoreError::Corrupt(e.to_string()).into())
    }

    /// Erases `subject`: one erasure event per purpose of the current catalog, recorded as
    /// coming from `source` in `locale`, and the erasure's admin entry attributed to `by`.
    /// The one path every erasure takes.
    pub async fn erase_subject(
        &self,
        subject: SubjectId,
        source: Source,
        locale: &Locale,
        by: &Attribution,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let history = self.catalog();
        let erasure =
            keuze_core::erasure::events(subject, history.current(), source, locale, by.at);
        self.erase(subject, erasure, by).await
    }
}
