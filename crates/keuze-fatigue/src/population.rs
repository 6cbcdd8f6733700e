//! The synthetic customers: who they are (an attitude and a language), when they visit (a
//! heavy-tailed number of visits spread over the year) and how they answer. Everything
//! follows from the seed and the customer's number, so a customer is the same under every
//! policy and in every run with that seed. Customers are known only by a pseudonym made
//! with Keuze's own pseudonymizer from a synthetic number.

use keuze_core::{Locale, Pseudonymizer, SubjectId, SubjectKey, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::timeline::START;

/// How a customer answers consent questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attitude {
    /// Mostly says no.
    PrivacyFirst,
    /// Says yes to what seems useful, no to advertising.
    Balanced,
    /// Mostly says yes.
    Sharer,
}

impl Attitude {
    pub const ALL: [Attitude; 3] = [Self::PrivacyFirst, Self::Balanced, Self::Sharer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PrivacyFirst => "privacy-first",
            Self::Balanced => "balanced",
            Self::Sharer => "sharer",
        }
    }

    /// The share of customers with this attitude.
    pub fn share(self) -> f64 {
        match self {
            Self::PrivacyFirst => 0.25,
            Self::Balanced => 0.50,
            Self::Sharer => 0.25,
        }
    }

    /// The chance of a yes to `purpose` when asked.
    pub fn yes_chance(self, purpose: &str) -> f64 {
        let [privacy_first, balanced, sharer] = match purpose {
            "newsletter" => [0.10, 0.55, 0.90],
            "personalised_recommendations" => [0.05, 0.40, 0.90],
            "advertising_partners" => [0.02, 0.15, 0.80],
            "product_reviews" => [0.10, 0.40, 0.85],
            _ => [0.05, 0.40, 0.85],
        };
        match self {
            Self::PrivacyFirst => privacy_first,
            Self::Balanced => balanced,
            Self::Sharer => sharer,
        }
    }
}

/// The number of visits in a year: log-normal, median 3, σ 1.2, at least 1, at most
/// two a day on average.
pub const VISITS_MEDIAN: f64 = 3.0;
pub const VISITS_SIGMA: f64 = 1.2;
/// The chance that a customer who said yes says yes again after a material change.
pub const STILL_YES_AFTER_MATERIAL: f64 = 0.8;
/// The share of customers who read the notices in Dutch; the others read English.
pub const DUTCH_SHARE: f64 = 0.7;

/// One synthetic customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub subject: SubjectId,
    pub attitude: Attitude,
    pub locale: Locale,
    /// When they visit, in order.
    pub visits: Vec<Timestamp>,
    /// Keys their answers, so the same question always gets the same answer.
    answers: u64,
}

impl Customer {
    /// Customer number `n` of the population made with `seed`, over `days` days.
    pub fn generate(seed: u64, n: u32, days: u32, pseudonyms: &Pseudonymizer) -> Self {
        let mut rng = StdRng::seed_from_u64(mix(seed, u64::from(n)));
        let roll: f64 = rng.gen();
        let mut attitude = Attitude::Sharer;
        let mut below = 0.0;
        for a in Attitude::ALL {
            below += a.share();
            if roll < below {
                attitude = a;
                break;
            }
        }
        let locale = if rng.gen::<f64>() < DUTCH_SHARE {
            Locale::nl()
        } else {
            Locale::en()
        };
        let count = visit_count(&mut rng, days);
        let span = i64::from(days.max(1)) * 86_400_000;
        let mut visits: Vec<Timestamp> = (0..count)
            .map(|_| Timestamp::from_unix_millis(START.unix_millis() + rng.gen_range(0..span)))
            .collect();
        visits.sort_unstable();
        // A synthetic number, never a real identifier; only its pseudonym travels on.
        let subject = pseudonyms.pseudonym(&SubjectKey::Customer(format!("customer-{n}")));
        Self {
            subject,
            attitude,
            locale,
            visits,
            answers: rng.gen(),
        }
    }

    /// Whether the customer says yes to `purpose` when asked about the notice of its
    /// `epoch` (the number of material changes to the purpose so far). The same question
    /// gets the same answer whenever and under whichever policy it is asked. A material
    /// change (more data, another recipient) can turn a yes into a no, never a no into a
    /// yes: each one keeps a yes with a chance of [`STILL_YES_AFTER_MATERIAL`].
    pub fn says_yes(&self, purpose: &str, epoch: u32) -> bool {
        let roll = |e: u32| {
            let h = purpose
                .bytes()
                .fold(mix(self.answers, u64::from(e)), |h, b| mix(h, u64::from(b)));
            unit(h)
        };
        roll(0) < self.attitude.yes_chance(purpose)
            && (1..=epoch).all(|e| roll(e) < STILL_YES_AFTER_MATERIAL)
    }
}

/// The whole population.
pub fn generate(seed: u64, customers: u32, days: u32) -> Vec<Customer> {
    let secret = {
        let mut rng = StdRng::seed_from_u64(mix(seed, 0x5ec7e7));
        let mut s = [0u8; 32];
        rng.fill(&mut s);
        s
    };
    let pseudonyms = Pseudonymizer::new(secret);
    (0..customers)
        .map(|n| Customer::generate(seed, n, days, &pseudonyms))
        .collect()
}

fn visit_count(rng: &mut StdRng, days: u32) -> u32 {
    // Box–Muller: one standard normal from two uniforms (1 - u keeps the log finite).
    let (u1, u2): (f64, f64) = (1.0 - rng.gen::<f64>(), rng.gen());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    let x = (VISITS_MEDIAN.ln() + VISITS_SIGMA * z).exp().round();
    let cap = f64::from(days.max(1) * 2);
    x.clamp(1.0, cap) as u32
}

/// SplitMix64 of `a` and `b`: a well-mixed 64-bit key.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 64-bit key as a number in [0, 1).
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_customers_and_another_seed_others() {
        let a = generate(7, 200, 365);
        assert_eq!(a, generate(7, 200, 365));
        assert_ne!(a, generate(8, 200, 365));
        let end = START.plus_days(365);
        for c in &a {
            assert!(!c.visits.is_empty());
            assert!(c.visits.windows(2).all(|w| w[0] <= w[1]));
            assert!(c.visits.iter().all(|t| *t >= START && *t < end));
        }
    }

    #[test]
    fn attitudes_answer_as_declared_and_the_same_question_the_same_way() {
        let people = generate(1, 4000, 365);
        for a in Attitude::ALL {
            let group: Vec<&Customer> = people.iter().filter(|c| c.attitude == a).collect();
            let share = group.len() as f64 / people.len() as f64;
            assert!((share - a.share()).abs() < 0.03, "{a:?}: {share}");
            let yes = group.iter().filter(|c| c.says_yes("newsletter", 0)).count() as f64
                / group.len() as f64;
            assert!(
                (yes - a.yes_chance("newsletter")).abs() < 0.05,
                "{a:?}: {yes}"
            );
        }
        let c = &people[0];
        assert_eq!(c.says_yes("newsletter", 3), c.says_yes("newsletter", 3));
        let (mut kept, mut yes) = (0, 0);
        for c in &people {
            let (before, after) = (c.says_yes("newsletter", 0), c.says_yes("newsletter", 1));
            assert!(
                before || !after,
                "a material change never turns a no into a yes"
            );
            yes += usize::from(before);
            kept += usize::from(after);
        }
        let still = kept as f64 / yes as f64;
        assert!((still - STILL_YES_AFTER_MATERIAL).abs() < 0.05, "{still}");
    }

    #[test]
    fn visits_are_heavy_tailed() {
        let people = generate(3, 20_000, 365);
        let mut counts: Vec<usize> = people.iter().map(|c| c.visits.len()).collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2];
        let max = *counts.last().unwrap();
        assert_eq!(median, 3);
        assert!(max > 100, "{max}");
        assert!(counts.iter().filter(|&&n| n == 1).count() > 2_000);
    }
}
