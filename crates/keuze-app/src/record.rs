//! Recording a customer's choices: the one path every recorded choice takes, whichever
//! edge it comes from (the API, the preference center, the banner). A request is checked
//! whole before anything is written, and written as one append.

use crate::AppState;
use keuze_core::choice::{
    all_choices, events_for, preset_choices, resolve_choices, AllAnswer, RequestedChoice,
};
use keuze_core::{Action, ConsentEvent, Locale, NewEvent, PurposeId, Source, SubjectId};
use keuze_store::StoreError;

/// What the customer answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// One choice per purpose, as requested (checked against the catalog).
    Each(Vec<RequestedChoice>),
    /// "Accept all" or "reject all": one event per purpose the customer can switch.
    All(AllAnswer),
    /// One of the catalog's presets, by id.
    Preset(String),
}

/// Record `answer` for `subject`, who read the notice of catalog version `shown` (the
/// current one if `None`) in `locale`.
#[derive(Debug, Clone)]
pub struct RecordChoices {
    pub subject: SubjectId,
    pub locale: Locale,
    pub source: Source,
    pub shown: Option<u32>,
    pub answer: Answer,
}

/// Where in a request a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The answer as a whole (e.g. no choices at all).
    Answer,
    /// The `index`-th requested choice, and which of its fields.
    Choice { index: usize, field: &'static str },
    /// The preset named.
    Preset,
    /// The catalog version named as shown.
    CatalogVersion,
}

/// One problem with a request; every problem is reported, not only the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub at: Field,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the request is invalid; nothing was written")]
    Invalid(Vec<Invalid>),
    /// A grant answers a notice that has changed materially since it was shown.
    #[error("the notice of catalog version {requested} is no longer current (now {current})")]
    StaleNotice {
        requested: u32,
        current: u32,
        purposes: Vec<PurposeId>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checked choices, ready to be written.
#[derive(Debug, Clone)]
pub struct Plan {
    pub subject: SubjectId,
    pub events: Vec<NewEvent>,
}

impl AppState {
    /// Every problem with `answer` (if the edge could read one) and `shown` alone,
    /// before a subject or language is known: what an edge adds to its own input errors
    /// so that a refusal names them all.
    pub fn check_answer(&self, answer: Option<&Answer>, shown: Option<u32>) -> Vec<Invalid> {
        let history = self.catalog();
        let mut errors = Vec::new();
        if let Some(Err(mut e)) = answer.map(|a| planned(&history.current().catalog, a)) {
            errors.append(&mut e);
        }
        if let Err(e) = shown_version(&history, shown) {
            errors.push(e);
        }
        errors
    }

    /// Checks `cmd` and gives the events it would record, writing nothing. `keep` may
    /// drop planned choices before they are checked against the notice shown (the
    /// banner's "accept all" leaves the purposes GPC refused).
    pub fn plan_choices(
        &self,
        cmd: &RecordChoices,
        keep: impl Fn(&PurposeId, Action) -> bool,
    ) -> Result<Plan, RecordError> {
        let history = self.catalog();
        let current = history.current();
        let planned = planned(&current.catalog, &cmd.answer);
        let shown = shown_version(&history, cmd.shown);
        let (planned, shown) = match (planned, shown) {
            (Ok(p), Ok(s)) => (p, s),
            (p, s) => {
                let mut errors = p.err().unwrap_or_default();
                errors.extend(s.err());
                return Err(RecordError::Invalid(errors));
            }
        };
        let planned: Vec<(PurposeId, Action)> = planned
            .into_iter()
            .filter(|(p, action)| keep(p, *action))
            .collect();
        let events = events_for(
            &history,
            shown,
            cmd.subject,
            &cmd.locale,
            cmd.source,
            planned,
            self.now(),
        )
        .map_err(|stale| RecordError::StaleNotice {
            requested: shown.number,
            current: current.number,
            purposes: stale.purposes,
        })?;
        Ok(Plan {
            subject: cmd.subject,
            events,
        })
    }

    /// Writes planned events durably, as one append, and answers once the decision index
    /// holds them.
    pub async fn commit(&self, events: Vec<NewEvent>) -> Result<Vec<ConsentEvent>, StoreError> {
        let committed = self.writer().append(events).await?;
        metrics::counter!("keuze_consent_events_total").increment(committed.len() as u64);
        Ok(committed)
    }

    /// Checks and records a customer's choices: one event per purpose.
    pub async fn record(&self, cmd: RecordChoices) -> Result<Vec<ConsentEvent>, RecordError> {
        let plan = self.plan_choices(&cmd, |_, _| true)?;
        Ok(self.commit(plan.events).await?)
    }
}

/// The checked (purpose, action) pairs an answer means, in order.
fn planned(
    catalog: &keuze_core::Catalog,
    answer: &Answer,
) -> Result<Vec<(PurposeId, Action)>, Vec<Invalid>> {
    match answer {
        Answer::Each(requested) => resolve_choices(catalog, requested).map_err(|errs| {
            errs.into_iter()
                .map(|e| Invalid {
                    at: match e.index {
                        Some(index) => Field::Choice {
                            index,
                            field: e.field,
                        },
                        None => Field::Answer,
                    },
                    message: e.message,
                })
                .collect()
        }),
        Answer::All(all) => Ok(all_choices(catalog, *all)),
        Answer::Preset(id) => preset_choices(catalog, id).ok_or_else(|| {
            vec![Invalid {
                at: Field::Preset,
                message: format!("the catalog has no preset `{id}`"),
            }]
        }),
    }
}

fn shown_version(
    history: &keuze_core::CatalogHistory,
    shown: Option<u32>,
) -> Result<&keuze_core::CatalogVersion, Invalid> {
    let current = history.current();
    match shown {
        None => Ok(current),
        Some(v) => history.version(v).ok_or_else(|| Invalid {
            at: Field::CatalogVersion,
            message: format!(
                "there is no catalog version {v}; the current version is {}",
                current.number
            ),
        }),
    }
}
