//! IAB Transparency and Consent Framework (TCF) v2 TC strings.
//!
//! - [`decode`] reads any version-2 TC string: the core segment, then disclosed
//!   vendors, allowed vendors and publisher TC in any order; with or without `=`
//!   padding; with any pad bits. It never panics, and every error names the segment,
//!   the field and the bit offset where reading failed.
//! - [`encode`] writes a [`TcModel`], choosing for each vendor section the bit field or
//!   the range form, whichever is shorter. It writes strings of policy 4 or later only,
//!   with created and last updated at day precision.
//! - [`Gvl`] reads a Global Vendor List (format version 3) and [`validate`] checks a
//!   model against it and the policy.
//!
//! This crate depends on nothing else of Keuze.

mod bits;
mod decode;
mod encode;
mod gvl;
mod model;

pub use decode::{decode, DecodeError, DecodeErrorKind, Segment};
pub use encode::{encode, EncodeError, MIN_POLICY_VERSION};
pub use gvl::{validate, Declared, Finding, Gvl, GvlError, Vendor};
pub use model::{
    Deciseconds, IdSet, Letters, PublisherRestriction, PublisherTc, RestrictionType, TcModel,
    VendorSet, MAX_VENDOR_ID,
};

/// A Global Vendor List as the IAB published it (format 3, vendor list version 7, policy
/// 4, 376 vendors): a fixed list to try the codec and [`validate`] against. Not for
/// production: the IAB publishes the current list every week.
pub const SAMPLE_VENDOR_LIST: &str = include_str!("../data/vendor-list-v7.json");

/// The policy version of TCF v2.3, which [`TcModel::new`] writes.
pub const CURRENT_POLICY_VERSION: u8 = 5;

impl TcModel {
    /// See [`decode`].
    pub fn decode(tc_string: &str) -> Result<Self, DecodeError> {
        decode(tc_string)
    }

    /// See [`encode`].
    pub fn encode(&self) -> Result<String, EncodeError> {
        encode(self)
    }
}
