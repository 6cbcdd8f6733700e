//! What a customer must be asked now: the consent purposes they never answered, those a
//! material change requires them to confirm again, and those whose consent expired. Empty
//! most of the time. The server's prompt routes (and through them the banner and the
//! preference center) ask exactly this; so does the consent-fatigue simulation.

use crate::catalog::{LegalBasis, Purpose};
use crate::decision::{LastChoice, Reason};
use crate::index::DecisionIndex;
use crate::published::CatalogHistory;
use crate::subject::SubjectId;
use crate::time::Timestamp;

/// One purpose to ask about, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask<'a> {
    /// The purpose as the version in force declares it.
    pub purpose: &'a Purpose,
    /// `not_asked`, `reconsent_required` or `expired`.
    pub reason: Reason,
    /// The customer's last choice for the purpose, which the answer will replace.
    pub last: Option<LastChoice>,
}

/// The consent purposes of the version in force that `subject` must be asked about at
/// `now`, in catalog order: those whose decision is `not_asked`, `reconsent_required` or
/// `expired`. A purpose the customer refused is not asked again, whatever changed.
pub fn to_ask<'h>(
    history: &'h CatalogHistory,
    index: &DecisionIndex,
    subject: &SubjectId,
    now: Timestamp,
) -> Vec<Ask<'h>> {
    history
        .current()
        .catalog
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .filter_map(|p| {
            let d = index.decide(history, subject, p.id.as_str(), &[], now);
            let ask = matches!(
                d.reason,
                Reason::NotAsked | Reason::ReconsentRequired | Reason::Expired
            );
            ask.then(|| Ask {
                purpose: p,
                reason: d.reason,
                last: index.last(subject, p.id.as_str()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::catalog::{parse_catalog, SAMPLE_CATALOG};
    use crate::event::{Action, ConsentEvent, NewEvent, Source};
    use crate::ids::{Locale, PurposeId};
    use crate::published::CatalogVersion;
    use crate::Catalog;

    const DAY0: Timestamp = Timestamp::from_unix_millis(1_767_225_600_000);

    fn version(number: u32, source: &str, day: i64) -> CatalogVersion {
        let (catalog, _) = parse_catalog("t.toml", source).unwrap();
        CatalogVersion {
            number,
            digest: catalog.digest(),
            catalog,
            published_at: DAY0.plus_days(day),
        }
    }

    fn grant_or_withdraw(
        catalog: &Catalog,
        subject: SubjectId,
        seq: &mut u64,
        version: u32,
        at: Timestamp,
        grants: &[&str],
    ) -> Vec<ConsentEvent> {
        catalog
            .purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::Consent)
            .map(|p| {
                *seq += 1;
                let action = if grants.contains(&p.id.as_str()) {
                    Action::Grant
                } else {
                    Action::Withdraw
                };
                ConsentEvent {
                    seq: *seq,
                    event: NewEvent {
                        subject,
                        purpose: p.id.clone(),
                        action,
                        source: Source::Banner,
                        catalog_version: version,
                        notice_digest: p.notice_digest(&Locale::en(), &catalog.taxonomy),
                        locale: Locale::en(),
                        recorded_at: at,
                        context_digest: crate::catalog::Digest256::of(b"c"),
                    },
                }
            })
            .collect()
    }

    fn asked(
        history: &CatalogHistory,
        index: &DecisionIndex,
        s: &SubjectId,
        at: Timestamp,
    ) -> Vec<(String, Reason)> {
        to_ask(history, index, s, at)
            .iter()
            .map(|a| (a.purpose.id.to_string(), a.reason))
            .collect()
    }

    #[test]
    fn asks_once_then_only_after_a_material_change_to_a_grant_or_an_expiry() {
        let mut history = CatalogHistory::new(version(1, SAMPLE_CATALOG, 0));
        let mut index = DecisionIndex::new();
        let s = SubjectId::from_bytes([7; 32]);
        let nothing: Vec<(String, Reason)> = Vec::new();

        let first = asked(&history, &index, &s, DAY0.plus_days(1));
        assert_eq!(
            first,
            [
                ("newsletter".to_owned(), Reason::NotAsked),
                ("personalised_recommendations".to_owned(), Reason::NotAsked),
                ("advertising_partners".to_owned(), Reason::NotAsked),
                ("product_reviews".to_owned(), Reason::NotAsked),
            ]
        );
        let mut seq = 0;
        let catalog = history.current().catalog.clone();
        index.apply_all(&grant_or_withdraw(
            &catalog,
            s,
            &mut seq,
            1,
            DAY0.plus_days(1),
            &["newsletter", "advertising_partners", "product_reviews"],
        ));
        assert_eq!(asked(&history, &index, &s, DAY0.plus_days(2)), nothing);

        // A reworded description is minor: nothing to ask.
        let minor = SAMPLE_CATALOG.replace(
            "We send you an e-mail about once a month.",
            "About once a month we send you an e-mail.",
        );
        history.push(version(2, &minor, 10)).unwrap();
        assert_eq!(asked(&history, &index, &s, DAY0.plus_days(11)), nothing);

        // A new data category is material: asked again where granted, not where refused.
        let material = minor
            .replace(
                r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement"]"#,
                r#"categories = ["contact.email", "contact.name", "behaviour.email_engagement", "behaviour.purchase_history"]"#,
            )
            .replace(
                r#"categories = ["behaviour.purchase_history", "behaviour.browsing", "behaviour.preferences", "bike_fit"]"#,
                r#"categories = ["behaviour.purchase_history", "behaviour.browsing", "behaviour.preferences", "bike_fit", "location.approximate"]"#,
            );
        let d = history.push(version(3, &material, 20)).unwrap();
        assert_eq!(d.materially_changed().count(), 2);
        let again = to_ask(&history, &index, &s, DAY0.plus_days(21));
        assert_eq!(again.len(), 1, "{again:?}");
        assert_eq!(again[0].purpose.id, PurposeId::parse("newsletter").unwrap());
        assert_eq!(again[0].reason, Reason::ReconsentRequired);
        assert_eq!(again[0].last.unwrap().catalog_version, 1);

        let catalog = history.current().catalog.clone();
        index.apply_all(&grant_or_withdraw(
            &catalog,
            s,
            &mut seq,
            3,
            DAY0.plus_days(21),
            &["newsletter", "advertising_partners", "product_reviews"],
        ));
        assert_eq!(asked(&history, &index, &s, DAY0.plus_days(22)), nothing);
        // The advertising consent lasts 6 months (180 days) from its last grant.
        assert_eq!(asked(&history, &index, &s, DAY0.plus_days(200)), nothing);
        assert_eq!(
            asked(&history, &index, &s, DAY0.plus_days(201)),
            [("advertising_partners".to_owned(), Reason::Expired)]
        );
    }
}
