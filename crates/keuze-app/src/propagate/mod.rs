//! Propagation: every committed consent event reaches downstream systems, through signed
//! webhooks ([`webhook`]) and a NATS JetStream stream ([`nats`]).
//!
//! The ledger is the outbox ([`keuze_store::Outbox`]): each sink reads it from a durable
//! cursor, delivers, then moves the cursor. So only committed events are delivered (they
//! are read back from the database), and an event committed but not yet delivered when
//! the process dies is delivered after the restart: at-least-once. The commit hook wakes
//! the sinks; a slow poll also picks up writes made by other processes.

pub mod nats;
pub mod webhook;

use crate::state::Clock;
use keuze_core::incident::NoticeEvent;
use keuze_core::{ConsentEvent, PurposeId, SubjectId, Timestamp};
use keuze_store::{DeadLetter, Outbox, OutboxEvent, StoreError, StoredWebhook};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa::ToSchema;

/// How often an idle sink looks at the ledger without being woken (writes by another
/// process, such as `keuze import`, do not pass through this process's commit hook).
const POLL: Duration = Duration::from_secs(1);

/// One consent event as every sink delivers it: the body of a webhook POST and the
/// payload of a NATS message. Subjects appear only as their pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PropagatedEvent {
    /// `consent.grant`, `consent.withdraw`, `consent.object` or `consent.erase`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The ledger sequence number: unique, gap-free, increasing. Use it to drop duplicates
    /// (delivery is at-least-once) and to keep only the newest state per subject.
    pub seq: u64,
    /// The subject's pseudonym, 64 hex digits.
    pub subject: String,
    pub purpose: String,
    pub action: String,
    pub source: String,
    pub catalog_version: u32,
    /// `sha256:` and the hex digest of the notice text the customer was shown.
    pub notice_digest: String,
    pub locale: String,
    /// Server time of the write, RFC 3339.
    pub recorded_at: String,
}

impl From<&ConsentEvent> for PropagatedEvent {
    fn from(e: &ConsentEvent) -> Self {
        Self {
            kind: format!("consent.{}", e.event.action),
            seq: e.seq,
            subject: e.event.subject.to_hex(),
            purpose: e.event.purpose.to_string(),
            action: e.event.action.to_string(),
            source: e.event.source.to_string(),
            catalog_version: e.event.catalog_version,
            notice_digest: e.event.notice_digest.to_string(),
            locale: e.event.locale.to_string(),
            recorded_at: e.event.recorded_at.to_rfc3339(),
        }
    }
}

/// A customer told of a privacy incident, or acknowledging it, as every sink delivers it:
/// what the organisation's own mailer needs to send the notice (the texts are at
/// `GET /v1/incidents/{incident}`). Subjects appear only as their pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PropagatedNotice {
    /// `incident.notified` or `incident.acknowledged`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The ledger sequence number, shared with consent events.
    pub seq: u64,
    /// The subject's pseudonym, 64 hex digits.
    pub subject: String,
    /// The incident's number.
    pub incident: u32,
    /// `sha256:` and the hex digest of the incident as recorded: exactly what the
    /// customer is told.
    pub notice_digest: String,
    /// The language to tell the customer in.
    pub locale: String,
    pub source: String,
    /// Server time of the entry, RFC 3339.
    pub recorded_at: String,
}

impl From<&NoticeEvent> for PropagatedNotice {
    fn from(e: &NoticeEvent) -> Self {
        Self {
            kind: format!("incident.{}", e.notice.kind),
            seq: e.seq,
            subject: e.notice.subject.to_hex(),
            incident: e.notice.incident,
            notice_digest: e.notice.notice_digest.to_string(),
            locale: e.notice.locale.to_string(),
            source: e.notice.source.to_string(),
            recorded_at: e.notice.recorded_at.to_rfc3339(),
        }
    }
}

/// What a sink needs of any delivered entry.
pub(crate) fn subject_of(event: &OutboxEvent) -> SubjectId {
    match event {
        OutboxEvent::Consent(e) => e.event.subject,
        OutboxEvent::Notice(e) => e.notice.subject,
    }
}

pub(crate) fn recorded_at(event: &OutboxEvent) -> Timestamp {
    match event {
        OutboxEvent::Consent(e) => e.event.recorded_at,
        OutboxEvent::Notice(e) => e.notice.recorded_at,
    }
}

/// The body of a webhook POST and the payload of a NATS message.
pub(crate) fn body_of(event: &OutboxEvent) -> Result<Vec<u8>, String> {
    match event {
        OutboxEvent::Consent(e) => serde_json::to_vec(&PropagatedEvent::from(e)),
        OutboxEvent::Notice(e) => serde_json::to_vec(&PropagatedNotice::from(e)),
    }
    .map_err(|e| format!("the event could not be serialised: {e}"))
}

/// The NATS subject after the prefix: the purpose for a consent event, `_incidents.<n>`
/// for a notice (a purpose id cannot start with `_`, so the two never meet).
pub(crate) fn subject_suffix(event: &OutboxEvent) -> String {
    match event {
        OutboxEvent::Consent(e) => e.event.purpose.to_string(),
        OutboxEvent::Notice(e) => format!("_incidents.{}", e.notice.incident),
    }
}

/// How failed deliveries are retried: exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// A webhook delivery is tried at most this often, then dead-lettered. NATS publishes
    /// are retried without limit: the stream is the log, nothing may be skipped.
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further one.
    pub base_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How long one webhook POST may take.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (from 1): `base · 2^(attempt-1)`
    /// capped at `max_delay`, plus up to half of that again at random, so receivers that
    /// come back are not hit by every sender at once.
    pub fn delay(&self, attempt: u32, rng: &mut impl RngCore) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let delay = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let jitter_ms = u64::try_from(delay.as_millis() / 2).unwrap_or(u64::MAX);
        let jitter = if jitter_ms == 0 {
            0
        } else {
            rng.gen_range(0..=jitter_ms)
        };
        delay.saturating_add(Duration::from_millis(jitter))
    }
}

/// The NATS JetStream sink's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsConfig {
    /// e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// The stream, created if absent.
    pub stream: String,
    /// Events go to `<prefix>.<purpose>`; the stream takes `<prefix>.>`.
    pub subject_prefix: String,
}

impl NatsConfig {
    pub const DEFAULT_STREAM: &'static str = "KEUZE_CONSENT";
    pub const DEFAULT_PREFIX: &'static str = "keuze.consent";

    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stream: Self::DEFAULT_STREAM.into(),
            subject_prefix: Self::DEFAULT_PREFIX.into(),
        }
    }
}

/// A webhook declared in the config file (a `[[webhook]]` table, read straight into this):
/// stored as `cfg_<name>` at every start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfiguredWebhook {
    pub name: String,
    pub url: String,
    /// Leave out for every purpose.
    #[serde(default)]
    pub purposes: Vec<PurposeId>,
    /// Signs the Keuze-Signature header; `Debug` shows it redacted.
    pub secret: secrecy::SecretString,
}

/// Everything propagation is told at start.
#[derive(Debug, Clone, Default)]
pub struct PropagationConfig {
    pub nats: Option<NatsConfig>,
    pub webhooks: Vec<ConfiguredWebhook>,
    pub retry: RetryPolicy,
    /// Ledger rows a sink reads at once; its cursor moves after each batch.
    pub batch: u32,
}

/// What a sink does with a batch read from the outbox. It returns once every event is
/// delivered or given up on (dead-lettered); the cursor then moves past the batch.
#[async_trait::async_trait]
trait Sink: Send + Sync + 'static {
    /// The cursor's name, e.g. `webhook:wh_…` or `nats:KEUZE_CONSENT`.
    fn name(&self) -> &str;
    async fn deliver(&self, events: &[OutboxEvent]);
}

/// What the sinks share.
pub(crate) struct Shared {
    pub(crate) outbox: Arc<dyn Outbox>,
    /// The ledger's head (the last committed seq), moved by the commit hook.
    head: watch::Sender<u64>,
    pub(crate) clock: Arc<dyn Clock>,
    rng: Mutex<StdRng>,
    pub(crate) retry: RetryPolicy,
    batch: u32,
    pub(crate) http: reqwest::Client,
}

impl Shared {
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.retry.delay(attempt, &mut *rng)
    }

    pub(crate) fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fill_bytes(&mut out);
        out
    }

    /// Seconds from the event's recording to now, for the latency histogram.
    pub(crate) fn age_seconds(&self, event: &OutboxEvent) -> f64 {
        let ms = self
            .clock
            .now()
            .unix_millis()
            .saturating_sub(recorded_at(event).unix_millis());
        ms.max(0) as f64 / 1000.0
    }
}

/// Why a propagation request was refused.
#[derive(Debug, thiserror::Error)]
pub enum PropagationError {
    #[error("there is no webhook `{0}`")]
    UnknownWebhook(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A webhook as the admin API shows it: never its secret.
#[derive(Debug, Clone)]
pub struct WebhookStatus {
    pub webhook: StoredWebhook,
    /// The last seq delivered (or dead-lettered).
    pub delivered: u64,
}

/// The running sinks and the way to change them.
pub struct Propagator {
    shared: Arc<Shared>,
    sinks: tokio::sync::Mutex<HashMap<String, JoinHandle<()>>>,
}

impl Propagator {
    /// Stores the config file's webhooks (dropping config webhooks no longer there), then
    /// starts a sink per webhook and one for NATS if configured. `head` is the ledger's
    /// last seq now.
    pub async fn start(
        outbox: Arc<dyn Outbox>,
        config: PropagationConfig,
        clock: Arc<dyn Clock>,
        seed: Option<[u8; 32]>,
        head: u64,
    ) -> Result<Arc<Self>, StoreError> {
        let http = reqwest::Client::builder()
            .timeout(config.retry.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StoreError::Unavailable(format!("cannot set up the HTTP client: {e}")))?;
        let rng = match seed {
            // A different stream than the state's own rng, from the same seed.
            Some(mut seed) => {
                seed[0] ^= 0x5a;
                StdRng::from_seed(seed)
            }
            None => StdRng::from_entropy(),
        };
        let shared = Arc::new(Shared {
            outbox,
            head: watch::Sender::new(head),
            clock,
            rng: Mutex::new(rng),
            retry: config.retry,
            batch: if config.batch == 0 { 256 } else { config.batch },
            http,
        });
        let this = Arc::new(Self {
            shared,
            sinks: tokio::sync::Mutex::new(HashMap::new()),
        });
        let configured: Vec<String> = config
            .webhooks
            .iter()
            .map(|w| format!("cfg_{}", w.name))
            .collect();
        for stored in this.shared.outbox.webhooks().await? {
            if stored.id.starts_with("cfg_") && !configured.contains(&stored.id) {
                this.shared.outbox.delete_webhook(&stored.id).await?;
                tracing::info!(webhook = %stored.id, "removed a webhook no longer in the config file");
            }
        }
        let now = this.shared.clock.now();
        for w in config.webhooks {
            this.shared
                .outbox
                .put_webhook(&StoredWebhook {
                    id: format!("cfg_{}", w.name),
                    url: w.url,
                    purposes: w.purposes,
                    secret: secrecy::ExposeSecret::expose_secret(&w.secret).to_owned(),
                    created_at: now,
                })
                .await?;
        }
        for stored in this.shared.outbox.webhooks().await? {
            this.spawn_webhook(stored, None).await?;
        }
        if let Some(nats) = config.nats {
            let sink = nats::NatsSink::new(Arc::clone(&this.shared), nats);
            // A new stream gets the whole ledger: a consumer can rebuild state from it.
            let cursor = this.shared.outbox.sink_cursor(sink.name()).await?;
            let name = sink.name().to_owned();
            if cursor.is_none() {
                this.shared.outbox.set_sink_cursor(&name, 0).await?;
            }
            let handle = tokio::spawn(run(Arc::clone(&this.shared), sink, cursor.unwrap_or(0)));
            this.sinks.lock().await.insert(name, handle);
        }
        Ok(this)
    }

    /// Called by the commit hook (and after an erasure) with the last committed seq.
    pub fn committed(&self, seq: u64) {
        self.shared.head.send_if_modified(|head| {
            let newer = seq > *head;
            if newer {
                *head = seq;
            }
            newer
        });
    }

    /// The ledger's head as the sinks know it.
    pub fn head(&self) -> u64 {
        *self.shared.head.borrow()
    }

    /// Starts a webhook's sink from its stored cursor; a webhook without one starts at
    /// `start` or, if `None`, at the ledger's head (it hears what happens from now on).
    async fn spawn_webhook(
        &self,
        stored: StoredWebhook,
        start: Option<u64>,
    ) -> Result<(), StoreError> {
        let sink = webhook::WebhookSink::new(Arc::clone(&self.shared), stored);
        let name = sink.name().to_owned();
        let cursor = match self.shared.outbox.sink_cursor(&name).await? {
            Some(c) => c,
            None => {
                let c = start.unwrap_or_else(|| self.head());
                self.shared.outbox.set_sink_cursor(&name, c).await?;
                c
            }
        };
        let handle = tokio::spawn(run(Arc::clone(&self.shared), sink, cursor));
        if let Some(old) = self.sinks.lock().await.insert(name, handle) {
            old.abort();
        }
        Ok(())
    }

    /// Stops a sink and waits until it has (so it cannot write its cursor afterwards).
    async fn stop(&self, name: &str) {
        let handle = self.sinks.lock().await.remove(name);
        if let Some(handle) = handle {
            handle.abort();
            let _ = handle.await;
        }
    }

    /// Creates a webhook with a fresh secret and starts delivering to it: from `from_seq`
    /// if given (the ledger from that event on), else from the next event committed.
    pub async fn create_webhook(
        &self,
        url: String,
        purposes: Vec<PurposeId>,
        from_seq: Option<u64>,
    ) -> Result<StoredWebhook, StoreError> {
        let id = format!("wh_{}", hex::encode(self.shared.random_bytes::<8>()));
        let secret = format!("whsec_{}", hex::encode(self.shared.random_bytes::<32>()));
        let webhook = StoredWebhook {
            id,
            url,
            purposes,
            secret,
            created_at: self.shared.clock.now(),
        };
        self.shared.outbox.put_webhook(&webhook).await?;
        self.spawn_webhook(webhook.clone(), from_seq.map(|s| s.saturating_sub(1)))
            .await?;
        // Not the URL: receivers often put a token in it.
        tracing::info!(webhook = %webhook.id, "webhook created");
        Ok(webhook)
    }

    /// Every webhook with its cursor.
    pub async fn webhooks(&self) -> Result<Vec<WebhookStatus>, StoreError> {
        let mut out = Vec::new();
        for webhook in self.shared.outbox.webhooks().await? {
            let delivered = self
                .shared
                .outbox
                .sink_cursor(&webhook::sink_name(&webhook.id))
                .await?
                .unwrap_or(0);
            out.push(WebhookStatus { webhook, delivered });
        }
        Ok(out)
    }

    async fn find(&self, id: &str) -> Result<StoredWebhook, PropagationError> {
        self.shared
            .outbox
            .webhooks()
            .await?
            .into_iter()
            .find(|w| w.id == id)
            .ok_or_else(|| PropagationError::UnknownWebhook(id.to_owned()))
    }

    /// Stops and deletes a webhook, its cursor and its dead letters.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), PropagationError> {
        self.find(id).await?;
        self.stop(&webhook::sink_name(id)).await;
        self.shared.outbox.delete_webhook(id).await?;
        tracing::info!(webhook = %id, "webhook deleted");
        Ok(())
    }

    pub async fn dead_letters(&self, id: &str) -> Result<Vec<DeadLetter>, PropagationError> {
        self.find(id).await?;
        Ok(self.shared.outbox.dead_letters(id).await?)
    }

    /// Delivers the ledger again to a webhook from `from_seq` on (dead letters among them):
    /// its cursor goes back to `from_seq - 1`.
    pub async fn replay(&self, id: &str, from_seq: u64) -> Result<(), PropagationError> {
        let webhook = self.find(id).await?;
        let name = webhook::sink_name(id);
        self.stop(&name).await;
        let cursor = from_seq.saturating_sub(1);
        self.shared.outbox.set_sink_cursor(&name, cursor).await?;
        self.shared.outbox.clear_dead_letters(id, from_seq).await?;
        self.spawn_webhook(webhook, None).await?;
        tracing::info!(webhook = %id, from_seq, "replaying the ledger to a webhook");
        Ok(())
    }
}

impl Drop for Propagator {
    fn drop(&mut self) {
        for handle in self.sinks.get_mut().values() {
            handle.abort();
        }
    }
}

/// A sink's loop: read the outbox after the cursor, deliver, move the cursor; when there
/// is nothing to read, wait for a commit (or the poll).
async fn run(shared: Arc<Shared>, sink: impl Sink, mut cursor: u64) {
    let mut head = shared.head.subscribe();
    let lag = metrics::gauge!("keuze_outbox_lag_events", "sink" => sink.name().to_owned());
    let mut failures = 0u32;
    loop {
        let batch = match shared.outbox.outbox_events(cursor, shared.batch).await {
            Ok(batch) => {
                failures = 0;
                batch
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(sink = sink.name(), error = %e, "cannot read the outbox; retrying");
                tokio::time::sleep(shared.backoff(failures).min(POLL * 10)).await;
                continue;
            }
        };
        if batch.through <= cursor {
            lag.set(head.borrow().saturating_sub(cursor) as f64);
            let _ = tokio::time::timeout(POLL, head.changed()).await;
            continue;
        }
        sink.deliver(&batch.events).await;
        cursor = batch.through;
        let mut attempt = 0u32;
        // The cursor must be durable before the sink reads on; until it is, a crash only
        // means this batch is delivered again.
        while let Err(e) = shared.outbox.set_sink_cursor(sink.name(), cursor).await {
            attempt = attempt.saturating_add(1);
            tracing::error!(sink = sink.name(), error = %e, "cannot store the sink's cursor; retrying");
            tokio::time::sleep(shared.backoff(attempt).min(POLL * 10)).await;
        }
        lag.set(head.borrow().saturating_sub(cursor) as f64);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_at_most_half_again_of_jitter() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            timeout: Duration::from_secs(1),
        };
        let mut rng = StdRng::from_seed([1; 32]);
        for (attempt, base) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (30, 1000),
        ] {
            let d = policy.delay(attempt, &mut rng).as_millis();
            assert!(
                (base..=base + base / 2).contains(&d),
                "attempt {attempt}: {d} ms"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_delays() {
        let policy = RetryPolicy::default();
        let a: Vec<_> = {
            let mut rng = StdRng::from_seed([7; 32]);
            (1..8).map(|n| policy.delay(n, &mut rng)).collect()
        };
        let b: Vec<_> = {
            let mut rng = StdRng::from_seed([7; 32]);
            (1..8).map(|n| policy.delay(n, &mut rng)).collect()
        };
        assert_eq!(a, b);
    }
}
