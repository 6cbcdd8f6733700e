//! What the binary's integration tests share: running `keuze`, a served instance, keys,
//! and PostgreSQL for the scale-out tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The `keuze` under test: this build's, or `KEUZE_TEST_BIN` (an absolute path, e.g. to
/// a release build for the crash harness's full mode, docs/reliability.md).
pub fn bin() -> std::path::PathBuf {
    match std::env::var_os("KEUZE_TEST_BIN") {
        Some(path) => std::fs::canonicalize(&path).unwrap_or_else(|e| {
            panic!(
                "KEUZE_TEST_BIN={}: {e}",
                std::path::Path::new(&path).display()
            )
        }),
        None => env!("CARGO_BIN_EXE_keuze").into(),
    }
}

pub fn keuze(cwd: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(cwd)
        .env_remove("KEUZE_DATA")
        .env_remove("KEUZE_CATALOG")
        .env_remove("KEUZE_LISTEN")
        .env_remove("KEUZE_CONFIG")
        .env_remove("KEUZE_NATS")
        .env_remove("KEUZE_NATS_STREAM")
        .env_remove("KEUZE_NATS_SUBJECT_PREFIX")
        .env_remove("KEUZE_WEBHOOK_MAX_ATTEMPTS")
        .env_remove("KEUZE_WEBHOOK_RETRY_BASE_MS")
        .env_remove("KEUZE_WEBHOOK_RETRY_MAX_MS")
        .env_remove("KEUZE_DATABASE")
        .env_remove("KEUZE_DATABASE_SCHEMA")
        .env_remove("KEUZE_RATE_LIMIT_PER_KEY")
        .env_remove("KEUZE_RATE_LIMIT_PER_CLIENT")
        .env_remove("KEUZE_TRUST_FORWARDED_FOR")
        .env_remove("KEUZE_TLS_CERT")
        .env_remove("KEUZE_TLS_KEY")
        .env_remove("KEUZE_TCF_VENDOR_LIST")
        .env_remove("KEUZE_LOG_FORMAT")
        // The tests read the English words, whatever the machine's locale.
        .env("KEUZE_LANG", "en");
    c
}

pub fn run(cwd: &Path, args: &[&str]) -> Output {
    keuze(cwd).args(args).output().unwrap()
}

pub struct Server {
    pub child: Child,
    pub base: String,
    log: Option<std::path::PathBuf>,
}

impl Server {
    /// Starts `keuze serve` on a free port in `cwd` with extra args; stderr goes to `log`.
    pub fn start(cwd: &Path, args: &[&str], log: &Path) -> Self {
        Self::start_with_env(cwd, args, log, &[])
    }

    /// As [`Server::start`], with extra environment variables.
    pub fn start_with_env(cwd: &Path, args: &[&str], log: &Path, env: &[(&str, &str)]) -> Self {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = keuze(cwd)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("KEUZE_LOG", "trace")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("keuze listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            })
            .to_owned();
        Self {
            child,
            base,
            log: Some(log.to_owned()),
        }
    }

    pub fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A test that fails half-way leaves no server running. Every server's log is scanned
/// when it goes, so every test that serves (at `KEUZE_LOG=trace`) checks that no log
/// line names a customer: see [`assert_log_names_no_customer`].
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if !std::thread::panicking() {
            if let Some(log) = &self.log {
                assert_log_names_no_customer(log, &[]);
            }
        }
    }
}

/// Fails if the log at `path` holds an e-mail address, a device id, a whole API key, a
/// login token, or any of `also` (identifiers, addresses a test used).
pub fn assert_log_names_no_customer(path: &Path, also: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for (n, line) in text.lines().enumerate() {
        let at = || format!("{}:{}: {line}", path.display(), n + 1);
        if let Some(email) = email_in(line) {
            panic!("the log names an e-mail address ({email}) at {}", at());
        }
        if let Some(i) = line.find("dev_") {
            let id = line.get(i..i + 36).unwrap_or("");
            assert!(
                !keuze_core::SubjectKey::is_device_id(id),
                "the log names a device id at {}",
                at()
            );
        }
        if let Some(i) = line.find("kz_") {
            let rest = line.get(i + 3..).unwrap_or("");
            let whole_key = rest.len() >= 81
                && rest.as_bytes().get(16) == Some(&b'_')
                && rest
                    .bytes()
                    .take(81)
                    .filter(|b| b.is_ascii_hexdigit())
                    .count()
                    == 80;
            assert!(!whole_key, "the log holds an API key at {}", at());
        }
        assert!(
            !line.contains("token="),
            "the log holds a login token at {}",
            at()
        );
        for needle in also {
            assert!(
                !line.contains(needle),
                "the log holds `{needle}` at {}",
                at()
            );
        }
    }
}

/// The first e-mail-shaped word in `line`: `local@domain.tld`, the TLD letters only.
fn email_in(line: &str) -> Option<&str> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let bytes = line.as_bytes();
    for (i, _) in line.match_indices('@') {
        let start = (0..i).rev().take_while(|&j| word(bytes[j])).last()?;
        let end = (i + 1..bytes.len())
            .take_while(|&j| {
                bytes[j].is_ascii_alphanumeric() || bytes[j] == b'.' || bytes[j] == b'-'
            })
            .last()?;
        let domain = line.get(i + 1..=end)?;
        let tld = domain.rsplit('.').next()?;
        if domain.contains('.') && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()) {
            return line.get(start..=end);
        }
    }
    None
}

pub fn create_key(cwd: &Path, data: &str, scopes: &[&str]) -> String {
    let mut args = vec!["key", "create", "--data", data];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    let out = run(cwd, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The PostgreSQL the scale-out tests use: `KEUZE_TEST_POSTGRES_URL`, by default the
/// machine's own. `None` (after a loud skip message) when nothing answers there; with
/// `KEUZE_REQUIRE_SERVICES=1` a missing server fails the test instead.
pub async fn postgres_or_skip(test: &str) -> Option<String> {
    let url = std::env::var("KEUZE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    use sqlx::Connection;
    match sqlx::PgConnection::connect(&url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            Some(url)
        }
        Err(why) => {
            if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("{test}: PostgreSQL at {url} is required (KEUZE_REQUIRE_SERVICES=1) but unreachable: {why}");
            }
            eprintln!("SKIPPED {test}: PostgreSQL at {url} is unreachable ({why}); set KEUZE_TEST_POSTGRES_URL or start it");
            None
        }
    }
}

/// A schema name no other test uses; `keuze serve` creates it.
pub fn fresh_schema(test: &str) -> String {
    format!(
        "kz_{test}_{}_{}",
        std::process::id(),
        hex::encode(rand::random::<[u8; 4]>())
    )
}

pub async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection;
    if let Ok(mut conn) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

/// `keuze serve` nodes on one PostgreSQL schema, each with its own data directory holding
/// copies of the first node's secrets (every node must pseudonymise and sign alike).
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub schema: String,
}

/// A test that fails half-way leaves no schema behind either (dropping it again after a
/// test that did is harmless).
impl Drop for Cluster {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(drop_schema(&url, &schema));
            }
        })
        .join();
    }
}

impl Cluster {
    pub fn new(url: &str, schema: &str) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            url: url.to_owned(),
            schema: schema.to_owned(),
        }
    }

    pub fn data(&self, node: usize) -> String {
        format!("node{node}")
    }

    /// `--data nodeN --database URL --database-schema S`.
    pub fn args(&self, node: usize) -> Vec<String> {
        vec![
            "--data".into(),
            self.data(node),
            "--database".into(),
            self.url.clone(),
            "--database-schema".into(),
            self.schema.clone(),
        ]
    }

    /// Starts node `node`; nodes after the first get node 1's secret and log key.
    pub fn start(&self, node: usize) -> Server {
        if node > 1 {
            let to = self.dir.path().join(self.data(node));
            std::fs::create_dir_all(&to).unwrap();
            for file in ["secret.key", "log.key"] {
                let from = self.dir.path().join(self.data(1)).join(file);
                std::fs::copy(&from, to.join(file)).unwrap();
            }
        }
        let args = self.args(node);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let log = self.dir.path().join(format!("node{node}.log"));
        Server::start(self.dir.path(), &args, &log)
    }

    pub fn keuze(&self, node: usize, command: &[&str]) -> Output {
        let args = self.args(node);
        keuze(self.dir.path())
            .args(command)
            .args(&args)
            .output()
            .unwrap()
    }

    pub fn create_key(&self, scopes: &[&str]) -> String {
        let mut command = vec!["key", "create"];
        for s in scopes {
            command.extend(["--scope", s]);
        }
        let out = self.keuze(1, &command);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    pub fn log(&self, node: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("node{node}.log"))).unwrap_or_default()
    }
}
