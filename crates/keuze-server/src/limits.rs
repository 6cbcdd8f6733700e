//! Request rate limits, so that one client cannot crowd out the others: a quota per API
//! key (checked once the key is authenticated, see [`crate::auth`]), a quota per client
//! for the customer-facing endpoints that take no key (the banner's, the preference
//! center, the public notice), and a penalty for clients that keep presenting wrong keys,
//! so guessing costs them, not the database.
//!
//! A client is its IP address (its /64 for IPv6, which one household or phone holds), or
//! with `trust_forwarded_for` the address a reverse proxy put last in `X-Forwarded-For`.
//! Addresses are never stored: the limiter keys on a hash of the address under a key
//! drawn when the process starts.

use crate::problem::ApiError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A sustained rate with a burst: `20/s`, `600/min`, optionally `burst 100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per `per`.
    pub count: NonZeroU32,
    pub per: Duration,
    /// Requests allowed at once after a quiet spell.
    pub burst: NonZeroU32,
}

impl Rate {
    pub const fn per_second(count: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            count,
            per: Duration::from_secs(1),
            burst,
        }
    }

    fn quota(self) -> Quota {
        // `count` per `per`: one request every `per / count`.
        let every = self.per / self.count.get();
        Quota::with_period(every.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(self.count))
            .allow_burst(self.burst)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.per == Duration::from_secs(60) {
            "min"
        } else {
            "s"
        };
        write!(f, "{}/{unit} burst {}", self.count, self.burst)
    }
}

/// Why a rate does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a rate: {why}. Write it as `<n>/s` or `<n>/min`, optionally followed by `burst <n>` (e.g. `20/s burst 100`), or `off`")]
pub struct RateError {
    given: String,
    why: &'static str,
}

/// A configured limit: a rate, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<Rate>);

impl FromStr for Limit {
    type Err = RateError;

    fn from_str(s: &str) -> Result<Self, RateError> {
        let err = |why| RateError {
            given: s.to_owned(),
            why,
        };
        let text = s.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        let mut words = text.split_whitespace();
        let rate = words.next().ok_or_else(|| err("it is empty"))?;
        let (count, unit) = rate
            .split_once('/')
            .ok_or_else(|| err("it has no `/s` or `/min`"))?;
        let count: NonZeroU32 = count
            .parse()
            .map_err(|_| err("the count must be a whole number from 1"))?;
        let per = match unit {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            _ => return Err(err("the unit must be `s` or `min`")),
        };
        let burst = match (words.next(), words.next(), words.next()) {
            (None, _, _) => {
                // A default burst of what one second allows, and at least one request.
                let per_second = if per.as_secs() == 60 {
                    count.get().div_ceil(60)
                } else {
                    count.get()
                };
                NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN)
            }
            (Some("burst"), Some(n), None) => n
                .parse()
                .map_err(|_| err("the burst must be a whole number from 1"))?,
            _ => return Err(err("only `burst <n>` may follow the rate")),
        };
        Ok(Self(Some(Rate { count, per, burst })))
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(rate) => rate.fmt(f),
            None => f.write_str("off"),
        }
    }
}

/// The limits a server enforces. [`Limits::default`] suits a shop: generous for a
/// backend's key, enough for any person's browser.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Per API key, for every authenticated request.
    pub per_key: Limit,
    /// Per client, for every request without an API key.
    pub per_client: Limit,
    /// Per client, for requests whose API key was refused; past it, a client's keyed
    /// requests are refused unread until its quota refills.
    pub failed_auth: Limit,
    /// Take the client's address from the last `X-Forwarded-For` entry (behind a reverse
    /// proxy that sets it), and its scheme from `X-Forwarded-Proto`. Off by default: a
    /// client could otherwise name any address and slip its limit.
    pub trust_forwarded_for: bool,
}

impl Default for Limits {
    fn default() -> Self {
        const fn nz(n: u32) -> NonZeroU32 {
            match NonZeroU32::new(n) {
                Some(n) => n,
                None => NonZeroU32::MIN,
            }
        }
        Self {
            per_key: Limit(Some(Rate::per_second(nz(5_000), nz(10_000)))),
            per_client: Limit(Some(Rate::per_second(nz(20), nz(200)))),
            failed_auth: Limit(Some(Rate {
                count: nz(60),
                per: Duration::from_secs(60),
                burst: nz(20),
            })),
            trust_forwarded_for: false,
        }
    }
}

/// A client, as the limiter knows it: a keyed hash of its address, never the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(u64);

/// How often (in checks) keys idle long enough to have a full quota again are dropped.
const RETAIN_EVERY: u64 = 4096;

/// The limiters of one server.
pub struct RateLimits {
    /// Keyed by a hash of the key id: no allocation per request on the decision path.
    per_key: Option<DefaultKeyedRateLimiter<u64>>,
    per_client: Option<DefaultKeyedRateLimiter<ClientKey>>,
    failed_auth: Option<DefaultKeyedRateLimiter<ClientKey>>,
    /// Clients whose failed-auth quota ran out, until when.
    penalised: Mutex<HashMap<ClientKey, Instant>>,
    trust_forwarded_for: bool,
    hasher: std::collections::hash_map::RandomState,
    checks: AtomicU64,
    clock: DefaultClock,
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    pub fn new(limits: &Limits) -> Self {
        Self {
            per_key: limits
                .per_key
                .0
                .map(|r| DefaultKeyedRateLimiter::keyed(r.quota())),
            per_client: limits
                .per_client
                .0
                .map(|r| DefaultKeyedRateLimiter::keyed(r.quota())),
            failed_auth: limits
                .failed_auth
                .0
                .map(|r| DefaultKeyedRateLimiter::keyed(r.quota())),
            penalised: Mutex::new(HashMap::new()),
            trust_forwarded_for: limits.trust_forwarded_for,
            hasher: std::collections::hash_map::RandomState::new(),
            checks: AtomicU64::new(0),
            clock: DefaultClock::default(),
        }
    }

    /// Charges one request to API key `id`.
    fn charge_key(&self, id: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_key else {
            return Ok(());
        };
        self.tidy();
        limiter
            .check_key(&self.hasher.hash_one(id))
            .inspect_err(|_| {
                metrics::counter!("keuze_rate_limited_total", "quota" => "per_key").increment(1);
            })
            .map_err(|not_until| ApiError::RateLimited {
                who: "for this API key",
                retry_after_secs: whole_seconds(not_until.wait_time_from(self.clock.now())),
            })
    }

    fn charge_client(&self, client: ClientKey) -> Result<(), ApiError> {
        let Some(limiter) = &self.per_client else {
            return Ok(());
        };
        self.tidy();
        limiter
            .check_key(&client)
            .inspect_err(|_| {
                metrics::counter!("keuze_rate_limited_total", "quota" => "per_client").increment(1);
            })
            .map_err(|not_until| ApiError::RateLimited {
                who: "from this client",
                retry_after_secs: whole_seconds(not_until.wait_time_from(self.clock.now())),
            })
    }

    /// Seconds until a penalised client may present a key again, if it is penalised.
    fn penalty(&self, client: ClientKey) -> Option<u64> {
        let mut penalised = self
            .penalised
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = *penalised.get(&client)?;
        let now = Instant::now();
        if until <= now {
            penalised.remove(&client);
            return None;
        }
        Some(whole_seconds(until - now))
    }

    fn charge_failed_auth(&self, client: ClientKey) {
        let Some(limiter) = &self.failed_auth else {
            return;
        };
        if let Err(not_until) = limiter.check_key(&client) {
            let wait = not_until.wait_time_from(self.clock.now());
            tracing::warn!(
                retry_after_s = whole_seconds(wait),
                "a client presented too many wrong API keys; its keyed requests are refused for a while"
            );
            self.penalise(client, wait);
        }
    }

    /// Charges a request that carried an `Authorization` header to a route that takes no
    /// key to its client after the fact; over the client's quota, its keyed requests wait
    /// like a key guesser's, so a made-up header buys no way around the client quota.
    fn charge_unkeyed_after(&self, client: ClientKey) {
        let Some(limiter) = &self.per_client else {
            return;
        };
        if let Err(not_until) = limiter.check_key(&client) {
            self.penalise(client, not_until.wait_time_from(self.clock.now()));
        }
    }

    fn penalise(&self, client: ClientKey, wait: Duration) {
        self.penalised
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(client, Instant::now() + wait);
    }

    /// Now and then, forgets clients and keys idle long enough to have a full quota.
    fn tidy(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY != RETAIN_EVERY - 1 {
            return;
        }
        for limiter in [&self.per_client, &self.failed_auth].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_key {
            limiter.retain_recent();
        }
        let now = Instant::now();
        self.penalised
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, until| *until > now);
    }

    /// The client a request came from.
    pub fn client_of(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientKey {
        let forwarded = self
            .trust_forwarded_for
            .then(|| last_forwarded_for(headers))
            .flatten();
        let ip = forwarded.or(peer.map(|p| p.ip()));
        let mut h = self.hasher.build_hasher();
        match ip.map(canonical) {
            Some(IpAddr::V4(v4)) => v4.octets().hash(&mut h),
            // A /64 is what one household or phone gets; an address per request within it
            // must not buy a fresh quota each.
            Some(IpAddr::V6(v6)) => v6.octets().get(..8).hash(&mut h),
            // No address (a server not started by [`crate::listen::serve`]): one shared bucket.
            None => 0u8.hash(&mut h),
        }
        ClientKey(h.finish())
    }

    /// Whether `X-Forwarded-Proto` may be believed.
    pub fn trusts_forwarded(&self) -> bool {
        self.trust_forwarded_for
    }
}

/// An IPv4 address mapped into IPv6 is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The address the nearest proxy saw: the last entry of the last `X-Forwarded-For`.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers.get_all("x-forwarded-for").iter().next_back()?;
    let last = value.to_str().ok()?.rsplit(',').next()?.trim();
    last.parse().ok()
}

fn whole_seconds(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// What a request carrying an `Authorization` header gets from the middleware: the
/// limits, and whether a handler authenticated the key (and charged it).
#[derive(Clone)]
pub struct RequestQuota {
    limits: Arc<RateLimits>,
    key_charged: Arc<std::sync::atomic::AtomicBool>,
}

impl RequestQuota {
    /// Charges one request to API key `id`; called once the key is authenticated.
    pub fn charge_key(&self, id: &str) -> Result<(), ApiError> {
        self.key_charged.store(true, Ordering::Release);
        self.limits.charge_key(id)
    }
}

/// The middleware: refuses over-quota requests before any handler runs, and penalises
/// clients whose keys keep being refused.
pub async fn limit_requests(
    State(limits): State<Arc<RateLimits>>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let client = limits.client_of(req.headers(), peer);
    let keyed = req.headers().contains_key(header::AUTHORIZATION);
    if keyed {
        if let Some(retry_after_secs) = limits.penalty(client) {
            metrics::counter!("keuze_rate_limited_total", "quota" => "failed_auth").increment(1);
            return ApiError::RateLimited {
                who: "from this client, after too many wrong API keys",
                retry_after_secs,
            }
            .into_response();
        }
    } else if let Err(e) = limits.charge_client(client) {
        return e.into_response();
    }
    let key_charged = Arc::new(std::sync::atomic::AtomicBool::new(false));
    req.extensions_mut().insert(RequestQuota {
        limits: Arc::clone(&limits),
        key_charged: Arc::clone(&key_charged),
    });
    let res = next.run(req).await;
    if keyed {
        if res.status() == axum::http::StatusCode::UNAUTHORIZED {
            limits.charge_failed_auth(client);
        } else if !key_charged.load(Ordering::Acquire) {
            limits.charge_unkeyed_after(client);
        }
    }
    res
}

/// The middleware that answers 408 to a request not complete within the given time: a
/// body sent too slowly, mostly. Writes already handed to the ledger still commit, as
/// when a client disconnects; the client reads its state to learn the outcome.
pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::Timeout(limit.as_secs().max(1)).into_response(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_and_without_burst() {
        let l: Limit = "20/s".parse().unwrap();
        assert_eq!(l.to_string(), "20/s burst 20");
        let l: Limit = "600/min burst 50".parse().unwrap();
        assert_eq!(l.to_string(), "600/min burst 50");
        let l: Limit = "1/min".parse().unwrap();
        assert_eq!(l.to_string(), "1/min burst 1");
        assert_eq!("off".parse::<Limit>().unwrap(), Limit(None));
    }

    #[test]
    fn bad_rates_say_what_is_wrong() {
        let why = |s: &str| s.parse::<Limit>().unwrap_err().to_string();
        assert!(why("20").contains("no `/s` or `/min`"), "{}", why("20"));
        assert!(why("0/s").contains("from 1"));
        assert!(why("5/h").contains("`s` or `min`"));
        assert!(why("5/s burst").contains("only `burst <n>`"));
        assert!(why("5/s burst 0").contains("burst must be"));
        assert!(why("").contains("empty"));
    }

    #[test]
    fn a_quota_allows_its_burst_then_says_when_to_retry() {
        let limits = RateLimits::new(&Limits {
            per_key: "1/min burst 2".parse().unwrap(),
            ..Limits::default()
        });
        assert!(limits.charge_key("k1").is_ok());
        assert!(limits.charge_key("k1").is_ok());
        match limits.charge_key("k1") {
            Err(ApiError::RateLimited {
                retry_after_secs, ..
            }) => assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("expected a rate limit, got {other:?}"),
        }
        // Another key has its own quota.
        assert!(limits.charge_key("k2").is_ok());
    }

    #[test]
    fn clients_are_told_apart_by_address_and_ipv6_by_their_64() {
        let limits = RateLimits::new(&Limits::default());
        let h = HeaderMap::new();
        let at = |s: &str| limits.client_of(&h, Some(SocketAddr::new(s.parse().unwrap(), 1)));
        assert_eq!(at("192.0.2.1"), at("192.0.2.1"));
        assert_ne!(at("192.0.2.1"), at("192.0.2.2"));
        assert_eq!(at("2001:db8::1"), at("2001:db8::ffff:1"));
        assert_ne!(at("2001:db8::1"), at("2001:db8:0:1::1"));
        assert_eq!(at("::ffff:192.0.2.1"), at("192.0.2.1"));
    }

    #[test]
    fn forwarded_for_counts_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.7, 192.0.2.9".parse().unwrap(),
        );
        let peer = Some(SocketAddr::new("10.0.0.1".parse().unwrap(), 1));
        let bare = HeaderMap::new();
        let untrusting = RateLimits::new(&Limits::default());
        assert_eq!(
            untrusting.client_of(&h, peer),
            untrusting.client_of(&bare, peer)
        );
        let trusting = RateLimits::new(&Limits {
            trust_forwarded_for: true,
            ..Limits::default()
        });
        let direct = trusting.client_of(
            &bare,
            Some(SocketAddr::new("192.0.2.9".parse().unwrap(), 1)),
        );
        assert_eq!(trusting.client_of(&h, peer), direct);
    }
}
