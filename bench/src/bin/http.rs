//! The HTTP benchmark: single decisions against a bare axum endpoint measured in the same
//! run, at several concurrencies, and batch decisions; a table, a JSON file and a plot.
//!
//! It builds nothing: run `cargo build --release -p keuze -p keuze-bench` first. It starts
//! `keuze serve` (on a fresh data directory) and `bare-server` from the directory this
//! binary is in, seeds subjects through the API, drives both servers with `wrk` under the
//! same settings and a Lua script (`bench/wrk/bodies.lua`), and stops both servers.

use anyhow::{bail, Context, Result};
use clap::Parser;
use keuze_bench::Runs;
use keuze_fatigue::plot::{nice_ticks, trim, xml};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "HTTP decisions against a bare axum endpoint measured in the same run")]
struct Args {
    /// A smoke run: 1-second runs, one of each, a few hundred subjects. Asserts nothing
    /// about speed; writes its results to the temporary directory unless --out is given.
    #[arg(long)]
    quick: bool,
    /// Where `keuze` and `bare-server` are; default the directory of this binary.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// The wrk Lua script.
    #[arg(long, default_value = "bench/wrk/bodies.lua", value_name = "FILE")]
    script: PathBuf,
    /// Where to write http.json and http.svg [default: docs/bench].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Runs per measurement [default: 3, quick 1].
    #[arg(long)]
    runs: Option<usize>,
    /// Seconds per run [default: 5, quick 1].
    #[arg(long)]
    seconds: Option<u64>,
    /// Subjects seeded before measuring [default: 100000, quick 300].
    #[arg(long)]
    subjects: Option<usize>,
    /// Connections (keep-alive) to measure single decisions at.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16,64,128")]
    connections: Vec<usize>,
    /// wrk threads; on 2 cores every thread given to wrk is taken from the server.
    #[arg(long, default_value_t = 1)]
    wrk_threads: usize,
    /// Connections for the batch figure.
    #[arg(long, default_value_t = 4)]
    batch_connections: usize,
    /// Questions per batch request.
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Record `perf` profiles (DWARF call graphs) of the Keuze server into DIR during its
    /// first run at the highest concurrency and its first batch runs; see BENCHMARKS.md.
    #[arg(long, value_name = "DIR")]
    perf: Option<PathBuf>,
}

/// The purposes asked about, each with a category it declares (sample catalog).
const QUESTIONS: [(&str, &str); 4] = [
    ("newsletter", "contact.email"),
    ("personalised_recommendations", "behaviour.browsing"),
    ("advertising_partners", "device.cookie_id"),
    ("service_analytics", "behaviour.clicks"),
];

fn main() -> Result<()> {
    let args = Args::parse();
    let runs = args.runs.unwrap_or(if args.quick { 1 } else { 3 });
    let seconds = args.seconds.unwrap_or(if args.quick { 1 } else { 5 });
    let subjects = args
        .subjects
        .unwrap_or(if args.quick { 300 } else { 100_000 });
    let bin_dir = match &args.bin_dir {
        Some(d) => d.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this binary has no directory")?
            .to_path_buf(),
    };
    let keuze = bin_dir.join("keuze");
    let bare = bin_dir.join("bare-server");
    for bin in [&keuze, &bare] {
        if !bin.exists() {
            bail!(
                "{} is missing: run `cargo build --release -p keuze -p keuze-bench` first",
                bin.display()
            );
        }
    }
    if !args.script.exists() {
        bail!(
            "the wrk script {} is missing: run from the repository root or pass --script",
            args.script.display()
        );
    }
    let wrk_version = wrk_version()?;
    let tmp = tempfile::tempdir().context("could not make a temporary directory")?;
    let out = match &args.out {
        Some(o) => o.clone(),
        None if args.quick => tmp.path().join("out"),
        None => PathBuf::from("docs/bench"),
    };

    let machine = Machine::here();
    println!("# Keuze HTTP benchmark");
    println!(
        "machine: {} ({} cores), Linux {}",
        machine.cpu, machine.cores, machine.kernel
    );
    println!(
        "load: {wrk_version}, -t{} (at most one thread per connection), keep-alive, {runs} run(s) x {seconds} s per point, both servers driven identically",
        args.wrk_threads
    );

    let data = tmp.path().join("keuze-data");
    let catalog = tmp.path().join("catalog.toml");
    std::fs::write(&catalog, keuze_core::catalog::SAMPLE_CATALOG)?;
    let key = create_key(&keuze, &data, tmp.path())?;
    let keuze_server = Server::start(
        "keuze",
        Command::new(&keuze)
            .current_dir(tmp.path())
            // The runner reads the server's English "listening on" line.
            .env("KEUZE_LANG", "en")
            .env_remove("KEUZE_LOG")
            .env_remove("KEUZE_CONFIG")
            .arg("serve")
            .arg("--data")
            .arg(&data)
            .arg("--catalog")
            .arg(&catalog)
            .args(["--listen", "127.0.0.1:0"])
            // One key drives the whole load: a quota it never reaches, so the limiter's
            // cost is measured but it refuses nothing.
            .args(["--rate-limit-per-key", "100000000/s burst 100000000"]),
        &tmp.path().join("keuze.log"),
    )?;
    let bare_server = Server::start(
        "bare",
        Command::new(&bare).args(["--listen", "127.0.0.1:0"]),
        &tmp.path().join("bare.log"),
    )?;

    let started = Instant::now();
    let pseudonyms = seed(&keuze_server.url, &key, subjects)?;
    let seed_took = started.elapsed();
    println!(
        "seeded {subjects} subjects ({} events) through POST /v1/consents in {:.1} s",
        subjects * 3,
        seed_took.as_secs_f64()
    );

    let mut rng = StdRng::seed_from_u64(6);
    let single = tmp.path().join("single.jsonl");
    write_lines(
        &single,
        (0..10_000).map(|_| single_body(&mut rng, subjects)),
    )?;
    let batch_by_pseudonym = tmp.path().join("batch-pseudonym.jsonl");
    write_lines(
        &batch_by_pseudonym,
        (0..16).map(|_| batch_body(&mut rng, args.batch_size, |r| pseudonym_ref(r, &pseudonyms))),
    )?;
    let batch_by_id = tmp.path().join("batch-id.jsonl");
    write_lines(
        &batch_by_id,
        (0..16).map(|_| batch_body(&mut rng, args.batch_size, |r| id_ref(r, subjects))),
    )?;
    check_answers(&keuze_server.url, &key, &pseudonyms, args.batch_size)?;

    if let Some(dir) = &args.perf {
        std::fs::create_dir_all(dir)?;
    }
    let wrk = Wrk {
        script: args.script.clone(),
        threads: args.wrk_threads,
        seconds,
        perf: args.perf.clone(),
    };
    let top = args.connections.iter().copied().max().unwrap_or(0);
    let mut points = Vec::new();
    for &c in &args.connections {
        let mut bare_runs = Vec::new();
        let mut keuze_runs = Vec::new();
        for _ in 0..runs {
            // Interleaved, so that noise from the shared machine falls on both.
            bare_runs.push(wrk.run(&bare_server, "/v1/decide", &single, None, c)?);
            let profile = (c == top).then_some("single");
            keuze_runs.push(wrk.run_profiled(
                &keuze_server,
                "/v1/decide",
                &single,
                Some(&key),
                c,
                profile,
            )?);
        }
        let point = Point::new(c, bare_runs, keuze_runs, 1);
        println!(
            "  {c:>4} connections: bare {:>9.0}/s, keuze {:>9.0}/s ({:.2}x)",
            point.bare.rate.median(),
            point.keuze.rate.median(),
            point.ratio
        );
        points.push(point);
    }

    let mut batch_bare = Vec::new();
    let mut batch_pseudo = Vec::new();
    let mut batch_id = Vec::new();
    let bc = args.batch_connections;
    for _ in 0..runs {
        batch_bare.push(wrk.run(
            &bare_server,
            "/v1/decide/batch",
            &batch_by_pseudonym,
            None,
            bc,
        )?);
        batch_pseudo.push(wrk.run_profiled(
            &keuze_server,
            "/v1/decide/batch",
            &batch_by_pseudonym,
            Some(&key),
            bc,
            Some("batch-pseudonym"),
        )?);
        batch_id.push(wrk.run_profiled(
            &keuze_server,
            "/v1/decide/batch",
            &batch_by_id,
            Some(&key),
            bc,
            Some("batch-id"),
        )?);
    }
    let n = args.batch_size as f64;
    let batch = Batch {
        size: args.batch_size,
        connections: bc,
        bare_same_body: Measured::new(&batch_bare, n),
        by_pseudonym: Measured::new(&batch_pseudo, n),
        by_id: Measured::new(&batch_id, n),
    };
    drop(keuze_server);
    drop(bare_server);

    let results = Results {
        machine,
        load: format!(
            "{wrk_version}; -t{} -d{seconds}s --latency -s bench/wrk/bodies.lua; keep-alive",
            args.wrk_threads
        ),
        quick: args.quick,
        runs,
        seconds,
        subjects,
        seed_seconds: seed_took.as_secs_f64(),
        single: points,
        batch,
    };
    print!("{}", results.table());
    std::fs::create_dir_all(&out).with_context(|| format!("could not create {}", out.display()))?;
    let json_path = out.join("http.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&results)? + "\n")?;
    let svg_path = out.join("http.svg");
    std::fs::write(&svg_path, plot(&results))?;
    println!("wrote {} and {}", json_path.display(), svg_path.display());
    Ok(())
}

/// What the figures were measured on.
#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
    kernel: String,
}

impl Machine {
    fn here() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |s| s.trim().to_owned());
        Self { cpu, cores, kernel }
    }
}

/// A server process, stopped when dropped.
struct Server {
    name: &'static str,
    child: Child,
    url: String,
}

impl Server {
    /// Starts `cmd` and waits for it to print `listening on http://ADDR`.
    fn start(name: &'static str, cmd: &mut Command, log: &Path) -> Result<Self> {
        let log = std::fs::File::create(log)?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("could not start the {name} server"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(line) => {
                    let line = line?;
                    if let Some(i) = line.find("http://") {
                        break line.get(i..).unwrap_or_default().trim().to_owned();
                    }
                }
                None => {
                    let _ = child.wait();
                    bail!("the {name} server exited before it listened; see its log");
                }
            }
        };
        // Keep reading, so that a chatty server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { name, child, url })
    }

    /// CPU time the server process has used so far (all threads, user and system).
    fn cpu(&self) -> Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        cpu_from_stat(&stat, 11, 12)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sums two tick fields of `/proc/<pid>/stat`, counted after the command name.
fn cpu_from_stat(stat: &str, a: usize, b: usize) -> Result<Duration> {
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("unexpected /proc stat format")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| -> Result<u64> {
        Ok(fields.get(i).context("short /proc stat")?.parse::<u64>()?)
    };
    // USER_HZ is 100 on Linux.
    Ok(Duration::from_millis((tick(a)? + tick(b)?) * 10))
}

/// CPU time used by this process's waited-for children (wrk).
fn children_cpu() -> Result<Duration> {
    cpu_from_stat(&std::fs::read_to_string("/proc/self/stat")?, 13, 14)
}

fn wrk_version() -> Result<String> {
    let out = Command::new("wrk")
        .arg("--version")
        .output()
        .context("wrk is not installed: `apt-get install -y wrk`")?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .next()
        .and_then(|l| l.split(" [").next())
        .unwrap_or("wrk")
        .trim()
        .to_owned())
}

fn create_key(keuze: &Path, data: &Path, cwd: &Path) -> Result<String> {
    let out = Command::new(keuze)
        .current_dir(cwd)
        .env_remove("KEUZE_CONFIG")
        .args(["key", "create", "--scope", "record", "--scope", "decide"])
        .args(["--label", "http benchmark", "--data"])
        .arg(data)
        .output()
        .context("could not run keuze key create")?;
    if !out.status.success() {
        bail!(
            "keuze key create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("kz_"))
        .map(str::to_owned)
        .context("keuze key create printed no key")
}

fn subject_id(i: usize) -> String {
    format!("customer-{i:07}")
}

/// Records three choices for each of `n` subjects, 64 requests at a time; returns their
/// pseudonyms.
fn seed(url: &str, key: &str, n: usize) -> Result<Vec<String>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let next = Arc::new(AtomicUsize::new(0));
        let pseudonyms = Arc::new(Mutex::new(vec![String::new(); n]));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let (client, next, pseudonyms) = (client.clone(), next.clone(), pseudonyms.clone());
            let endpoint = format!("{url}/v1/consents");
            let auth = format!("Bearer {key}");
            workers.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return anyhow::Ok(());
                    }
                    let recommendations = if i % 3 == 0 { "withdraw" } else { "grant" };
                    let mut choices = vec![
                        serde_json::json!({"purpose": "newsletter", "action": "grant"}),
                        serde_json::json!({"purpose": "personalised_recommendations", "action": recommendations}),
                    ];
                    if i % 5 == 0 {
                        choices.push(serde_json::json!({"purpose": "service_analytics", "action": "object"}));
                    } else {
                        choices.push(serde_json::json!({"purpose": "product_reviews", "action": "grant"}));
                    }
                    let body = serde_json::json!({
                        "subject": {"id": subject_id(i)},
                        "choices": choices,
                        "source": "import",
                    });
                    let res = client
                        .post(&endpoint)
                        .header("Authorization", &auth)
                        .json(&body)
                        .send()
                        .await?;
                    let status = res.status();
                    let answer: serde_json::Value = res.json().await?;
                    if status != 201 {
                        bail!("seeding subject {i}: {status}: {answer}");
                    }
                    let p = answer
                        .get("subject")
                        .and_then(|s| s.as_str())
                        .context("the consents answer has no subject")?
                        .to_owned();
                    if let Some(slot) = pseudonyms
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .get_mut(i)
                    {
                        *slot = p;
                    }
                }
            });
        }
        while let Some(done) = workers.join_next().await {
            done??;
        }
        let v = std::mem::take(&mut *pseudonyms.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
        Ok(v)
    })
}

fn question(rng: &mut StdRng) -> (&'static str, &'static str) {
    QUESTIONS
        .get(rng.gen_range(0..QUESTIONS.len()))
        .copied()
        .unwrap_or(("newsletter", "contact.email"))
}

fn id_ref(rng: &mut StdRng, subjects: usize) -> serde_json::Value {
    serde_json::json!({"id": subject_id(rng.gen_range(0..subjects.max(1)))})
}

fn pseudonym_ref(rng: &mut StdRng, pseudonyms: &[String]) -> serde_json::Value {
    let p = pseudonyms
        .get(rng.gen_range(0..pseudonyms.len().max(1)))
        .cloned()
        .unwrap_or_default();
    serde_json::json!({ "pseudonym": p })
}

/// One question by the organisation's own identifier: what an integration sends.
fn single_body(rng: &mut StdRng, subjects: usize) -> String {
    let (purpose, category) = question(rng);
    serde_json::json!({
        "subject": id_ref(rng, subjects),
        "purpose": purpose,
        "categories": [category],
    })
    .to_string()
}

fn batch_body(
    rng: &mut StdRng,
    size: usize,
    mut subject: impl FnMut(&mut StdRng) -> serde_json::Value,
) -> String {
    let items: Vec<serde_json::Value> = (0..size)
        .map(|_| {
            let (purpose, category) = question(rng);
            serde_json::json!({
                "subject": subject(rng),
                "purpose": purpose,
                "categories": [category],
            })
        })
        .collect();
    serde_json::json!({ "items": items }).to_string()
}

fn write_lines(path: &Path, lines: impl Iterator<Item = String>) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in lines {
        writeln!(f, "{line}")?;
    }
    f.flush()?;
    Ok(())
}

/// Makes sure the server answers what the seeding says, so the benchmark measures real
/// decisions and not error responses.
fn check_answers(url: &str, key: &str, pseudonyms: &[String], batch: usize) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let one: serde_json::Value = client
            .post(format!("{url}/v1/decide"))
            .header("Authorization", format!("Bearer {key}"))
            .json(&serde_json::json!({"subject": {"id": subject_id(1)}, "purpose": "newsletter", "categories": ["contact.email"]}))
            .send()
            .await?
            .json()
            .await?;
        if one.get("reason").and_then(|r| r.as_str()) != Some("granted")
            || one.get("subject").and_then(|s| s.as_str()) != pseudonyms.get(1).map(String::as_str)
        {
            bail!("a seeded subject was not granted: {one}");
        }
        let items: Vec<_> = (0..batch)
            .map(|i| serde_json::json!({"subject": {"pseudonym": pseudonyms.get(i % pseudonyms.len().max(1))}, "purpose": "newsletter"}))
            .collect();
        let res = client
            .post(format!("{url}/v1/decide/batch"))
            .header("Authorization", format!("Bearer {key}"))
            .json(&serde_json::json!({ "items": items }))
            .send()
            .await?;
        let status = res.status();
        let answer: serde_json::Value = res.json().await?;
        let decisions = answer.get("decisions").and_then(|d| d.as_array());
        if status != 200 || decisions.map(Vec::len) != Some(batch) {
            bail!("a batch of {batch} was not answered: {status}");
        }
        Ok(())
    })
}

/// How wrk is run; the same for every server.
struct Wrk {
    script: PathBuf,
    threads: usize,
    seconds: u64,
    /// Where to record perf profiles, if anywhere.
    perf: Option<PathBuf>,
}

/// One wrk run and the CPU both sides used during it.
#[derive(Debug, Clone, Serialize)]
struct WrkRun {
    requests: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Server CPU seconds during the run.
    server_cpu: f64,
    /// wrk CPU seconds during the run.
    wrk_cpu: f64,
}

impl Wrk {
    fn run(
        &self,
        server: &Server,
        path: &str,
        bodies: &Path,
        key: Option<&str>,
        connections: usize,
    ) -> Result<WrkRun> {
        self.run_profiled(server, path, bodies, key, connections, None)
    }

    /// Like `run`; with `--perf`, records a profile of the server as `<profile>.data`
    /// unless one was recorded already.
    fn run_profiled(
        &self,
        server: &Server,
        path: &str,
        bodies: &Path,
        key: Option<&str>,
        connections: usize,
        profile: Option<&str>,
    ) -> Result<WrkRun> {
        let target = self
            .perf
            .as_ref()
            .zip(profile)
            .map(|(dir, name)| dir.join(format!("{name}.data")))
            .filter(|f| !f.exists());
        let perf = match &target {
            Some(file) => Some(
                Command::new("perf")
                    .args(["record", "-q", "-F", "999", "--call-graph", "dwarf,16384"])
                    .arg("-p")
                    .arg(server.child.id().to_string())
                    .arg("-o")
                    .arg(file)
                    .stdout(Stdio::null())
                    .spawn()
                    .context("could not start perf record")?,
            ),
            None => None,
        };
        let result = self.measure(server, path, bodies, key, connections);
        if let Some(mut perf) = perf {
            // perf writes its file on SIGINT.
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(perf.id().to_string())
                .status();
            let _ = perf.wait();
        }
        result
    }

    fn measure(
        &self,
        server: &Server,
        path: &str,
        bodies: &Path,
        key: Option<&str>,
        connections: usize,
    ) -> Result<WrkRun> {
        let cpu_before = server.cpu()?;
        let wrk_before = children_cpu()?;
        let out = Command::new("wrk")
            .arg(format!("-t{}", self.threads.clamp(1, connections.max(1))))
            .arg(format!("-c{connections}"))
            .arg(format!("-d{}s", self.seconds))
            .arg("--timeout")
            .arg("10s")
            .arg("--latency")
            .arg("-s")
            .arg(&self.script)
            .arg(format!("{}{path}", server.url))
            .arg("--")
            .arg(bodies)
            .arg(key.unwrap_or(""))
            .stdin(Stdio::null())
            .output()
            .context("could not run wrk")?;
        let server_cpu = server.cpu()?.saturating_sub(cpu_before);
        let wrk_cpu = children_cpu()?.saturating_sub(wrk_before);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find(|l| l.starts_with("KEUZE_WRK "))
            .with_context(|| {
                format!(
                    "wrk printed no summary for {} {path}: {}{}",
                    server.name,
                    stdout,
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
        let field = |name: &str| -> Result<f64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .with_context(|| format!("no {name} in `{line}`"))?
                .parse::<f64>()
                .with_context(|| format!("{name} in `{line}`"))
        };
        let errors: f64 = ["connect", "read", "write", "status", "timeout"]
            .iter()
            .map(|e| field(e))
            .sum::<Result<f64>>()?;
        if errors > 0.0 {
            bail!(
                "{} {path} at {connections} connections: {errors} failed requests ({line})",
                server.name
            );
        }
        Ok(WrkRun {
            requests: field("requests")? as u64,
            seconds: field("duration_us")? / 1e6,
            p50_ms: field("p50_us")? / 1e3,
            p99_ms: field("p99_us")? / 1e3,
            max_ms: field("max_us")? / 1e3,
            server_cpu: server_cpu.as_secs_f64(),
            wrk_cpu: wrk_cpu.as_secs_f64(),
        })
    }
}

/// Several runs of one measurement: decisions per second, p99, and CPU per decision.
#[derive(Debug, Serialize)]
struct Measured {
    /// Decisions per second, one per run.
    rate: Runs,
    /// 99th-percentile request latency in ms, one per run.
    p99_ms: Runs,
    /// Server CPU microseconds per decision, one per run.
    server_cpu_us: Runs,
    /// wrk CPU microseconds per request, one per run.
    wrk_cpu_us: Runs,
    runs: Vec<WrkRun>,
}

impl Measured {
    fn new(runs: &[WrkRun], decisions_per_request: f64) -> Self {
        let of = |f: &dyn Fn(&WrkRun) -> f64| Runs {
            rates: runs.iter().map(f).collect(),
        };
        let per = |r: &WrkRun| (r.requests as f64).max(1.0);
        Self {
            rate: of(&|r| r.requests as f64 * decisions_per_request / r.seconds.max(1e-9)),
            p99_ms: of(&|r| r.p99_ms),
            server_cpu_us: of(&|r| r.server_cpu * 1e6 / per(r) / decisions_per_request),
            wrk_cpu_us: of(&|r| r.wrk_cpu * 1e6 / per(r)),
            runs: runs.to_vec(),
        }
    }
}

/// Single decisions at one concurrency.
#[derive(Debug, Serialize)]
struct Point {
    connections: usize,
    bare: Measured,
    keuze: Measured,
    /// Keuze's median decisions/s over the bare endpoint's median requests/s.
    ratio: f64,
}

impl Point {
    fn new(connections: usize, bare: Vec<WrkRun>, keuze: Vec<WrkRun>, per: usize) -> Self {
        let bare = Measured::new(&bare, per as f64);
        let keuze = Measured::new(&keuze, per as f64);
        let ratio = keuze.rate.median() / bare.rate.median().max(1e-9);
        Self {
            connections,
            bare,
            keuze,
            ratio,
        }
    }
}

#[derive(Debug, Serialize)]
struct Batch {
    size: usize,
    connections: usize,
    /// The bare endpoint receiving the same bodies: what transport alone allows, counted
    /// as if each request had been answered with `size` decisions.
    bare_same_body: Measured,
    by_pseudonym: Measured,
    by_id: Measured,
}

#[derive(Debug, Serialize)]
struct Results {
    machine: Machine,
    load: String,
    quick: bool,
    runs: usize,
    seconds: u64,
    subjects: usize,
    seed_seconds: f64,
    single: Vec<Point>,
    batch: Batch,
}

fn mmm(r: &Runs, scale: f64, digits: usize) -> String {
    format!(
        "{:.d$} / {:.d$} / {:.d$}",
        r.min() * scale,
        r.median() * scale,
        r.max() * scale,
        d = digits
    )
}

impl Results {
    fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n## Single decisions (POST /v1/decide), min / median / max of {} run(s)\n",
            self.runs
        );
        let _ = writeln!(s, "| connections | bare req/s | keuze decisions/s | ratio (median) | bare p99 ms | keuze p99 ms | server CPU µs/req bare / keuze |");
        let _ = writeln!(s, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for p in &self.single {
            let _ = writeln!(
                s,
                "| {} | {} | {} | **{:.2}** | {} | {} | {:.1} / {:.1} |",
                p.connections,
                mmm(&p.bare.rate, 1.0, 0),
                mmm(&p.keuze.rate, 1.0, 0),
                p.ratio,
                mmm(&p.bare.p99_ms, 1.0, 2),
                mmm(&p.keuze.p99_ms, 1.0, 2),
                p.bare.server_cpu_us.median(),
                p.keuze.server_cpu_us.median(),
            );
        }
        let b = &self.batch;
        let _ = writeln!(
            s,
            "\n## Batch decisions (POST /v1/decide/batch, {} per request, {} connections)\n",
            b.size, b.connections
        );
        let _ = writeln!(
            s,
            "| what | decisions/s | p99 ms per request | server CPU ns/decision |"
        );
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        for (name, m) in [
            ("subjects by pseudonym", &b.by_pseudonym),
            ("subjects by own identifier (HMAC)", &b.by_id),
            (
                "bare endpoint, same bodies (transport only)",
                &b.bare_same_body,
            ),
        ] {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {:.0} |",
                mmm(&m.rate, 1.0, 0),
                mmm(&m.p99_ms, 1.0, 1),
                m.server_cpu_us.median() * 1e3
            );
        }
        s
    }
}

/// Throughput and p99 against concurrency, bare and Keuze, as a two-panel SVG.
fn plot(r: &Results) -> String {
    let levels: Vec<usize> = r.single.iter().map(|p| p.connections).collect();
    let series = |f: &dyn Fn(&Point) -> &Runs, scale: f64| -> Vec<(f64, f64, f64)> {
        r.single
            .iter()
            .map(|p| {
                let runs = f(p);
                (
                    runs.min() * scale,
                    runs.median() * scale,
                    runs.max() * scale,
                )
            })
            .collect()
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="420" viewBox="0 0 960 420" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="960" height="420" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="480" y="22" text-anchor="middle" font-size="15">POST /v1/decide, keep-alive: Keuze against a bare axum endpoint ({} cores; {})</text>"#,
        r.machine.cores,
        xml(r.load.split(" --latency").next().unwrap_or_default())
    );
    panel(
        &mut svg,
        40.0,
        "thousand requests/s (median; bars min–max)",
        &levels,
        &[
            ("bare axum", "#888888", series(&|p| &p.bare.rate, 1e-3)),
            ("keuze", "#1f6fd1", series(&|p| &p.keuze.rate, 1e-3)),
        ],
    );
    panel(
        &mut svg,
        510.0,
        "p99 latency, ms (median; bars min–max)",
        &levels,
        &[
            ("bare axum", "#888888", series(&|p| &p.bare.p99_ms, 1.0)),
            ("keuze", "#1f6fd1", series(&|p| &p.keuze.p99_ms, 1.0)),
        ],
    );
    let _ = writeln!(svg, "</svg>");
    svg
}

type Series<'a> = (&'a str, &'a str, Vec<(f64, f64, f64)>);

fn panel(svg: &mut String, x0: f64, title: &str, levels: &[usize], series: &[Series<'_>]) {
    let (y0, w, h) = (60.0, 400.0, 300.0);
    let top = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().map(|p| p.2))
        .fold(0.0_f64, f64::max);
    let (step, ticks) = nice_ticks(top);
    let ymax = step * ticks as f64;
    let x = |i: usize| x0 + 40.0 + (w - 60.0) * (i as f64 + 0.5) / levels.len().max(1) as f64;
    let y = |v: f64| y0 + h - h * v / ymax.max(1e-12);
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        x0 + w / 2.0,
        y0 - 12.0,
        xml(title)
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{}" y="{y0}" width="{}" height="{h}" fill="none" stroke="#333"/>"##,
        x0 + 40.0,
        w - 40.0
    );
    for t in 0..=ticks {
        let v = step * t as f64;
        let _ = writeln!(
            svg,
            r##"<line x1="{}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + 40.0,
            x0 + w,
            x0 + 36.0,
            y(v) + 4.0,
            trim(v),
            yy = y(v),
        );
    }
    for (i, c) in levels.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{c}</text>"#,
            x(i),
            y0 + h + 16.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">connections</text>"#,
        x0 + w / 2.0 + 20.0,
        y0 + h + 34.0
    );
    for (k, (name, color, values)) in series.iter().enumerate() {
        let dx = (k as f64 - 0.5) * 6.0;
        let path: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i) + dx, y(p.1)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            path.join(" ")
        );
        for (i, (lo, mid, hi)) in values.iter().enumerate() {
            let _ = writeln!(
                svg,
                r#"<line x1="{xx:.1}" x2="{xx:.1}" y1="{:.1}" y2="{:.1}" stroke="{color}"/><circle cx="{xx:.1}" cy="{:.1}" r="3.5" fill="{color}"/>"#,
                y(*lo),
                y(*hi),
                y(*mid),
                xx = x(i) + dx,
            );
        }
        let ly = y0 + 16.0 + 16.0 * k as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            x0 + 52.0,
            ly - 4.0,
            x0 + 70.0,
            ly,
            xml(name)
        );
    }
}
