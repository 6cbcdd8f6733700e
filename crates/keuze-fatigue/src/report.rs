//! The figures of a run: per policy the prompts per customer (mean, p50, p90, max), the
//! share never asked again after their first answer, and the decisions that relied on
//! outdated or expired consent; as a Markdown block for docs/consent-fatigue.md and as
//! JSON.

use crate::population::{Attitude, Customer, DUTCH_SHARE, VISITS_MEDIAN, VISITS_SIGMA};
use crate::simulate::{Policy, PolicyOutcome};
use crate::timeline::Change;
use crate::Config;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Mean and nearest-rank percentiles of a count per customer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    pub p50: u32,
    pub p90: u32,
    pub p99: u32,
    pub max: u32,
}

impl Spread {
    pub fn of(values: impl Iterator<Item = u32>) -> Self {
        let mut v: Vec<u32> = values.collect();
        v.sort_unstable();
        let n = v.len();
        let rank = |p: f64| -> u32 {
            let i = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            v.get(i).copied().unwrap_or(0)
        };
        Self {
            mean: v.iter().map(|&x| f64::from(x)).sum::<f64>() / n.max(1) as f64,
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            max: v.last().copied().unwrap_or(0),
        }
    }
}

/// Who was simulated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationSummary {
    pub customers: u64,
    pub attitudes: BTreeMap<&'static str, u64>,
    pub dutch: u64,
    pub visits: Spread,
    pub total_visits: u64,
    /// Customers with at least two visits.
    pub returning: u64,
}

impl PopulationSummary {
    pub fn of(customers: &[Customer]) -> Self {
        let mut attitudes = BTreeMap::new();
        for a in Attitude::ALL {
            attitudes.insert(a.as_str(), 0);
        }
        for c in customers {
            *attitudes.entry(c.attitude.as_str()).or_default() += 1;
        }
        let counts = || customers.iter().map(|c| c.visits.len() as u32);
        Self {
            customers: customers.len() as u64,
            attitudes,
            dutch: customers
                .iter()
                .filter(|c| c.locale.as_str() == "nl")
                .count() as u64,
            visits: Spread::of(counts()),
            total_visits: counts().map(u64::from).sum(),
            returning: counts().filter(|&n| n >= 2).count() as u64,
        }
    }
}

/// One policy's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyReport {
    pub policy: Policy,
    pub label: &'static str,
    /// Visits on which the banner was shown, per customer.
    pub prompts: Spread,
    /// Purposes asked per customer, over all prompts.
    pub questions: Spread,
    /// Share of customers never asked again after their first answer.
    pub never_asked_again: f64,
    /// The same share among customers who came back at least once.
    pub never_asked_again_returning: f64,
    /// Customers asked more often than once plus once per material change to a purpose
    /// they had granted plus once per expiry.
    pub over_bound: u64,
    pub reasons: BTreeMap<&'static str, u64>,
    pub events: u64,
    pub decisions: u64,
    pub allowed: u64,
    pub outdated: u64,
    pub expired: u64,
    pub mismatched: u64,
    /// Mean prompts per customer shown by the end of each day.
    pub cumulative: Vec<f64>,
    /// Prompts per customer by attitude (mean).
    pub by_attitude: BTreeMap<&'static str, f64>,
}

impl PolicyReport {
    pub fn of(o: &PolicyOutcome) -> Self {
        let n = o.customers.len().max(1) as f64;
        let returning: Vec<_> = o.customers.iter().filter(|c| c.visits >= 2).collect();
        let mut total = 0u64;
        let cumulative = o
            .prompts_per_day
            .iter()
            .map(|&d| {
                total += d;
                total as f64 / n
            })
            .collect();
        let by_attitude = Attitude::ALL
            .iter()
            .map(|&a| {
                let group: Vec<u32> = o
                    .customers
                    .iter()
                    .filter(|c| c.attitude == a)
                    .map(|c| c.prompts)
                    .collect();
                (a.as_str(), Spread::of(group.into_iter()).mean)
            })
            .collect();
        Self {
            policy: o.policy,
            label: o.policy.label(),
            prompts: Spread::of(o.customers.iter().map(|c| c.prompts)),
            questions: Spread::of(o.customers.iter().map(|c| c.questions)),
            never_asked_again: o.customers.iter().filter(|c| c.prompts <= 1).count() as f64 / n,
            never_asked_again_returning: returning.iter().filter(|c| c.prompts <= 1).count() as f64
                / returning.len().max(1) as f64,
            over_bound: o
                .customers
                .iter()
                .filter(|c| c.prompts > c.bound.prompts())
                .count() as u64,
            reasons: o.reasons.clone(),
            events: o.events,
            decisions: o.decisions,
            allowed: o.allowed,
            outdated: o.outdated,
            expired: o.expired,
            mismatched: o.mismatched,
            cumulative,
            by_attitude,
        }
    }
}

/// Everything a run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub config: Config,
    pub changes: Vec<Change>,
    pub population: PopulationSummary,
    pub policies: Vec<PolicyReport>,
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Report {
    pub fn policy(&self, p: Policy) -> Option<&PolicyReport> {
        self.policies.iter().find(|r| r.policy == p)
    }

    /// The comparison table, in Markdown.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| policy | prompts per customer: mean | p50 | p90 | max | purposes asked per customer (mean) | never asked again after the first answer (of those who came back) | decisions on consent to materially outdated text | decisions on expired consent | decisions allowed |"
        );
        let _ = writeln!(
            s,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for r in &self.policies {
            let _ = writeln!(
                s,
                "| {} | {:.2} | {} | {} | {} | {:.2} | {} ({}) | {} | {} | {} |",
                r.label,
                r.prompts.mean,
                r.prompts.p50,
                r.prompts.p90,
                r.prompts.max,
                r.questions.mean,
                pct(r.never_asked_again),
                pct(r.never_asked_again_returning),
                thousands(r.outdated),
                thousands(r.expired),
                pct(r.allowed as f64 / r.decisions.max(1) as f64),
            );
        }
        s
    }

    /// The generated part of docs/consent-fatigue.md: the command, the assumptions it ran
    /// under, the table and the plot.
    pub fn markdown(&self, command: &str, svg: &str) -> String {
        let c = &self.config;
        let p = &self.population;
        let mut s = String::new();
        let _ = writeln!(s, "Made with:\n\n```sh\n{command}\n```\n");
        let _ = writeln!(
            s,
            "{} customers over {} days from 2026-01-01, seed {}; {} minor and {} material catalog changes.\n",
            thousands(c.customers.into()),
            c.days,
            c.seed,
            c.minor,
            c.material
        );
        let _ = writeln!(s, "{}", self.table());
        let _ = writeln!(s, "![Cumulative prompts per customer over the year, one line per policy; catalog changes marked]({svg})\n");
        if let Some(k) = self.policy(Policy::Keuze) {
            let reasons: Vec<String> = k
                .reasons
                .iter()
                .map(|(r, n)| format!("{r} {}", thousands(*n)))
                .collect();
            let _ = writeln!(
                s,
                "Under Keuze's policy {} of {} customers were asked more often than once plus once per material change to a purpose they had granted plus once per expiry; the questions it asked, by reason: {}.\n",
                thousands(k.over_bound),
                thousands(p.customers),
                reasons.join(", ")
            );
        }
        let _ = writeln!(s, "Prompts per customer (mean) by attitude:\n");
        let _ = writeln!(s, "| policy | privacy-first | balanced | sharer |");
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        for r in &self.policies {
            let get = |a: Attitude| r.by_attitude.get(a.as_str()).copied().unwrap_or(0.0);
            let _ = writeln!(
                s,
                "| {} | {:.2} | {:.2} | {:.2} |",
                r.label,
                get(Attitude::PrivacyFirst),
                get(Attitude::Balanced),
                get(Attitude::Sharer)
            );
        }
        let _ = writeln!(s, "\nThe population:\n");
        let attitudes: Vec<String> = Attitude::ALL
            .iter()
            .map(|a| {
                let n = p.attitudes.get(a.as_str()).copied().unwrap_or(0);
                format!(
                    "{} {} ({})",
                    a.as_str(),
                    thousands(n),
                    pct(n as f64 / p.customers.max(1) as f64)
                )
            })
            .collect();
        let _ = writeln!(s, "- attitudes: {};", attitudes.join(", "));
        let _ = writeln!(
            s,
            "- language: {} Dutch, the others English (drawn with a chance of {});",
            pct(p.dutch as f64 / p.customers.max(1) as f64),
            pct(DUTCH_SHARE)
        );
        let _ = writeln!(
            s,
            "- visits per customer in the year (log-normal, median {VISITS_MEDIAN}, σ {VISITS_SIGMA}, at least 1): mean {:.2}, p50 {}, p90 {}, p99 {}, max {}; {} visits in all; {} came back at least once.",
            p.visits.mean,
            p.visits.p50,
            p.visits.p90,
            p.visits.p99,
            p.visits.max,
            thousands(p.total_visits),
            pct(p.returning as f64 / p.customers.max(1) as f64)
        );
        let _ = writeln!(
            s,
            "\nThe catalog changes (version 1 is the sample catalog, published on day 0):\n"
        );
        let _ = writeln!(
            s,
            "| day | version | purpose | kind | edit | Keuze's diff rules |"
        );
        let _ = writeln!(s, "| ---: | ---: | --- | --- | --- | --- |");
        for ch in &self.changes {
            let _ = writeln!(
                s,
                "| {} | {} | `{}` | {} | {} | {} |",
                ch.day,
                ch.version,
                ch.purpose,
                ch.kind.as_str(),
                ch.edit,
                ch.rules.join(", ")
            );
        }
        s
    }
}
