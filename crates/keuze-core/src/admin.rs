//! The audit trail: admin actions (an API key created or revoked, a catalog published, a
//! subject erased, a webhook created or deleted, the log key rotated) as entries of the
//! same ledger as consent events. An admin entry takes the next seq and becomes a leaf of
//! the same Merkle tree, so signed checkpoints, consistency proofs and `keuze ledger
//! verify` cover it, and an operator cannot drop one without breaking every later proof.
//!
//! Its canonical bytes start with their own header line, `keuze-admin-entry-v1`, so no
//! admin entry can hash like a consent entry or the other way round. Every free-text value
//! is an [`AuditText`], which refuses newlines and `=`: a value cannot forge a line.
//!
//! An entry never names a customer: an erasure is recorded by the seq range of its erase
//! entries (whose subject commitments are unlinkable once the salt is destroyed), and a
//! customer erasing themselves at `/me` is the actor `customer`, nothing more.

use crate::catalog::Digest256;
use crate::leaf::{self, Leaf};
use crate::merkle::{self, Hash};
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::fmt;

/// First line of an admin entry's canonical bytes.
const ADMIN_HEADER: &str = "keuze-admin-entry-v1";

/// The longest [`AuditText`], in bytes.
pub const AUDIT_TEXT_MAX: usize = 200;

/// What an admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdminAction {
    KeyCreated,
    KeyRevoked,
    CatalogPublished,
    SubjectErased,
    WebhookCreated,
    WebhookDeleted,
    LogKeyRotated,
    IncidentRecorded,
    IncidentPublished,
}

impl AdminAction {
    pub const ALL: [AdminAction; 9] = [
        Self::KeyCreated,
        Self::KeyRevoked,
        Self::CatalogPublished,
        Self::SubjectErased,
        Self::WebhookCreated,
        Self::WebhookDeleted,
        Self::LogKeyRotated,
        Self::IncidentRecorded,
        Self::IncidentPublished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeyCreated => "key_created",
            Self::KeyRevoked => "key_revoked",
            Self::CatalogPublished => "catalog_published",
            Self::SubjectErased => "subject_erased",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookDeleted => "webhook_deleted",
            Self::LogKeyRotated => "log_key_rotated",
            Self::IncidentRecorded => "incident_recorded",
            Self::IncidentPublished => "incident_published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for AdminAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a value cannot go into an admin entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditTextError {
    #[error("it is empty")]
    Empty,
    #[error("it is {0} bytes long; at most {AUDIT_TEXT_MAX} fit in an audit entry")]
    TooLong(usize),
    #[error("it contains {0:?}; audit values hold no control characters and no `=`")]
    Forbidden(char),
}

/// A value an admin entry holds: 1 to [`AUDIT_TEXT_MAX`] bytes, no control character
/// (so no newline) and no `=`, so it cannot break the `key=value` lines it is hashed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditText(String);

impl AuditText {
    pub fn parse(s: &str) -> Result<Self, AuditTextError> {
        if s.is_empty() {
            return Err(AuditTextError::Empty);
        }
        if s.len() > AUDIT_TEXT_MAX {
            return Err(AuditTextError::TooLong(s.len()));
        }
        if let Some(c) = leaf::forbidden_char(s) {
            return Err(AuditTextError::Forbidden(c));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For values built from parsed parts (numbers, hex, known names), which pass.
    fn known(s: String) -> Self {
        debug_assert!(Self::parse(&s).is_ok(), "{s:?} is not an audit text");
        Self(s)
    }
}

impl fmt::Display for AuditText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a detail field: 1 to 32 of `a-z`, `0-9`, `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DetailName(String);

impl DetailName {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who did it, without a customer identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// An API call, by the key's public id (`key:<id>`).
    Key(AuditText),
    /// The command line on the server's host, with the operating system user if known
    /// (`cli` or `cli:<user>`): an employee, not a customer.
    Cli(Option<AuditText>),
    /// A customer acting on their own data at `/me` (`customer`). Never more than that:
    /// their erasure must stay crypto-shredded.
    Customer,
}

impl Actor {
    /// The actor of an API call made with the key `id`.
    pub fn key(id: &str) -> Result<Self, AuditTextError> {
        AuditText::parse(id).map(Self::Key)
    }

    /// The command line, run by the operating system user `user` if it is a usable name.
    pub fn cli(user: Option<&str>) -> Self {
        Self::Cli(user.and_then(|u| AuditText::parse(u).ok()))
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            None if s == "cli" => Ok(Self::Cli(None)),
            None if s == "customer" => Ok(Self::Customer),
            Some(("key", id)) => AuditText::parse(id)
                .map(Self::Key)
                .map_err(|e| format!("the key id is refused: {e}")),
            Some(("cli", user)) => AuditText::parse(user)
                .map(|u| Self::Cli(Some(u)))
                .map_err(|e| format!("the user name is refused: {e}")),
            _ => Err("is not `key:<id>`, `cli`, `cli:<user>` or `customer`".into()),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(id) => write!(f, "key:{id}"),
            Self::Cli(None) => f.write_str("cli"),
            Self::Cli(Some(user)) => write!(f, "cli:{user}"),
            Self::Customer => f.write_str("customer"),
        }
    }
}

/// Who acts, and when: what a caller knows of an admin entry before the store numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub actor: Actor,
    pub at: Timestamp,
}

impl Attribution {
    pub fn new(actor: Actor, at: Timestamp) -> Self {
        Self { actor, at }
    }
}

/// An admin entry before the store gives it its seq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdminEntry {
    pub action: AdminAction,
    pub actor: Actor,
    /// What the action was done to: `key:<id>`, `catalog:<version>`, `webhook:<id>`,
    /// `ledger:<first seq>-<last seq>` (an erasure's entries), `log_key:<key id>`.
    pub target: AuditText,
    /// Further facts, by name; in canonical bytes in name order.
    pub detail: BTreeMap<DetailName, AuditText>,
    pub recorded_at: Timestamp,
}

fn detail<const N: usize>(fields: [(&str, AuditText); N]) -> BTreeMap<DetailName, AuditText> {
    fields
        .into_iter()
        .filter_map(|(name, value)| DetailName::parse(name).map(|n| (n, value)))
        .collect()
}

impl NewAdminEntry {
    fn new(
        by: &Attribution,
        action: AdminAction,
        target: String,
        detail: BTreeMap<DetailName, AuditText>,
    ) -> Result<Self, AuditTextError> {
        Ok(Self {
            action,
            actor: by.actor.clone(),
            target: AuditText::parse(&target)?,
            detail,
            recorded_at: by.at,
        })
    }

    /// An API key `id` was created with `scopes`.
    pub fn key_created(
        by: &Attribution,
        id: &str,
        scopes: &[&str],
    ) -> Result<Self, AuditTextError> {
        let scopes = if scopes.is_empty() {
            "none".to_owned()
        } else {
            scopes.join(",")
        };
        let fields = detail([("scopes", AuditText::parse(&scopes)?)]);
        Self::new(by, AdminAction::KeyCreated, format!("key:{id}"), fields)
    }

    /// The API key `id` was revoked.
    pub fn key_revoked(by: &Attribution, id: &str) -> Result<Self, AuditTextError> {
        Self::new(
            by,
            AdminAction::KeyRevoked,
            format!("key:{id}"),
            BTreeMap::new(),
        )
    }

    /// Catalog version `version` with `digest` was published.
    pub fn catalog_published(by: &Attribution, version: u32, digest: &Digest256) -> Self {
        Self {
            action: AdminAction::CatalogPublished,
            actor: by.actor.clone(),
            target: AuditText::known(format!("catalog:{version}")),
            detail: detail([("digest", AuditText::known(digest.to_hex()))]),
            recorded_at: by.at,
        }
    }

    /// A subject was erased by the erase entries `first..=last`. Not the subject: only
    /// the entries, whose commitments nothing ties to anyone once the salt is gone.
    pub fn subject_erased(by: &Attribution, first: u64, last: u64) -> Self {
        let entries = last.saturating_sub(first).saturating_add(1);
        Self {
            action: AdminAction::SubjectErased,
            actor: by.actor.clone(),
            target: AuditText::known(format!("ledger:{first}-{last}")),
            detail: detail([("entries", AuditText::known(entries.to_string()))]),
            recorded_at: by.at,
        }
    }

    /// Webhook `id` was created, delivering to `origin` (scheme, host and port only: a
    /// URL's path and query may hold a token).
    pub fn webhook_created(
        by: &Attribution,
        id: &str,
        origin: &str,
    ) -> Result<Self, AuditTextError> {
        let fields = detail([("origin", AuditText::parse(origin)?)]);
        Self::new(
            by,
            AdminAction::WebhookCreated,
            format!("webhook:{id}"),
            fields,
        )
    }

    /// Webhook `id` was deleted.
    pub fn webhook_deleted(by: &Attribution, id: &str) -> Result<Self, AuditTextError> {
        Self::new(
            by,
            AdminAction::WebhookDeleted,
            format!("webhook:{id}"),
            BTreeMap::new(),
        )
    }

    /// The log signing key was rotated from `old` to `new` (key ids, hex).
    pub fn log_key_rotated(by: &Attribution, old: &str, new: &str) -> Result<Self, AuditTextError> {
        let fields = detail([("previous", AuditText::parse(old)?)]);
        Self::new(
            by,
            AdminAction::LogKeyRotated,
            format!("log_key:{new}"),
            fields,
        )
    }

    /// Incident `number` with `digest` was recorded.
    pub fn incident_recorded(by: &Attribution, number: u32, digest: &Digest256) -> Self {
        Self {
            action: AdminAction::IncidentRecorded,
            actor: by.actor.clone(),
            target: AuditText::known(format!("incident:{number}")),
            detail: detail([("digest", AuditText::known(digest.to_hex()))]),
            recorded_at: by.at,
        }
    }

    /// Incident `number` was put on the public register.
    pub fn incident_published(by: &Attribution, number: u32) -> Self {
        Self {
            action: AdminAction::IncidentPublished,
            actor: by.actor.clone(),
            target: AuditText::known(format!("incident:{number}")),
            detail: BTreeMap::new(),
            recorded_at: by.at,
        }
    }

    /// The entry as leaf `seq - 1`.
    pub fn at_seq(self, seq: u64) -> AdminEntry {
        AdminEntry {
            seq,
            action: self.action,
            actor: self.actor,
            target: self.target,
            detail: self.detail,
            recorded_at: self.recorded_at,
        }
    }
}

/// An admin action as the ledger holds it: leaf `seq - 1` of the same tree as consent
/// events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEntry {
    pub seq: u64,
    pub action: AdminAction,
    pub actor: Actor,
    pub target: AuditText,
    pub detail: BTreeMap<DetailName, AuditText>,
    pub recorded_at: Timestamp,
}

impl AdminEntry {
    /// The bytes the leaf hash covers: the header line `keuze-admin-entry-v1`, then
    /// `key=value` lines, each ending in `\n`: `seq`, `action`, `actor`, `target`,
    /// `recorded_at_ms`, then `detail.<name>` for each detail in name order. No value can
    /// contain a newline or `=` ([`AuditText`], [`DetailName`]).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut leaf = Leaf::new(ADMIN_HEADER);
        leaf.line("seq", &self.seq.to_string())
            .line("action", self.action.as_str())
            .line("actor", &self.actor.to_string())
            .line("target", self.target.as_str())
            .line(
                "recorded_at_ms",
                &self.recorded_at.unix_millis().to_string(),
            );
        for (name, value) in &self.detail {
            leaf.line(&format!("detail.{}", name.as_str()), value.as_str());
        }
        leaf.into_bytes()
    }

    /// The RFC 9162 leaf hash of [`AdminEntry::canonical_bytes`].
    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }

    /// The detail as stored: a JSON object of strings.
    pub fn detail_json(&self) -> String {
        detail_to_json(&self.detail)
    }
}

/// A detail map as a JSON object of strings, for storage.
pub fn detail_to_json(detail: &BTreeMap<DetailName, AuditText>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = detail
        .iter()
        .map(|(k, v)| (k.0.clone(), serde_json::Value::String(v.0.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// A stored detail object back, every name and value checked.
pub fn detail_from_json(json: &str) -> Result<BTreeMap<DetailName, AuditText>, String> {
    let map: BTreeMap<String, String> =
        serde_json::from_str(json).map_err(|e| format!("is not an object of strings: {e}"))?;
    map.into_iter()
        .map(|(k, v)| {
            let name = DetailName::parse(&k).ok_or_else(|| format!("has the bad name `{k}`"))?;
            let value = AuditText::parse(&v).map_err(|e| format!("has `{k}` refused: {e}"))?;
            Ok((name, value))
        })
        .collect()
}

/// The fields of a stored admin row, checked into an entry; `Err` says which field is
/// wrong and why.
pub fn entry_from_row(
    seq: u64,
    action: &str,
    actor: &str,
    target: &str,
    detail: &str,
    recorded_at: i64,
) -> Result<AdminEntry, (&'static str, String)> {
    Ok(AdminEntry {
        seq,
        action: AdminAction::parse(action)
            .ok_or(("action", format!("`{action}` is not a known admin action")))?,
        actor: Actor::parse(actor).map_err(|e| ("actor", format!("`{actor}` {e}")))?,
        target: AuditText::parse(target).map_err(|e| ("target", format!("`{target}`: {e}")))?,
        detail: detail_from_json(detail).map_err(|e| ("detail", format!("`{detail}` {e}")))?,
        recorded_at: Timestamp::from_unix_millis(recorded_at),
    })
}

/// One leaf of the ledger's Merkle tree, of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerLeaf {
    Consent(crate::receipt::LedgerEntry),
    Admin(AdminEntry),
    /// A customer told of an incident, or acknowledging it.
    Notice(crate::incident::NoticeEntry),
}

impl LedgerLeaf {
    pub fn seq(&self) -> u64 {
        match self {
            Self::Consent(e) => e.seq,
            Self::Admin(e) => e.seq,
            Self::Notice(e) => e.seq,
        }
    }

    /// The bytes the leaf hash covers, each kind under its own header line.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        match self {
            Self::Consent(e) => e.canonical_bytes(),
            Self::Admin(e) => e.canonical_bytes(),
            Self::Notice(e) => e.canonical_bytes(),
        }
    }

    pub fn leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }
}

/// Merges a page of consent entries, a page of admin entries and a page of notice
/// entries, all after the same seq and each at most `limit` long, into the first `limit`
/// leaves by seq. What a backend that keeps the kinds in separate tables answers for
/// `ledger_leaves`.
pub fn merge_leaves(
    consent: Vec<crate::receipt::LedgerEntry>,
    admin: Vec<AdminEntry>,
    notices: Vec<crate::incident::NoticeEntry>,
    limit: usize,
) -> Vec<LedgerLeaf> {
    let mut out: Vec<LedgerLeaf> = consent
        .into_iter()
        .map(LedgerLeaf::Consent)
        .chain(admin.into_iter().map(LedgerLeaf::Admin))
        .chain(notices.into_iter().map(LedgerLeaf::Notice))
        .collect();
    out.sort_unstable_by_key(LedgerLeaf::seq);
    out.truncate(limit);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn by() -> Attribution {
        Attribution::new(
            Actor::key("0123456789abcdef").unwrap(),
            Timestamp::from_unix_millis(1_795_000_000_000),
        )
    }

    #[test]
    fn canonical_bytes_are_header_then_fixed_lines() {
        let entry =
            NewAdminEntry::catalog_published(&by(), 3, &Digest256::of(b"catalog")).at_seq(42);
        let text = String::from_utf8(entry.canonical_bytes()).unwrap();
        assert_eq!(
            text,
            format!(
                "keuze-admin-entry-v1\nseq=42\naction=catalog_published\nactor=key:0123456789abcdef\n\
                 target=catalog:3\nrecorded_at_ms=1795000000000\ndetail.digest={}\n",
                Digest256::of(b"catalog").to_hex()
            )
        );
    }

    #[test]
    fn values_cannot_forge_lines() {
        assert_eq!(
            AuditText::parse("a\nseq=1"),
            Err(AuditTextError::Forbidden('\n'))
        );
        assert_eq!(AuditText::parse("a=b"), Err(AuditTextError::Forbidden('=')));
        assert_eq!(AuditText::parse(""), Err(AuditTextError::Empty));
        assert!(AuditText::parse(&"x".repeat(AUDIT_TEXT_MAX + 1)).is_err());
        assert!(Actor::key("ab=cd").is_err());
        assert!(NewAdminEntry::webhook_created(&by(), "wh_1", "https://a.example\r").is_err());
        assert!(DetailName::parse("Detail").is_none());
    }

    #[test]
    fn actors_round_trip() {
        for actor in [
            Actor::key("00ff").unwrap(),
            Actor::cli(None),
            Actor::cli(Some("ops")),
            Actor::Customer,
        ] {
            assert_eq!(Actor::parse(&actor.to_string()).unwrap(), actor);
        }
        assert!(Actor::parse("customer:1234").is_err());
        assert!(Actor::parse("someone").is_err());
        // A user name that cannot be an audit value is left out, not refused.
        assert_eq!(Actor::cli(Some("a=b")), Actor::cli(None));
    }

    #[test]
    fn stored_rows_read_back_exactly() {
        let entry = NewAdminEntry::key_created(&by(), "0011223344556677", &["admin", "audit"])
            .unwrap()
            .at_seq(7);
        let back = entry_from_row(
            7,
            entry.action.as_str(),
            &entry.actor.to_string(),
            entry.target.as_str(),
            &entry.detail_json(),
            entry.recorded_at.unix_millis(),
        )
        .unwrap();
        assert_eq!(back, entry);
        assert_eq!(back.leaf_hash(), entry.leaf_hash());
        assert!(entry_from_row(7, "key_made", "cli", "key:1", "{}", 0).is_err());
        assert!(entry_from_row(7, "key_created", "cli", "key:1", r#"{"a":"x=y"}"#, 0).is_err());
    }

    #[test]
    fn admin_and_consent_leaves_are_domain_separated() {
        let admin = NewAdminEntry::subject_erased(&by(), 5, 7).at_seq(8);
        let bytes = admin.canonical_bytes();
        assert!(bytes.starts_with(b"keuze-admin-entry-v1\n"));
        assert!(!bytes.starts_with(b"keuze-ledger-entry-v1"));
        assert_eq!(admin.target.as_str(), "ledger:5-7");
        assert_eq!(
            admin
                .detail
                .values()
                .map(AuditText::as_str)
                .collect::<Vec<_>>(),
            ["3"]
        );
    }

    #[test]
    fn merge_keeps_seq_order_and_the_limit() {
        let admin = |seq| NewAdminEntry::subject_erased(&by(), 1, 1).at_seq(seq);
        let merged = merge_leaves(Vec::new(), vec![admin(2), admin(5)], Vec::new(), 1);
        assert_eq!(merged.iter().map(LedgerLeaf::seq).collect::<Vec<_>>(), [2]);
    }
}
