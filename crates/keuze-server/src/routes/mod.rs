//! HTTP handlers: extract, call the domain, map the error. One module per resource.

pub mod audit;
pub mod banner;
pub mod catalog;
pub mod cmp;
pub mod consents;
pub mod decide;
pub mod incident_pages;
pub mod incidents;
pub mod me;
pub mod ops;
pub mod plain;
pub mod privacy;
pub mod prompt;
pub mod proofs;
pub mod subjects;
pub mod tcf;
pub mod webhooks;

use crate::problem::{ApiError, FieldError};
use keuze_app::AppState;
use keuze_core::{ConsentEvent, SubjectId, SubjectKey};
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
