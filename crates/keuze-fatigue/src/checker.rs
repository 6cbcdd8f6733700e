//! The checker: one judge for every policy, independent of the code it judges. It knows
//! which versions changed which purpose materially from the timeline's plan (not from
//! `CatalogHistory`), and which notice text each version showed from the notices
//! themselves, and it never calls `decide`. For a decision that allowed a purpose it
//! answers: was the grant it rests on given to a notice older than the last material
//! change of that purpose, and had it outlived its consent lifetime? For a customer it
//! computes how often Keuze may ask at most: once, plus once per material change to a
//! purpose they had granted, plus once per grant that expired.

use crate::timeline::{Kind, Timeline};
use keuze_core::catalog::Digest256;
use keuze_core::{Action, ConsentEvent, NewEvent, PurposeId, Timestamp};
use std::collections::{HashMap, HashSet};

/// What the checker found about one decision that allowed a purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verdict {
    /// The grant answers a notice older than the last material change of the purpose.
    pub outdated: bool,
    /// The grant is older than the purpose's consent lifetime.
    pub expired: bool,
    /// The event's notice digest is not the notice of its own catalog version.
    pub mismatched: bool,
}

/// How often Keuze may ask one customer, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bound {
    /// Material changes to a purpose whose last choice, when it was published, was a grant.
    pub material_on_granted: u32,
    /// Grants that reached the end of their consent lifetime before the year ended and
    /// before another choice replaced them.
    pub expiries: u32,
}

impl Bound {
    /// The first prompt, then one per reason.
    pub fn prompts(self) -> u32 {
        1 + self.material_on_granted + self.expiries
    }
}

#[derive(Debug, Clone)]
pub struct Checker {
    /// Per purpose, the versions that changed it materially, oldest first.
    material: HashMap<PurposeId, Vec<u32>>,
    /// When each material change was published, with its purpose.
    material_at: Vec<(Timestamp, PurposeId)>,
    /// Per purpose and notice digest (any locale): the versions that showed that notice.
    notices: HashMap<(PurposeId, Digest256), Vec<u32>>,
    /// Per purpose and version: the consent lifetime in days, if any.
    lifetimes: HashMap<(PurposeId, u32), i64>,
    /// The end of the simulated year.
    end: Timestamp,
}

impl Checker {
    pub fn new(timeline: &Timeline, locales: &[keuze_core::Locale]) -> Self {
        let mut material: HashMap<PurposeId, Vec<u32>> = HashMap::new();
        let mut material_at = Vec::new();
        for c in timeline.changes.iter().filter(|c| c.kind == Kind::Material) {
            material
                .entry(c.purpose.clone())
                .or_default()
                .push(c.version);
            material_at.push((c.published_at(), c.purpose.clone()));
        }
        let mut notices: HashMap<(PurposeId, Digest256), Vec<u32>> = HashMap::new();
        let mut lifetimes = HashMap::new();
        for v in timeline.last().versions() {
            for p in &v.catalog.purposes {
                let digests: HashSet<Digest256> = locales
                    .iter()
                    .map(|l| p.notice_digest(l, &v.catalog.taxonomy))
                    .collect();
                for d in digests {
                    notices.entry((p.id.clone(), d)).or_default().push(v.number);
                }
                if let Some(life) = p.consent_lifetime {
                    lifetimes.insert((p.id.clone(), v.number), life.days());
                }
            }
        }
        Self {
            material,
            material_at,
            notices,
            lifetimes,
            end: timeline.end(),
        }
    }

    /// The number of material changes to `purpose` up to and including `version`: which
    /// notice a customer answers, as the customer sees it.
    pub fn epoch(&self, purpose: &str, version: u32) -> u32 {
        let n = self
            .material
            .get(purpose)
            .map_or(0, |m| m.iter().filter(|&&v| v <= version).count());
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// Judges a decision at `now`, under catalog version `current`, that allowed
    /// `grant.purpose` on the strength of `grant`.
    pub fn judge(&self, grant: &NewEvent, current: u32, now: Timestamp) -> Verdict {
        let purpose = &grant.purpose;
        let since = self
            .material
            .get(purpose)
            .and_then(|m| m.iter().rev().find(|&&v| v <= current).copied())
            .unwrap_or(1);
        let shown = self
            .notices
            .get(&(purpose.clone(), grant.notice_digest))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let outdated = !shown.iter().any(|&v| v >= since && v <= current);
        let expired = self
            .lifetimes
            .get(&(purpose.clone(), current))
            .is_some_and(|&days| now >= grant.recorded_at.plus_days(days));
        Verdict {
            outdated,
            expired,
            mismatched: !shown.contains(&grant.catalog_version),
        }
    }

    /// How often Keuze may ask the customer whose events (in ledger order) these are.
    pub fn bound(&self, events: &[ConsentEvent]) -> Bound {
        let mut bound = Bound::default();
        for (at, purpose) in &self.material_at {
            let last = events
                .iter()
                .rev()
                .find(|e| e.event.purpose == *purpose && e.event.recorded_at < *at);
            if last.is_some_and(|e| e.event.action == Action::Grant) {
                bound.material_on_granted += 1;
            }
        }
        for (i, e) in events.iter().enumerate() {
            if e.event.action != Action::Grant {
                continue;
            }
            let key = (e.event.purpose.clone(), e.event.catalog_version);
            let Some(&days) = self.lifetimes.get(&key) else {
                continue;
            };
            let expires = e.event.recorded_at.plus_days(days);
            let replaced_before = events
                .iter()
                .skip(i + 1)
                .find(|n| n.event.purpose == e.event.purpose)
                .is_some_and(|n| n.event.recorded_at < expires);
            if expires <= self.end && !replaced_before {
                bound.expiries += 1;
            }
        }
        bound
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::timeline::START;
    use keuze_core::choice::events_for;
    use keuze_core::{Locale, Source, SubjectId};

    /// A customer's answer on `day` to the notice in force then, through Keuze's recorder.
    fn answer(t: &Timeline, day: i64, seq: u64, purpose: &str, action: Action) -> ConsentEvent {
        let at = START.plus_days(day);
        let h = t.at(at);
        let event = events_for(
            h,
            h.current(),
            SubjectId::from_bytes([1; 32]),
            &Locale::nl(),
            Source::Banner,
            vec![(PurposeId::parse(purpose).unwrap(), action)],
            at,
        )
        .unwrap()
        .remove(0);
        ConsentEvent { seq, event }
    }

    #[test]
    fn a_grant_to_a_notice_before_the_last_material_change_is_outdated() {
        let t = Timeline::build(365, 6, 2).unwrap();
        let checker = Checker::new(&t, &[Locale::en(), Locale::nl()]);
        let at = |day: i64| START.plus_days(day);
        // Recommendations: minor change in version 3 (day 81), material in 4 (day 121).
        let v1 = answer(&t, 10, 1, "personalised_recommendations", Action::Grant);
        let v3 = answer(&t, 100, 2, "personalised_recommendations", Action::Grant);
        let v4 = answer(&t, 130, 3, "personalised_recommendations", Action::Grant);
        assert!(
            !checker.judge(&v1.event, 3, at(90)).outdated,
            "a minor change"
        );
        assert!(checker.judge(&v1.event, 4, at(130)).outdated);
        assert!(checker.judge(&v3.event, 4, at(130)).outdated);
        assert!(!checker.judge(&v4.event, 9, at(360)).outdated);
        // The newsletter changed materially only in version 7.
        let news = answer(&t, 10, 4, "newsletter", Action::Grant);
        assert!(!checker.judge(&news.event, 6, at(240)).outdated);
        assert!(checker.judge(&news.event, 7, at(250)).outdated);
        // Advertising consent lasts 6 months (180 days).
        let ads = answer(&t, 10, 5, "advertising_partners", Action::Grant);
        assert!(!checker.judge(&ads.event, 2, at(189)).expired);
        assert!(checker.judge(&ads.event, 2, at(190)).expired);
        // An event that claims another version than the notice it carries is caught.
        let mut wrong = v1.event.clone();
        wrong.catalog_version = 4;
        assert!(checker.judge(&wrong, 4, at(130)).mismatched);
        assert!(!checker.judge(&v4.event, 4, at(130)).mismatched);
    }

    #[test]
    fn the_bound_counts_material_changes_to_grants_and_expiries_within_the_year() {
        let t = Timeline::build(365, 6, 2).unwrap();
        let checker = Checker::new(&t, &[Locale::nl()]);
        let events = [
            answer(&t, 10, 1, "personalised_recommendations", Action::Grant),
            answer(&t, 10, 2, "newsletter", Action::Withdraw),
            answer(&t, 10, 3, "advertising_partners", Action::Grant),
            answer(&t, 200, 4, "advertising_partners", Action::Grant),
        ];
        let b = checker.bound(&events);
        assert_eq!(
            b,
            Bound {
                material_on_granted: 1,
                expiries: 1
            },
            "recommendations changed on day 121 (granted); the newsletter on day 243 (refused); the day-10 advertising grant expired on day 190, the day-200 one after the year"
        );
        assert_eq!(b.prompts(), 3);
        // Replaced before it expired: no expiry.
        let early = [
            answer(&t, 10, 1, "advertising_partners", Action::Grant),
            answer(&t, 100, 2, "advertising_partners", Action::Withdraw),
        ];
        assert_eq!(checker.bound(&early), Bound::default());
    }
}
