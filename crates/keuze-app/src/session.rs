//! Customer sessions for the preference center. The organisation's backend asks for a
//! short-lived signed link for one subject; the link is traded for a session; every form
//! of a session carries a CSRF token derived from it. Links, sessions and CSRF tokens are
//! each signed with their own key derived from the server's secret, so nothing about a
//! session is stored and none of them can stand in for another. How a session travels
//! (a cookie) is the HTTP edge's business.

use crate::AppState;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use keuze_core::{SubjectId, Timestamp};
use sha2::Sha256;

/// How long a link from `POST /v1/sessions` can be used: long enough to open an e-mail.
pub const LINK_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// How long a session lasts after the link is used.
pub const SESSION_LIFETIME_MS: i64 = 60 * 60 * 1000;

/// Which key signs what. Each is derived from the server's secret under its own name.
#[derive(Clone, Copy)]
enum Use {
    Link,
    Session,
    Csrf,
}

impl Use {
    fn key_name(self) -> &'static str {
        match self {
            Self::Link => "keuze/preference-center/link/v1",
            Self::Session => "keuze/preference-center/session/v1",
            Self::Csrf => "keuze/preference-center/csrf/v1",
        }
    }
}

fn mac(state: &AppState, use_: Use) -> Hmac<Sha256> {
    let key = state.pseudonymizer().derive_key(use_.key_name());
    // HMAC takes a key of any length, so this cannot fail; the fallback keeps it total.
    <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()))
}

/// Why a link or a session cookie was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("no session")]
    Missing,
    #[error("the link or session has expired")]
    Expired,
    #[error("the link or session is not valid")]
    Invalid,
}

/// What a link or a cookie says, once its signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Claims {
    subject: SubjectId,
    expires: Timestamp,
    nonce: [u8; 16],
}

const CLAIMS_LEN: usize = 32 + 8 + 16;
const TAG_LEN: usize = 32;

impl Claims {
    fn bytes(&self) -> [u8; CLAIMS_LEN] {
        let mut out = [0u8; CLAIMS_LEN];
        let (subject, rest) = out.split_at_mut(32);
        let (expires, nonce) = rest.split_at_mut(8);
        subject.copy_from_slice(self.subject.as_bytes());
        expires.copy_from_slice(&self.expires.unix_millis().to_be_bytes());
        nonce.copy_from_slice(&self.nonce);
        out
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let subject: [u8; 32] = bytes.get(..32)?.try_into().ok()?;
        let expires: [u8; 8] = bytes.get(32..40)?.try_into().ok()?;
        let nonce: [u8; 16] = bytes.get(40..CLAIMS_LEN)?.try_into().ok()?;
        Some(Self {
            subject: SubjectId::from_bytes(subject),
            expires: Timestamp::from_unix_millis(i64::from_be_bytes(expires)),
            nonce,
        })
    }

    /// The claims and their HMAC under the key for `use_`, in base64url.
    fn seal(&self, state: &AppState, use_: Use) -> String {
        let claims = self.bytes();
        let mut m = mac(state, use_);
        m.update(&claims);
        let tag = m.finalize().into_bytes();
        let mut out = Vec::with_capacity(CLAIMS_LEN + TAG_LEN);
        out.extend_from_slice(&claims);
        out.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Checks the signature (in constant time) first and the expiry second.
    fn open(state: &AppState, use_: Use, sealed: &str) -> Result<Self, SessionError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed.trim())
            .map_err(|_| SessionError::Invalid)?;
        if bytes.len() != CLAIMS_LEN + TAG_LEN {
            return Err(SessionError::Invalid);
        }
        let (claims, tag) = bytes.split_at(CLAIMS_LEN);
        let mut m = mac(state, use_);
        m.update(claims);
        m.verify_slice(tag).map_err(|_| SessionError::Invalid)?;
        let claims = Self::from_bytes(claims).ok_or(SessionError::Invalid)?;
        if state.now() >= claims.expires {
            return Err(SessionError::Expired);
        }
        Ok(claims)
    }
}

/// Mints a link token for `subject`, valid for [`LINK_LIFETIME_MS`] from now.
pub fn mint_link(state: &AppState, subject: SubjectId) -> (String, Timestamp) {
    let expires =
        Timestamp::from_unix_millis(state.now().unix_millis().saturating_add(LINK_LIFETIME_MS));
    let claims = Claims {
        subject,
        expires,
        nonce: state.random_bytes(),
    };
    (claims.seal(state, Use::Link), expires)
}

/// The subject a link token names, if it is genuine and has not expired.
pub fn open_link(state: &AppState, token: &str) -> Result<SubjectId, SessionError> {
    Claims::open(state, Use::Link, token).map(|c| c.subject)
}

/// A customer signed in to the preference center: the subject is the only one whose
/// data this session can read or change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerSession {
    claims: Claims,
}

impl CustomerSession {
    /// Starts a session for `subject`, lasting [`SESSION_LIFETIME_MS`] from now.
    pub fn start(state: &AppState, subject: SubjectId) -> Self {
        Self {
            claims: Claims {
                subject,
                expires: Timestamp::from_unix_millis(
                    state
                        .now()
                        .unix_millis()
                        .saturating_add(SESSION_LIFETIME_MS),
                ),
                nonce: state.random_bytes(),
            },
        }
    }

    /// The session a sealed value ([`CustomerSession::sealed`]) carries, if it is
    /// genuine and has not expired.
    pub fn open(state: &AppState, sealed: &str) -> Result<Self, SessionError> {
        Claims::open(state, Use::Session, sealed).map(|claims| Self { claims })
    }

    pub fn subject(&self) -> SubjectId {
        self.claims.subject
    }

    pub fn expires(&self) -> Timestamp {
        self.claims.expires
    }

    /// The session, signed, for the customer's browser to hold (in a cookie).
    pub fn sealed(&self, state: &AppState) -> String {
        self.claims.seal(state, Use::Session)
    }

    /// The token every form of this session carries: an HMAC of the session under its own
    /// key. Only a page served to this session can know it.
    pub fn csrf_token(&self, state: &AppState) -> String {
        let mut m = mac(state, Use::Csrf);
        m.update(&self.claims.bytes());
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    }

    /// Whether `presented` is this session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, state: &AppState, presented: Option<&str>) -> bool {
        let Some(tag) = presented.and_then(|p| URL_SAFE_NO_PAD.decode(p.trim()).ok()) else {
            return false;
        };
        let mut m = mac(state, Use::Csrf);
        m.update(&self.claims.bytes());
        m.verify_slice(&tag).is_ok()
    }
}
