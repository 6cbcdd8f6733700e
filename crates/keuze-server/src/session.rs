//! Customer sessions at the HTTP edge: the organisation's backend asks for a short-lived
//! signed link for one subject (`POST /v1/sessions`); `/me?token=…` trades it for a
//! session cookie. What a link and a session are, and how they are signed, is the
//! application's ([`keuze_app::session`]); this module only carries them in cookies.

use crate::auth::{Authorized, RecordScope};
use crate::json::JsonBody;
use crate::language::supported;
use crate::problem::{ApiError, FieldError};
use crate::wire::SubjectRef;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use keuze_app::session::{mint_link, SESSION_LIFETIME_MS};
pub use keuze_app::session::{open_link, CustomerSession, SessionError};
use keuze_app::AppState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "keuze_session";

/// How a session travels: a cookie only sent to the preference center, never to the API
/// or other sites, and never readable by scripts.
pub trait SessionCookie: Sized {
    /// The session the request's cookie carries. Every `keuze_session` cookie is tried,
    /// so a stale one left beside a fresh one does not lock the customer out.
    fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, SessionError>;
    /// The `Set-Cookie` value that carries this session.
    fn cookie(&self, state: &AppState) -> String;
    /// The `Set-Cookie` value that ends any session.
    fn clear_cookie() -> String;
}

impl SessionCookie for CustomerSession {
    fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Self, SessionError> {
        let mut outcome = Err(SessionError::Missing);
        for value in crate::headers::cookie_values(headers, COOKIE_NAME) {
            match CustomerSession::open(state, &value) {
                Ok(session) => return Ok(session),
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

    fn cookie(&self, state: &AppState) -> String {
        session_cookie(self.sealed(state), SESSION_LIFETIME_MS / 1000)
    }

    fn clear_cookie() -> String {
        session_cookie(String::new(), 0)
    }
}

fn session_cookie(value: String, max_age_seconds: i64) -> String {
    cookie::Cookie::build((COOKIE_NAME, value))
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .path("/me")
        .build()
        .to_string()
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
