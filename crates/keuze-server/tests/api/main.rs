//! One integration-test binary: each test starts the real server on port 0 against a
//! fresh SQLite data directory and speaks HTTP to it.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod helpers;

mod audit;
mod auth;
mod banner;
mod consents;
mod decisions;
mod edge;
mod incidents;
mod me;
mod openapi;
mod privacy;
mod problems;
mod proofs;
mod propagation;
mod reconsent;
mod tcf;
