//! Erasing a subject as the ledger records it: one `erase` event per purpose of the
//! catalog version in force, each tied to the notice and the context of that purpose, so
//! the erasure is one proof in the log like any other choice. Erasing through the API and
//! re-applying erasures after a restore both record these events.

use crate::event::{Action, NewEvent, Source};
use crate::ids::Locale;
use crate::published::CatalogVersion;
use crate::receipt::NoticeContext;
use crate::subject::SubjectId;
use crate::time::Timestamp;

/// The events that erase `subject` under `version` (the version in force), in the
/// catalog's purpose order: made `at`, from `source`, with the notice in `locale`.
pub fn events(
    subject: SubjectId,
    version: &CatalogVersion,
    source: Source,
    locale: &Locale,
    at: Timestamp,
) -> Vec<NewEvent> {
    let catalog = &version.catalog;
    catalog
        .purposes
        .iter()
        .filter_map(|p| {
            let context = NoticeContext::from_catalog(catalog, &p.id)?;
            Some(NewEvent {
                subject,
                purpose: p.id.clone(),
                action: Action::Erase,
                source,
                catalog_version: version.number,
                notice_digest: p.notice_digest(locale, &catalog.taxonomy),
                locale: locale.clone(),
                recorded_at: at,
                context_digest: context.digest(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::catalog::{parse_catalog, SAMPLE_CATALOG};
    use crate::decision::Reason;
    use crate::event::ConsentEvent;
    use crate::index::DecisionIndex;
    use crate::published::CatalogHistory;

    const AT: Timestamp = Timestamp::from_unix_millis(1_795_000_000_000);

    fn version() -> CatalogVersion {
        let (catalog, _) = parse_catalog("catalog.toml", SAMPLE_CATALOG).unwrap();
        CatalogVersion {
            number: 3,
            digest: catalog.digest(),
            catalog,
            published_at: AT,
        }
    }

    #[test]
    fn one_erase_per_purpose_tied_to_its_notice_and_context() {
        let version = version();
        let subject = SubjectId::from_bytes([7; 32]);
        let nl = Locale::nl();
        let erasure = events(subject, &version, Source::System, &nl, AT);
        let catalog = &version.catalog;
        assert_eq!(erasure.len(), catalog.purposes.len());
        for (e, p) in erasure.iter().zip(&catalog.purposes) {
            let context = NoticeContext::from_catalog(catalog, &p.id).unwrap();
            assert_eq!(
                *e,
                NewEvent {
                    subject,
                    purpose: p.id.clone(),
                    action: Action::Erase,
                    source: Source::System,
                    catalog_version: 3,
                    notice_digest: p.notice_digest(&nl, &catalog.taxonomy),
                    locale: nl.clone(),
                    recorded_at: AT,
                    context_digest: context.digest(),
                }
            );
        }
        // The Dutch notice is not the English one: the locale reaches the digest.
        let en = events(subject, &version, Source::System, &Locale::en(), AT);
        assert_ne!(en[0].notice_digest, erasure[0].notice_digest);
    }

    #[test]
    fn the_recorded_erasure_denies_every_purpose() {
        let version = version();
        let subject = SubjectId::from_bytes([7; 32]);
        let ids: Vec<String> = version
            .catalog
            .purposes
            .iter()
            .map(|p| p.id.to_string())
            .collect();
        let history = CatalogHistory::new(version.clone());
        let recorded: Vec<ConsentEvent> = events(subject, &version, Source::Api, &Locale::en(), AT)
            .into_iter()
            .zip(1..)
            .map(|(event, seq)| ConsentEvent { seq, event })
            .collect();
        let mut index = DecisionIndex::new();
        index.apply_all(&recorded);
        for id in ids {
            let d = index.decide(&history, &subject, &id, &[], AT);
            assert!(!d.allowed, "{id}");
            assert_eq!(d.reason, Reason::SubjectErased, "{id}");
        }
    }
}
