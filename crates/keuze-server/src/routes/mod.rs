//! HTTP handlers: extract, call the application (`keuze-app`), map the error. One
//! module per resource; no module here imports another (shared JSON shapes are in
//! [`crate::wire`]).

pub mod audit;
pub mod banner;
pub mod catalog;
pub mod consents;
pub mod decide;
pub mod incidents;
pub mod ops;
pub mod prompt;
pub mod proofs;
pub mod subjects;
pub mod tcf;
pub mod webhooks;
