//! API keys at the HTTP edge: handlers ask for a scope by taking `Authorized<S>` as an
//! argument; the key itself is checked by the application ([`AppState::authenticate`]).

use crate::limits::RequestQuota;
use crate::problem::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use keuze_app::keys::{may_read_incidents, AuthError};
use keuze_app::AppState;
use keuze_core::admin::{Actor, Attribution};
use keuze_core::Timestamp;
use keuze_store::Scope;
use std::marker::PhantomData;

/// A scope as a type, so a handler's signature says what it needs.
pub trait RequiredScope {
    /// The scope named when a key is refused.
    const SCOPE: Scope;

    /// Whether a key holding `scopes` passes: by default, if it holds `SCOPE`.
    fn allows(scopes: &[Scope]) -> bool {
        scopes.contains(&Self::SCOPE)
    }
}

macro_rules! scope_marker {
    ($name:ident, $scope:expr) => {
        pub struct $name;
        impl RequiredScope for $name {
            const SCOPE: Scope = $scope;
        }
    };
}

scope_marker!(DecideScope, Scope::Decide);
scope_marker!(RecordScope, Scope::Record);
scope_marker!(AdminScope, Scope::Admin);
scope_marker!(AuditScope, Scope::Audit);

/// Reading incidents: `audit` or `admin` ([`may_read_incidents`]).
pub struct IncidentReadScope;

impl RequiredScope for IncidentReadScope {
    const SCOPE: Scope = Scope::Audit;

    fn allows(scopes: &[Scope]) -> bool {
        may_read_incidents(scopes)
    }
}

/// Proof that the request carried a valid key holding scope `S`.
pub struct Authorized<S: RequiredScope> {
    pub key_id: String,
    _scope: PhantomData<S>,
}

impl<S: RequiredScope> Authorized<S> {
    /// The key as the actor of an admin action at `at` (the audit trail names it by its
    /// public id, `key:<id>`).
    pub fn attribution(&self, at: Timestamp) -> Attribution {
        // A key that authenticated has a 16-hex-digit id, which is always an audit text.
        let actor = Actor::key(&self.key_id).unwrap_or(Actor::Cli(None));
        Attribution::new(actor, at)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(e) => ApiError::Store(e),
            refused => ApiError::Unauthenticated(refused.to_string()),
        }
    }
}

impl<S: RequiredScope + Send + Sync> FromRequestParts<AppState> for Authorized<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::Unauthenticated("the request has no Authorization header".into())
            })?
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthenticated("the Authorization header is not `Bearer <key>`".into())
            })?;
        let key = state.authenticate(presented).await?;
        if !S::allows(&key.scopes) {
            return Err(ApiError::Forbidden(S::SCOPE));
        }
        if let Some(quota) = parts.extensions.get::<RequestQuota>() {
            quota.charge_key(&key.id)?;
        }
        Ok(Self {
            key_id: key.id,
            _scope: PhantomData,
        })
    }
}
