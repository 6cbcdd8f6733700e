//! Signed webhooks: one JSON POST per event, signed like Stripe's: the header
//! `Keuze-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//! Events of one subject are delivered one after another, in ledger order, each retried
//! with backoff until it is delivered or dead-lettered; different subjects go in parallel.

use super::{body_of, subject_of, Shared, Sink};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use keuze_core::SubjectId;
use keuze_store::{DeadLetter, OutboxEvent, StoredWebhook};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "keuze-signature";
/// The event's ledger seq, for receivers that deduplicate before parsing.
pub const SEQ_HEADER: &str = "keuze-event-seq";
/// The webhook's id.
pub const WEBHOOK_HEADER: &str = "keuze-webhook-id";

/// How many subjects' events are in flight at once to one webhook.
const PARALLEL_SUBJECTS: usize = 16;

/// The cursor name of webhook `id`.
pub fn sink_name(id: &str) -> String {
    format!("webhook:{id}")
}

/// The `Keuze-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body))
    )
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a `Keuze-Signature` header against the body and secret (constant time);
/// returns the signed timestamp. The receiver should also refuse timestamps too far
/// from its own clock (replays).
pub fn verify_signature(secret: &str, header: &str, body: &[u8]) -> Option<i64> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp?;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return None;
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    signatures
        .iter()
        .any(|s| mac.clone().verify_slice(s).is_ok())
        .then_some(timestamp)
}

pub(crate) struct WebhookSink {
    shared: Arc<Shared>,
    webhook: StoredWebhook,
    name: String,
}

impl WebhookSink {
    pub(crate) fn new(shared: Arc<Shared>, webhook: StoredWebhook) -> Self {
        let name = sink_name(&webhook.id);
        Self {
            shared,
            webhook,
            name,
        }
    }

    /// A purpose filter selects consent events; incident notices go to every webhook, so
    /// that telling affected customers never hangs on a filter set up for consent changes.
    fn wants(&self, event: &OutboxEvent) -> bool {
        match event {
            OutboxEvent::Consent(e) => {
                self.webhook.purposes.is_empty() || self.webhook.purposes.contains(&e.event.purpose)
            }
            OutboxEvent::Notice(_) => true,
        }
    }

    /// One POST; `Err` says what went wrong, for the log and the dead letter.
    async fn post(&self, event: &OutboxEvent) -> Result<(), String> {
        let seq = event.seq();
        let body = body_of(event)?;
        let timestamp = self.shared.clock.now().unix_millis().div_euclid(1000);
        let response = self
            .shared
            .http
            .post(&self.webhook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature(&self.webhook.secret, timestamp, &body),
            )
            .header(SEQ_HEADER, seq.to_string())
            .header(WEBHOOK_HEADER, self.webhook.id.as_str())
            .body(body)
            .send()
            .await
            .map_err(|e| {
                // Without the URL: it may hold credentials; the webhook id names it.
                format!("the request failed: {}", e.without_url())
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered HTTP {}", status.as_u16()))
        }
    }

    /// Delivers one event, retrying until it is delivered or has failed `max_attempts`
    /// times; then it becomes a dead letter.
    async fn deliver_one(&self, event: &OutboxEvent) {
        let failures =
            metrics::counter!("keuze_webhook_failures_total", "webhook" => self.webhook.id.clone());
        let mut attempt = 1u32;
        loop {
            let started = Instant::now();
            match self.post(event).await {
                Ok(()) => {
                    metrics::histogram!("keuze_propagation_delivery_seconds", "sink" => "webhook")
                        .record(self.shared.age_seconds(event));
                    metrics::histogram!("keuze_webhook_request_seconds", "webhook" => self.webhook.id.clone())
                        .record(started.elapsed().as_secs_f64());
                    return;
                }
                Err(error) => {
                    failures.increment(1);
                    if attempt >= self.shared.retry.max_attempts.max(1) {
                        tracing::warn!(webhook = %self.webhook.id, seq = event.seq(), attempts = attempt, %error, "webhook delivery gave up; the event is a dead letter");
                        metrics::counter!("keuze_webhook_dead_letters_total", "webhook" => self.webhook.id.clone()).increment(1);
                        let letter = DeadLetter {
                            webhook: self.webhook.id.clone(),
                            seq: event.seq(),
                            attempts: attempt,
                            error,
                            failed_at: self.shared.clock.now(),
                        };
                        let mut tries = 0u32;
                        while let Err(e) = self.shared.outbox.add_dead_letter(&letter).await {
                            tries = tries.saturating_add(1);
                            tracing::error!(webhook = %self.webhook.id, seq = event.seq(), error = %e, "cannot store a dead letter; retrying");
                            tokio::time::sleep(self.shared.backoff(tries)).await;
                        }
                        return;
                    }
                    tracing::debug!(webhook = %self.webhook.id, seq = event.seq(), attempt, %error, "webhook delivery failed; retrying");
                    tokio::time::sleep(self.shared.backoff(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Sink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deliver(&self, events: &[OutboxEvent]) {
        // Per subject, in ledger order: a subject's later event waits for its earlier one.
        let mut order: HashMap<SubjectId, usize> = HashMap::new();
        let mut chains: Vec<Vec<&OutboxEvent>> = Vec::new();
        for event in events.iter().filter(|e| self.wants(e)) {
            let at = *order.entry(subject_of(event)).or_insert_with(|| {
                chains.push(Vec::new());
                chains.len() - 1
            });
            if let Some(chain) = chains.get_mut(at) {
                chain.push(event);
            }
        }
        futures_util::stream::iter(chains)
            .for_each_concurrent(PARALLEL_SUBJECTS, |chain| async move {
                for event in chain {
                    self.deliver_one(event).await;
                }
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_or_secret_does_not() {
        let header = signature("whsec_x", 1_700_000_000, b"{\"seq\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify_signature("whsec_x", &header, b"{\"seq\":1}"),
            Some(1_700_000_000)
        );
        assert_eq!(verify_signature("whsec_x", &header, b"{\"seq\":2}"), None);
        assert_eq!(verify_signature("whsec_y", &header, b"{\"seq\":1}"), None);
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(verify_signature("whsec_x", &moved, b"{\"seq\":1}"), None);
    }
}
