//! Shared pieces of the benchmark suite: repeated measurements and how they are reported.

use std::time::{Duration, Instant};

/// Several runs of one measurement, as a rate (units per second).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Runs {
    pub rates: Vec<f64>,
}

impl Runs {
    /// Runs `f` `n` times; each call returns how many units it did.
    pub fn measure(n: usize, mut f: impl FnMut() -> u64) -> Self {
        let rates = (0..n)
            .map(|_| {
                let start = Instant::now();
                let units = f();
                rate(units, start.elapsed())
            })
            .collect();
        Self { rates }
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.rates.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(0.0)
    }

    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(0.0)
    }

    pub fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => 0.0,
            n if n % 2 == 1 => v.get(n / 2).copied().unwrap_or(0.0),
            n => {
                (v.get(n / 2 - 1).copied().unwrap_or(0.0) + v.get(n / 2).copied().unwrap_or(0.0))
                    / 2.0
            }
        }
    }
}

pub fn rate(units: u64, took: Duration) -> f64 {
    units as f64 / took.as_secs_f64().max(f64::MIN_POSITIVE)
}
