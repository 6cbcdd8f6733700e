//! Keuze's application layer: what the application does, as typed commands and queries
//! over domain types (`keuze-core`) and the store (`keuze-store`). Every edge calls it: the
//! JSON API, the pages and the banner (`keuze-server`), and the CLI (`keuze`). Nothing
//! here knows HTTP, HTML or words; each operation returns a domain result or its own
//! error enum, which the edges translate.

pub mod audit;
pub mod catalogs;
pub mod incidents;
pub mod keys;
pub mod log;
pub mod propagate;
pub mod record;
pub mod session;
pub mod state;
pub mod subjects;
pub mod visitor;

pub use state::{AppState, Clock, ManualClock, ServerParts, SystemClock};
