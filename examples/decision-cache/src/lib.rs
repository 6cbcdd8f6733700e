//! A local decision cache fed by Keuze's event stream: what a downstream service keeps
//! so it can ask "may I use this subject's data for this purpose?" without a network call.
//!
//! Delivery is at-least-once and ordered per subject, so the cache applies an event only
//! if its `seq` is newer than what it holds for that (subject, purpose): duplicates and
//! replays change nothing.

use anyhow::Context;
use async_nats::jetstream::{self, consumer::push::OrderedConfig};
use futures_util::StreamExt;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// One event as Keuze publishes it (the fields this consumer needs).
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    pub seq: u64,
    /// The subject's pseudonym, 64 hex digits.
    pub subject: String,
    pub purpose: String,
    /// `grant`, `withdraw`, `object` or `erase`.
    pub action: String,
}

/// The latest action per (subject, purpose), and the erased subjects.
#[derive(Debug, Default)]
pub struct DecisionCache {
    latest: HashMap<(String, String), (u64, String)>,
    erased: HashSet<String>,
    /// The newest seq applied: where to resume after a restart.
    pub last_seq: u64,
}

impl DecisionCache {
    /// Applies one event; returns false if it was a duplicate or older than the cache.
    pub fn apply(&mut self, event: Event) -> bool {
        self.last_seq = self.last_seq.max(event.seq);
        if event.action == "erase" {
            self.latest.retain(|(s, _), _| *s != event.subject);
            return self.erased.insert(event.subject);
        }
        let key = (event.subject, event.purpose);
        match self.latest.get(&key) {
            Some((seq, _)) if *seq >= event.seq => false,
            _ => {
                self.latest.insert(key, (event.seq, event.action));
                true
            }
        }
    }

    /// True only for a granted consent purpose. (Purposes on legitimate interest or a
    /// contract have other rules: ask Keuze's `/v1/decide` for those.)
    pub fn allowed(&self, subject: &str, purpose: &str) -> bool {
        !self.erased.contains(subject)
            && self
                .latest
                .get(&(subject.to_owned(), purpose.to_owned()))
                .is_some_and(|(_, action)| action == "grant")
    }

    /// How many (subject, purpose) pairs are cached.
    pub fn len(&self) -> usize {
        self.latest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty()
    }
}

/// Follows `stream` from its first message with an ordered consumer (in stream order, no
/// acks, recreated by the client after a gap), applying each event to `cache` and then
/// calling `changed` for each event that changed it. Returns once the cache has applied
/// seq `until`, or never if `None`. A real service would persist `cache` and resume at
/// `cache.last_seq + 1` instead of replaying the stream.
pub async fn follow(
    client: &async_nats::Client,
    stream: &str,
    cache: &mut DecisionCache,
    until: Option<u64>,
    mut changed: impl FnMut(&DecisionCache, &Event),
) -> anyhow::Result<()> {
    let js = jetstream::new(client.clone());
    let stream = js
        .get_stream(stream)
        .await
        .with_context(|| format!("no stream `{stream}`: is keuze serve running with --nats?"))?;
    let consumer = stream
        .create_consumer(OrderedConfig {
            deliver_subject: client.new_inbox(),
            ..Default::default()
        })
        .await?;
    let mut messages = consumer.messages().await?;
    if until.is_some_and(|u| cache.last_seq >= u) {
        return Ok(());
    }
    while let Some(message) = messages.next().await {
        let message = message?;
        // The stream also carries incident notices (`incident.notified`, under
        // `<prefix>._incidents.<n>`), which say nothing about consent: their seq counts,
        // the rest is for the organisation's mailer.
        if message
            .subject
            .as_str()
            .split('.')
            .any(|t| t == "_incidents")
        {
            #[derive(Deserialize)]
            struct Seq {
                seq: u64,
            }
            if let Ok(Seq { seq }) = serde_json::from_slice(&message.payload) {
                cache.last_seq = cache.last_seq.max(seq);
            }
            if until.is_some_and(|u| cache.last_seq >= u) {
                break;
            }
            continue;
        }
        let event: Event = match serde_json::from_slice(&message.payload) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("skipping a message that is not a Keuze event: {e}");
                continue;
            }
        };
        if cache.apply(event.clone()) {
            changed(cache, &event);
        }
        if until.is_some_and(|u| cache.last_seq >= u) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ev(seq: u64, subject: &str, action: &str) -> Event {
        Event {
            seq,
            subject: subject.into(),
            purpose: "newsletter".into(),
            action: action.into(),
        }
    }

    #[test]
    fn the_newest_event_wins_and_duplicates_change_nothing() {
        let mut cache = DecisionCache::default();
        assert!(cache.apply(ev(1, "a", "grant")));
        assert!(cache.allowed("a", "newsletter"));
        assert!(cache.apply(ev(2, "a", "withdraw")));
        assert!(!cache.apply(ev(1, "a", "grant")), "a redelivered old event");
        assert!(!cache.allowed("a", "newsletter"));
        assert!(!cache.allowed("b", "newsletter"), "never asked: denied");
    }

    #[test]
    fn an_erased_subject_is_never_allowed_again() {
        let mut cache = DecisionCache::default();
        cache.apply(ev(1, "a", "grant"));
        cache.apply(ev(2, "a", "erase"));
        assert!(!cache.allowed("a", "newsletter"));
        assert!(cache.is_empty());
        assert_eq!(cache.last_seq, 2);
    }
}
