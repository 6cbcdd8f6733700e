//! The path other crates know the catalog diff by: it re-exports [`crate::change`], kept
//! so their callers compile while they move to that module (issue 20). The diff in words
//! is in the `keuze-words` crate (`keuze_words::changes`). Nothing in this crate uses it.

pub use crate::change::*;
