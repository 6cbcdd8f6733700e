//! `keuze ledger verify` throughput against the machine's plain SHA-256 throughput over
//! the same bytes, measured in the same run. Run with
//! `cargo bench -p keuze-server --bench ledger_verify` (KEUZE_BENCH_EVENTS to resize).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use keuze_core::catalog::Digest256;
use keuze_core::{Action, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_server::audit::verify_ledger;
use keuze_sqlite::SqliteStore;
use keuze_store::Store;
use sha2::{Digest, Sha256};
use std::time::Instant;

fn event(i: u64) -> NewEvent {
    let mut subject = [0u8; 32];
    subject[..8].copy_from_slice(&(i % 5_000).to_le_bytes());
    NewEvent {
        subject: SubjectId::from_bytes(subject),
        purpose: PurposeId::parse(
            ["newsletter", "product_reviews", "advertising_partners"][(i % 3) as usize],
        )
        .unwrap(),
        action: if i.is_multiple_of(4) {
            Action::Withdraw
        } else {
            Action::Grant
        },
        source: Source::Api,
        catalog_version: 1,
        notice_digest: Digest256::of(b"notice"),
        locale: Locale::en(),
        recorded_at: Timestamp::from_unix_millis(1_800_000_000_000 + i as i64),
        context_digest: Digest256::of(b"context"),
    }
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("KEUZE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).await.unwrap();
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<NewEvent> = (i..(i + 2_000).min(n)).map(event).collect();
        i += batch.len() as u64;
        store.append(batch).await.unwrap();
    }
    eprintln!(
        "set-up: {n} events appended in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Baseline: SHA-256 over exactly the bytes verification hashes as leaves, in memory.
    let mut entries = Vec::new();
    let mut after = 0;
    while after < n {
        let page = store.ledger_entries(after, 10_000).await.unwrap();
        after = page.last().map_or(n, |e| e.seq);
        entries.extend(page.into_iter().map(|e| e.canonical_bytes()));
    }
    let bytes: u64 = entries.iter().map(|b| b.len() as u64).sum();
    let mut best_sha = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let mut acc = 0u8;
        for b in &entries {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(b);
            acc ^= h.finalize()[0];
        }
        std::hint::black_box(acc);
        best_sha = best_sha.min(t.elapsed().as_secs_f64());
    }

    let mut best_verify = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let report = verify_ledger(&store, &[], |_, _| {}).await.unwrap();
        assert_eq!(report.events, n);
        best_verify = best_verify.min(t.elapsed().as_secs_f64());
    }
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!("events                     {n}");
    println!("leaf bytes                 {:.1} MiB", mib);
    println!(
        "plain SHA-256 (in memory)  {:.3} s  {:>8.1} MiB/s  {:>10.0} leaves/s",
        best_sha,
        mib / best_sha,
        n as f64 / best_sha
    );
    println!(
        "keuze ledger verify        {:.3} s  {:>8.1} MiB/s  {:>10.0} events/s",
        best_verify,
        mib / best_verify,
        n as f64 / best_verify
    );
    println!(
        "ratio verify / SHA-256     {:.3}  (1.0 would be as fast as hashing the leaves alone)",
        best_sha / best_verify
    );
}
