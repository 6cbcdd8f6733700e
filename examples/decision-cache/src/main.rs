//! Follows Keuze's JetStream stream from the start and keeps a [`DecisionCache`],
//! printing each change. Run next to `keuze serve --nats nats://127.0.0.1:4222`:
//!
//! ```sh
//! cargo run -p keuze-example-decision-cache -- nats://127.0.0.1:4222 KEUZE_CONSENT
//! ```

use anyhow::Context;
use async_nats::jetstream::{self, consumer::push::OrderedConfig};
use futures_util::StreamExt;
use keuze_example_decision_cache::{DecisionCache, Event};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let stream_name = args.next().unwrap_or_else(|| "KEUZE_CONSENT".into());
    let client = async_nats::connect(url.as_str())
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))?;
    let js = jetstream::new(client.clone());
    let stream = js.get_stream(&stream_name).await.with_context(|| {
        format!("no stream `{stream_name}`: is keuze serve running with --nats?")
    })?;
    // An ordered consumer: every message from the first, in stream order, no acks; it
    // recreates itself after a gap. A real service would start at `cache.last_seq + 1`
    // from a snapshot instead of the beginning.
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_subject: client.new_inbox(),
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    let mut cache = DecisionCache::default();
    while let Some(message) = messages.next().await {
        let message = message?;
        let event: Event = match serde_json::from_slice(&message.payload) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("skipping a message that is not a Keuze event: {e}");
                continue;
            }
        };
        let (seq, subject, purpose, action) = (
            event.seq,
            event.subject.clone(),
            event.purpose.clone(),
            event.action.clone(),
        );
        if cache.apply(event) {
            println!(
                "seq {seq}: {subject:.12}… {purpose} → {action} (allowed: {}); {} cached",
                cache.allowed(&subject, &purpose),
                cache.len()
            );
        }
    }
    Ok(())
}
