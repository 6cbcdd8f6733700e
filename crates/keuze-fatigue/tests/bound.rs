//! Keuze asks only when it must, and never relies on outdated consent: checked for every
//! customer of a 2,000-customer year, with the checker shown able to fail on the same run.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use keuze_fatigue::simulate::Policy;
use keuze_fatigue::{run, Config, Run};

fn year(customers: u32, seed: u64, threads: usize) -> Run {
    let config = Config {
        customers,
        seed,
        ..Config::default()
    };
    run(&config, threads, &|| {}).unwrap()
}

#[test]
fn every_customer_is_asked_at_most_once_plus_once_per_reason_and_no_decision_relies_on_outdated_consent(
) {
    let run = year(2_000, 11, 2);
    let keuze = run.outcome(Policy::Keuze).unwrap();
    assert_eq!(keuze.customers.len(), 2_000);
    for (n, c) in keuze.customers.iter().enumerate() {
        assert!(
            c.prompts <= c.bound.prompts(),
            "customer {n} ({:?}, {} visits) was asked {} times; the bound is 1 + {} material changes to a purpose granted + {} expiries",
            c.attitude,
            c.visits,
            c.prompts,
            c.bound.material_on_granted,
            c.bound.expiries
        );
        assert!(c.prompts >= 1, "customer {n}: every customer is asked once");
    }
    assert_eq!(keuze.outdated, 0, "Keuze relied on outdated consent");
    assert_eq!(keuze.expired, 0, "Keuze relied on expired consent");
    assert!(keuze.allowed > 0);

    // The bound is not vacuous: customers were asked again for both reasons, and some
    // exactly as often as the bound allows.
    assert!(
        keuze.reasons["reconsent_required"] > 0,
        "{:?}",
        keuze.reasons
    );
    assert!(keuze.reasons["expired"] > 0, "{:?}", keuze.reasons);
    assert!(keuze
        .customers
        .iter()
        .any(|c| c.prompts >= 3 && c.prompts == c.bound.prompts()));

    // The same checker finds what the 12-month banner relied on after the material changes.
    let yearly = run.outcome(Policy::Every12Months).unwrap();
    assert!(yearly.outdated > 0, "the checker must be able to fail");
    assert!(yearly.expired > 0);
    // Re-asking on every version never relies on outdated text either, at a price.
    let any_change = run.outcome(Policy::AnyChange).unwrap();
    assert_eq!(any_change.outdated, 0);
    // The bound catches a policy that asks more than it must.
    assert!(any_change
        .customers
        .iter()
        .any(|c| c.prompts > c.bound.prompts()));
    let mean = |o: &keuze_fatigue::simulate::PolicyOutcome| {
        o.customers
            .iter()
            .map(|c| f64::from(c.prompts))
            .sum::<f64>()
            / o.customers.len() as f64
    };
    assert!(mean(keuze) < mean(any_change) / 1.5);
    assert!(mean(keuze) < mean(run.outcome(Policy::UntilAccepted).unwrap()));
    // Every recorded event names the notice of its own catalog version.
    for o in &run.outcomes {
        assert_eq!(o.mismatched, 0, "{:?}", o.policy);
    }
}

#[test]
fn the_same_seed_gives_the_same_figures() {
    let a = year(400, 5, 2);
    let b = year(400, 5, 1);
    assert_eq!(a.outcomes, b.outcomes, "threads change nothing");
    assert_eq!(a.report(), b.report());
    assert_eq!(
        serde_json::to_string(&a.report()).unwrap(),
        serde_json::to_string(&b.report()).unwrap()
    );
    let c = year(400, 6, 2);
    assert_ne!(a.report(), c.report(), "another seed, another population");
}
