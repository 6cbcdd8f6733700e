//! Turning what a customer chose into ledger actions, purpose by purpose. Bundling is
//! impossible by construction: "accept all" becomes one action per purpose.

use crate::catalog::Catalog;
use crate::event::{Action, NewEvent, Source};
use crate::ids::{Locale, PurposeId};
use crate::published::{CatalogHistory, CatalogVersion};
use crate::receipt::NoticeContext;
use crate::subject::SubjectId;
use crate::time::Timestamp;

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
        let fits = match (c.action, p.legal_basis.refusal()) {
            (Action::Erase, _) => Err(format!(
                "purpose `{}`: erasure is not a choice per purpose; ask for erasure of the subject",
                p.id
            )),
            (_, None) => Err(format!(
                "purpose `{}` is based on {}: it is explained to customers but cannot be switched",
                p.id,
                p.legal_basis.as_str().replace('_', " ")
            )),
            (Action::Grant, Some(_)) => Ok(()),
            (action, Some(refusal)) if action == refusal => Ok(()),
            (action, Some(refusal)) => Err(format!(
                "purpose `{}` is based on {}: say no with `{refusal}`, not `{action}`",
                p.id,
                p.legal_basis.as_str().replace('_', " ")
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
            let action = p.legal_basis.answer(answer == AllAnswer::Accept)?;
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
            let action = p.legal_basis.answer(granted)?;
            Some((p.id.clone(), action))
        })
        .collect();
    Some(choices)
}

/// Grants that cannot be recorded: what the notice shown says about these purposes has
/// changed materially since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleNotice {
    pub purposes: Vec<PurposeId>,
}

/// The ledger events for checked choices (`planned`) a customer made on the notice of
/// catalog version `shown` in `locale`, at `now`: one per purpose, each with the version
/// and the digest of the exact notice text it answers. A purpose `shown` lacks can only
/// be refused; the current notice is the one that applies to it. Nobody records consent
/// to a text the customer did not see: if a grant answers a notice that has since
/// changed materially, nothing is recorded. Saying no is never refused.
pub fn events_for(
    history: &CatalogHistory,
    shown: &CatalogVersion,
    subject: SubjectId,
    locale: &Locale,
    source: Source,
    planned: Vec<(PurposeId, Action)>,
    now: Timestamp,
) -> Result<Vec<NewEvent>, StaleNotice> {
    let stale: Vec<PurposeId> = planned
        .iter()
        .filter(|(p, action)| {
            *action == Action::Grant && !history.still_covers(p.as_str(), shown.number)
        })
        .map(|(p, _)| p.clone())
        .collect();
    if !stale.is_empty() {
        return Err(StaleNotice { purposes: stale });
    }
    let current = history.current();
    Ok(planned
        .into_iter()
        .filter_map(|(purpose, action)| {
            let (version, p) = match shown.catalog.purpose(purpose.as_str()) {
                Some(p) => (shown, p),
                None => (current, current.catalog.purpose(purpose.as_str())?),
            };
            let context = NoticeContext::from_catalog(&version.catalog, &p.id)?;
            Some(NewEvent {
                subject,
                context_digest: context.digest(),
                notice_digest: p.notice_digest(locale, &version.catalog.taxonomy),
                purpose,
                action,
                source,
                catalog_version: version.number,
                locale: locale.clone(),
                recorded_at: now,
            })
        })
        .collect())
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::catalog::{parse_catalog, SAMPLE_CATALOG};

    fn version(number: u32, source: &str) -> CatalogVersion {
        let (catalog, _) = parse_catalog("t.toml", source).unwrap();
        CatalogVersion {
            number,
            digest: catalog.digest(),
            catalog,
            published_at: Timestamp::from_unix_millis(number.into()),
        }
    }

    fn id(p: &str) -> PurposeId {
        PurposeId::parse(p).unwrap()
    }

    #[test]
    fn events_name_the_notice_shown_and_refuse_a_grant_to_a_stale_one() {
        let mut history = CatalogHistory::new(version(1, SAMPLE_CATALOG));
        let material = SAMPLE_CATALOG.replace(
            r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement"]"#,
            r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement", "behaviour.purchase_history"]"#,
        );
        history.push(version(2, &material)).unwrap();
        let (v1, v2) = (history.version(1).unwrap(), history.current());
        let subject = SubjectId::from_bytes([3; 32]);
        let nl = Locale::nl();
        let at = Timestamp::from_unix_millis(99);
        let events =
            |shown, planned| events_for(&history, shown, subject, &nl, Source::Banner, planned, at);

        let stale = events(v1, vec![(id("newsletter"), Action::Grant)]).unwrap_err();
        assert_eq!(stale.purposes, [id("newsletter")]);
        // A grant to an unchanged purpose and any refusal still hold on the old notice.
        let recorded = events(
            v1,
            vec![
                (id("product_reviews"), Action::Grant),
                (id("newsletter"), Action::Withdraw),
            ],
        )
        .unwrap();
        assert_eq!(recorded.len(), 2);
        let reviews = v1.catalog.purpose("product_reviews").unwrap();
        assert_eq!(recorded[0].catalog_version, 1);
        assert_eq!(
            recorded[0].notice_digest,
            reviews.notice_digest(&nl, &v1.catalog.taxonomy)
        );
        assert_eq!(
            recorded[0].context_digest,
            NoticeContext::from_catalog(&v1.catalog, &id("product_reviews"))
                .unwrap()
                .digest()
        );
        assert_eq!(
            (
                recorded[1].action,
                recorded[1].source,
                recorded[1].recorded_at
            ),
            (Action::Withdraw, Source::Banner, at)
        );

        let current = events(v2, vec![(id("newsletter"), Action::Grant)]).unwrap();
        let newsletter = v2.catalog.purpose("newsletter").unwrap();
        assert_eq!(current[0].catalog_version, 2);
        assert_eq!(
            current[0].notice_digest,
            newsletter.notice_digest(&nl, &v2.catalog.taxonomy)
        );
        assert_ne!(current[0].notice_digest, recorded[1].notice_digest);
    }
}
