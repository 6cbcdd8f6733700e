//! The path other crates know the catalog diff by. It only re-exports: the
//! classification from [`crate::change`] and the words from [`crate::diff_words`], kept
//! here so their callers compile while they move to those modules (issue 20). Nothing in
//! this crate uses it.

pub use crate::change::*;
pub use crate::diff_words::{country_name, explain_for_customer};
