//! Follows Keuze's JetStream stream from the start and keeps a [`DecisionCache`],
//! printing each change. Run next to `keuze serve --nats nats://127.0.0.1:4222`:
//!
//! ```sh
//! cargo run -p keuze-example-decision-cache -- nats://127.0.0.1:4222 KEUZE_CONSENT
//! ```

use anyhow::Context;
use keuze_example_decision_cache::{follow, DecisionCache};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "nats://127.0.0.1:4222".into());
    let stream = args.next().unwrap_or_else(|| "KEUZE_CONSENT".into());
    let client = async_nats::connect(url.as_str())
        .await
        .with_context(|| format!("cannot connect to NATS at {url}"))?;
    let mut cache = DecisionCache::default();
    follow(&client, &stream, &mut cache, None, |cache, e| {
        println!(
            "seq {}: {:.12}… {} → {} (allowed: {}); {} cached",
            e.seq,
            e.subject,
            e.purpose,
            e.action,
            cache.allowed(&e.subject, &e.purpose),
            cache.len()
        );
    })
    .await
}
