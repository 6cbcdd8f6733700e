//! Consent fatigue, measured. A synthetic year of customers visits a shop whose catalog
//! changes a few times; each visit runs Keuze's own prompt, recording, index and decision
//! code (keuze-core, in process, with the visit's time as the clock) under a prompting
//! policy: Keuze's, or one of the common banners'.
//!
//! - [`timeline`]: the catalog versions of the year, classified by Keuze's diff;
//! - [`population`]: the customers, their visits and their answers.

pub mod population;
pub mod timeline;
