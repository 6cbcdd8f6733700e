//! API keys with scopes. A key is `kz_<id>_<secret>`; only the SHA-256 of the secret is
//! stored. Handlers ask for a scope by taking `Authorized<S>` as an argument.
//!
//! Keys are cached for [`KEY_CACHE_TTL_MS`] of the server's clock, so a decision does not
//! wait on storage for its key. A key revoked elsewhere (`keuze key revoke`, another node)
//! is therefore refused at most that long after the revocation commits.

use crate::limits::RequestQuota;
use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use keuze_core::admin::{Actor, Attribution};
use keuze_core::catalog::Digest256;
use keuze_core::Timestamp;
use keuze_store::{ApiKey, Scope, StoreError};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::RwLock;

/// Mints a new key: returns the key to show once, and what to store.
pub fn mint_api_key(
    scopes: Vec<Scope>,
    label: String,
    now: Timestamp,
    rng: &mut impl rand::RngCore,
) -> (String, ApiKey) {
    let mut id_bytes = [0u8; 8];
    let mut secret_bytes = [0u8; 32];
    rng.fill_bytes(&mut id_bytes);
    rng.fill_bytes(&mut secret_bytes);
    let id = hex::encode(id_bytes);
    let secret = hex::encode(secret_bytes);
    let key = ApiKey {
        id: id.clone(),
        secret_hash: Digest256::of(secret.as_bytes()),
        scopes,
        label,
        created_at: now,
        revoked_at: None,
    };
    (format!("kz_{id}_{secret}"), key)
}

/// Splits `kz_<id>_<secret>`; `None` if the shape is wrong.
fn split_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix("kz_")?;
    let (id, secret) = rest.split_once('_')?;
    let hexy = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    (id.len() == 16 && secret.len() == 64 && hexy(id) && hexy(secret)).then_some((id, secret))
}

/// Keys looked up recently (revoked ones too), each with when it was read, so that a
/// decision does not wait on storage for its key.
#[derive(Default)]
pub(crate) struct KeyCache(RwLock<HashMap<String, (ApiKey, Timestamp)>>);

/// How long a key read from storage is trusted, in milliseconds of the server's clock:
/// the longest a key revoked by another process keeps authenticating here.
pub const KEY_CACHE_TTL_MS: i64 = 5_000;

impl KeyCache {
    fn get(&self, id: &str, now: Timestamp) -> Option<ApiKey> {
        let map = self.0.read().ok()?;
        let (key, read_at) = map.get(id)?;
        // A clock that went back makes the entry stale too.
        let age = now.unix_millis().checked_sub(read_at.unix_millis())?;
        (0..KEY_CACHE_TTL_MS).contains(&age).then(|| key.clone())
    }

    /// The key as last read, however long ago: for when storage cannot be asked.
    fn last_known(&self, id: &str) -> Option<ApiKey> {
        let map = self.0.read().ok()?;
        map.get(id).map(|(key, _)| key.clone())
    }

    fn put(&self, key: ApiKey, now: Timestamp) {
        if let Ok(mut map) = self.0.write() {
            map.insert(key.id.clone(), (key, now));
        }
    }
}

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

/// Reading incidents: `audit` (what the organisation's mailer holds to fetch the texts
/// it sends after an `incident.notified` event) or `admin`.
pub struct IncidentReadScope;

impl RequiredScope for IncidentReadScope {
    const SCOPE: Scope = Scope::Audit;

    fn allows(scopes: &[Scope]) -> bool {
        scopes.contains(&Scope::Audit) || scopes.contains(&Scope::Admin)
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
        let (id, secret) = split_key(presented.trim()).ok_or_else(|| {
            ApiError::Unauthenticated("the key is not of the form kz_<id>_<secret>".into())
        })?;
        let now = state.now();
        let key = match state.keys().get(id, now) {
            Some(k) => Some(k),
            None => match state.store().find_api_key(id).await {
                Ok(found) => {
                    if let Some(k) = &found {
                        state.keys().put(k.clone(), now);
                    }
                    found
                }
                // During a database outage decisions go on from memory; so does the key
                // they carry, as last read (a revocation then takes effect once the
                // database is back).
                Err(StoreError::Unavailable(e)) => match state.keys().last_known(id) {
                    Some(k) => Some(k),
                    None => return Err(ApiError::Store(StoreError::Unavailable(e))),
                },
                Err(e) => return Err(e.into()),
            },
        };
        let key = key
            .filter(|k| k.secret_hash == Digest256::of(secret.as_bytes()))
            .ok_or_else(|| ApiError::Unauthenticated("the key is unknown or wrong".into()))?;
        if let Some(revoked_at) = key.revoked_at {
            return Err(ApiError::Unauthenticated(format!(
                "the key {} was revoked at {revoked_at}; ask an administrator for a new one \
                 (`keuze key create`)",
                key.id
            )));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_split_back() {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
        let (full, stored) = mint_api_key(
            vec![Scope::Decide],
            "t".into(),
            Timestamp::from_unix_millis(0),
            &mut rng,
        );
        let (id, secret) = split_key(&full).unwrap();
        assert_eq!(id, stored.id);
        assert_eq!(Digest256::of(secret.as_bytes()), stored.secret_hash);
        assert!(split_key("kz_short_x").is_none());
        assert!(!format!("{stored:?}").contains(secret));
    }
}
