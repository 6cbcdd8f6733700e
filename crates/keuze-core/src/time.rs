//! Server time as the ledger records it: milliseconds since the Unix epoch, UTC.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, in whole milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// This time plus a number of whole days (negative goes back).
    pub const fn plus_days(self, days: i64) -> Self {
        Self(self.0 + days * 86_400_000)
    }

    /// The day this time falls on in UTC (1970-01-01 for a time the calendar cannot
    /// hold).
    pub fn utc_date(self) -> ::time::Date {
        let nanos = i128::from(self.0) * 1_000_000;
        ::time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(::time::OffsetDateTime::UNIX_EPOCH)
            .date()
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-29T10:00:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match ::time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(t) => {
                let fmt = ::time::macros::format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
                );
                t.format(&fmt).unwrap_or_else(|_| self.0.to_string())
            }
            Err(_) => self.0.to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_in_utc() {
        assert_eq!(
            Timestamp::from_unix_millis(1_795_000_000_123).to_rfc3339(),
            "2026-11-18T11:06:40.123Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(1_795_000_000_123).utc_date(),
            ::time::macros::date!(2026 - 11 - 18)
        );
        assert_eq!(
            Timestamp::from_unix_millis(0).plus_days(1).unix_millis(),
            86_400_000
        );
    }
}
