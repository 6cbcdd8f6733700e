//! Anonymous visitors the banner talks to: their device subject, Global Privacy Control,
//! their answer to the banner, and linking the device to a customer who logs in.

use crate::record::{Answer, RecordChoices, RecordError};
use crate::AppState;
use keuze_core::choice::AllAnswer;
use keuze_core::{
    Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId, SubjectKey,
};
use keuze_store::StoreError;
use std::collections::BTreeMap;

/// A device as the banner knows it: the id its cookie holds and that id's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub subject: SubjectId,
    /// Whether the id was issued now (the edge must hand it to the browser).
    pub issued: bool,
}

/// The visitor's answer to the banner: `answer` on the notice of catalog version `shown`,
/// read in `locale`, from a browser that does (or does not) send Global Privacy Control.
#[derive(Debug, Clone)]
pub struct BannerAnswer {
    pub device: SubjectId,
    pub gpc: bool,
    pub locale: Locale,
    pub shown: Option<u32>,
    pub answer: Answer,
}

/// What an accepted banner answer wrote.
#[derive(Debug, Clone)]
pub struct BannerAnswered {
    /// The refusals the browser's GPC signal called for, written first.
    pub gpc_refusals: Vec<ConsentEvent>,
    /// The visitor's own choices, one per purpose.
    pub choices: Vec<ConsentEvent>,
}

/// Why a device could not be linked to a customer.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("this is the device subject itself; name the known customer")]
    SameSubject,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppState {
    /// The device a banner request comes from: the id its cookie holds, if Keuze issued
    /// it and it has not been erased; else a new id. An erased device is forgotten for
    /// good: its browser starts afresh as a new one.
    pub fn device(&self, cookie: Option<&str>) -> Device {
        let subject_of = |id: &str| {
            self.pseudonymizer()
                .pseudonym(&SubjectKey::Device(id.to_owned()))
        };
        let kept = cookie
            .filter(|id| SubjectKey::is_device_id(id))
            .map(|id| (id.to_owned(), subject_of(id)))
            .filter(|(_, subject)| !self.is_erased(subject));
        match kept {
            Some((id, subject)) => Device {
                id,
                subject,
                issued: false,
            },
            None => self.new_device(),
        }
    }

    /// A new anonymous device id, and its subject.
    pub fn new_device(&self) -> Device {
        let id = SubjectKey::new_device_id(self.random_bytes());
        let subject = self
            .pseudonymizer()
            .pseudonym(&SubjectKey::Device(id.clone()));
        Device {
            id,
            subject,
            issued: true,
        }
    }

    /// Whether `subject` has been erased.
    pub fn is_erased(&self, subject: &SubjectId) -> bool {
        self.index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_erased(subject)
    }

    /// Whether each purpose of the current catalog is allowed for `subject` now.
    pub fn decisions(&self, subject: &SubjectId) -> BTreeMap<PurposeId, bool> {
        let history = self.catalog();
        let now = self.now();
        let index = self
            .index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        history
            .current()
            .catalog
            .purposes
            .iter()
            .map(|p| {
                let d = index.decide(&history, subject, p.id.as_str(), &[], now);
                (p.id.clone(), d.allowed)
            })
            .collect()
    }

    /// With GPC on, records a refusal (source `gpc`) for every purpose flagged `gpc` that
    /// the visitor has not refused yet. Once: a refused purpose is left alone, and so is
    /// a grant the visitor gave after an earlier GPC refusal, their explicit word for this
    /// site. Returns what was written.
    pub async fn honour_gpc(
        &self,
        device: SubjectId,
        locale: &Locale,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        // Most requests find everything refused already and need no lock.
        if self.gpc_open(&device).is_empty() {
            return Ok(Vec::new());
        }
        let _one_at_a_time = self.gpc_writes().lock().await;
        let refusals = self.gpc_refusals(device, locale).await?;
        if refusals.is_empty() {
            return Ok(Vec::new());
        }
        self.commit(refusals).await
    }

    /// Records the visitor's answer to the banner (source `banner`) and, with GPC on, the
    /// refusals the signal calls for, as one append: an answer refused for any reason
    /// writes nothing at all. "Accept all" never overrides GPC: the purposes it refuses
    /// were not shown as open.
    pub async fn answer_banner(&self, cmd: BannerAnswer) -> Result<BannerAnswered, RecordError> {
        let history = self.catalog();
        let catalog = &history.current().catalog;
        let accept_all = cmd.answer == Answer::All(AllAnswer::Accept);
        let keep = |p: &PurposeId, action: Action| {
            !(cmd.gpc
                && accept_all
                && action == Action::Grant
                && catalog.purpose(p.as_str()).is_some_and(|p| p.gpc))
        };
        let record = RecordChoices {
            subject: cmd.device,
            locale: cmd.locale.clone(),
            source: Source::Banner,
            shown: cmd.shown,
            answer: cmd.answer,
        };
        // Checked before the lock: a refusal costs no waiting.
        self.plan_choices(&record, keep)?;
        let _one_at_a_time = match cmd.gpc {
            true => Some(self.gpc_writes().lock().await),
            false => None,
        };
        let refusals = match cmd.gpc {
            true => self.gpc_refusals(cmd.device, &cmd.locale).await?,
            false => Vec::new(),
        };
        // Planned again under the lock, at the time of writing.
        let choices = self.plan_choices(&record, keep)?.events;
        let gpc_count = refusals.len();
        let mut events = refusals;
        events.extend(choices);
        let mut committed = self.commit(events).await?;
        let choices = committed.split_off(gpc_count.min(committed.len()));
        Ok(BannerAnswered {
            gpc_refusals: committed,
            choices,
        })
    }

    /// The purposes flagged `gpc` the visitor has not refused, each with whether their
    /// last word on it is a grant.
    fn gpc_open(&self, device: &SubjectId) -> Vec<(PurposeId, bool)> {
        let history = self.catalog();
        let index = self
            .index()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if index.is_erased(device) {
            return Vec::new();
        }
        history
            .current()
            .catalog
            .purposes
            .iter()
            .filter(|p| p.gpc && p.legal_basis.is_switchable())
            .filter_map(|p| match index.last(device, p.id.as_str()) {
                None => Some((p.id.clone(), false)),
                Some(l) if l.action == Action::Grant => Some((p.id.clone(), true)),
                Some(_) => None,
            })
            .collect()
    }

    /// The refusal events GPC calls for now; writes nothing.
    async fn gpc_refusals(
        &self,
        device: SubjectId,
        locale: &Locale,
    ) -> Result<Vec<NewEvent>, StoreError> {
        let open = self.gpc_open(&device);
        if open.is_empty() {
            return Ok(Vec::new());
        }
        let earlier_gpc: Vec<PurposeId> = if open.iter().any(|(_, granted)| *granted) {
            self.store()
                .history(&device)
                .await?
                .into_iter()
                .filter(|e| e.event.source == Source::Gpc)
                .map(|e| e.event.purpose)
                .collect()
        } else {
            Vec::new()
        };
        let history = self.catalog();
        let catalog = &history.current().catalog;
        let planned: Vec<(PurposeId, Action)> = open
            .into_iter()
            .filter(|(p, granted)| !*granted || !earlier_gpc.contains(p))
            .filter_map(|(p, _)| {
                let refusal = catalog.purpose(p.as_str())?.legal_basis.refusal()?;
                Some((p, refusal))
            })
            .collect();
        // Refusals answer the current notice, which can never be stale.
        Ok(keuze_core::choice::events_for(
            &history,
            history.current(),
            device,
            locale,
            Source::Gpc,
            planned,
            self.now(),
        )
        .unwrap_or_default())
    }

    /// Links an anonymous device subject to a known customer who just logged in: the
    /// device's choices carry over (source `system`) for every purpose the customer has
    /// made no choice for yet, while they hold. The customer's own choices always win.
    /// Idempotent: a repeated call carries nothing.
    pub async fn link_device(
        &self,
        device: SubjectId,
        known: SubjectId,
    ) -> Result<Vec<ConsentEvent>, LinkError> {
        if device == known {
            return Err(LinkError::SameSubject);
        }
        let device_state = self.store().subject_state(&device).await?;
        let history = self.catalog();
        let now = self.now();
        let carry: Vec<NewEvent> = {
            let index = self
                .index()
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            device_state
                .into_iter()
                .filter(|e| {
                    let purpose = e.event.purpose.as_str();
                    let switchable = history
                        .current()
                        .catalog
                        .purpose(purpose)
                        .is_some_and(|p| p.legal_basis.is_switchable());
                    // A grant carries only while it holds: an expired grant, or one the
                    // catalog has changed materially since, is asked again instead.
                    let holds = match e.event.action {
                        Action::Grant => index.decide(&history, &device, purpose, &[], now).allowed,
                        Action::Withdraw | Action::Object => true,
                        Action::Erase => false,
                    };
                    switchable && holds && index.last(&known, purpose).is_none()
                })
                .map(|e| NewEvent {
                    subject: known,
                    source: Source::System,
                    recorded_at: now,
                    ..e.event
                })
                .collect()
        };
        Ok(self.commit(carry).await?)
    }
}
