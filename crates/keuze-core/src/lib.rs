//! Keuze's domain: the catalog an organisation declares, the consent events a customer
//! makes, and the decisions that follow from them. No I/O and no clock: time and
//! randomness come in as parameters, so every rule here can be tested exactly.

pub mod admin;
pub mod catalog;
pub mod change;
pub mod checkpoint;
pub mod choice;
pub mod decision;
pub mod digest;
pub mod erasure;
pub mod event;
pub mod gvl;
pub mod ids;
pub mod incident;
pub mod index;
pub mod leaf;
pub mod merkle;
pub mod prompt;
pub mod published;
pub mod readability;
pub mod receipt;
pub mod subject;
pub mod taxonomy;
pub mod tcf;
pub mod text;
pub mod time;

pub use catalog::{Catalog, LegalBasis, Period, PeriodUnit, Purpose, Recipient, Tcf, Text};
pub use decision::{decide, Decision, LastChoice, Reason};
pub use event::{Action, ConsentEvent, NewEvent, Source};
pub use ids::{CategoryId, CountryCode, Locale, PurposeId};
pub use index::DecisionIndex;
pub use published::{CatalogHistory, CatalogVersion};
pub use subject::{Pseudonymizer, SubjectId, SubjectKey};
pub use time::Timestamp;
