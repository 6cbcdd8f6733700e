//! Customer sessions for the preference center. The organisation's backend asks for a
//! short-lived signed link for one subject (`POST /v1/sessions`); `/me?token=…` trades it
//! for a session cookie; every form under `/me` carries a CSRF token derived from that
//! session. Links, cookies and CSRF tokens are each signed with their own key derived
//! from the server's secret, so nothing about a session is stored and none of them can
//! stand in for another.

use crate::auth::{Authorized, RecordScope};
use crate::json::JsonBody;
use crate::problem::{ApiError, FieldError};
use crate::routes::plain::supported;
use crate::routes::SubjectRef;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use keuze_core::{SubjectId, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

/// How long a link from `POST /v1/sessions` can be used: long enough to open an e-mail.
pub const LINK_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// How long a session lasts after the link is used.
pub const SESSION_LIFETIME_MS: i64 = 60 * 60 * 1000;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "keuze_session";

/// Only sent to the preference center, never to the API or other sites.
const COOKIE_ATTRIBUTES: &str = "HttpOnly; Secure; SameSite=Strict; Path=/me";

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

    /// The session the request's cookie carries. Every `keuze_session` cookie is tried, so
    /// a stale one left beside a fresh one does not lock the customer out.
    pub fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, SessionError> {
        let mut outcome = Err(SessionError::Missing);
        for value in cookie_values(headers, COOKIE_NAME) {
            match Claims::open(state, Use::Session, value) {
                Ok(claims) => return Ok(Self { claims }),
                // An expired session says more than a missing one; a forged one most.
                Err(e) => {
                    outcome = match (outcome, e) {
                        (Err(SessionError::Invalid), _) | (_, SessionError::Invalid) => {
                            Err(SessionError::Invalid)
                        }
                        _ => Err(e),
                    }
                }
            }
        }
        outcome
    }

    pub fn subject(&self) -> SubjectId {
        self.claims.subject
    }

    pub fn expires(&self) -> Timestamp {
        self.claims.expires
    }

    /// The `Set-Cookie` value that carries this session.
    pub fn cookie(&self, state: &AppState) -> String {
        format!(
            "{COOKIE_NAME}={}; Max-Age={}; {COOKIE_ATTRIBUTES}",
            self.claims.seal(state, Use::Session),
            SESSION_LIFETIME_MS / 1000
        )
    }

    /// The `Set-Cookie` value that ends any session.
    pub fn clear_cookie() -> String {
        format!("{COOKIE_NAME}=; Max-Age=0; {COOKIE_ATTRIBUTES}")
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

/// The values of every cookie called `name` in the request's `Cookie` headers.
fn cookie_values<'h>(headers: &'h HeaderMap, name: &'h str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(header::COOKIE)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (k, v) = pair.split_once('=')?;
            (k.trim() == name).then(|| v.trim())
        })
}

// --- the endpoint ----------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The customer the preference center will be about. Only this subject's data can be
    /// read or changed with the link.
    pub subject: SubjectRef,
    /// The language the preference center opens in, `en` or `nl`; default: the best of
    /// the browser's `Accept-Language`.
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerLink {
    /// The subject's pseudonym.
    pub subject: String,
    /// The signed link token. Use it once, within 15 minutes; treat it like a password.
    pub token: String,
    /// Where to send the customer, relative to Keuze's base URL: `/me?token=…`.
    pub url: String,
    /// When the token stops working, RFC 3339.
    pub expires_at: String,
}

/// A short-lived link that opens the preference center for one customer.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "preference center",
    request_body = SessionRequest,
    responses(
        (status = 201, body = CustomerLink),
        (status = 401, body = crate::problem::Problem),
        (status = 403, body = crate::problem::Problem),
        (status = 422, body = crate::problem::Problem),
    ),
    security(("api_key" = ["record"]))
)]
pub async fn mint(
    State(state): State<AppState>,
    _auth: Authorized<RecordScope>,
    JsonBody(req): JsonBody<SessionRequest>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, &'static str); 1],
        Json<CustomerLink>,
    ),
    ApiError,
> {
    let subject = req.subject.resolve(&state, "/subject");
    let lang = match req.locale.as_deref() {
        None => Ok(None),
        Some(l) => supported(l).map(Some).ok_or_else(|| FieldError {
            pointer: "/locale".into(),
            detail: format!("the preference center speaks `en` and `nl`, not `{l}`"),
        }),
    };
    let (subject, lang) = match (subject, lang) {
        (Ok(s), Ok(l)) => (s, l),
        (s, l) => {
            return Err(ApiError::Validation(
                s.err().into_iter().chain(l.err()).collect(),
            ))
        }
    };
    let (token, expires) = mint_link(&state, subject);
    let url = match lang {
        Some(l) => format!("/me?token={token}&lang={l}"),
        None => format!("/me?token={token}"),
    };
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(CustomerLink {
            subject: subject.to_hex(),
            token,
            url,
            expires_at: expires.to_rfc3339(),
        }),
    ))
}
