//! The JSON shapes the API and the banner share, and their translation into the
//! application's types: who a request is about, a choice, an event as shown.

use crate::problem::{ApiError, FieldError};
use keuze_app::record::Answer;
use keuze_app::subjects::SubjectStatus;
use keuze_app::AppState;
use keuze_core::choice::{AllAnswer, RequestedChoice};
use keuze_core::{Action, ConsentEvent, Locale, Reason, Source, SubjectId, SubjectKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Who the request is about. Exactly one of the three. The raw `id` is turned into a
/// pseudonym at once and never stored or logged.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectRef {
    /// The organisation's own identifier for the customer (e-mail address, customer number).
    pub id: Option<String>,
    /// An anonymous device id issued by `POST /v1/subjects/device`.
    pub device_id: Option<String>,
    /// The subject's pseudonym (64 hex digits) as returned by earlier responses.
    pub pseudonym: Option<String>,
}

const MAX_IDENTIFIER_LEN: usize = 256;

impl SubjectRef {
    /// The pseudonym this reference names; `at` is the JSON Pointer of the reference.
    pub fn resolve(&self, state: &AppState, at: &str) -> Result<SubjectId, FieldError> {
        let err = |field: &str, detail: &str| FieldError {
            pointer: format!("{at}{field}"),
            detail: detail.to_owned(),
        };
        match (&self.id, &self.device_id, &self.pseudonym) {
            (Some(id), None, None) => {
                if id.trim().is_empty() || id.len() > MAX_IDENTIFIER_LEN {
                    return Err(err("/id", "the identifier must be 1 to 256 characters"));
                }
                Ok(state
                    .pseudonymizer()
                    .pseudonym(&SubjectKey::Customer(id.clone())))
            }
            (None, Some(dev), None) => {
                if !SubjectKey::is_device_id(dev) {
                    return Err(err(
                        "/device_id",
                        "not a device id issued by Keuze (`dev_` and 32 hex digits); get one from POST /v1/subjects/device",
                    ));
                }
                Ok(state
                    .pseudonymizer()
                    .pseudonym(&SubjectKey::Device(dev.clone())))
            }
            (None, None, Some(p)) => SubjectId::parse_hex(p)
                .ok_or_else(|| err("/pseudonym", "a pseudonym is 64 lower-case hex digits")),
            _ => Err(err(
                "",
                "name the subject with exactly one of `id`, `device_id` or `pseudonym`",
            )),
        }
    }
}

impl SubjectRef {
    /// The pseudonym named by a request body's `subject` field.
    pub fn resolve_in_body(&self, state: &AppState) -> Result<SubjectId, ApiError> {
        self.resolve(state, "/subject")
            .map_err(|e| ApiError::Validation(vec![e]))
    }
}

/// A pseudonym taken from a URL path.
pub fn parse_pseudonym(p: &str) -> Result<SubjectId, ApiError> {
    SubjectId::parse_hex(p).ok_or_else(|| {
        ApiError::NotFound("a subject pseudonym in the path is 64 lower-case hex digits".into())
    })
}

/// A ledger event as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: u64,
    pub purpose: String,
    /// `grant`, `withdraw` or `object`.
    pub action: String,
    /// `preference_center`, `banner`, `api`, `gpc`, `import` or `system`.
    pub source: String,
    pub catalog_version: u32,
    /// `sha256:` and the hex digest of the notice text the customer was shown.
    pub notice_digest: String,
    pub locale: String,
    /// Server time, RFC 3339.
    pub recorded_at: String,
}

impl From<&ConsentEvent> for EventView {
    fn from(e: &ConsentEvent) -> Self {
        Self {
            seq: e.seq,
            purpose: e.event.purpose.to_string(),
            action: e.event.action.to_string(),
            source: e.event.source.to_string(),
            catalog_version: e.event.catalog_version,
            notice_digest: e.event.notice_digest.to_string(),
            locale: e.event.locale.to_string(),
            recorded_at: e.event.recorded_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoiceInput {
    pub purpose: String,
    pub action: ActionInput,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionInput {
    Grant,
    Withdraw,
    Object,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllInput {
    Accept,
    Reject,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceInput {
    PreferenceCenter,
    Banner,
    Api,
    Gpc,
    Import,
    System,
}

impl From<ActionInput> for Action {
    fn from(a: ActionInput) -> Self {
        match a {
            ActionInput::Grant => Action::Grant,
            ActionInput::Withdraw => Action::Withdraw,
            ActionInput::Object => Action::Object,
        }
    }
}

impl From<SourceInput> for Source {
    fn from(s: SourceInput) -> Self {
        match s {
            SourceInput::PreferenceCenter => Source::PreferenceCenter,
            SourceInput::Banner => Source::Banner,
            SourceInput::Api => Source::Api,
            SourceInput::Gpc => Source::Gpc,
            SourceInput::Import => Source::Import,
            SourceInput::System => Source::System,
        }
    }
}

impl From<AllInput> for AllAnswer {
    fn from(a: AllInput) -> Self {
        match a {
            AllInput::Accept => AllAnswer::Accept,
            AllInput::Reject => AllAnswer::Reject,
        }
    }
}

/// The language a body names at `pointer` (`en` when it names none).
pub fn locale_of(raw: Option<&str>, pointer: &str) -> Result<Locale, FieldError> {
    match raw {
        None => Ok(Locale::en()),
        Some(l) => Locale::parse(l).map_err(|e| FieldError {
            pointer: pointer.into(),
            detail: e.to_string(),
        }),
    }
}

/// The answer a body's `choices` or `all` (exactly one of them) gives.
pub fn answer_of(
    choices: Option<&[ChoiceInput]>,
    all: Option<AllInput>,
) -> Result<Answer, FieldError> {
    match (choices, all) {
        (Some(choices), None) => Ok(Answer::Each(
            choices
                .iter()
                .map(|c| RequestedChoice {
                    purpose: c.purpose.clone(),
                    action: c.action.into(),
                })
                .collect(),
        )),
        (None, Some(all)) => Ok(Answer::All(all.into())),
        _ => Err(FieldError {
            pointer: "".into(),
            detail: "give either `choices` (one per purpose) or `all` (`accept` or `reject`), not both and not neither".into(),
        }),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectState {
    pub subject: String,
    pub catalog_version: u32,
    /// Every purpose of the current catalog, in catalog order.
    pub purposes: Vec<PurposeState>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeState {
    pub purpose: String,
    pub legal_basis: String,
    /// Whether the customer can switch this purpose.
    pub switchable: bool,
    pub allowed: bool,
    pub reason: Reason,
    /// The event this status rests on.
    pub event: Option<u64>,
    /// The customer's last action for this purpose, if any.
    pub last_action: Option<String>,
    /// When that action was recorded, RFC 3339.
    pub updated_at: Option<String>,
}

/// A subject's status for every purpose of the current catalog, as the API shows it.
pub fn state_of(state: &AppState, subject: SubjectId) -> SubjectState {
    let SubjectStatus {
        catalog_version,
        purposes,
    } = state.subject_status(&subject);
    SubjectState {
        subject: subject.to_hex(),
        catalog_version,
        purposes: purposes
            .into_iter()
            .map(|p| PurposeState {
                purpose: p.purpose.to_string(),
                legal_basis: p.legal_basis.to_string(),
                switchable: p.legal_basis.is_switchable(),
                allowed: p.allowed,
                reason: p.reason,
                event: p.event,
                last_action: p.last.map(|l| l.action.to_string()),
                updated_at: p.last.map(|l| l.recorded_at.to_rfc3339()),
            })
            .collect(),
    }
}
