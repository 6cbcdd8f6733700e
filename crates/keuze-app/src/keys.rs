//! API keys with scopes. A key is `kz_<id>_<secret>`; only the SHA-256 of the secret is
//! stored. [`AppState::authenticate`] checks a presented key; the HTTP edge asks for a
//! scope and maps the refusal to a problem.
//!
//! Keys are cached for [`KEY_CACHE_TTL_MS`] of the server's clock, so a decision does not
//! wait on storage for its key. A key revoked elsewhere (`keuze key revoke`, another node)
//! is therefore refused at most that long after the revocation commits.

use crate::AppState;
use keuze_core::catalog::Digest256;
use keuze_core::Timestamp;
use keuze_store::{ApiKey, Scope, StoreError};
use std::collections::HashMap;
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

/// Why a presented key was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the key is not of the form kz_<id>_<secret>")]
    Malformed,
    #[error("the key is unknown or wrong")]
    Unknown,
    #[error(
        "the key {id} was revoked at {at}; ask an administrator for a new one (`keuze key create`)"
    )]
    Revoked { id: String, at: Timestamp },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppState {
    /// The key `presented` (`kz_<id>_<secret>`) names, if it is genuine and not revoked.
    /// During a database outage a key read before keeps authenticating, as last read
    /// (decisions go on from memory; a revocation takes effect once the database is back).
    pub async fn authenticate(&self, presented: &str) -> Result<ApiKey, AuthError> {
        let (id, secret) = split_key(presented.trim()).ok_or(AuthError::Malformed)?;
        let now = self.now();
        let key = match self.keys().get(id, now) {
            Some(k) => Some(k),
            None => match self.store().find_api_key(id).await {
                Ok(found) => {
                    if let Some(k) = &found {
                        self.keys().put(k.clone(), now);
                    }
                    found
                }
                Err(StoreError::Unavailable(e)) => match self.keys().last_known(id) {
                    Some(k) => Some(k),
                    None => return Err(StoreError::Unavailable(e).into()),
                },
                Err(e) => return Err(e.into()),
            },
        };
        let key = key
            .filter(|k| k.secret_hash == Digest256::of(secret.as_bytes()))
            .ok_or(AuthError::Unknown)?;
        if let Some(at) = key.revoked_at {
            return Err(AuthError::Revoked { id: key.id, at });
        }
        Ok(key)
    }
}

/// Whether a key holding `scopes` may read incidents: `audit` (what the organisation's
/// mailer holds to fetch the texts it sends after `incident.notified`) or `admin`.
pub fn may_read_incidents(scopes: &[Scope]) -> bool {
    scopes.contains(&Scope::Audit) || scopes.contains(&Scope::Admin)
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
