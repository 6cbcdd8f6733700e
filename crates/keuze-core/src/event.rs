//! Consent events: the append-only ledger entries. Current state is a projection of them.

use crate::digest::Digest256;
use crate::ids::{Locale, PurposeId};
use crate::subject::SubjectId;
use crate::time::Timestamp;
use serde::Serialize;
use std::fmt;

/// What the customer (or the system on their behalf) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Yes: for a consent purpose, opt in; for legitimate interest, lift an objection.
    Grant,
    /// No to a consent purpose. Exactly as easy as granting.
    Withdraw,
    /// No to a purpose based on legitimate interest.
    Object,
    /// The subject was erased; written by Keuze itself, never requested as a choice.
    Erase,
}

impl Action {
    pub const ALL: [Action; 4] = [Self::Grant, Self::Withdraw, Self::Object, Self::Erase];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Withdraw => "withdraw",
            Self::Object => "object",
            Self::Erase => "erase",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a choice came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    PreferenceCenter,
    Banner,
    Api,
    Gpc,
    Import,
    System,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Self::PreferenceCenter,
        Self::Banner,
        Self::Api,
        Self::Gpc,
        Self::Import,
        Self::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreferenceCenter => "preference_center",
            Self::Banner => "banner",
            Self::Api => "api",
            Self::Gpc => "gpc",
            Self::Import => "import",
            Self::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A consent event before the ledger has given it a sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewEvent {
    pub subject: SubjectId,
    pub purpose: PurposeId,
    pub action: Action,
    pub source: Source,
    /// The catalog version the customer was shown.
    pub catalog_version: u32,
    /// SHA-256 of the exact notice text shown ([`crate::Purpose::notice`]).
    pub notice_digest: Digest256,
    pub locale: Locale,
    /// Server time of the write.
    pub recorded_at: Timestamp,
    /// [`crate::receipt::NoticeContext::digest`] of the controller and the purpose as
    /// `catalog_version` declared them; the ledger leaf commits to it.
    pub context_digest: Digest256,
}

/// A consent event as stored: the ledger's sequence number plus what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentEvent {
    /// Position in the ledger, from 1, without gaps.
    pub seq: u64,
    #[serde(flatten)]
    pub event: NewEvent,
}
