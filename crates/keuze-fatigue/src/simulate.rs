//! One prompting policy over the whole population and the whole year. Every policy runs
//! on Keuze's own code: answers become ledger events through `choice::events_for` (what
//! `POST /v1/consents` and the banner record), events go into a `DecisionIndex` (what the
//! server answers decisions from), and the catalog is the `CatalogHistory` published by
//! the day of the visit. The policies differ only in when they show the banner, what it
//! asks, and which recorded grant the site relies on afterwards:
//!
//! - Keuze asks what `keuze_core::prompt::to_ask` says (never asked, re-consent after a
//!   material change to a purpose granted, expired) and relies on what `decide` allows;
//! - the baselines show the whole banner (every consent purpose) by their own rule and,
//!   as a banner's consent cookie does, rely on the last answer until they show it again.
//!
//! Each visit shows the banner if the policy says so, records the answers, then asks one
//! decision per consent purpose of the catalog in force, for the data it declares.

use crate::checker::{Bound, Checker};
use crate::population::{Attitude, Customer};
use crate::timeline::Timeline;
use keuze_core::choice::events_for;
use keuze_core::{
    Action, CatalogHistory, ConsentEvent, DecisionIndex, LegalBasis, Purpose, PurposeId, Source,
    SubjectId, Timestamp,
};
use serde::Serialize;
use std::collections::BTreeMap;

/// When to show the banner, and what to rely on afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Ask only what must be asked: never asked, re-consent after a material change to a
    /// purpose granted, or expired.
    Keuze,
    /// Every new catalog version shows the whole banner again (a policy hash or a
    /// revision number in the banner's configuration).
    AnyChange,
    /// The whole banner again 6 months (182 days) after the last answer.
    Every6Months,
    /// The whole banner again 12 months (365 days) after the last answer.
    Every12Months,
    /// The whole banner at every visit until the customer has said yes to everything.
    UntilAccepted,
}

impl Policy {
    pub const ALL: [Policy; 5] = [
        Self::Keuze,
        Self::AnyChange,
        Self::Every6Months,
        Self::Every12Months,
        Self::UntilAccepted,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Keuze => "Keuze",
            Self::AnyChange => "re-ask on any change",
            Self::Every6Months => "re-ask every 6 months",
            Self::Every12Months => "re-ask every 12 months",
            Self::UntilAccepted => "ask every visit until accepted",
        }
    }

    fn period_days(self) -> Option<i64> {
        match self {
            Self::Every6Months => Some(182),
            Self::Every12Months => Some(365),
            _ => None,
        }
    }

    /// The purposes to ask `subject` about at `now`, each with why (Keuze only).
    fn to_ask(
        self,
        history: &CatalogHistory,
        index: &DecisionIndex,
        subject: &SubjectId,
        now: Timestamp,
    ) -> Vec<(PurposeId, Option<&'static str>)> {
        if self == Self::Keuze {
            return keuze_core::prompt::to_ask(history, index, subject, now)
                .into_iter()
                .map(|a| (a.purpose.id.clone(), Some(a.reason.as_str())))
                .collect();
        }
        let current = history.current();
        let banner = || consent_purposes(history).map(|p| (p.id.clone(), None));
        let due = consent_purposes(history).any(|p| {
            let Some(last) = index.last(subject, p.id.as_str()) else {
                return true;
            };
            match self {
                Self::AnyChange => last.catalog_version < current.number,
                Self::UntilAccepted => last.action != Action::Grant,
                _ => self
                    .period_days()
                    .is_some_and(|days| now >= last.recorded_at.plus_days(days)),
            }
        });
        if due {
            banner().collect()
        } else {
            Vec::new()
        }
    }

    /// The ledger sequence number of the grant a decision to use `purpose` at `now`
    /// relies on; `None` if the decision does not allow it.
    fn relies_on(
        self,
        history: &CatalogHistory,
        index: &DecisionIndex,
        subject: &SubjectId,
        purpose: &Purpose,
        now: Timestamp,
    ) -> Option<u64> {
        if self == Self::Keuze {
            let d = index.decide(
                history,
                subject,
                purpose.id.as_str(),
                &purpose.categories,
                now,
            );
            return if d.allowed { d.event } else { None };
        }
        index
            .last(subject, purpose.id.as_str())
            .filter(|l| l.action == Action::Grant)
            .map(|l| l.seq)
    }
}

fn consent_purposes(history: &CatalogHistory) -> impl Iterator<Item = &Purpose> {
    history
        .current()
        .catalog
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
}

/// What happened to one customer under one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerOutcome {
    pub attitude: Attitude,
    pub visits: u32,
    /// Visits on which the banner was shown.
    pub prompts: u32,
    /// Purposes asked, over all prompts.
    pub questions: u32,
    /// How often Keuze may ask this customer, from the checker.
    pub bound: Bound,
}

/// One policy over the whole population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOutcome {
    pub policy: Policy,
    /// In population order.
    pub customers: Vec<CustomerOutcome>,
    /// Banners shown on each day of the year, all customers together.
    pub prompts_per_day: Vec<u64>,
    /// Questions by why they were asked (Keuze only).
    pub reasons: BTreeMap<&'static str, u64>,
    /// Ledger events recorded.
    pub events: u64,
    /// Decisions asked, and how many allowed the purpose.
    pub decisions: u64,
    pub allowed: u64,
    /// Allowed decisions resting on a grant to a notice older than the purpose's last
    /// material change.
    pub outdated: u64,
    /// Allowed decisions resting on a grant older than the purpose's consent lifetime.
    pub expired: u64,
    /// Allowed decisions resting on an event whose notice digest is not that of its own
    /// catalog version (would mean the events were recorded wrongly).
    pub mismatched: u64,
}

/// A simulation that cannot go on: Keuze refused to record an answer.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("Keuze refused to record a grant to the notice in force on day {day}: {purposes} changed materially since (the simulation shows only current notices)")]
    Stale { day: usize, purposes: String },
    #[error(transparent)]
    Timeline(#[from] crate::timeline::TimelineError),
}

/// Runs `policy` for every customer in order; `progress` is called once per customer.
pub fn run_policy(
    policy: Policy,
    timeline: &Timeline,
    checker: &Checker,
    customers: &[Customer],
    progress: &(dyn Fn() + Sync),
) -> Result<PolicyOutcome, SimError> {
    let mut index = DecisionIndex::new();
    let mut seq = 0u64;
    let mut out = PolicyOutcome {
        policy,
        customers: Vec::with_capacity(customers.len()),
        prompts_per_day: vec![0; usize::try_from(timeline.days).unwrap_or(0)],
        reasons: BTreeMap::new(),
        events: 0,
        decisions: 0,
        allowed: 0,
        outdated: 0,
        expired: 0,
        mismatched: 0,
    };
    // One customer's events in ledger order: what their decisions rest on.
    let mut mine: Vec<ConsentEvent> = Vec::new();
    for c in customers {
        mine.clear();
        let mut one = CustomerOutcome {
            attitude: c.attitude,
            visits: u32::try_from(c.visits.len()).unwrap_or(u32::MAX),
            prompts: 0,
            questions: 0,
            bound: Bound::default(),
        };
        for &now in &c.visits {
            let history = timeline.at(now);
            let current = history.current();
            let asked = policy.to_ask(history, &index, &c.subject, now);
            if !asked.is_empty() {
                one.prompts += 1;
                one.questions += u32::try_from(asked.len()).unwrap_or(u32::MAX);
                if let Some(n) = out.prompts_per_day.get_mut(Timeline::day_of(now)) {
                    *n += 1;
                }
                let planned: Vec<(PurposeId, Action)> = asked
                    .into_iter()
                    .map(|(p, reason)| {
                        if let Some(r) = reason {
                            *out.reasons.entry(r).or_default() += 1;
                        }
                        let yes = c.says_yes(p.as_str(), checker.epoch(p.as_str(), current.number));
                        (p, if yes { Action::Grant } else { Action::Withdraw })
                    })
                    .collect();
                let events = events_for(
                    history,
                    current,
                    c.subject,
                    &c.locale,
                    Source::Banner,
                    planned,
                    now,
                )
                .map_err(|stale| SimError::Stale {
                    day: Timeline::day_of(now),
                    purposes: stale
                        .purposes
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
                let committed: Vec<ConsentEvent> = events
                    .into_iter()
                    .map(|event| {
                        seq += 1;
                        ConsentEvent { seq, event }
                    })
                    .collect();
                index.apply_all(&committed);
                out.events += committed.len() as u64;
                mine.extend(committed);
            }
            for p in consent_purposes(history) {
                out.decisions += 1;
                let Some(rests_on) = policy.relies_on(history, &index, &c.subject, p, now) else {
                    continue;
                };
                out.allowed += 1;
                let grant = mine
                    .binary_search_by_key(&rests_on, |e| e.seq)
                    .ok()
                    .and_then(|i| mine.get(i));
                match grant {
                    Some(g) => {
                        let v = checker.judge(&g.event, current.number, now);
                        out.outdated += u64::from(v.outdated);
                        out.expired += u64::from(v.expired);
                        out.mismatched += u64::from(v.mismatched);
                    }
                    // Resting on no event of this customer's: count it against the policy.
                    None => out.mismatched += 1,
                }
            }
        }
        one.bound = checker.bound(&mine);
        out.customers.push(one);
        progress();
    }
    Ok(out)
}
