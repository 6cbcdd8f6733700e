//! The bytes a ledger leaf commits to: a header line naming the kind of entry, then
//! `key=value` lines, each ending in `\n`. Consent events, notices and admin entries all
//! write their leaves this way; this module is the one writer, and says which values can
//! stand in a line.

/// The first character of `s` that cannot stand in a leaf line: a control character (a
/// newline would start a line of its own) or `=` (it would move where the value starts).
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control() || *c == '=')
}

/// A leaf being written.
#[derive(Debug)]
pub(crate) struct Leaf(String);

impl Leaf {
    /// A leaf of the kind `header`, such as `keuze-ledger-entry-v1`.
    pub(crate) fn new(header: &str) -> Self {
        let mut out = String::with_capacity(512);
        out.push_str(header);
        out.push('\n');
        Self(out)
    }

    /// Appends `key=value\n`. Callers pass constant keys and values that are numbers, hex
    /// digests, parsed identifiers or [`crate::admin::AuditText`], which never hold a
    /// [`forbidden_char`]; the check catches a new field that breaks this in tests.
    pub(crate) fn line(&mut self, key: &str, value: &str) -> &mut Self {
        debug_assert!(
            forbidden_char(key).is_none() && forbidden_char(value).is_none(),
            "{key:?}={value:?} cannot stand in a leaf line"
        );
        self.0.push_str(key);
        self.0.push('=');
        self.0.push_str(value);
        self.0.push('\n');
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_its_header_then_its_lines() {
        let mut leaf = Leaf::new("keuze-test-v1");
        leaf.line("seq", "7").line("purpose", "newsletter");
        assert_eq!(
            leaf.into_bytes(),
            b"keuze-test-v1\nseq=7\npurpose=newsletter\n"
        );
    }

    #[test]
    fn values_that_would_break_a_line_are_named() {
        assert_eq!(forbidden_char("a\nseq=1"), Some('\n'));
        assert_eq!(forbidden_char("a=b"), Some('='));
        assert_eq!(forbidden_char("tab\there"), Some('\t'));
        assert_eq!(forbidden_char("key:0123 é"), None);
    }
}
