//! Turning what a customer chose into ledger actions, purpose by purpose. Bundling is
//! impossible by construction: "accept all" becomes one action per purpose.

use crate::catalog::{Catalog, LegalBasis};
use crate::event::Action;
use crate::ids::PurposeId;

/// The answer behind "accept all" and "reject all": one click either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllAnswer {
    Accept,
    Reject,
}

/// One choice as requested, before it is checked against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedChoice {
    pub purpose: String,
    pub action: Action,
}

/// A choice that cannot be recorded, pointing at the offending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceError {
    /// Index into the requested choices; `None` for a problem with the request as a whole.
    pub index: Option<usize>,
    /// The field of that entry that is wrong (`purpose` or `action`).
    pub field: &'static str,
    pub message: String,
}

/// Checks each requested choice against the catalog and returns the actions to record,
/// in request order. Every problem is reported, not only the first.
pub fn resolve_choices(
    catalog: &Catalog,
    requested: &[RequestedChoice],
) -> Result<Vec<(PurposeId, Action)>, Vec<ChoiceError>> {
    let mut errors = Vec::new();
    let mut out: Vec<(PurposeId, Action)> = Vec::with_capacity(requested.len());
    if requested.is_empty() {
        errors.push(ChoiceError {
            index: None,
            field: "choices",
            message: "no choices given: name at least one purpose, or use `all`".into(),
        });
    }
    for (i, c) in requested.iter().enumerate() {
        let Some(p) = catalog.purpose(&c.purpose) else {
            errors.push(ChoiceError {
                index: Some(i),
                field: "purpose",
                message: unknown_purpose_message(catalog, &c.purpose),
            });
            continue;
        };
        if out.iter().any(|(id, _)| id == &p.id) {
            errors.push(ChoiceError {
                index: Some(i),
                field: "purpose",
                message: format!(
                    "purpose `{}` appears twice: give one choice per purpose",
                    p.id
                ),
            });
            continue;
        }
        let fits = match (p.legal_basis, c.action) {
            (LegalBasis::Consent, Action::Grant | Action::Withdraw) => Ok(()),
            (LegalBasis::Consent, Action::Object) => Err(format!(
                "purpose `{}` is based on consent: say no with `withdraw`, not `object`",
                p.id
            )),
            (LegalBasis::LegitimateInterest, Action::Grant | Action::Object) => Ok(()),
            (LegalBasis::LegitimateInterest, Action::Withdraw) => Err(format!(
                "purpose `{}` is based on legitimate interest: say no with `object`, not `withdraw`",
                p.id
            )),
            (_, Action::Erase) => Err(format!(
                "purpose `{}`: erasure is not a choice per purpose; ask for erasure of the subject",
                p.id
            )),
            (basis @ (LegalBasis::Contract | LegalBasis::LegalObligation), _) => Err(format!(
                "purpose `{}` is based on {}: it is explained to customers but cannot be switched",
                p.id,
                basis.as_str().replace('_', " ")
            )),
        };
        match fits {
            Ok(()) => out.push((p.id.clone(), c.action)),
            Err(message) => errors.push(ChoiceError {
                index: Some(i),
                field: "action",
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// "Accept all" or "reject all": one action for every purpose the customer can switch.
pub fn all_choices(catalog: &Catalog, answer: AllAnswer) -> Vec<(PurposeId, Action)> {
    catalog
        .purposes
        .iter()
        .filter_map(|p| {
            let action = match (p.legal_basis, answer) {
                (LegalBasis::Consent | LegalBasis::LegitimateInterest, AllAnswer::Accept) => {
                    Action::Grant
                }
                (LegalBasis::Consent, AllAnswer::Reject) => Action::Withdraw,
                (LegalBasis::LegitimateInterest, AllAnswer::Reject) => Action::Object,
                (LegalBasis::Contract | LegalBasis::LegalObligation, _) => return None,
            };
            Some((p.id.clone(), action))
        })
        .collect()
}

/// A preset from the catalog: one action for every purpose the customer can switch, a
/// grant for those the preset lists and a no (withdraw or object) for the others.
/// `None` when the catalog has no such preset.
pub fn preset_choices(catalog: &Catalog, preset_id: &str) -> Option<Vec<(PurposeId, Action)>> {
    let preset = catalog.preset(preset_id)?;
    let choices = catalog
        .purposes
        .iter()
        .filter_map(|p| {
            let granted = preset.grants.contains(&p.id);
            let action = match (p.legal_basis, granted) {
                (LegalBasis::Consent | LegalBasis::LegitimateInterest, true) => Action::Grant,
                (LegalBasis::Consent, false) => Action::Withdraw,
                (LegalBasis::LegitimateInterest, false) => Action::Object,
                (LegalBasis::Contract | LegalBasis::LegalObligation, _) => return None,
            };
            Some((p.id.clone(), action))
        })
        .collect();
    Some(choices)
}

/// "unknown purpose `x`", with the closest match and the list of valid ids.
pub fn unknown_purpose_message(catalog: &Catalog, purpose: &str) -> String {
    let ids: Vec<&str> = catalog.purposes.iter().map(|p| p.id.as_str()).collect();
    let closest = ids
        .iter()
        .map(|id| (strsim::jaro_winkler(id, purpose), *id))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let mut msg = format!("unknown purpose `{purpose}`");
    if let Some((_, id)) = closest {
        msg.push_str(&format!("; did you mean `{id}`?"));
    }
    msg.push_str(&format!(" Valid purposes: {}", ids.join(", ")));
    msg
}
