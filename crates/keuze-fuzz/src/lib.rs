//! Fuzz targets for Keuze (and its TC string codec). Each target is a plain function over bytes or over an
//! [`arbitrary`] input and asserts properties, not just "no panic": an accepted catalog
//! has one digest however it is spelled, a changed receipt never verifies, a wrong proof
//! is never accepted, a refused API request changes nothing.
//!
//! The same functions run in three places: the smoke test (`cargo test -p keuze-fuzz`,
//! the committed seed corpus plus a fixed number of deterministic random inputs), the
//! libFuzzer binaries in `fuzz/` for long runs (`cargo +nightly fuzz run <target>`), and
//! the regression tests next to each fix. docs/fuzzing.md has the commands and figures.

// This crate is test harness code: a broken property must abort the process so that the
// fuzzer records the input, and fixtures that cannot be built are a bug in the harness.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod api;
pub mod catalog;
pub mod checkpoint;
pub mod fixture;
pub mod language;
pub mod merkle;
pub mod mutate;
pub mod receipt;
pub mod seeds;
pub mod smoke;
pub mod tcf;

use arbitrary::{Arbitrary, Unstructured};
use std::sync::OnceLock;

/// A fuzz target: bytes in, panics on a broken property.
pub type Target = fn(&[u8]);

/// Every target by the name its libFuzzer binary and its seed corpus carry.
pub const TARGETS: [(&str, Target); 9] = [
    ("catalog_toml", catalog::catalog_toml),
    ("receipt_json", receipt::receipt_json),
    ("receipt_mutation", receipt_mutation),
    ("checkpoint_note", checkpoint::checkpoint_note),
    ("merkle_proofs", merkle_proofs),
    ("accept_language", language::accept_language),
    ("api_bodies", api_bodies),
    ("api_queries", api_queries),
    ("tc_string", tcf::tc_string),
];

/// Decodes a structured input from fuzzer bytes; bytes that run out decode to the
/// simplest values, so every input means something.
pub fn structured<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> Option<T> {
    T::arbitrary_take_rest(Unstructured::new(data)).ok()
}

pub fn receipt_mutation(data: &[u8]) {
    if let Some(input) = structured(data) {
        receipt::receipt_mutation(&input);
    }
}

pub fn merkle_proofs(data: &[u8]) {
    if let Some(input) = structured(data) {
        merkle::merkle_proofs(&input);
    }
}

/// The application the API targets share within one process (libFuzzer runs every input
/// in one process; the store grows as it goes, as a real one does).
pub fn shared_api() -> &'static api::ApiTarget {
    static API: OnceLock<api::ApiTarget> = OnceLock::new();
    API.get_or_init(api::ApiTarget::new)
}

pub fn api_bodies(data: &[u8]) {
    if let Some(input) = structured(data) {
        shared_api().body_request(&input);
    }
}

pub fn api_queries(data: &[u8]) {
    if let Some(input) = structured(data) {
        shared_api().query_request(&input);
    }
}
