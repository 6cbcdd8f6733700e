//! What a customer is shown about the purposes they are asked about, in their language:
//! the *prompt* (what must be asked now: never asked, asked again after a material
//! change, or expired; empty most of the time) and the *changes* (what changed since they
//! last agreed). The prompt API, the banner and the preference center all show these.

use keuze_app::AppState;
use keuze_core::change::{in_eea, PurposeDiffKind};
use keuze_core::{Action, CatalogHistory, Locale, Reason, SubjectId};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Prompt {
    pub subject: String,
    /// The version to send back as `catalog_version` when recording the answers.
    pub catalog_version: u32,
    pub locale: String,
    /// The purposes to ask about now, in catalog order. Empty: ask nothing.
    pub ask: Vec<Question>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Question {
    pub purpose: String,
    /// Why the question is asked: `not_asked`, `reconsent_required` or `expired`.
    pub reason: Reason,
    pub title: String,
    pub description: String,
    /// What the customer gets in return.
    pub benefit: Option<String>,
    /// What happens if they say no.
    pub alternative: Option<String>,
    /// The data, in plain words.
    pub data: Vec<String>,
    /// Who else gets it, with the country.
    pub recipients: Vec<String>,
    pub retention: String,
    /// How long a yes lasts before the customer is asked again.
    pub consent_lifetime: Option<String>,
    /// `sha256:` digest of the notice these texts form; recorded with the answer.
    pub notice_digest: String,
    /// With `reconsent_required`: what changed since the customer agreed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Changes {
    pub subject: String,
    pub catalog_version: u32,
    pub locale: String,
    /// Purposes the customer agreed to under an older version that has changed since.
    pub purposes: Vec<ChangedPurpose>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangedPurpose {
    pub purpose: String,
    pub title: String,
    /// The catalog version the customer agreed under.
    pub agreed_under: u32,
    /// Whether the change is material: their consent is no longer relied on.
    pub material: bool,
    /// What changed, in plain sentences.
    pub changes: Vec<String>,
}

/// Sentences explaining how `purpose` changed from version `from` to the current one.
fn changes_since(
    history: &CatalogHistory,
    from: u32,
    purpose: &str,
    locale: &Locale,
) -> Vec<String> {
    match history.diff_since(from) {
        Some(Ok(d)) => d
            .purpose(purpose)
            .filter(|pd| pd.kind == PurposeDiffKind::Changed)
            .map(|pd| keuze_words::changes::explain_purpose(crate::language::words(locale), pd))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub fn prompt_for(state: &AppState, subject: SubjectId, locale: &Locale) -> Prompt {
    let history = state.catalog();
    let current = history.current();
    let catalog = &current.catalog;
    let now = state.now();
    let w = crate::language::words(locale);
    let index = state
        .index()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ask = keuze_core::prompt::to_ask(&history, &index, &subject, now)
        .into_iter()
        .map(|a| {
            let p = a.purpose;
            let changes = match (a.reason, a.last) {
                (Reason::ReconsentRequired, Some(l)) => {
                    changes_since(&history, l.catalog_version, p.id.as_str(), locale)
                }
                _ => Vec::new(),
            };
            Question {
                purpose: p.id.to_string(),
                reason: a.reason,
                title: p.title.get(locale).to_owned(),
                description: p.description.get(locale).to_owned(),
                benefit: p.benefit.as_ref().map(|t| t.get(locale).to_owned()),
                alternative: p.alternative.as_ref().map(|t| t.get(locale).to_owned()),
                data: p
                    .categories
                    .iter()
                    .map(|c| {
                        catalog
                            .taxonomy
                            .name(c, locale)
                            .unwrap_or(c.as_str())
                            .to_owned()
                    })
                    .collect(),
                recipients: p
                    .recipients
                    .iter()
                    .map(|r| {
                        let outside = if in_eea(&r.country) { "no" } else { "yes" };
                        w.t_args(
                            "prompt-recipient",
                            &[
                                ("name", r.name.as_str().into()),
                                ("country", w.country_name(&r.country).into()),
                                ("outside-eea", outside.into()),
                            ],
                        )
                    })
                    .collect(),
                retention: w.period(p.retention),
                consent_lifetime: p.consent_lifetime.map(|l| w.period(l)),
                notice_digest: p.notice_digest(locale, &catalog.taxonomy).to_string(),
                changes,
            }
        })
        .collect();
    Prompt {
        subject: subject.to_hex(),
        catalog_version: current.number,
        locale: locale.to_string(),
        ask,
    }
}

pub fn changes_for(state: &AppState, subject: SubjectId, locale: &Locale) -> Changes {
    let history = state.catalog();
    let current = history.current();
    let index = state
        .index()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let purposes = current
        .catalog
        .purposes
        .iter()
        .filter_map(|p| {
            let last = index.last(&subject, p.id.as_str())?;
            if last.action != Action::Grant || last.catalog_version >= current.number {
                return None;
            }
            let changes = changes_since(&history, last.catalog_version, p.id.as_str(), locale);
            if changes.is_empty() {
                return None;
            }
            Some(ChangedPurpose {
                purpose: p.id.to_string(),
                title: p.title.get(locale).to_owned(),
                agreed_under: last.catalog_version,
                material: !history.still_covers(p.id.as_str(), last.catalog_version),
                changes,
            })
        })
        .collect();
    Changes {
        subject: subject.to_hex(),
        catalog_version: current.number,
        locale: locale.to_string(),
        purposes,
    }
}
