//! The in-process half of the benchmark suite. Every figure is measured against a baseline
//! taken in the same run, on the same data:
//!
//! - `decisions`: `DecisionIndex::decide` over 1M subjects × 20 purposes, random access,
//!   against a bare hash-map lookup loop over the same subjects;
//! - `memory`: resident-set growth per subject when the index holds 1M and 10M subjects
//!   with 20 answered purposes each, and the time that build takes (cold start);
//! - `writes`: durable consent writes from 64 concurrent clients through the group commit
//!   into SQLite, against raw batched inserts of the same rows with the same durability,
//!   once into one table and once into Keuze's own schema (with and without the
//!   projection), to separate the cost of the layout from the cost of Keuze's code;
//! - `verify`: `keuze ledger verify` against plain SHA-256 over the same leaf bytes, and
//!   reading the ledger through the store against reading the same rows with plain sqlx;
//! - `incidents`: telling 100,000 customers of an incident (a notice entry and Merkle
//!   leaf each, in batches of 5,000) against raw inserts of as many ledger-shaped rows in
//!   transactions of the same size.
//!
//! `KEUZE_BENCH_SUBJECTS` sets the subjects of the decision figure (default 1M), to see
//! how it changes as the index outgrows the caches.
//!
//! `--quick` shrinks every size so the whole run takes seconds (CI runs it so the suite
//! cannot rot); it asserts nothing about speed.

use anyhow::{bail, Context, Result};
use clap::Parser;
use keuze_bench::Runs;
use keuze_core::catalog::{parse::parse_catalog, Digest256};
use keuze_core::index::{FirstWord, Question};
use keuze_core::{
    Action, CatalogHistory, CatalogVersion, ConsentEvent, DecisionIndex, Locale, NewEvent,
    PurposeId, Source, SubjectId, Timestamp,
};
use keuze_sqlite::SqliteStore;
use keuze_store::{CommitHook, GroupCommit, GroupCommitConfig, Store};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Keuze's in-process benchmarks, each against a baseline from the same run")]
struct Args {
    /// Tiny sizes: checks that the suite runs, in seconds; the figures mean nothing.
    #[arg(long)]
    quick: bool,
    /// Runs per measurement (min/median/max are reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Only these sections (decisions, memory, writes, verify, incidents); all by default.
    #[arg(long, value_delimiter = ',', value_parser = ["decisions", "memory", "writes", "verify", "incidents"])]
    only: Vec<String>,
    /// Also write the results as JSON here.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// One line of the results table.
#[derive(Debug, Serialize)]
struct Figure {
    name: String,
    unit: String,
    result: Runs,
    baseline: Option<Runs>,
    target: String,
    /// Anything the reader needs to judge the figure.
    note: String,
}

const PURPOSES: usize = 20;
const NOW_MS: i64 = 1_800_000_000_000;

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let wants = |s: &str| args.only.is_empty() || args.only.iter().any(|o| o == s);
    let runs = if args.quick { 2 } else { args.runs.max(1) };
    let mut figures = Vec::new();
    if wants("decisions") {
        let n = if args.quick {
            10_000
        } else {
            std::env::var("KEUZE_BENCH_SUBJECTS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1_000_000)
        };
        figures.extend(decisions(n, runs)?);
    }
    if wants("memory") {
        let sizes: &[usize] = if args.quick {
            &[10_000, 50_000]
        } else {
            &[1_000_000, 10_000_000]
        };
        for &n in sizes {
            figures.extend(memory(n)?);
        }
    }
    if wants("writes") {
        let n = if args.quick { 2_000 } else { 100_000 };
        figures.extend(runtime.block_on(writes(n, runs, 1))?);
        figures.extend(runtime.block_on(writes(n, runs, PURPOSES))?);
    }
    if wants("verify") {
        let n = if args.quick { 5_000 } else { 200_000 };
        figures.extend(runtime.block_on(verify(n, runs))?);
    }
    if wants("incidents") {
        let n = if args.quick { 10_000 } else { 100_000 };
        figures.extend(runtime.block_on(incidents(n, runs))?);
    }
    print_table(&figures);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&figures)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Large figures without decimals, small ones (seconds) with two.
fn num(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn print_table(figures: &[Figure]) {
    println!(
        "\n| figure | min | median | max | unit | baseline (median) | ratio | target |\n| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |"
    );
    for f in figures {
        let (base, ratio) = match &f.baseline {
            Some(b) => (
                format!("{:.0}", b.median()),
                format!(
                    "{:.2}",
                    f.result.median() / b.median().max(f64::MIN_POSITIVE)
                ),
            ),
            None => ("—".into(), "—".into()),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            f.name,
            num(f.result.min()),
            num(f.result.median()),
            num(f.result.max()),
            f.unit,
            base,
            ratio,
            f.target
        );
    }
    for f in figures.iter().filter(|f| !f.note.is_empty()) {
        println!("- {}: {}", f.name, f.note);
    }
}

// ---------------------------------------------------------------------------------------
// Data

/// A catalog of `PURPOSES` consent purposes, with the sample's 13-month consent lifetime.
fn catalog() -> Result<CatalogHistory> {
    let mut toml = String::from(
        "[organisation]\nname = \"Bench B.V.\"\ncontact = \"https://bench.example/contact\"\nprivacy_contact = \"privacy@bench.example\"\ncountry = \"NL\"\n",
    );
    for p in 0..PURPOSES {
        toml.push_str(&format!(
            "\n[[purposes]]\nid = \"purpose_{p:02}\"\nlegal_basis = \"consent\"\ncategories = [\"contact.email\"]\nretention = \"1 year\"\nconsent_lifetime = \"13 months\"\ntitle = {{ en = \"Purpose {p}\", nl = \"Doel {p}\" }}\ndescription = {{ en = \"We use your e-mail address for this. We keep it for a year.\", nl = \"We gebruiken je e-mailadres hiervoor. We bewaren het een jaar.\" }}\nbenefit = {{ en = \"You get something.\", nl = \"Je krijgt iets.\" }}\nalternative = {{ en = \"You get nothing. You can still shop.\", nl = \"Je krijgt niets. Je kunt gewoon winkelen.\" }}\n"
        ));
    }
    let (catalog, _) = parse_catalog("bench.toml", &toml)
        .map_err(|e| anyhow::anyhow!("the bench catalog does not parse: {e}"))?;
    Ok(CatalogHistory::new(CatalogVersion {
        number: 1,
        digest: Digest256::of(toml.as_bytes()),
        catalog,
        published_at: Timestamp::from_unix_millis(NOW_MS - 86_400_000),
    }))
}

fn purpose_ids() -> Result<Vec<PurposeId>> {
    (0..PURPOSES)
        .map(|p| PurposeId::parse(&format!("purpose_{p:02}")).map_err(anyhow::Error::from))
        .collect()
}

fn subject(rng: &mut StdRng) -> SubjectId {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    SubjectId::from_bytes(b)
}

fn new_event(subject: SubjectId, purpose: PurposeId, action: Action, at: i64) -> NewEvent {
    NewEvent {
        subject,
        purpose,
        action,
        source: Source::Banner,
        catalog_version: 1,
        notice_digest: Digest256::of(b"notice"),
        locale: Locale::en(),
        recorded_at: Timestamp::from_unix_millis(at),
        context_digest: Digest256::of(b"context"),
    }
}

/// Fills `index` with `n` subjects, each answering every purpose in one request (20
/// events with consecutive sequence numbers), about 70 % of answers a grant. Returns the
/// subjects if `keep` is set.
fn fill(index: &mut DecisionIndex, n: usize, seed: u64, keep: bool) -> Result<Vec<SubjectId>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let purposes = purpose_ids()?;
    let mut run: Vec<ConsentEvent> = purposes
        .iter()
        .map(|p| ConsentEvent {
            seq: 0,
            event: new_event(SubjectId::from_bytes([0; 32]), p.clone(), Action::Grant, 0),
        })
        .collect();
    let mut kept = Vec::with_capacity(if keep { n } else { 0 });
    let mut seq = 0;
    for i in 0..n {
        let s = subject(&mut rng);
        let at = NOW_MS - 86_400_000 + i as i64;
        for e in run.iter_mut() {
            seq += 1;
            e.seq = seq;
            e.event.subject = s;
            e.event.recorded_at = Timestamp::from_unix_millis(at);
            e.event.action = if rng.gen_bool(0.7) {
                Action::Grant
            } else {
                Action::Withdraw
            };
        }
        index.apply_all(&run);
        if keep {
            kept.push(s);
        }
    }
    Ok(kept)
}

// ---------------------------------------------------------------------------------------
// Decisions

fn decisions(n: usize, runs: usize) -> Result<Vec<Figure>> {
    let history = catalog()?;
    let mut index = DecisionIndex::new();
    let subjects = fill(&mut index, n, 1, true)?;
    let baseline: HashMap<SubjectId, u64, BuildHasherDefault<FirstWord>> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u64))
        .collect();
    let purposes: Vec<String> = purpose_ids()?.iter().map(|p| p.to_string()).collect();
    let mut rng = StdRng::seed_from_u64(2);
    let queries: Vec<(&SubjectId, &str)> = (0..2_000_000)
        .filter_map(|_| {
            let s = subjects.get(rng.gen_range(0..subjects.len()))?;
            let p = purposes.get(rng.gen_range(0..purposes.len()))?;
            Some((s, p.as_str()))
        })
        .collect();
    let now = Timestamp::from_unix_millis(NOW_MS);
    let questions: Vec<Question<'_>> = queries
        .iter()
        .map(|(subject, purpose)| Question {
            subject,
            purpose,
            categories: &[],
        })
        .collect();
    let mut base_runs = Vec::new();
    let mut keuze_runs = Vec::new();
    let mut batch_runs = Vec::new();
    // Interleaved, so both see the same machine.
    for _ in 0..runs {
        base_runs.extend(
            Runs::measure(1, || {
                let mut sum = 0u64;
                for (s, _) in &queries {
                    sum = sum.wrapping_add(baseline.get(*s).copied().unwrap_or(0));
                }
                black_box(sum);
                queries.len() as u64
            })
            .rates,
        );
        keuze_runs.extend(
            Runs::measure(1, || {
                let mut allowed = 0u64;
                for (s, p) in &queries {
                    allowed += u64::from(index.decide(&history, s, p, &[], now).allowed);
                }
                black_box(allowed);
                queries.len() as u64
            })
            .rates,
        );
        batch_runs.extend(
            Runs::measure(1, || {
                let mut allowed = 0u64;
                for chunk in questions.chunks(1_000) {
                    let answers = index.decide_many(&history, chunk, now);
                    allowed += answers.iter().filter(|d| d.allowed).count() as u64;
                }
                black_box(allowed);
                queries.len() as u64
            })
            .rates,
        );
    }
    let baseline = Runs { rates: base_runs };
    Ok(vec![Figure {
        name: format!("in-process decisions, {n} subjects × {PURPOSES} purposes, random, in batches of 1,000"),
        unit: "decisions/s".into(),
        result: Runs { rates: batch_runs },
        baseline: Some(baseline.clone()),
        target: "≥ 0.5 × baseline".into(),
        note: "`DecisionIndex::decide_many`, as the batch endpoint uses it: records located in one pass, read in a second, so cache misses overlap".into(),
    }, Figure {
        name: format!("in-process decisions, {n} subjects × {PURPOSES} purposes, random"),
        unit: "decisions/s".into(),
        result: Runs { rates: keuze_runs },
        baseline: Some(baseline),
        target: "≥ 0.5 × baseline".into(),
        note: "one `DecisionIndex::decide` after another; baseline: std HashMap<pseudonym, u64> lookups of the same subjects, hashed by their first 8 bytes as the index does".into(),
    }])
}

// ---------------------------------------------------------------------------------------
// Memory and cold start

fn rss_bytes() -> Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").context("reading /proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .context("no resident field in /proc/self/statm")?
        .parse()?;
    Ok(pages * 4096)
}

fn memory(n: usize) -> Result<Vec<Figure>> {
    let before = rss_bytes()?;
    let started = Instant::now();
    let mut index = DecisionIndex::new();
    fill(&mut index, n, 3, false)?;
    let took = started.elapsed();
    let after = rss_bytes()?;
    if index.subject_count() != n {
        bail!(
            "the index holds {} subjects, not {n}",
            index.subject_count()
        );
    }
    let per_subject = after.saturating_sub(before) as f64 / n as f64;
    let heap = index.heap_bytes() as f64 / n as f64;

    // Cold start: what `keuze serve` does at start when its last stop saved a snapshot:
    // read the file, check its SHA-256, rebuild the hash table over the records.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("index.snapshot");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        index.write_snapshot((n * PURPOSES) as u64, &mut out)?;
        std::io::Write::flush(&mut out)?;
    }
    drop(index);
    let file_bytes = std::fs::metadata(&path)?.len();
    let started = Instant::now();
    let (loaded, _) =
        DecisionIndex::from_snapshot(std::fs::read(&path)?).map_err(|e| anyhow::anyhow!("{e}"))?;
    let cold = started.elapsed();
    if loaded.subject_count() != n {
        bail!(
            "the snapshot loaded {} subjects, not {n}",
            loaded.subject_count()
        );
    }
    drop(loaded);
    Ok(vec![
        Figure {
            name: format!("memory per subject, {n} subjects × {PURPOSES} purposes"),
            unit: "bytes (RSS growth)".into(),
            result: Runs {
                rates: vec![per_subject],
            },
            baseline: None,
            target: "≤ 100".into(),
            note: format!("the index's own count of its heap: {heap:.1} bytes per subject"),
        },
        Figure {
            name: format!("index build, {n} subjects × {PURPOSES} purposes"),
            unit: "subjects/s".into(),
            result: Runs {
                rates: vec![keuze_bench::rate(n as u64, took)],
            },
            baseline: None,
            target: "10M in ≤ 30 s".into(),
            note: format!(
                "{:.1} s for {} events applied from memory: a start without a snapshot also reads them from the projection",
                took.as_secs_f64(),
                n * PURPOSES
            ),
        },
        Figure {
            name: format!("cold start from the index snapshot, {n} subjects"),
            unit: "seconds".into(),
            result: Runs { rates: vec![cold.as_secs_f64()] },
            baseline: None,
            target: "10M in ≤ 30 s".into(),
            note: format!(
                "snapshot file {:.0} MiB ({:.1} bytes per subject); read from the page cache, checksum checked, table rebuilt",
                file_bytes as f64 / 1_048_576.0,
                file_bytes as f64 / n as f64
            ),
        },
    ])
}

// ---------------------------------------------------------------------------------------
// Durable writes

const CLIENTS: usize = 64;

/// `per_request` purposes per request: 1 is the worst case (every event a new subject's
/// first choice, three random B-tree pages each); 20 is a whole banner answered at once.
///
/// Three baselines in the same run, interleaved with Keuze's runs: raw inserts of
/// ledger-shaped rows into one table (the baseline), raw inserts of the rows
/// Keuze's append writes into Keuze's own schema (what the layout alone allows), and the
/// same without `consent_state` (what dropping the projection from the write path would
/// give at most).
async fn writes(n: usize, runs: usize, per_request: usize) -> Result<Vec<Figure>> {
    let purposes = purpose_ids()?;
    let mut keuze_runs = Vec::new();
    let mut base_runs = Vec::new();
    let mut layout_runs = Vec::new();
    let mut bare_layout_runs = Vec::new();
    let mut batch_sizes = Vec::new();
    // Bytes handed to write(2) per event: WAL frames and checkpoints (what fsync waits
    // for), and statement journals where SQLite spills them to temporary files (not
    // Keuze's writer, which keeps them in memory).
    let mut written = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    let per_tx = CLIENTS * per_request;
    for run in 0..runs {
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await?);
        let index = Arc::new(Mutex::new(DecisionIndex::new()));
        let hook_index = Arc::clone(&index);
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let hook_commits = Arc::clone(&commits);
        let hook: CommitHook = Arc::new(move |events| {
            hook_commits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Ok(mut i) = hook_index.lock() {
                i.apply_all(events);
            }
        });
        let writer = Arc::new(GroupCommit::start(
            Arc::clone(&store),
            hook,
            GroupCommitConfig::default(),
        ));
        let started = Instant::now();
        let before = bytes_written();
        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let writer = Arc::clone(&writer);
            let purposes = purposes.clone();
            clients.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64((run * CLIENTS + c) as u64);
                for _ in 0..n / CLIENTS / per_request {
                    let s = subject(&mut rng);
                    let request = purposes
                        .iter()
                        .take(per_request)
                        .map(|p| new_event(s, p.clone(), Action::Grant, NOW_MS))
                        .collect();
                    writer.append(request).await?;
                }
                anyhow::Ok(())
            }));
        }
        for c in clients {
            c.await??;
        }
        let done = (n / CLIENTS / per_request * CLIENTS * per_request) as u64;
        keuze_runs.push(keuze_bench::rate(done, started.elapsed()));
        let [w_keuze, w_base, w_layout, w_bare] = &mut written;
        w_keuze.push(bytes_written().saturating_sub(before) as f64 / done as f64);
        batch_sizes
            .push(done as f64 / commits.load(std::sync::atomic::Ordering::Relaxed).max(1) as f64);
        if store.event_count().await? != done {
            bail!("the ledger does not hold every acknowledged write");
        }
        drop(writer);
        drop(store);
        drop(dir);

        let raw = tempfile::tempdir()?;
        let (rate, bytes) = raw_inserts(raw.path(), n, run as u64, per_tx).await?;
        base_runs.push(rate);
        w_base.push(bytes);
        drop(raw);
        for (with_state, into, bytes_into) in [
            (true, &mut layout_runs, w_layout),
            (false, &mut bare_layout_runs, w_bare),
        ] {
            let raw = tempfile::tempdir()?;
            let (rate, bytes) =
                layout_inserts(raw.path(), n, run as u64, per_tx, per_request, with_state).await?;
            into.push(rate);
            bytes_into.push(bytes);
        }
    }
    let keuze = Runs { rates: keuze_runs };
    let base = Runs { rates: base_runs };
    let layout = Runs { rates: layout_runs };
    let bare_layout = Runs {
        rates: bare_layout_runs,
    };
    let ratio = |a: &Runs, b: &Runs| a.median() / b.median().max(f64::MIN_POSITIVE);
    let [w_keuze, w_base, w_layout, w_bare] = written.map(|rates| Runs { rates }.median().round());
    let name = format!(
        "durable consent writes, {CLIENTS} concurrent clients, {per_request} purpose(s) per request"
    );
    Ok(vec![
        Figure {
            name: name.clone(),
            unit: "events/s".into(),
            result: keuze.clone(),
            baseline: Some(base.clone()),
            target: "≥ 0.5 × baseline and ≥ 20,000/s".into(),
            note: format!("{:.1} events per commit on average; baseline: the same rows inserted raw into one SQLite table, WAL, synchronous=FULL, one multi-row INSERT per transaction of {per_tx} rows (what {CLIENTS} waiting clients give a group commit); bytes passed to write(2) per event (WAL, checkpoints, spilled statement journals): Keuze {w_keuze}, baseline {w_base}", Runs { rates: batch_sizes }.median()),
        },
        Figure {
            name: format!("{name}, against raw inserts into Keuze's own schema"),
            unit: "events/s".into(),
            result: keuze,
            baseline: Some(layout.clone()),
            target: "— (shows where the gap is)".into(),
            note: format!("baseline: a fresh `SqliteStore`'s schema (tables, indexes, triggers) and pragmas, and through a plain sqlx connection, per transaction of {per_tx} events, the rows Keuze's append writes (`subjects`, `events`, `consent_state`, `tree_nodes`: leaves and completed parents), one multi-row INSERT per table, precomputed random hashes, no Keuze code; the layout alone reaches {:.2} × the one-table baseline; bytes written per event: {w_layout} (Keuze {w_keuze})", ratio(&layout, &base)),
        },
        Figure {
            name: format!("raw inserts into Keuze's schema without `consent_state`, {per_request} purpose(s) per subject"),
            unit: "events/s".into(),
            result: bare_layout.clone(),
            baseline: Some(layout),
            target: "— (what dropping the projection would give)".into(),
            note: format!("the layout baseline above without the projection's rows: ratio = the gain at most; {:.2} × the one-table baseline; bytes written per event: {w_bare}", ratio(&bare_layout, &base)),
        },
    ])
}

/// The rows Keuze's append writes for one transaction, precomputed so that the timed
/// loop runs no Keuze code: new subjects (pseudonym, salt, commitment), and per event its
/// commitment index, its purpose and its tree nodes.
struct LayoutBatch {
    subjects: Vec<[[u8; 32]; 3]>,
    /// (index into `subjects`, purpose) per event.
    events: Vec<(usize, usize)>,
    /// (level, idx, hash) of every node the batch completes, leaves first per event.
    nodes: Vec<(i64, i64, [u8; 32])>,
}

/// The nodes a Merkle tree completes when leaf `index` (0-based) is appended: the leaf
/// and one parent per trailing one bit of its index, numbered as `TreeBuilder` does.
fn completed_nodes(index: u64) -> impl Iterator<Item = (i64, i64)> {
    let parents = index.trailing_ones();
    (0..=parents).map(move |level| (i64::from(level), (index >> level) as i64))
}

/// The second baseline: Keuze's own schema and pragmas, the rows its append writes, and
/// nothing of Keuze in the timed loop. With `with_state` false, `consent_state` gets no
/// rows.
async fn layout_inserts(
    dir: &std::path::Path,
    n: usize,
    seed: u64,
    per_tx: usize,
    per_request: usize,
    with_state: bool,
) -> Result<(f64, f64)> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{ConnectOptions, Connection};
    // The migrations create the real tables, indexes and triggers.
    let store = SqliteStore::open(dir).await?;
    let path = store.db_path().to_owned();
    store.close().await;
    drop(store);
    // The pragmas of `SqliteStore::open` for its writer.
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(5))
        .pragma("secure_delete", "ON")
        .pragma("cache_size", "-65536")
        .pragma("wal_autocheckpoint", "16384")
        .pragma("temp_store", "MEMORY")
        .connect()
        .await?;

    let purposes: Vec<String> = purpose_ids()?.iter().map(|p| p.to_string()).collect();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6c61_796f_7574);
    let mut bytes = || {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        b
    };
    let per_request = per_request.max(1);
    let total = n / per_tx * per_tx;
    let mut batches = Vec::with_capacity(total / per_tx);
    let mut leaf = 0u64;
    for _ in 0..total / per_tx {
        let subjects: Vec<[[u8; 32]; 3]> = (0..per_tx / per_request)
            .map(|_| [bytes(), bytes(), bytes()])
            .collect();
        let mut events = Vec::with_capacity(per_tx);
        let mut nodes = Vec::with_capacity(per_tx * 2);
        for s in 0..subjects.len() {
            for p in 0..per_request {
                events.push((s, p));
                for (level, idx) in completed_nodes(leaf) {
                    nodes.push((level, idx, bytes()));
                }
                leaf += 1;
            }
        }
        batches.push(LayoutBatch {
            subjects,
            events,
            nodes,
        });
    }
    let notice = Digest256::of(b"notice").0;
    let context = Digest256::of(b"context").0;
    let rows = |count: usize, row: &str| vec![row; count].join(", ");
    let subjects_sql = format!(
        "INSERT INTO subjects (pseudonym, salt, commitment) VALUES {}",
        rows(per_tx / per_request, "(?, ?, ?)")
    );
    let events_sql = format!(
        "INSERT INTO events (seq, subject_commitment, purpose, action, source, catalog_version, \
         notice_digest, locale, recorded_at, context_digest) VALUES {}",
        rows(per_tx, "(?, ?, ?, 'grant', 'banner', 1, ?, 'en', ?, ?)")
    );
    let state_sql = format!(
        "INSERT INTO consent_state (subject, purpose, seq) VALUES {} \
         ON CONFLICT (subject, purpose) DO UPDATE SET seq = excluded.seq \
         WHERE excluded.seq > consent_state.seq",
        rows(per_tx, "(?, ?, ?)")
    );
    // The number of completed parents varies between batches: one statement per count.
    let mut node_sql: HashMap<usize, String> = HashMap::new();

    let started = Instant::now();
    let before = bytes_written();
    let mut seq = 0i64;
    for batch in &batches {
        let mut tx = conn.begin().await?;
        let mut q = sqlx::query(&subjects_sql);
        for [pseudonym, salt, commitment] in &batch.subjects {
            q = q
                .bind(pseudonym.as_slice())
                .bind(salt.as_slice())
                .bind(commitment.as_slice());
        }
        q.execute(&mut *tx).await?;
        let first = seq;
        let mut q = sqlx::query(&events_sql);
        for &(s, p) in &batch.events {
            let [_, _, commitment] = batch.subjects.get(s).context("a subject index")?;
            seq += 1;
            q = q
                .bind(seq)
                .bind(commitment.as_slice())
                .bind(purposes.get(p).context("a purpose index")?.as_str())
                .bind(notice.as_slice())
                .bind(NOW_MS)
                .bind(context.as_slice());
        }
        q.execute(&mut *tx).await?;
        if with_state {
            let mut q = sqlx::query(&state_sql);
            let mut seq = first;
            for &(s, p) in &batch.events {
                let [pseudonym, _, _] = batch.subjects.get(s).context("a subject index")?;
                seq += 1;
                q = q
                    .bind(pseudonym.as_slice())
                    .bind(purposes.get(p).context("a purpose index")?.as_str())
                    .bind(seq);
            }
            q.execute(&mut *tx).await?;
        }
        let sql = node_sql.entry(batch.nodes.len()).or_insert_with(|| {
            format!(
                "INSERT INTO tree_nodes (level, idx, hash) VALUES {}",
                rows(batch.nodes.len(), "(?, ?, ?)")
            )
        });
        let mut q = sqlx::query(sql.as_str());
        for (level, idx, hash) in &batch.nodes {
            q = q.bind(*level).bind(*idx).bind(hash.as_slice());
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
    }
    let rate = keuze_bench::rate(total as u64, started.elapsed());
    let bytes = bytes_written().saturating_sub(before) as f64 / total.max(1) as f64;
    let (events, nodes): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM tree_nodes)")
            .fetch_one(&mut conn)
            .await?;
    if events != total as i64 || nodes < events {
        bail!("the layout baseline wrote {events} events and {nodes} tree nodes, not {total}");
    }
    Ok((rate, bytes))
}

/// The baseline: ledger-shaped rows, `per_tx` per transaction (what a group commit gets
/// from the same clients), each transaction one
/// multi-row `INSERT` (the fastest plain way to insert a batch), WAL and synchronous=FULL
/// like the store.
async fn raw_inserts(
    dir: &std::path::Path,
    n: usize,
    seed: u64,
    per_tx: usize,
) -> Result<(f64, f64)> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use sqlx::{ConnectOptions, Connection};
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.join("raw.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query(
        "CREATE TABLE ledger (seq INTEGER PRIMARY KEY, subject BLOB NOT NULL, purpose TEXT NOT NULL, action TEXT NOT NULL, source TEXT NOT NULL, catalog_version INTEGER NOT NULL, notice_digest BLOB NOT NULL, locale TEXT NOT NULL, recorded_at INTEGER NOT NULL, context_digest BLOB NOT NULL) STRICT",
    )
    .execute(&mut conn)
    .await?;
    let values = vec!["(?, ?, ?, 'grant', 'banner', 1, ?, 'en', ?, ?)"; per_tx].join(", ");
    let sql = format!("INSERT INTO ledger VALUES {values}");
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let mut seq = 0i64;
    let total = n / per_tx * per_tx;
    let notice = Digest256::of(b"notice").0;
    let context = Digest256::of(b"context").0;
    let before = bytes_written();
    for _ in 0..total / per_tx {
        let subjects: Vec<SubjectId> = (0..per_tx).map(|_| subject(&mut rng)).collect();
        let mut q = sqlx::query(&sql);
        for s in &subjects {
            seq += 1;
            q = q
                .bind(seq)
                .bind(s.as_bytes().as_slice())
                .bind("purpose_01")
                .bind(notice.as_slice())
                .bind(NOW_MS)
                .bind(context.as_slice());
        }
        let mut tx = conn.begin().await?;
        q.execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok((
        keuze_bench::rate(total as u64, started.elapsed()),
        bytes_written().saturating_sub(before) as f64 / total.max(1) as f64,
    ))
}

/// Bytes this process has handed to write system calls so far (`wchar` of
/// `/proc/self/io`); 0 where there is no such file.
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("wchar:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Incidents

/// Telling `n` customers of an incident through `keuze_app::incidents::notify` (the
/// code behind the API and `keuze incident notify`), against raw inserts of `n`
/// ledger-shaped rows in transactions of the same 5,000, with the same durability.
async fn incidents(n: usize, runs: usize) -> Result<Vec<Figure>> {
    const BATCH: usize = 5_000;
    let mut keuze_runs = Vec::new();
    let mut base_runs = Vec::new();
    for run in 0..runs {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open(dir.path()).await?;
        let by = keuze_core::admin::Attribution::new(
            keuze_core::admin::Actor::cli(None),
            keuze_core::Timestamp::from_unix_millis(NOW_MS),
        );
        let stored = store
            .record_incident(Digest256::of(b"incident"), "{}".into(), &by)
            .await?;
        let mut rng = StdRng::seed_from_u64(run as u64);
        let affected: std::collections::BTreeSet<SubjectId> =
            (0..n).map(|_| subject(&mut rng)).collect();
        let started = Instant::now();
        let told = keuze_app::incidents::notify(
            &store,
            &stored,
            &affected,
            keuze_core::Timestamp::from_unix_millis(NOW_MS),
            |_, _| {},
        )
        .await?;
        keuze_runs.push(keuze_bench::rate(told.notified, started.elapsed()));
        if told.notified != affected.len() as u64 {
            bail!("told {} of {} customers", told.notified, affected.len());
        }
        drop(store);
        drop(dir);
        let raw = tempfile::tempdir()?;
        let (rate, _) = raw_inserts(raw.path(), n, run as u64, BATCH.min(n)).await?;
        base_runs.push(rate);
    }
    let base = Runs { rates: base_runs };
    Ok(vec![Figure {
        name: format!("customers told of an incident ({n}, batches of {BATCH})"),
        unit: "customers/s".into(),
        result: Runs { rates: keuze_runs },
        baseline: Some(base),
        target: "none (issue 12 sets none)".into(),
        note: "each a notice entry with a fresh subject salt and commitment, a Merkle leaf and the nodes it completes, committed in transactions of 5,000; baseline: as many ledger-shaped rows inserted raw into one SQLite table, WAL, synchronous=FULL, one multi-row INSERT per transaction of 5,000".into(),
    }])
}

// ---------------------------------------------------------------------------------------
// Ledger verification

async fn verify(n: u64, runs: usize) -> Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path()).await?;
    let purposes = purpose_ids()?;
    let mut rng = StdRng::seed_from_u64(4);
    let subjects: Vec<SubjectId> = (0..5_000).map(|_| subject(&mut rng)).collect();
    let mut i = 0u64;
    while i < n {
        let batch: Vec<NewEvent> = (i..(i + 2_000).min(n))
            .filter_map(|j| {
                let s = *subjects.get((j % 5_000) as usize)?;
                let p = purposes.get((j % PURPOSES as u64) as usize)?.clone();
                let a = if j % 4 == 0 {
                    Action::Withdraw
                } else {
                    Action::Grant
                };
                Some(new_event(s, p, a, NOW_MS + j as i64))
            })
            .collect();
        i += batch.len() as u64;
        store.append(batch).await?;
    }
    let mut leaves = Vec::new();
    let mut after = 0;
    while after < n {
        let page = store.ledger_entries(after, 10_000).await?;
        after = page.last().map_or(n, |e| e.seq);
        leaves.extend(page.into_iter().map(|e| e.canonical_bytes()));
    }
    let bytes: usize = leaves.iter().map(Vec::len).sum();
    let mut base_runs = Vec::new();
    let mut keuze_runs = Vec::new();
    let mut floor_runs = Vec::new();
    let mut raw_runs = Vec::new();
    let mut json_runs = Vec::new();
    // The floors under reading: the same rows through a plain sqlx connection.
    let mut raw = {
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
        use sqlx::ConnectOptions;
        SqliteConnectOptions::new()
            .filename(store.db_path())
            .journal_mode(SqliteJournalMode::Wal)
            .read_only(true)
            .connect()
            .await?
    };
    for _ in 0..runs {
        raw_runs.push(raw_read(&mut raw, n).await?);
        json_runs.push(json_read(&mut raw, n).await?);
        // What reading the rows back costs before any check: every ledger row read
        // through the store and its leaf hashed, no tree.
        let started = Instant::now();
        let mut after = 0;
        let mut acc = 0u8;
        while after < n {
            let page = store.ledger_entries(after, 10_000).await?;
            after = page.last().map_or(n, |e| e.seq);
            for e in page {
                let mut h = Sha256::new();
                h.update([0u8]);
                h.update(e.canonical_bytes());
                acc ^= h.finalize().first().copied().unwrap_or(0);
            }
        }
        black_box(acc);
        floor_runs.push(keuze_bench::rate(n, started.elapsed()));
        base_runs.extend(
            Runs::measure(1, || {
                let mut acc = 0u8;
                for b in &leaves {
                    let mut h = Sha256::new();
                    h.update([0u8]);
                    h.update(b);
                    acc ^= h.finalize().first().copied().unwrap_or(0);
                }
                black_box(acc);
                n
            })
            .rates,
        );
        let started = Instant::now();
        let report = keuze_app::audit::verify_ledger(&store, &[], |_, _| {})
            .await
            .map_err(|e| anyhow::anyhow!("verification failed: {e}"))?;
        if report.events != n {
            bail!("verified {} events, not {n}", report.events);
        }
        keuze_runs.push(keuze_bench::rate(n, started.elapsed()));
    }
    let floor = Runs { rates: floor_runs };
    let verified = Runs { rates: keuze_runs };
    let raw = Runs { rates: raw_runs };
    let json = Runs { rates: json_runs };
    Ok(vec![Figure {
        name: format!("ledger verification, {n} events"),
        unit: "events/s".into(),
        result: verified.clone(),
        baseline: Some(Runs { rates: base_runs }),
        target: "≥ 0.6 × baseline".into(),
        note: format!(
            "baseline: plain SHA-256 of the same leaf bytes ({:.1} MiB) in memory; verification reads them from SQLite, rebuilds every tree node and compares. Reading the rows through the store and hashing each leaf, no tree: {:.0} events/s (median), so verification runs at {:.2} × that floor",
            bytes as f64 / 1_048_576.0,
            floor.median(),
            verified.median() / floor.median().max(f64::MIN_POSITIVE)
        ),
    }, Figure {
        name: format!("reading the ledger through the store and hashing each leaf, no tree, {n} events"),
        unit: "events/s".into(),
        result: floor.clone(),
        baseline: Some(raw),
        target: "— (where reading goes)".into(),
        note: format!(
            "the floor under verification: `Store::ledger_entries` in pages of 10,000, every field decoded into domain types, `canonical_bytes`, SHA-256; baseline: the same rows through a plain sqlx query, one sqlx row per ledger row, columns read by index as integers and bytes, nothing decoded. The same pages as one JSON array each (`json_group_array`), parsed by serde_json into borrowed strings, nothing decoded: {:.0} events/s; the store's floor is {:.2} of that",
            json.median(),
            floor.median() / json.median().max(f64::MIN_POSITIVE)
        ),
    }])
}

/// The rows `Store::ledger_entries` reads, through a plain sqlx connection, one sqlx row
/// per ledger row: pages of 10,000, each column read by index as an integer or bytes,
/// nothing decoded.
async fn raw_read(conn: &mut sqlx::SqliteConnection, n: u64) -> Result<f64> {
    use sqlx::Row;
    let started = Instant::now();
    let mut after = 0i64;
    let mut acc = 0usize;
    let mut count = 0u64;
    while count < n {
        let rows = sqlx::query(
            "SELECT seq, subject_commitment, purpose, action, source, catalog_version, \
             notice_digest, locale, recorded_at, context_digest \
             FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .bind(after)
        .bind(10_000i64)
        .fetch_all(&mut *conn)
        .await?;
        if rows.is_empty() {
            bail!("the raw read found {count} rows, not {n}");
        }
        for row in &rows {
            after = row.try_get(0)?;
            for i in [1, 2, 3, 4, 6, 7, 9] {
                acc += row.try_get_unchecked::<&[u8], _>(i)?.len();
            }
            acc += row.try_get::<i64, _>(5)? as usize + row.try_get::<i64, _>(8)? as usize;
        }
        count += rows.len() as u64;
    }
    black_box(acc);
    Ok(keuze_bench::rate(n, started.elapsed()))
}

/// A ledger row of a JSON page: the columns its leaf commits to, blobs in hex.
type JsonRow<'a> = (
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    i64,
    &'a str,
    &'a str,
    i64,
    &'a str,
);

/// The same pages as `Store::ledger_entries` reads them: one JSON array per page, built
/// by SQLite, parsed with serde_json into borrowed strings and integers; nothing decoded
/// into domain types, no hex decoded.
async fn json_read(conn: &mut sqlx::SqliteConnection, n: u64) -> Result<f64> {
    let started = Instant::now();
    let mut after = 0i64;
    let mut acc = 0usize;
    let mut count = 0u64;
    while count < n {
        let page: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(seq, hex(subject_commitment), purpose, \
             action, source, catalog_version, hex(notice_digest), locale, recorded_at, \
             hex(context_digest))) \
             FROM (SELECT * FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
        )
        .bind(after)
        .bind(10_000i64)
        .fetch_one(&mut *conn)
        .await?;
        let rows: Vec<JsonRow<'_>> = serde_json::from_str(&page)?;
        if rows.is_empty() {
            bail!("the JSON read found {count} rows, not {n}");
        }
        for (seq, commitment, purpose, action, source, version, notice, locale, at, context) in
            &rows
        {
            after = *seq;
            acc += [commitment, purpose, action, source, notice, locale, context]
                .iter()
                .map(|s| s.len())
                .sum::<usize>();
            acc = acc.wrapping_add((*version ^ *at) as usize);
        }
        count += rows.len() as u64;
    }
    black_box(acc);
    Ok(keuze_bench::rate(n, started.elapsed()))
}
