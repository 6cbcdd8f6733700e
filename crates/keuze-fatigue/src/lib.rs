//! Consent fatigue, measured. A synthetic year of customers visits a shop whose catalog
//! changes a few times; each visit runs Keuze's own prompt, recording, index and decision
//! code (keuze-core, in process, with the visit's time as the clock) under a prompting
//! policy: Keuze's, or one of the common banners'. Per policy it counts how often
//! customers were asked and how many decisions relied on consent given to materially
//! outdated text, judged by one checker that does not share the code it judges.
//!
//! - [`timeline`]: the catalog versions of the year, classified by Keuze's diff;
//! - [`population`]: the customers, their visits and their answers;
//! - [`simulate`]: one policy over the population;
//! - [`checker`]: the independent judge;
//! - [`report`] and [`plot`]: the figures.

pub mod checker;
pub mod plot;
pub mod population;
pub mod report;
pub mod simulate;
pub mod timeline;

use serde::Serialize;
use simulate::{Policy, PolicyOutcome, SimError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    pub customers: u32,
    pub days: u32,
    pub seed: u64,
    /// Minor and material catalog changes over the year.
    pub minor: u32,
    pub material: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            customers: 100_000,
            days: 365,
            seed: 1,
            minor: 6,
            material: 2,
        }
    }
}

/// Every policy's outcome, in [`Policy::ALL`] order, with what they ran on.
#[derive(Debug, Clone)]
pub struct Run {
    pub config: Config,
    pub timeline: timeline::Timeline,
    pub customers: Vec<population::Customer>,
    pub outcomes: Vec<PolicyOutcome>,
}

impl Run {
    pub fn outcome(&self, p: Policy) -> Option<&PolicyOutcome> {
        self.outcomes.iter().find(|o| o.policy == p)
    }

    pub fn report(&self) -> report::Report {
        report::Report {
            config: self.config.clone(),
            changes: self.timeline.changes.clone(),
            population: report::PopulationSummary::of(&self.customers),
            policies: self.outcomes.iter().map(report::PolicyReport::of).collect(),
        }
    }
}

/// Runs every policy over the same population and year, `threads` policies at a time.
/// The outcome does not depend on `threads`. `progress` is called once per customer and
/// policy.
pub fn run(config: &Config, threads: usize, progress: &(dyn Fn() + Sync)) -> Result<Run, SimError> {
    let timeline = timeline::Timeline::build(config.days, config.minor, config.material)?;
    let customers = population::generate(config.seed, config.customers, config.days);
    let checker = checker::Checker::new(
        &timeline,
        &[keuze_core::Locale::en(), keuze_core::Locale::nl()],
    );
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Result<PolicyOutcome, SimError>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, Policy::ALL.len()) {
            scope.spawn(|| {
                while let Some(&policy) = Policy::ALL.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome =
                        simulate::run_policy(policy, &timeline, &checker, &customers, progress);
                    done.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(outcome);
                }
            });
        }
    });
    let mut outcomes = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    outcomes.sort_by_key(|o| o.policy);
    Ok(Run {
        config: config.clone(),
        timeline,
        customers,
        outcomes,
    })
}
