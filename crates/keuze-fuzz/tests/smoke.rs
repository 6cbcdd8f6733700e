//! The fuzz smoke run that CI does: every target on its committed seeds plus a fixed
//! number of deterministic mutations, each well under ten seconds on the CI machine.
//! `KEUZE_FUZZ_SMOKE_INPUTS` changes how many inputs each target gets (default below).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keuze_fuzz::api::ApiTarget;
use keuze_fuzz::smoke::smoke;

fn inputs(default: usize) -> usize {
    std::env::var("KEUZE_FUZZ_SMOKE_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run(name: &str, default: usize) {
    let target = keuze_fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap()
        .1;
    let done = smoke(name, &target, inputs(default), 0x6b65757a65);
    eprintln!(
        "{name}: {} seeds, {} generated inputs",
        done.seeds, done.generated
    );
}

#[test]
fn catalog_toml() {
    run("catalog_toml", 2_000);
}

#[test]
fn receipt_json() {
    run("receipt_json", 5_000);
}

#[test]
fn receipt_mutation() {
    run("receipt_mutation", 3_000);
}

#[test]
fn checkpoint_note() {
    run("checkpoint_note", 5_000);
}

#[test]
fn merkle_proofs() {
    run("merkle_proofs", 5_000);
}

#[test]
fn tc_string() {
    run("tc_string", 10_000);
}

#[test]
fn accept_language() {
    run("accept_language", 10_000);
}

/// The API targets share one application, as in a long run.
#[test]
fn api_bodies_and_queries() {
    let api = ApiTarget::for_smoke();
    let bodies = |data: &[u8]| {
        if let Some(input) = keuze_fuzz::structured(data) {
            api.body_request(&input);
        }
    };
    let done = smoke("api_bodies", &bodies, inputs(1_500), 0x6b65757a65);
    eprintln!(
        "api_bodies: {} seeds, {} generated inputs",
        done.seeds, done.generated
    );
    let queries = |data: &[u8]| {
        if let Some(input) = keuze_fuzz::structured(data) {
            api.query_request(&input);
        }
    };
    let done = smoke("api_queries", &queries, inputs(1_500), 0x6b65757a65);
    eprintln!(
        "api_queries: {} seeds, {} generated inputs",
        done.seeds, done.generated
    );
}

/// A route that takes a body cannot be added without fuzz coverage.
#[test]
fn every_body_taking_route_is_fuzzed() {
    let uncovered = keuze_fuzz::api::uncovered_body_routes();
    assert!(
        uncovered.is_empty(),
        "these routes take a body but keuze-fuzz has no templates for them; add them to \
         BODY_ROUTES and App::templates in crates/keuze-fuzz/src/api.rs: {uncovered:?}"
    );
    // And the list has nothing the document does not know (a renamed route).
    let documented = keuze_fuzz::api::documented_body_routes();
    for r in keuze_fuzz::api::BODY_ROUTES {
        let name = format!("{} {}", r.method, r.path);
        assert!(
            documented.contains(&name),
            "{name} is not in the OpenAPI document"
        );
    }
}
