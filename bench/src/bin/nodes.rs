//! Scale-out on PostgreSQL (issue 8), each figure against a baseline measured in the same
//! run:
//!
//! - **cross-node delay**: two `keuze serve` nodes on one schema; a choice recorded on
//!   node 1 (from its `201`) until node 2 decides accordingly. Baseline: a bare
//!   `pg_notify` on one connection until a `LISTEN`ing connection has it.
//! - **durable writes on PostgreSQL**, 64 concurrent clients through group commit, on one
//!   node and on two nodes sharing the ledger. Baseline: the same rows inserted raw into
//!   one PostgreSQL table, one multi-row `INSERT` per transaction of 64 rows.
//!
//! `nodes [--quick] [--bin-dir DIR]`; PostgreSQL from `KEUZE_BENCH_POSTGRES_URL`, by
//! default `postgres://postgres@127.0.0.1:5432/test`. Each run works in a schema of its
//! own, dropped afterwards.

use anyhow::{bail, Context, Result};
use clap::Parser;
use keuze_bench::Runs;
use keuze_core::catalog::Digest256;
use keuze_core::{Action, Locale, NewEvent, PurposeId, Source, SubjectId, Timestamp};
use keuze_postgres::PgStore;
use keuze_store::{GroupCommit, GroupCommitConfig, Store};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde_json::json;
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    /// Tiny sizes, a few seconds; asserts nothing about speed.
    #[arg(long)]
    quick: bool,
    /// Where the `keuze` binary is [default: next to this one].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Runs per write figure.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

const CLIENTS: usize = 64;

fn main() -> Result<()> {
    let args = Args::parse();
    let url = std::env::var("KEUZE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the runner has no directory")?
            .to_owned(),
    };
    // The nodes run in temporary directories: the path must not be relative.
    let bin_dir = std::fs::canonicalize(&bin_dir)
        .with_context(|| format!("no directory {}", bin_dir.display()))?;
    let changes = if args.quick { 20 } else { 1_000 };
    let writes = if args.quick { 1_280 } else { 64_000 };
    let runs = if args.quick { 1 } else { args.runs.max(1) };
    runtime.block_on(async {
        let delay = cross_node_delay(&url, &bin_dir.join("keuze"), changes).await?;
        let notify = notify_baseline(&url, changes).await?;
        println!("\n| cross-node delay, {changes} changes | p50 | p99 | max |\n| --- | ---: | ---: | ---: |");
        println!("| recorded on node 1 (its 201) → decided on node 2 | {} | {} | {} |", ms(&delay, 0.5), ms(&delay, 0.99), ms(&delay, 1.0));
        println!("| baseline: bare pg_notify → LISTENing connection | {} | {} | {} |", ms(&notify, 0.5), ms(&notify, 0.99), ms(&notify, 1.0));

        println!("\n| durable writes on PostgreSQL, {CLIENTS} clients | min | median | max | baseline (median) | ratio |\n| --- | ---: | ---: | ---: | ---: | ---: |");
        for (nodes, per_request) in [(1, 1), (1, 20), (2, 1), (2, 20)] {
            let mut keuze = Vec::new();
            let mut raw = Vec::new();
            for run in 0..runs {
                keuze.push(pg_writes(&url, writes, nodes, per_request, run as u64).await?);
                raw.push(raw_inserts(&url, writes, CLIENTS * per_request).await?);
            }
            let (keuze, raw) = (Runs { rates: keuze }, Runs { rates: raw });
            println!(
                "| {nodes} node(s), {per_request} purpose(s) per request | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} |",
                keuze.min(),
                keuze.median(),
                keuze.max(),
                raw.median(),
                keuze.median() / raw.median().max(f64::MIN_POSITIVE)
            );
        }
        anyhow::Ok(())
    })
}

/// The `q` quantile of sorted durations, in milliseconds.
fn ms(sorted: &[Duration], q: f64) -> String {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted
        .get(i)
        .map_or("-".into(), |d| format!("{:.3} ms", d.as_secs_f64() * 1e3))
}

fn fresh_schema(what: &str) -> String {
    let mut b = [0u8; 4];
    rand::thread_rng().fill_bytes(&mut b);
    format!("kz_bench_{what}_{}_{}", std::process::id(), hex(&b))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn drop_schema(url: &str, schema: &str) -> Result<()> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Cross-node delay

/// A `keuze serve` node, stopped when dropped.
struct Node {
    child: Child,
    base: String,
}

impl Node {
    fn start(keuze: &Path, cwd: &Path, data: &str, url: &str, schema: &str) -> Result<Self> {
        let mut child = Command::new(keuze)
            .current_dir(cwd)
            // The runner reads the server's English "listening on" line.
            .env("KEUZE_LANG", "en")
            .args(["serve", "--listen", "127.0.0.1:0", "--data", data])
            .args(["--database", url, "--database-schema", schema])
            .env("KEUZE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", keuze.display()))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        let Some(base) = line.trim().strip_prefix("keuze listening on ") else {
            bail!("keuze serve did not start: {line:?}");
        };
        Ok(Self {
            base: base.to_owned(),
            child,
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn cross_node_delay(url: &str, keuze: &Path, changes: usize) -> Result<Vec<Duration>> {
    let schema = fresh_schema("nodes");
    let dir = tempfile::tempdir()?;
    let node1 = Node::start(keuze, dir.path(), "node1", url, &schema)?;
    std::fs::create_dir_all(dir.path().join("node2"))?;
    for file in ["secret.key", "log.key"] {
        std::fs::copy(
            dir.path().join("node1").join(file),
            dir.path().join("node2").join(file),
        )?;
    }
    let node2 = Node::start(keuze, dir.path(), "node2", url, &schema)?;
    let out = Command::new(keuze)
        .current_dir(dir.path())
        .args(["key", "create", "--scope", "record", "--scope", "decide"])
        .args([
            "--data",
            "node1",
            "--database",
            url,
            "--database-schema",
            &schema,
        ])
        .output()?;
    if !out.status.success() {
        bail!("key create: {}", String::from_utf8_lossy(&out.stderr));
    }
    let key = String::from_utf8(out.stdout)?.trim().to_owned();
    let http = reqwest::Client::new();
    let mut delays = Vec::with_capacity(changes);
    for i in 0..changes {
        let customer = format!("customer-{}", i / 2);
        let action = if i % 2 == 0 { "grant" } else { "withdraw" };
        let recorded = http
            .post(format!("{}/v1/consents", node1.base))
            .bearer_auth(&key)
            .json(&json!({"subject": {"id": customer}, "choices": [{"purpose": "newsletter", "action": action}]}))
            .send()
            .await?;
        if recorded.status() != 201 {
            bail!("recording answered {}", recorded.status());
        }
        let started = Instant::now();
        loop {
            let answer: serde_json::Value = http
                .post(format!("{}/v1/decide", node2.base))
                .bearer_auth(&key)
                .json(&json!({"subject": {"id": customer}, "purpose": "newsletter"}))
                .send()
                .await?
                .json()
                .await?;
            if answer.get("allowed") == Some(&serde_json::Value::Bool(action == "grant")) {
                break;
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("node 2 did not follow within 10 s");
            }
        }
        delays.push(started.elapsed());
    }
    drop((node1, node2));
    drop_schema(url, &schema).await?;
    delays.sort();
    Ok(delays)
}

/// What PostgreSQL's notifications alone cost: NOTIFY on one connection until another
/// connection that LISTENs has it.
async fn notify_baseline(url: &str, n: usize) -> Result<Vec<Duration>> {
    let mut listener = PgListener::connect(url).await?;
    let channel = fresh_schema("notify");
    listener.listen(&channel).await?;
    let mut conn = PgConnection::connect(url).await?;
    let mut delays = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(&channel)
            .bind(i.to_string())
            .execute(&mut conn)
            .await?;
        let got = listener.recv().await?;
        if got.payload() != i.to_string() {
            bail!("notification {} arrived for {i}", got.payload());
        }
        delays.push(started.elapsed());
    }
    delays.sort();
    Ok(delays)
}

// ---------------------------------------------------------------------------------------
// Durable writes

fn purposes() -> Result<Vec<PurposeId>> {
    (0..20)
        .map(|p| PurposeId::parse(&format!("purpose_{p:02}")).map_err(anyhow::Error::from))
        .collect()
}

fn subject(rng: &mut StdRng) -> SubjectId {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    SubjectId::from_bytes(b)
}

fn grant(subject: SubjectId, purpose: PurposeId) -> NewEvent {
    NewEvent {
        subject,
        purpose,
        action: Action::Grant,
        source: Source::Banner,
        catalog_version: 1,
        notice_digest: Digest256::of(b"notice"),
        locale: Locale::en(),
        recorded_at: Timestamp::from_unix_millis(1_800_000_000_000),
        context_digest: Digest256::of(b"context"),
    }
}

/// `n` events from 64 clients through group commit, on `nodes` stores (each with its own
/// pool and group commit, as separate nodes have) sharing one schema.
async fn pg_writes(
    url: &str,
    n: usize,
    nodes: usize,
    per_request: usize,
    seed: u64,
) -> Result<f64> {
    let schema = fresh_schema("writes");
    let mut writers = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..nodes {
        let store = Arc::new(PgStore::connect_in_schema(url, &schema).await?);
        writers.push(Arc::new(GroupCommit::start(
            store.clone(),
            Arc::new(|_: &[keuze_core::ConsentEvent]| {}),
            GroupCommitConfig::default(),
        )));
        stores.push(store);
    }
    let purposes = purposes()?;
    let per_client = n / CLIENTS / per_request;
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let writer = Arc::clone(writers.get(c % nodes).context("no writer")?);
        let purposes = purposes.clone();
        clients.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed * 1_000 + c as u64);
            for _ in 0..per_client {
                let s = subject(&mut rng);
                let request = purposes
                    .iter()
                    .take(per_request)
                    .map(|p| grant(s, p.clone()))
                    .collect();
                writer.append(request).await?;
            }
            anyhow::Ok(())
        }));
    }
    for c in clients {
        c.await??;
    }
    let done = (per_client * CLIENTS * per_request) as u64;
    let rate = keuze_bench::rate(done, started.elapsed());
    let store = stores.first().context("no store")?;
    if store.event_count().await? != done {
        bail!("the ledger does not hold every acknowledged write");
    }
    for s in &stores {
        s.close().await;
    }
    drop_schema(url, &schema).await?;
    Ok(rate)
}

/// The baseline: ledger-shaped rows, `per_tx` per transaction, one multi-row INSERT each,
/// with PostgreSQL's default durability (synchronous_commit on), as the store has.
async fn raw_inserts(url: &str, n: usize, per_tx: usize) -> Result<f64> {
    let schema = fresh_schema("raw");
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE \"{schema}\".ledger (seq bigint PRIMARY KEY, subject bytea NOT NULL, \
         purpose text NOT NULL, action text NOT NULL, source text NOT NULL, \
         catalog_version integer NOT NULL, notice_digest bytea NOT NULL, locale text NOT NULL, \
         recorded_at bigint NOT NULL, context_digest bytea NOT NULL)"
    ))
    .execute(&mut conn)
    .await?;
    let sql = format!(
        "INSERT INTO \"{schema}\".ledger SELECT * FROM UNNEST($1::bigint[], $2::bytea[], $3::text[], \
         $4::text[], $5::text[], $6::int[], $7::bytea[], $8::text[], $9::bigint[], $10::bytea[])"
    );
    let mut rng = StdRng::seed_from_u64(7);
    let total = n / per_tx * per_tx;
    let notice = Digest256::of(b"notice").0.to_vec();
    let started = Instant::now();
    let mut seq = 0i64;
    for _ in 0..total / per_tx {
        let seqs: Vec<i64> = (0..per_tx as i64).map(|i| seq + i + 1).collect();
        seq += per_tx as i64;
        let subjects: Vec<Vec<u8>> = (0..per_tx)
            .map(|_| subject(&mut rng).as_bytes().to_vec())
            .collect();
        let mut tx = conn.begin().await?;
        sqlx::query(&sql)
            .bind(seqs)
            .bind(subjects)
            .bind(vec!["purpose_00"; per_tx])
            .bind(vec!["grant"; per_tx])
            .bind(vec!["banner"; per_tx])
            .bind(vec![1i32; per_tx])
            .bind(vec![notice.clone(); per_tx])
            .bind(vec!["en"; per_tx])
            .bind(vec![1_800_000_000_000i64; per_tx])
            .bind(vec![notice.clone(); per_tx])
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let rate = keuze_bench::rate(total as u64, started.elapsed());
    conn.close().await?;
    drop_schema(url, &schema).await?;
    Ok(rate)
}
