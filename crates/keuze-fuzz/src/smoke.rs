//! The smoke run: every seed of a target's corpus, then a fixed number of inputs made
//! from them by a small deterministic mutator (the same inputs on every run, so a
//! failure in CI reproduces). A failing input is written to `target/fuzz-smoke-failures/`
//! and can be replayed with `cargo +nightly fuzz run <target> <file>`.

use crate::mutate::INTERESTING;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The committed seed corpus of `target`.
pub fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// Every file in `dir`, sorted by name; none if it does not exist.
pub fn seeds(dir: &Path) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// One mutation of `input`, maybe crossed with another seed.
fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let at = |rng: &mut StdRng, len: usize| rng.gen_range(0..=len);
    match rng.gen_range(0..7) {
        0 if !input.is_empty() => {
            let i = rng.gen_range(0..input.len());
            input[i] ^= 1 << rng.gen_range(0..8);
        }
        1 => {
            let i = at(rng, input.len());
            let n = rng.gen_range(1..16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            input.splice(i..i, bytes);
        }
        2 if !input.is_empty() => {
            let i = rng.gen_range(0..input.len());
            let end = (i + rng.gen_range(1..32)).min(input.len());
            input.drain(i..end);
        }
        3 if !seeds.is_empty() => {
            let other = &seeds[rng.gen_range(0..seeds.len())];
            let i = at(rng, input.len());
            let j = at(rng, other.len());
            input.truncate(i);
            input.extend_from_slice(&other[j..]);
        }
        4 => {
            let i = at(rng, input.len());
            let s = INTERESTING[rng.gen_range(0..INTERESTING.len())];
            input.splice(i..i, s.bytes());
        }
        5 if !input.is_empty() => {
            let i = rng.gen_range(0..input.len());
            input[i] = *b"{}[]\",:=\n#.-0 \\"
                .get(rng.gen_range(0..16))
                .unwrap_or(&b' ');
        }
        _ => {
            let i = at(rng, input.len());
            input.insert(i, rng.gen());
        }
    }
}

/// What a smoke run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmokeRun {
    pub seeds: usize,
    pub generated: usize,
}

/// Runs `target` on its seeds and on `generated` inputs derived from them with `seed`.
pub fn smoke(name: &str, target: &dyn Fn(&[u8]), generated: usize, seed: u64) -> SmokeRun {
    let corpus = seeds(&corpus_dir(name));
    let mut rng = StdRng::seed_from_u64(seed);
    let run_one = |input: &[u8]| {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(input))) {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/fuzz-smoke-failures")
                .join(name);
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("input-{:016x}", fnv1a(input)));
            let _ = std::fs::write(&file, input);
            eprintln!(
                "fuzz target {name} failed on the input saved as {} ({} bytes)",
                file.display(),
                input.len()
            );
            resume_unwind(panic);
        }
    };
    for input in &corpus {
        run_one(input);
    }
    for _ in 0..generated {
        let mut input = if corpus.is_empty() || rng.gen_bool(0.25) {
            // Fresh random bytes: structured targets read any bytes as an input.
            let n = rng.gen_range(0..256);
            (0..n).map(|_| rng.gen()).collect()
        } else {
            corpus[rng.gen_range(0..corpus.len())].clone()
        };
        for _ in 0..rng.gen_range(1..6) {
            mutate(&mut rng, &mut input, &corpus);
        }
        run_one(&input);
    }
    SmokeRun {
        seeds: corpus.len(),
        generated,
    }
}

/// A stable name for a failing input.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
