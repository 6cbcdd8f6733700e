//! NATS JetStream: every event is published to `<prefix>.<purpose>` in a stream (created
//! if absent), with the ledger seq as `Nats-Msg-Id`, so JetStream drops a message it has
//! seen within its duplicate window: a batch published again after a crash or a lost
//! acknowledgement is stored once.

use super::{body_of, subject_suffix, NatsConfig, Shared, Sink};
use async_nats::jetstream::{self, context::Publish, stream};
use keuze_store::OutboxEvent;
use std::sync::Arc;
use tokio::sync::Mutex;

pub(crate) struct NatsSink {
    shared: Arc<Shared>,
    config: NatsConfig,
    name: String,
    /// Connected lazily and again after errors, so the server starts without NATS.
    context: Mutex<Option<jetstream::Context>>,
}

impl NatsSink {
    pub(crate) fn new(shared: Arc<Shared>, config: NatsConfig) -> Self {
        let name = format!("nats:{}", config.stream);
        Self {
            shared,
            config,
            name,
            context: Mutex::new(None),
        }
    }

    async fn connect(&self) -> Result<jetstream::Context, String> {
        let client = async_nats::ConnectOptions::new()
            .name("keuze")
            .connect(self.config.url.as_str())
            .await
            .map_err(|e| format!("cannot connect to NATS at {}: {e}", self.config.url))?;
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: self.config.stream.clone(),
            subjects: vec![format!("{}.>", self.config.subject_prefix)],
            description: Some("Keuze consent events, one per ledger entry".into()),
            ..Default::default()
        })
        .await
        .map_err(|e| {
            format!(
                "cannot create or open the JetStream stream `{}` (subjects `{}.>`): {e}; \
                 is JetStream enabled on the server (nats-server -js)?",
                self.config.stream, self.config.subject_prefix
            )
        })?;
        tracing::info!(url = %self.config.url, stream = %self.config.stream, "publishing consent events to NATS JetStream");
        Ok(js)
    }

    /// Publishes `events` (pipelined: all sent, then every acknowledgement awaited);
    /// returns how many from the front are stored, and the error that stopped the rest.
    async fn publish(
        &self,
        js: &jetstream::Context,
        events: &[OutboxEvent],
    ) -> (usize, Option<String>) {
        let mut pending = Vec::with_capacity(events.len());
        let mut error = None;
        for event in events {
            let seq = event.seq();
            let body = match body_of(event) {
                Ok(b) => b,
                Err(e) => {
                    error = Some(format!("seq {seq}: {e}"));
                    break;
                }
            };
            let subject = format!("{}.{}", self.config.subject_prefix, subject_suffix(event));
            let publish = Publish::build()
                .payload(body.into())
                .message_id(seq.to_string());
            match js.send_publish(subject, publish).await {
                Ok(ack) => pending.push((event, ack)),
                Err(e) => {
                    error = Some(format!("seq {seq}: publish failed: {e}"));
                    break;
                }
            }
        }
        let mut stored = 0;
        for (event, ack) in pending {
            match ack.await {
                Ok(ack) => {
                    if ack.duplicate {
                        metrics::counter!("keuze_nats_duplicates_total").increment(1);
                    }
                    metrics::histogram!("keuze_propagation_delivery_seconds", "sink" => "nats")
                        .record(self.shared.age_seconds(event));
                    stored += 1;
                }
                Err(e) => {
                    error = Some(format!("seq {}: not acknowledged: {e}", event.seq()));
                    break;
                }
            }
        }
        (stored, error)
    }
}

#[async_trait::async_trait]
impl Sink for NatsSink {
    fn name(&self) -> &str {
        &self.name
    }

    /// Publishes until every event is stored, retrying what was not (with backoff, without
    /// limit: the stream must hold every event, in order).
    async fn deliver(&self, events: &[OutboxEvent]) {
        let mut rest = events;
        let mut attempt = 0u32;
        while !rest.is_empty() {
            let mut context = self.context.lock().await;
            let js = match context.as_ref() {
                Some(js) => js.clone(),
                None => match self.connect().await {
                    Ok(js) => {
                        *context = Some(js.clone());
                        js
                    }
                    Err(error) => {
                        drop(context);
                        attempt = attempt.saturating_add(1);
                        metrics::counter!("keuze_nats_failures_total").increment(1);
                        tracing::error!(%error, attempt, "NATS is unreachable; retrying");
                        tokio::time::sleep(self.shared.backoff(attempt)).await;
                        continue;
                    }
                },
            };
            drop(context);
            let (stored, error) = self.publish(&js, rest).await;
            rest = rest.get(stored..).unwrap_or_default();
            if let Some(error) = error {
                attempt = attempt.saturating_add(1);
                metrics::counter!("keuze_nats_failures_total").increment(1);
                tracing::warn!(%error, attempt, "publishing to NATS failed; retrying");
                if attempt.is_multiple_of(3) {
                    // Perhaps the stream was deleted: look it up (and create it) again.
                    *self.context.lock().await = None;
                }
                tokio::time::sleep(self.shared.backoff(attempt)).await;
            } else {
                attempt = 0;
            }
        }
    }
}
