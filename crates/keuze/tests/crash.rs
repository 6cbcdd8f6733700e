//! The crash harness: concurrent writers record choices and erasures against a real
//! `keuze serve`, logging every acknowledged write; the server is killed with SIGKILL at
//! a random moment (sometimes again while it starts up), and after each kill the ledger
//! must verify, the projection must equal a rebuild, and a restarted server must hold
//! every acknowledged write with its seq and content, nothing that was never sent, and
//! decide by each subject's last acknowledged choice.
//!
//! Short by default (3 rounds on SQLite, 2 on PostgreSQL, part of `cargo test`). The
//! full mode, its figures and how to replay a failing seed are in docs/reliability.md.
//! Environment:
//! - `KEUZE_CRASH_ROUNDS` (default 3), `KEUZE_CRASH_PG_ROUNDS` (PostgreSQL; default
//!   the smaller of 2 and `KEUZE_CRASH_ROUNDS`), `KEUZE_CRASH_WRITERS` (default 8);
//! - `KEUZE_CRASH_SEED`: replays the operations and kill moments of a seed (timing still
//!   varies); printed at the start of every run;
//! - `KEUZE_CRASH_KEEP=1`: keep the data directory and acknowledgement logs;
//! - `KEUZE_TEST_BIN`: the `keuze` to test, e.g. `$PWD/target/release/keuze`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{drop_schema, fresh_schema, keuze, postgres_or_skip};

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v}: expected a whole number")),
        Err(_) => default,
    }
}

/// One acknowledged (or, for the op in flight at the kill, perhaps applied) event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ev {
    seq: u64,
    purpose: String,
    action: String,
}

/// A write that was sent but not acknowledged: the server died (or refused) first.
#[derive(Debug, Clone)]
enum Pending {
    Choices(Vec<(String, String)>),
    Erase,
}

#[derive(Debug)]
struct Subject {
    id: String,
    /// Every event known to be in the ledger for this subject, in seq order.
    events: Vec<Ev>,
    erased: bool,
    pending: Option<Pending>,
}

/// A writer's own subjects: no other writer touches them, so its sequence of requests
/// is the order of their events.
#[derive(Debug, Default)]
struct Writer {
    subjects: Vec<Subject>,
    created: u64,
}

#[derive(Debug, Clone)]
struct Purpose {
    id: String,
    /// `consent` purposes are withdrawn, legitimate-interest ones objected to.
    no: &'static str,
}

/// What a round of writing did.
#[derive(Debug, Default)]
struct RoundFigures {
    acked_events: u64,
    acked_requests: u64,
    refused: u64,
    startup_kills: u64,
    clean_stops: u64,
}

struct Harness {
    dir: PathBuf,
    /// Extra `serve` and CLI arguments (`--database ...`); the data directory is `data`.
    db_args: Vec<String>,
    record: String,
    audit: String,
    seed: u64,
    rng: StdRng,
    purposes: Vec<Purpose>,
    writers: Vec<Writer>,
    /// Events the ledger must hold beyond the writers' `events` (erasures found applied
    /// after a kill, whose seqs the harness never saw).
    unseen_events: u64,
    /// How many purposes the catalog has (switchable or not).
    catalog_purposes: u64,
    startup: Duration,
}

/// A `keuze serve` process; killed if still running when dropped.
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The test's directory, kept when the test fails (or with `KEUZE_CRASH_KEEP=1`).
struct Workdir(Option<tempfile::TempDir>);

impl Drop for Workdir {
    fn drop(&mut self) {
        let keep =
            std::thread::panicking() || std::env::var("KEUZE_CRASH_KEEP").as_deref() == Ok("1");
        if let (true, Some(dir)) = (keep, self.0.take()) {
            eprintln!("crash harness: kept {}", dir.keep().display());
        }
    }
}

impl Harness {
    fn args<'a>(&'a self, command: &[&'a str]) -> Vec<&'a str> {
        let mut args = command.to_vec();
        args.extend(["--data", "data"]);
        args.extend(self.db_args.iter().map(String::as_str));
        args
    }

    fn spawn(&self) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        keuze(&self.dir)
            .args(self.args(&["serve", "--listen", "127.0.0.1:0"]))
            .env("KEUZE_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap()
    }

    fn start(&mut self) -> Node {
        let started = Instant::now();
        let mut child = self.spawn();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        self.startup = started.elapsed();
        let base = line
            .trim()
            .strip_prefix("keuze listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "the server did not start: {line:?}; log: {}",
                    std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
                )
            })
            .to_owned();
        Node { child, base }
    }

    /// Starts the server and kills it after a random part of a usual start-up: while
    /// it opens the database, replays the ledger into the index, or begins to serve.
    fn kill_during_startup(&mut self) -> Duration {
        let upto = u64::try_from(self.startup.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let after = Duration::from_micros(self.rng.gen_range(0..upto));
        let mut child = self.spawn();
        std::thread::sleep(after);
        child.kill().unwrap();
        child.wait().unwrap();
        after
    }

    fn keuze(&self, command: &[&str]) -> std::process::Output {
        keuze(&self.dir).args(self.args(command)).output().unwrap()
    }

    /// `keuze ledger verify` and `keuze ledger rebuild --check` pass on the data as the
    /// kill left it; returns the ledger's size.
    fn verify_offline(&self, round: u64) -> u64 {
        let out = self.keuze(&["ledger", "verify"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "round {round}: keuze ledger verify failed after the kill (seed {}): {stdout}{}",
            self.seed,
            String::from_utf8_lossy(&out.stderr)
        );
        // `ok: N ledger entries (C consent events, A admin actions, I incident notices), …`: the writers
        // account for the consent events; admin actions (the key, the catalog, each
        // erasure) share the ledger.
        let events: u64 = stdout
            .trim()
            .split_once(" ledger entries (")
            .and_then(|(_, rest)| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected output of keuze ledger verify: {stdout}"));
        let out = self.keuze(&["ledger", "rebuild", "--check"]);
        assert!(
            out.status.success(),
            "round {round}: the projection is not a rebuild of the ledger after the kill (seed {}): {}{}",
            self.seed,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        events
    }
}

async fn post(client: &reqwest::Client, url: &str, key: &str, body: &Value) -> (u16, Value) {
    let res = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn events_of(answer: &Value) -> Vec<Ev> {
    answer["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {answer}"))
        .iter()
        .map(|e| Ev {
            seq: e["seq"].as_u64().unwrap(),
            purpose: e["purpose"].as_str().unwrap().to_owned(),
            action: e["action"].as_str().unwrap().to_owned(),
        })
        .collect()
}

struct WriterSetup {
    round: u64,
    index: usize,
    base: String,
    record: String,
    admin: String,
    purposes: Vec<Purpose>,
    rng: StdRng,
    acks: Arc<Mutex<std::fs::File>>,
    acked: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// Writes until a request fails (the server was killed) or `stop`: single choices,
/// several purposes at once, "accept all" and "reject all", new subjects, and now and
/// then an erasure. Each acknowledged write is appended to the round's log.
async fn write(mut me: Writer, s: WriterSetup) -> (Writer, RoundFigures) {
    let WriterSetup {
        round,
        index,
        base,
        record,
        admin,
        purposes,
        mut rng,
        acks,
        acked,
        stop,
    } = s;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut figures = RoundFigures::default();
    while !stop.load(Ordering::Relaxed) {
        let live: Vec<usize> = (0..me.subjects.len())
            .filter(|&i| !me.subjects[i].erased)
            .collect();
        let who = if live.len() < 4 || rng.gen_bool(0.05) {
            me.created += 1;
            me.subjects.push(Subject {
                id: format!("crash-w{index}-s{}", me.created),
                events: Vec::new(),
                erased: false,
                pending: None,
            });
            me.subjects.len() - 1
        } else {
            live[rng.gen_range(0..live.len())]
        };
        let id = me.subjects[who].id.clone();
        let roll = rng.gen_range(0..100);
        let (url, key, body, pending) = if roll < 3 && !me.subjects[who].events.is_empty() {
            (
                format!("{base}/v1/subjects/erase"),
                &admin,
                json!({"subject": {"id": id}}),
                Pending::Erase,
            )
        } else if roll < 8 {
            let accept = rng.gen_bool(0.5);
            let choices: Vec<(String, String)> = purposes
                .iter()
                .map(|p| {
                    let action = if accept { "grant" } else { p.no };
                    (p.id.clone(), action.to_owned())
                })
                .collect();
            let all = if accept { "accept" } else { "reject" };
            (
                format!("{base}/v1/consents"),
                &record,
                json!({"subject": {"id": id}, "all": all, "source": "banner"}),
                Pending::Choices(choices),
            )
        } else {
            let n = if roll < 40 { rng.gen_range(2..=4) } else { 1 };
            let mut picked: Vec<&Purpose> = Vec::new();
            while picked.len() < n {
                let p = &purposes[rng.gen_range(0..purposes.len())];
                if !picked.iter().any(|q| q.id == p.id) {
                    picked.push(p);
                }
            }
            let choices: Vec<(String, String)> = picked
                .iter()
                .map(|p| {
                    let action = if rng.gen_bool(0.5) { "grant" } else { p.no };
                    (p.id.clone(), action.to_owned())
                })
                .collect();
            let body: Vec<Value> = choices
                .iter()
                .map(|(p, a)| json!({"purpose": p, "action": a}))
                .collect();
            (
                format!("{base}/v1/consents"),
                &record,
                json!({"subject": {"id": id}, "choices": body}),
                Pending::Choices(choices),
            )
        };
        let answer = async {
            let res = client
                .post(&url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await?;
            let status = res.status().as_u16();
            let body: Value = res.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        let (status, answer) = match answer {
            Ok((status @ (200 | 201), answer)) => (status, answer),
            Ok((status, answer)) => {
                // Not acknowledged: may or may not be in the ledger; the checks find out.
                if !stop.load(Ordering::Relaxed) {
                    eprintln!("round {round} writer {index}: {status} {answer}");
                }
                figures.refused += 1;
                me.subjects[who].pending = Some(pending);
                break;
            }
            Err(_) => {
                me.subjects[who].pending = Some(pending);
                break;
            }
        };
        let events = events_of(&answer);
        if let Pending::Choices(sent) = &pending {
            let got: Vec<(String, String)> = events
                .iter()
                .map(|e| (e.purpose.clone(), e.action.clone()))
                .collect();
            assert_eq!(&got, sent, "{status}: the answer records what was sent");
        } else {
            assert!(events.iter().all(|e| e.action == "erase"), "{answer}");
            me.subjects[who].erased = true;
        }
        let line = json!({
            "round": round,
            "writer": index,
            "subject": id,
            "events": events.iter().map(|e| json!([e.seq, e.purpose, e.action])).collect::<Vec<_>>(),
        });
        writeln!(acks.lock().unwrap(), "{line}").unwrap();
        figures.acked_events += events.len() as u64;
        figures.acked_requests += 1;
        acked.fetch_add(1, Ordering::Relaxed);
        me.subjects[who].events.extend(events);
    }
    (me, figures)
}

impl Harness {
    /// One round: writers against a fresh start, a SIGKILL after a random delay (once
    /// at least `min_acks` writes were acknowledged), perhaps a second SIGKILL during the
    /// next start-up, then every check.
    async fn round(&mut self, round: u64, min_acks: u64, max_delay_ms: u64) -> RoundFigures {
        let node = self.start();
        let (admin, record) = (self.audit.clone(), self.record.clone());
        let acks = Arc::new(Mutex::new(
            std::fs::File::create(self.dir.join(format!("acks-round-{round:03}.jsonl"))).unwrap(),
        ));
        let acked = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for (index, me) in std::mem::take(&mut self.writers).into_iter().enumerate() {
            let setup = WriterSetup {
                round,
                index,
                base: node.base.clone(),
                record: record.clone(),
                admin: admin.clone(),
                purposes: self.purposes.clone(),
                rng: StdRng::seed_from_u64(self.rng.gen()),
                acks: Arc::clone(&acks),
                acked: Arc::clone(&acked),
                stop: Arc::clone(&stop),
            };
            tasks.push(tokio::spawn(write(me, setup)));
        }
        let delay = Duration::from_millis(self.rng.gen_range(0..=max_delay_ms));
        let began = Instant::now();
        while acked.load(Ordering::Relaxed) < min_acks {
            assert!(
                began.elapsed() < Duration::from_secs(60),
                "round {round}: fewer than {min_acks} writes acknowledged in a minute"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(delay).await;
        let mut node = node;
        node.child.kill().unwrap();
        node.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let mut figures = RoundFigures::default();
        for task in tasks {
            let (me, f) = task.await.unwrap();
            self.writers.push(me);
            figures.acked_events += f.acked_events;
            figures.acked_requests += f.acked_requests;
            figures.refused += f.refused;
        }
        let startup_kill = if self.rng.gen_bool(0.3) {
            Some(self.kill_during_startup())
        } else {
            None
        };
        let ledger = self.verify_offline(round);
        let node = self.start();
        let client = reqwest::Client::new();
        self.check(round, &client, &node.base, ledger).await;
        // Now and then a clean stop, so the next start loads the index snapshot and the
        // next kill hits a server that started from one.
        let mut node = node;
        if self.rng.gen_bool(0.25) {
            std::process::Command::new("kill")
                .args(["-TERM", &node.child.id().to_string()])
                .status()
                .unwrap();
            assert!(node.child.wait().unwrap().success(), "a clean stop");
            figures.clean_stops += 1;
        }
        drop(node);
        figures.startup_kills += u64::from(startup_kill.is_some());
        println!(
            "round {round}: {} writes acknowledged ({} events) before the kill after {} ms{}; ledger {ledger} events",
            figures.acked_requests,
            figures.acked_events,
            began.elapsed().as_millis(),
            startup_kill
                .map(|d| format!(", killed again {} ms into the start-up", d.as_millis()))
                .unwrap_or_default()
        );
        figures
    }

    /// Every subject's history holds its acknowledged events with the same seqs and
    /// content, plus at most the whole write that was in flight at the kill, and
    /// nothing else; its state rests on its last event; erased subjects stay erased; and
    /// the ledger holds exactly these events.
    async fn check(&mut self, round: u64, client: &reqwest::Client, base: &str, ledger: u64) {
        let seed = self.seed;
        let mut seen: HashSet<u64> = HashSet::new();
        let mut total = self.unseen_events;
        // An erasure writes one event per purpose of the catalog.
        let erase_len = self.catalog_purposes;
        for (w, writer) in self.writers.iter_mut().enumerate() {
            for s in &mut writer.subjects {
                let at = format!("round {round}, writer {w}, subject {} (seed {seed})", s.id);
                let (status, history) = post(
                    client,
                    &format!("{base}/v1/subjects/history"),
                    &self.audit,
                    &json!({"subject": {"id": s.id}}),
                )
                .await;
                assert_eq!(status, 200, "{at}: {history}");
                let found = events_of(&history);
                let (status, state) = post(
                    client,
                    &format!("{base}/v1/subjects/state"),
                    &self.audit,
                    &json!({"subject": {"id": s.id}}),
                )
                .await;
                assert_eq!(status, 200, "{at}: {state}");
                let reasons: Vec<&str> = state["purposes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["reason"].as_str().unwrap())
                    .collect();
                let erased_now = reasons.iter().all(|r| *r == "subject_erased");
                assert!(
                    erased_now || !reasons.contains(&"subject_erased"),
                    "{at}: erased for some purposes only: {state}"
                );
                let pending = s.pending.take();
                // An erasure in flight at the kill that was committed: erased now, its
                // earlier writes anonymous (and so out of the history) as they should be.
                if matches!(pending, Some(Pending::Erase)) && erased_now {
                    s.erased = true;
                    total += erase_len;
                }
                if s.erased {
                    assert!(
                        erased_now,
                        "{at}: an acknowledged erasure is undone: {state}"
                    );
                    assert!(
                        found.is_empty(),
                        "{at}: an erased subject has a history: {history}"
                    );
                } else {
                    let by_seq: HashMap<u64, &Ev> = found.iter().map(|e| (e.seq, e)).collect();
                    for e in &s.events {
                        match by_seq.get(&e.seq) {
                            Some(f) if *f == e => {}
                            Some(f) => panic!("{at}: acknowledged write {e:?} reads back as {f:?}"),
                            None => {
                                panic!("{at}: acknowledged write {e:?} is LOST; history: {history}")
                            }
                        }
                    }
                    let known: HashSet<u64> = s.events.iter().map(|e| e.seq).collect();
                    let extra: Vec<&Ev> =
                        found.iter().filter(|e| !known.contains(&e.seq)).collect();
                    match pending {
                        // An erasure in flight that was not committed leaves no trace.
                        None | Some(Pending::Erase) => {
                            assert!(extra.is_empty(), "{at}: events nobody sent: {extra:?}");
                            assert!(!erased_now, "{at}: erased without an erasure: {state}");
                        }
                        Some(Pending::Choices(sent)) => {
                            assert!(!erased_now, "{at}: erased without an erasure: {state}");
                            if !extra.is_empty() {
                                let got: Vec<(String, String)> = extra
                                    .iter()
                                    .map(|e| (e.purpose.clone(), e.action.clone()))
                                    .collect();
                                assert_eq!(
                                    got, sent,
                                    "{at}: the unacknowledged write is in the ledger partly or altered"
                                );
                                let last = s.events.last().map_or(0, |e| e.seq);
                                assert!(
                                    extra.iter().all(|e| e.seq > last),
                                    "{at}: {extra:?} before {last}"
                                );
                                s.events.extend(extra.into_iter().cloned());
                            }
                        }
                    }
                    // Decisions rest on the last event per purpose.
                    let mut last: HashMap<&str, &Ev> = HashMap::new();
                    for e in &s.events {
                        last.insert(e.purpose.as_str(), e);
                    }
                    for p in state["purposes"].as_array().unwrap() {
                        let id = p["purpose"].as_str().unwrap();
                        match last.get(id) {
                            Some(e) => {
                                assert_eq!(
                                    p["last_action"],
                                    e.action.as_str(),
                                    "{at}: {id}: {state}"
                                );
                                if matches!(
                                    p["reason"].as_str(),
                                    Some("granted" | "withdrawn" | "objected")
                                ) {
                                    assert_eq!(p["event"], e.seq, "{at}: {id}: {state}");
                                }
                            }
                            None => assert!(
                                p["last_action"].is_null(),
                                "{at}: {id} was never chosen: {state}"
                            ),
                        }
                    }
                }
                for e in &s.events {
                    assert!(seen.insert(e.seq), "{at}: seq {} acknowledged twice", e.seq);
                }
                total += s.events.len() as u64;
            }
        }
        self.unseen_events = total
            - self
                .writers
                .iter()
                .flat_map(|w| &w.subjects)
                .map(|s| s.events.len() as u64)
                .sum::<u64>();
        assert_eq!(
            ledger, total,
            "round {round}: the ledger holds {ledger} events, the writers account for {total} (seed {seed})"
        );
    }
}

async fn run_harness(test: &str, db_args: Vec<String>, rounds: u64) {
    let workdir = Workdir(Some(
        tempfile::Builder::new()
            .prefix("keuze-crash-")
            .tempdir()
            .unwrap(),
    ));
    let dir = workdir.0.as_ref().unwrap().path().to_path_buf();
    let seed = std::env::var("KEUZE_CRASH_SEED").map_or_else(
        |_| rand::random::<u64>(),
        |s| s.parse().expect("KEUZE_CRASH_SEED is a number"),
    );
    println!(
        "{test}: seed {seed} (replay with KEUZE_CRASH_SEED={seed}), {rounds} rounds, data in {}",
        dir.display()
    );
    let mut key_args = vec!["--data".to_owned(), "data".to_owned()];
    key_args.extend(db_args.iter().cloned());
    let key = |scopes: &[&str]| {
        let mut args: Vec<&str> = vec!["key", "create"];
        for s in scopes {
            args.extend(["--scope", s]);
        }
        args.extend(key_args.iter().map(String::as_str));
        let out = keuze(&dir).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let record = key(&["record"]);
    let audit = key(&["audit", "decide", "admin"]);
    let writers = env_u64("KEUZE_CRASH_WRITERS", 8);
    let mut h = Harness {
        dir,
        db_args,
        record,
        audit,
        seed,
        rng: StdRng::seed_from_u64(seed),
        purposes: Vec::new(),
        writers: (0..writers).map(|_| Writer::default()).collect(),
        unseen_events: 0,
        catalog_purposes: 0,
        startup: Duration::from_millis(200),
    };
    // The purposes a customer can switch, from the catalog the server serves.
    {
        let node = h.start();
        let (status, state) = post(
            &reqwest::Client::new(),
            &format!("{}/v1/subjects/state", node.base),
            &h.audit,
            &json!({"subject": {"id": "crash-probe"}}),
        )
        .await;
        assert_eq!(status, 200, "{state}");
        h.purposes = state["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["switchable"] == true)
            .map(|p| Purpose {
                id: p["purpose"].as_str().unwrap().to_owned(),
                no: if p["legal_basis"] == "consent" {
                    "withdraw"
                } else {
                    "object"
                },
            })
            .collect();
        assert!(h.purposes.len() >= 4, "{state}");
        h.catalog_purposes = state["purposes"].as_array().unwrap().len() as u64;
    }
    let mut all = RoundFigures::default();
    for round in 1..=rounds {
        let min_acks = h.rng.gen_range(20..200);
        let f = h.round(round, min_acks, 1500).await;
        all.acked_requests += f.acked_requests;
        all.acked_events += f.acked_events;
        all.refused += f.refused;
        all.startup_kills += f.startup_kills;
        all.clean_stops += f.clean_stops;
    }
    let ledger = h.verify_offline(rounds + 1);
    let erased = h
        .writers
        .iter()
        .flat_map(|w| &w.subjects)
        .filter(|s| s.erased)
        .count();
    let subjects: usize = h.writers.iter().map(|w| w.subjects.len()).sum();
    println!(
        "{test}: {rounds} rounds, seed {seed}: {} writes acknowledged ({} events) for {subjects} \
         subjects, {erased} erased; {} kills during start-up, {} clean stops, {} writes \
         refused before a kill; ledger {ledger} events; 0 acknowledged writes lost",
        all.acked_requests, all.acked_events, all.startup_kills, all.clean_stops, all.refused
    );
    let _ = std::io::stdout().flush();
    drop(workdir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_sqlite() {
    let rounds = env_u64("KEUZE_CRASH_ROUNDS", 3);
    run_harness("crash harness (SQLite)", Vec::new(), rounds).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_postgres() {
    let test = "acknowledged_writes_survive_sigkill_postgres";
    let Some(url) = postgres_or_skip(test).await else {
        return;
    };
    let schema = fresh_schema("crash");
    let rounds = env_u64(
        "KEUZE_CRASH_PG_ROUNDS",
        env_u64("KEUZE_CRASH_ROUNDS", 3).min(2),
    );
    let args = vec![
        "--database".to_owned(),
        url.clone(),
        "--database-schema".to_owned(),
        schema.clone(),
    ];
    // The schema goes whether the harness passes or not.
    struct DropSchema(String, String);
    impl Drop for DropSchema {
        fn drop(&mut self) {
            let (url, schema) = (self.0.clone(), self.1.clone());
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_schema(&url, &schema));
                }
            })
            .join();
        }
    }
    let _cleanup = DropSchema(url, schema);
    run_harness("crash harness (PostgreSQL)", args, rounds).await;
}

/// The check the harness relies on finds a projection that differs from a rebuild, and
/// changes nothing; `keuze ledger rebuild` repairs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_check_finds_a_projection_that_differs_and_changes_nothing() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let key = support::create_key(dir.path(), "keuze-data", &["record"]);
    let server = support::Server::start(dir.path(), &[], &dir.path().join("log"));
    let client = reqwest::Client::new();
    for who in ["projection-a", "projection-b"] {
        let (status, answer) = post(
            &client,
            &format!("{}/v1/consents", server.base),
            &key,
            &json!({"subject": {"id": who}, "choices": [{"purpose": "newsletter", "action": "grant"}]}),
        )
        .await;
        assert_eq!(status, 201, "{answer}");
    }
    assert!(server.terminate().success());
    let check = || {
        keuze(dir.path())
            .args(["ledger", "rebuild", "--check", "--data", "keuze-data"])
            .output()
            .unwrap()
    };
    let out = check();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok: the projection equals a rebuild from the ledger (2 current choices)"
    );

    let db = dir.path().join("keuze-data/keuze.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    // The first consent event: admin entries (the key, the catalog) come before it.
    let first: i64 = sqlx::query_scalar("SELECT min(seq) FROM consent_state")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::query("DELETE FROM consent_state WHERE seq = ?1")
        .bind(first)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    for _ in 0..2 {
        let out = check();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("the projection differs from a rebuild in 1 places")
                && err.contains(&format!(
                    "the projection has no row, the ledger's latest is event {first}"
                )),
            "{err}"
        );
    }
    let out = keuze(dir.path())
        .args(["ledger", "rebuild", "--data", "keuze-data"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(check().status.success());
}
