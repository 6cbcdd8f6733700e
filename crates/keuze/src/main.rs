//! `keuze`: the command line. Serves the API, checks catalogs, manages API keys and the
//! ledger. Exit codes: 0 success, 1 the input was refused (e.g. a catalog with errors),
//! 2 wrong usage (including an unusable config file), 3 the data directory or database
//! failed.

/// A sentence of `cli.ftl` in the operator's language, with its variables by name:
/// `say!("cli-wrote", path = path.display().to_string())`.
macro_rules! say {
    ($id:literal) => {
        $crate::words::lang().t($id).into_owned()
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::words::lang().t_args(
            $id,
            &[$((stringify!($name), ::keuze_words::Value::from($value))),+],
        )
    };
}

mod config;
mod database;
mod datadir;
mod words;

/// Like `print!`, but a closed pipe (`keuze catalog diff 1 2 | head`) ends the output
/// quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod backup;
mod incident;
mod projection;
mod serve;
mod tcf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use config::Settings;
use keuze_app::catalogs::{self, PublishError, Published};
use keuze_app::SystemClock;
use keuze_core::catalog::{parse_catalog, parse_catalog_against, CatalogReport, SAMPLE_CATALOG};
use keuze_core::checkpoint::LogVerifier;
use keuze_core::receipt::{verify_receipt, Receipt};
use keuze_core::{Catalog, CatalogHistory, Pseudonymizer};
use keuze_store::{Scope, Store, StoredLogKey};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Keuze: consent and privacy preferences that put the customer in charge.
///
/// Customers choose per purpose, opt-in; the organisation declares in a catalog which data
/// it uses, why, and what the customer gets in return; every decision rests on a recorded
/// choice. Start with `keuze serve` (sample catalog, data in ./keuze-data), then create an
/// API key with `keuze key create --scope record --scope decide`.
#[derive(Debug, Parser)]
#[command(name = "keuze", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API on an embedded SQLite data directory (or a shared PostgreSQL).
    ///
    /// With no arguments it serves the catalog published last in the data directory, or
    /// the sample catalog on first start. Settings come from flags, then `KEUZE_*`
    /// environment variables, then the config file (`keuze.toml`), then defaults.
    /// SIGTERM or Ctrl-C stops accepting requests and drains pending writes first.
    Serve(serve::ServeArgs),
    /// Write a sample catalog (a web shop) and a config file into DIR.
    Init {
        /// Where to write `catalog.toml` and `keuze.toml`; created if missing.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Check catalogs.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Maintain the consent ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check consent receipts.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Manage the transparency log's signing keys.
    #[command(subcommand)]
    Log(LogCommand),
    /// Copy the SQLite data directory into DIR while a server may be writing: one
    /// consistent snapshot of the database, the key files, and a manifest (ledger size,
    /// root, latest checkpoint, SHA-256 of each file). The copy is verified before it is
    /// kept. DIR must be new or empty. PostgreSQL: use pg_dump (docs/operations.md).
    Backup {
        dir: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Restore a backup made by `keuze backup` into the data directory: checks every
    /// file against the manifest, verifies the ledger and the projection in a new
    /// directory next to the target, then renames it into place. Erasures the replaced
    /// directory recorded after the backup are applied again. Stop the server first.
    Restore {
        dir: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        /// Replace a data directory that is not empty; its files are moved aside.
        #[arg(long)]
        force: bool,
    },
    /// Read the audit trail: admin actions, as entries of the ledger.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Read and write IAB TCF v2 TC strings. Needs no server and no data directory.
    #[command(subcommand)]
    Tcf(TcfCommand),
    /// Privacy incidents: record one, find and tell the affected customers, publish it.
    #[command(subcommand)]
    Incident(incident::IncidentCommand),
}

#[derive(Debug, Subcommand)]
enum TcfCommand {
    /// Print every field of a TC string: each segment, dates, language, purposes and
    /// special features with their names, vendor sets as ranges, publisher restrictions.
    /// With a vendor list, also what it finds wrong with the string. Exit 0 if the string
    /// decodes (whatever the findings), 2 if it does not, naming the segment, the field
    /// and the bit where reading failed.
    Decode {
        /// The TC string, e.g. from the `euconsent-v2` cookie or `__tcfapi`.
        string: String,
        /// Print the string's fields as JSON instead: the form `keuze tcf encode` reads.
        /// Findings, if any, go to stderr.
        #[arg(long)]
        json: bool,
        /// A Global Vendor List (format 3) to name purposes from and to check the string
        /// against.
        #[arg(long, env = "KEUZE_TCF_VENDOR_LIST", value_name = "FILE")]
        tcf_vendor_list: Option<PathBuf>,
    },
    /// Encode a TC string from the JSON form `keuze tcf decode --json` prints (`-` reads
    /// stdin) and print it. Created and last updated must be at midnight UTC and the
    /// policy version 4 or later, as TCF policy requires. Exit 2 if the file is not such
    /// a model, naming the field.
    Encode {
        /// The model as JSON, or `-` for stdin.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// List admin actions (keys created and revoked, catalogs published, erasures,
    /// webhooks created and deleted, log key rotations), oldest first, one per line:
    /// seq, time, action, actor, target, details. `keuze ledger verify` checks them with
    /// the rest of the ledger.
    List {
        #[command(flatten)]
        data: DataArgs,
        /// Only entries with a larger seq.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// At most this many entries.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum ReceiptCommand {
    /// Verify a receipt offline: the subject commitment, the leaf, the inclusion proof,
    /// and the checkpoint's signature by one of the given log keys. Needs no server and
    /// no data directory. Exit 0 if it verifies, 1 if not (saying which check failed).
    Verify {
        /// The receipt JSON file.
        file: PathBuf,
        /// A log verifier key (`<origin>+<key id>+<base64>`, from `/v1/log/keys`).
        /// Repeat for several (keys from before and after a rotation).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Print the log's verifier keys, oldest first; the last signs new checkpoints.
    Keys {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Replace the signing key. Checkpoints signed before stay verifiable with the old
    /// key, which stays listed. Restart the server to sign with the new key.
    RotateKey {
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Args)]
struct DataArgs {
    /// The data directory (database, server secret).
    #[arg(long, env = "KEUZE_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    /// The config file; default `keuze.toml` in the current directory, if present.
    #[arg(long, env = "KEUZE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// A PostgreSQL database to use instead of SQLite in the data directory, e.g.
    /// postgres://keuze@db:5432/keuze; several nodes can share it (docs/scale-out.md).
    /// The data directory still holds the server secret and log key.
    #[arg(long, env = "KEUZE_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// The PostgreSQL schema for Keuze's tables, created if missing [default: the
    /// URL's search path, usually `public`].
    #[arg(long, env = "KEUZE_DATABASE_SCHEMA", value_name = "NAME")]
    database_schema: Option<String>,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Check a catalog file: every error with file:line:column, what is wrong and how
    /// to fix it, and how readable each text is (Flesch reading ease for English,
    /// Flesch-Douma for Dutch; below 50 warns). Exit 0 if it is valid (warnings
    /// allowed), 1 if not.
    Check {
        file: PathBuf,
        /// Treat warnings, hard-to-read texts among them, as errors.
        #[arg(long)]
        strict: bool,
        /// Leave out the readability table.
        #[arg(long)]
        quiet: bool,
        /// Also check the [tcf] vendors against this Global Vendor List (format 3): one
        /// not on it, or deleted from it, is an error.
        #[arg(long, env = "KEUZE_TCF_VENDOR_LIST", value_name = "FILE")]
        tcf_vendor_list: Option<PathBuf>,
    },
    /// Publish a catalog as the next immutable version, after checking it. Prints what
    /// changed against the version in force and which purposes customers will be asked
    /// about again. Publishing a catalog identical to the current one changes nothing.
    /// A running server picks the new version up within seconds.
    Publish {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        /// Refuse the catalog if a [tcf] vendor is not active on this Global Vendor List
        /// [default: the config file's `tcf_vendor_list`, if any].
        #[arg(long, env = "KEUZE_TCF_VENDOR_LIST", value_name = "FILE")]
        tcf_vendor_list: Option<PathBuf>,
    },
    /// Show what changed between two catalogs, purpose by purpose, each change material
    /// or minor with the rule that decided it. OLD and NEW are files or published
    /// version numbers.
    Diff {
        old: String,
        new: String,
        #[command(flatten)]
        data: DataArgs,
        /// `text` (plain language) or `json`.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        /// The language of the text output; default both English and Dutch.
        #[arg(long, value_parser = ["en", "nl"])]
        locale: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Recompute the current-state projection from the ledger (one transaction).
    Rebuild {
        #[command(flatten)]
        data: DataArgs,
        /// Change nothing: compare the stored projection with a rebuild and exit 1,
        /// naming the first differences, if they differ.
        #[arg(long)]
        check: bool,
    },
    /// Recompute every leaf from its stored event and every tree node from the leaves;
    /// check every checkpoint's signature, root, and consistency with the one before.
    /// Shows progress; on failure names the first event (or checkpoint) that does not
    /// match and exits 1.
    Verify {
        #[command(flatten)]
        data: DataArgs,
        /// Trust only these verifier keys (e.g. published earlier) instead of the keys
        /// recorded in the data directory. Repeat for several.
        #[arg(long = "key")]
        keys: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key and print it once. Only its hash is stored.
    Create {
        #[command(flatten)]
        data: DataArgs,
        /// A scope the key holds: decide, record, admin or audit. Repeat for several.
        #[arg(long = "scope", required = true, value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// A note saying who uses the key.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List API keys (ids, scopes, creation time, label, and `revoked <time>` for revoked
    /// keys; never the secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke an API key: it stops authenticating at once on servers without a cached
    /// copy, and within 5 seconds on those that read it just before. Recorded in the
    /// audit trail. A revoked key cannot be restored; create a new one.
    Revoke {
        #[command(flatten)]
        data: DataArgs,
        /// The key's id: the 16 hex digits after `kz_` (see `keuze key list`).
        id: String,
    },
}

/// The command line as the actor of an admin action now: `cli`, with the operating
/// system user if the environment names one (an employee, never a customer).
fn cli_attribution() -> keuze_core::admin::Attribution {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok();
    keuze_core::admin::Attribution::new(
        keuze_core::admin::Actor::cli(user.as_deref()),
        keuze_app::Clock::now(&SystemClock),
    )
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s).ok_or_else(|| say!("cli-scope-unknown", scope = s))
}

/// A failure with the exit code it should end the process with.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            code: 3,
            error: e.into(),
        }
    }
}

fn refused(msg: impl Into<String>) -> Failure {
    Failure {
        code: 1,
        error: anyhow::anyhow!(msg.into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_logging() {
        eprintln!("{}", say!("cli-error", message = e));
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let message = say!("cli-no-runtime", error = e.to_string());
            eprintln!("{}", say!("cli-error", message = message));
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}", say!("cli-error", message = format!("{:#}", f.error)));
            ExitCode::from(f.code)
        }
    }
}

/// Logs go to stderr, as text for a person (`KEUZE_LOG_FORMAT=text`, the default) or
/// one JSON object per line for a log pipeline (`json`); `KEUZE_LOG` filters them. No
/// log line holds a customer identifier, an IP address, a key or a login token: requests
/// are logged by path only, subjects only as pseudonyms, and only where needed.
fn init_logging() -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KEUZE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let format = std::env::var("KEUZE_LOG_FORMAT").unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format.as_str() {
        "" | "text" => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        "json" => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        other => return Err(say!("cli-log-format-unknown", format = other)),
    };
    Ok(())
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Serve(args) => serve::serve(args).await,
        Command::Init { dir, force } => init(&dir, force),
        Command::Catalog(CatalogCommand::Check {
            file,
            strict,
            quiet,
            tcf_vendor_list,
        }) => {
            let vendor_list = tcf_vendor_list
                .as_deref()
                .map(load_vendor_list)
                .transpose()?;
            check(&file, strict, quiet, vendor_list.as_ref())
        }
        Command::Catalog(CatalogCommand::Publish {
            file,
            data,
            tcf_vendor_list,
        }) => {
            let settings = settings(&data)?;
            let vendor_list = tcf_vendor_list
                .or_else(|| settings.tcf_vendor_list.clone())
                .as_deref()
                .map(load_vendor_list)
                .transpose()?;
            let store = open_database(&settings, false).await?.store;
            let history = catalogs::load_history(&*store).await?;
            let source = read_source(&file)?;
            let name = file.display().to_string();
            match catalogs::publish(
                &*store,
                history.as_ref().map(CatalogHistory::current),
                &name,
                &source,
                vendor_list.as_ref(),
                &cli_attribution(),
            )
            .await
            .map_err(publish_failure)?
            {
                Published::Unchanged { number } => {
                    outln!(
                        "{}",
                        say!("cli-publish-unchanged", file = &name, number = number)
                    );
                }
                Published::New { version, diff } => {
                    outln!(
                        "{}",
                        say!(
                            "cli-published",
                            file = &name,
                            number = version.number,
                            digest = version.digest.to_string()
                        )
                    );
                    if let Some(d) = diff {
                        out!("\n{}", keuze_words::changes::render(words::lang(), &d));
                    }
                }
            }
            Ok(())
        }
        Command::Catalog(CatalogCommand::Diff {
            old,
            new,
            data,
            format,
            locale,
        }) => catalog_diff(&old, &new, &data, &format, locale.as_deref()).await,
        Command::Ledger(LedgerCommand::Rebuild { data, check: true }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let c = projection::compare(&*store).await?;
            if c.difference_count > 0 {
                return Err(refused(say!(
                    "cli-projection-differs",
                    count = c.difference_count,
                    differences = c.differences.join("; ")
                )));
            }
            outln!("{}", say!("cli-projection-ok", rows = c.rows));
            Ok(())
        }
        Command::Ledger(LedgerCommand::Rebuild { data, check: false }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let before = store.event_count().await?;
            let rows = store.rebuild_projection().await?;
            outln!("{}", say!("cli-rebuilt", entries = before, rows = rows));
            Ok(())
        }
        Command::Ledger(LedgerCommand::Verify { data, keys }) => ledger_verify(&data, &keys).await,
        Command::Receipt(ReceiptCommand::Verify { file, keys }) => receipt_verify(&file, &keys),
        Command::Log(LogCommand::Keys { data }) => {
            let settings = settings(&data)?;
            for v in known_verifiers(&settings).await? {
                outln!("{v}");
            }
            Ok(())
        }
        Command::Log(LogCommand::RotateKey { data }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let now = keuze_app::Clock::now(&SystemClock);
            let old = datadir::log_key(&settings.data)?;
            store
                .add_log_key(&StoredLogKey {
                    verifier: old.verifier_key_string(),
                    created_at: now,
                })
                .await?;
            let (_, new) = datadir::rotate_log_key(&settings.data)?;
            store
                .add_log_key(&StoredLogKey {
                    verifier: new.verifier_key_string(),
                    created_at: now,
                })
                .await?;
            // Key ids only (`<name>+<key id>+<key>`): the audit trail names which key.
            let id = |v: String| v.split('+').nth(1).unwrap_or_default().to_owned();
            let entry = keuze_core::admin::NewAdminEntry::log_key_rotated(
                &cli_attribution(),
                &id(old.verifier_key_string()),
                &id(new.verifier_key_string()),
            )
            .map_err(|e| refused(say!("cli-rotation-not-audited", error = e.to_string())))?;
            store.append_admin(entry).await?;
            eprintln!("{}", say!("cli-log-key-rotated"));
            outln!("{}", new.verifier_key_string());
            Ok(())
        }
        Command::Backup { dir, data } => {
            let now = keuze_app::Clock::now(&SystemClock);
            backup::backup(&settings(&data)?, &dir, now).await
        }
        Command::Restore { dir, data, force } => {
            let now = keuze_app::Clock::now(&SystemClock);
            backup::restore(&settings(&data)?, &dir, force, now).await
        }
        Command::Key(KeyCommand::Create {
            data,
            mut scopes,
            label,
        }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            scopes.sort();
            scopes.dedup();
            let by = cli_attribution();
            let (secret, key) =
                keuze_app::keys::mint_api_key(scopes, label, by.at, &mut rand::rngs::OsRng);
            store.insert_api_key(&key, &by).await?;
            let names: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
            eprintln!(
                "{}",
                say!(
                    "cli-key-created",
                    id = key.id.to_string(),
                    scopes = names.join(", ")
                )
            );
            outln!("{secret}");
            Ok(())
        }
        Command::Key(KeyCommand::List { data }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            for k in store.list_api_keys().await? {
                let names: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                let revoked = k
                    .revoked_at
                    .map(|at| format!("\t{}", say!("cli-key-list-revoked", at = at.to_string())))
                    .unwrap_or_default();
                outln!(
                    "{}\t{}\t{}\t{}{revoked}",
                    k.id,
                    names.join(","),
                    k.created_at,
                    k.label
                );
            }
            Ok(())
        }
        Command::Key(KeyCommand::Revoke { data, id }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let Some(key) = store.find_api_key(&id).await? else {
                return Err(refused(say!(
                    "cli-key-unknown",
                    id = &id,
                    data = settings.data.display().to_string()
                )));
            };
            if let Some(at) = key.revoked_at {
                return Err(refused(say!(
                    "cli-key-revoked-already",
                    id = &id,
                    at = at.to_string()
                )));
            }
            match store.revoke_api_key(&id, &cli_attribution()).await? {
                Some(entry) => {
                    outln!(
                        "{}",
                        say!(
                            "cli-key-revoked",
                            id = &id,
                            label = &key.label,
                            seq = entry.seq
                        )
                    );
                    eprintln!(
                        "{}",
                        say!(
                            "cli-key-refused-within",
                            seconds = keuze_app::keys::KEY_CACHE_TTL_MS / 1000
                        )
                    );
                    Ok(())
                }
                None => Err(refused(say!("cli-key-revoked-meanwhile", id = &id))),
            }
        }
        Command::Tcf(TcfCommand::Decode {
            string,
            json,
            tcf_vendor_list,
        }) => {
            let vendor_list = tcf_vendor_list
                .as_deref()
                .map(load_vendor_list)
                .transpose()?;
            tcf::decode(&string, json, vendor_list.as_ref())
        }
        Command::Tcf(TcfCommand::Encode { file }) => tcf::encode(&file),
        Command::Incident(command) => incident::run(command).await,
        Command::Audit(AuditCommand::List { data, after, limit }) => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            for e in store.admin_entries(after, limit).await? {
                let detail: Vec<String> = e
                    .detail
                    .iter()
                    .map(|(k, v)| format!("{}={v}", k.as_str()))
                    .collect();
                outln!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.seq,
                    e.recorded_at,
                    e.action,
                    e.actor,
                    e.target,
                    detail.join(" ")
                );
            }
            Ok(())
        }
    }
}

/// Reads a Global Vendor List; one that cannot be read is a usage error (exit 2).
fn load_vendor_list(path: &Path) -> Result<keuze_tcf::Gvl, Failure> {
    let usage = |error: anyhow::Error| Failure { code: 2, error };
    let text = std::fs::read_to_string(path)
        .with_context(|| {
            say!(
                "cli-vendor-list-unreadable",
                file = path.display().to_string()
            )
        })
        .map_err(usage)?;
    keuze_tcf::Gvl::from_json(&text).map_err(|e| {
        usage(anyhow::anyhow!(say!(
            "cli-vendor-list-invalid",
            file = path.display().to_string(),
            error = e.to_string()
        )))
    })
}

fn read_catalog(
    path: &Path,
    vendor_list: Option<&keuze_tcf::Gvl>,
) -> Result<(Catalog, CatalogReport, String), Failure> {
    let source = std::fs::read_to_string(path)
        .with_context(|| say!("cli-catalog-unreadable", file = path.display().to_string()))
        .map_err(|e| Failure { code: 1, error: e })?;
    let name = path.display().to_string();
    let parsed = match vendor_list {
        Some(gvl) => parse_catalog_against(&name, &source, gvl),
        None => parse_catalog(&name, &source),
    };
    match parsed {
        Ok((catalog, report)) => Ok((catalog, report, source)),
        Err(e) => {
            eprint!("{}", e.0.render());
            Err(refused(say!("cli-catalog-refused-check", file = &name)))
        }
    }
}

/// A catalog named on the command line: a file, or else a published version number.
async fn catalog_arg(arg: &str, data: &DataArgs) -> Result<(String, Catalog), Failure> {
    let path = Path::new(arg);
    if path.exists() || arg.parse::<u32>().is_err() {
        let (catalog, _, _) = read_catalog(path, None)?;
        return Ok((arg.to_owned(), catalog));
    }
    let number: u32 = arg
        .parse()
        .map_err(|_| refused(say!("cli-diff-arg-neither", arg = arg)))?;
    let settings = settings(data)?;
    let store = open_database(&settings, false).await?.store;
    let stored = store.catalog_version(number).await?.ok_or_else(|| {
        refused(say!(
            "cli-diff-no-version",
            arg = arg,
            number = number,
            data = settings.data.display().to_string()
        ))
    })?;
    let name = say!("cli-version-name", number = number);
    let (catalog, _) = parse_catalog(&name, &stored.source).map_err(|e| refused(e.0.render()))?;
    Ok((name, catalog))
}

async fn catalog_diff(
    old: &str,
    new: &str,
    data: &DataArgs,
    format: &str,
    locale: Option<&str>,
) -> Result<(), Failure> {
    let (old_name, old_catalog) = catalog_arg(old, data).await?;
    let (new_name, new_catalog) = catalog_arg(new, data).await?;
    let d =
        keuze_core::change::diff(&old_catalog, &new_catalog).map_err(|e| refused(e.to_string()))?;
    if format == "json" {
        let json = serde_json::to_string_pretty(&keuze_words::changes::DiffJson(&d))
            .map_err(anyhow::Error::from)?;
        outln!("{json}");
        return Ok(());
    }
    if d.is_empty() {
        outln!(
            "{}",
            say!("cli-diff-same", old = &old_name, new = &new_name)
        );
        return Ok(());
    }
    let locales: Vec<keuze_core::Locale> = match locale {
        Some("nl") => vec![keuze_core::Locale::nl()],
        Some(_) => vec![keuze_core::Locale::en()],
        None => vec![keuze_core::Locale::en(), keuze_core::Locale::nl()],
    };
    for (i, l) in locales.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        outln!(
            "{}\n",
            say!(
                "cli-diff-heading",
                old = &old_name,
                new = &new_name,
                locale = l.as_str()
            )
        );
        out!(
            "{}",
            keuze_words::changes::render(keuze_words::Words::get().lang(l), &d)
        );
    }
    Ok(())
}

fn check(
    file: &Path,
    strict: bool,
    quiet: bool,
    vendor_list: Option<&keuze_tcf::Gvl>,
) -> Result<(), Failure> {
    let (catalog, report, _) = read_catalog(file, vendor_list)?;
    if !quiet {
        out!("{}", report.render_readability());
    }
    if report.warning_count() > 0 {
        eprint!("{}", report.render());
        if strict {
            return Err(refused(say!(
                "cli-check-strict",
                file = file.display().to_string()
            )));
        }
    }
    outln!(
        "{}",
        say!(
            "cli-check-ok",
            file = file.display().to_string(),
            count = catalog.purposes.len(),
            digest = catalog.digest().to_string()
        )
    );
    Ok(())
}

fn init(dir: &Path, force: bool) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .with_context(|| say!("cli-could-not-create", path = dir.display().to_string()))?;
    let files = [
        ("catalog.toml", SAMPLE_CATALOG.to_owned()),
        ("keuze.toml", config::SAMPLE_CONFIG.to_owned()),
        (
            "vendor-list.json",
            keuze_core::tcf::SAMPLE_VENDOR_LIST.to_owned(),
        ),
    ];
    for (name, _) in &files {
        let path = dir.join(name);
        if path.exists() && !force {
            return Err(refused(say!(
                "cli-init-exists",
                path = path.display().to_string()
            )));
        }
    }
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .with_context(|| say!("cli-could-not-write", path = path.display().to_string()))?;
        outln!("{}", say!("cli-wrote", path = path.display().to_string()));
    }
    outln!("{}", say!("cli-init-next", dir = dir.display().to_string()));
    Ok(())
}

/// Reports a refused publication on stderr and turns it into exit code 1.
fn publish_failure(e: PublishError) -> Failure {
    match e {
        PublishError::Invalid(report) => {
            eprint!("{}", report.render());
            refused(say!("cli-publish-refused", file = report.file.to_string()))
        }
        PublishError::BrokenPromise(e) => {
            refused(say!("cli-publish-broken-promise", error = e.to_string()))
        }
        PublishError::Store(e) => e.into(),
    }
}

/// The catalog history to serve: `file` published first if it is new; with no file the
/// versions published before, or the sample catalog on first start.
async fn catalog_to_serve(
    store: &dyn Store,
    file: Option<&Path>,
    vendor_list: Option<&keuze_tcf::Gvl>,
    now: keuze_core::Timestamp,
) -> Result<CatalogHistory, Failure> {
    let history = catalogs::load_history(store).await?;
    let (name, source) = match (file, &history) {
        (Some(path), _) => (path.display().to_string(), read_source(path)?),
        (None, Some(_)) => return history.ok_or_else(|| refused(say!("cli-no-catalog"))),
        (None, None) => {
            tracing::info!("no catalog given: serving the sample catalog");
            ("<sample catalog>".to_owned(), SAMPLE_CATALOG.to_owned())
        }
    };
    let current = history.as_ref().map(CatalogHistory::current);
    let by = keuze_core::admin::Attribution::new(cli_attribution().actor, now);
    match catalogs::publish(store, current, &name, &source, vendor_list, &by)
        .await
        .map_err(publish_failure)?
    {
        Published::Unchanged { .. } => history.ok_or_else(|| refused(say!("cli-no-catalog"))),
        Published::New { version, diff } => {
            tracing::info!(version = version.number, digest = %version.digest, "published a new catalog version");
            if let Some(d) = &diff {
                let material: Vec<String> =
                    d.materially_changed().map(ToString::to_string).collect();
                if !material.is_empty() {
                    tracing::warn!(purposes = %material.join(", "), "material changes: customers will be asked again for these purposes");
                }
            }
            match history {
                Some(mut h) => {
                    h.push(*version).map_err(|e| refused(e.to_string()))?;
                    Ok(h)
                }
                None => Ok(CatalogHistory::new(*version)),
            }
        }
    }
}

fn parse_verifiers(keys: &[String]) -> Result<Vec<LogVerifier>, Failure> {
    keys.iter()
        .map(|k| {
            LogVerifier::parse(k).map_err(|e| Failure {
                code: 2,
                error: anyhow::anyhow!(say!(
                    "cli-key-flag-invalid",
                    key = k,
                    error = e.to_string()
                )),
            })
        })
        .collect()
}

/// The keys the data directory knows: every key recorded, and the current one.
async fn known_verifiers(settings: &Settings) -> Result<Vec<LogVerifier>, Failure> {
    let store = open_database(settings, false).await?.store;
    let current = datadir::log_key(&settings.data)?.verifier();
    let mut out: Vec<LogVerifier> = Vec::new();
    for k in store.log_keys().await? {
        if let Ok(v) = LogVerifier::parse(&k.verifier) {
            if !out.iter().any(|o| o.key_id() == v.key_id()) {
                out.push(v);
            }
        }
    }
    if !out.iter().any(|o| o.key_id() == current.key_id()) {
        out.push(current);
    }
    Ok(out)
}

async fn ledger_verify(data: &DataArgs, keys: &[String]) -> Result<(), Failure> {
    let settings = settings(data)?;
    let verifiers = if keys.is_empty() {
        known_verifiers(&settings).await?
    } else {
        parse_verifiers(keys)?
    };
    let store = open_database(&settings, false).await?.store;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            // indicatif's placeholders go in as the message's variables.
            &say!(
                "cli-ledger-verify-progress",
                spinner = "{spinner}",
                pos = "{pos}",
                len = "{len}",
                bar = "{bar:30}",
                per_sec = "{per_sec}",
                eta = "{eta}"
            ),
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let result = keuze_app::audit::verify_ledger(&*store, &verifiers, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            let secs = started.elapsed().as_secs_f64();
            outln!(
                "{}",
                say!(
                    "cli-ledger-verified",
                    entries = report.events,
                    consent_events = report.events - report.admin_entries - report.notice_entries,
                    admin_actions = report.admin_entries,
                    notices = report.notice_entries,
                    nodes = report.nodes_checked,
                    checkpoints = report.checkpoints,
                    seconds = format!("{secs:.2}"),
                    root = report
                        .root
                        .map_or_else(|| "none".to_owned(), |r| r.to_string())
                )
            );
            Ok(())
        }
        Err(keuze_app::audit::Mismatch::Store(e)) => Err(e.into()),
        Err(m) => Err(refused(say!(
            "cli-ledger-does-not-verify",
            mismatch = m.to_string()
        ))),
    }
}

fn receipt_verify(file: &Path, keys: &[String]) -> Result<(), Failure> {
    let verifiers = parse_verifiers(keys)?;
    let text = std::fs::read_to_string(file)
        .with_context(|| say!("cli-could-not-read", path = file.display().to_string()))
        .map_err(|error| Failure { code: 1, error })?;
    let receipt: Receipt = serde_json::from_str(&text).map_err(|e| {
        refused(say!(
            "cli-receipt-invalid",
            file = file.display().to_string(),
            error = e.to_string(),
            line = e.line(),
            column = e.column()
        ))
    })?;
    let verified = verify_receipt(&receipt, &verifiers).map_err(|e| {
        refused(say!(
            "cli-receipt-does-not-verify",
            file = file.display().to_string(),
            error = e.to_string()
        ))
    })?;
    outln!(
        "{}",
        say!(
            "cli-receipt-ok",
            seq = verified.entry.seq,
            action = verified.entry.action.to_string(),
            purpose = verified.entry.purpose.to_string(),
            controller = &receipt.controller.name,
            origin = verified.checkpoint.origin.to_string(),
            size = verified.checkpoint.size
        )
    );
    Ok(())
}

fn read_source(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| say!("cli-catalog-unreadable", file = path.display().to_string()))
        .map_err(|e| Failure { code: 1, error: e })
}

/// Opens the database the settings name: a URL that names no backend is a usage error
/// (exit 2), a database that cannot be opened a failure (exit 3).
async fn open_database(settings: &Settings, follow: bool) -> Result<database::Database, Failure> {
    database::open(settings, follow).await.map_err(|e| match e {
        database::OpenError::Usage(e) => Failure {
            code: 2,
            error: e.into(),
        },
        database::OpenError::Store(e) => e.into(),
    })
}

/// Loads settings; a config file that cannot be used is a usage error (exit 2).
fn settings(data: &DataArgs) -> Result<Settings, Failure> {
    Settings::load(data).map_err(|error| Failure { code: 2, error })
}

/// Refuses to serve with a server secret other than the one the database was first served
/// with: its pseudonyms would not match the stored ones, and every customer would
/// silently start afresh (a node of a cluster given a new `secret.key`, or a restored
/// database with the wrong data directory). The database remembers a fingerprint of the
/// secret (an HMAC under it, which reveals nothing of it).
pub(crate) async fn same_secret_as_the_database(
    store: &dyn Store,
    pseudonymizer: &Pseudonymizer,
    data: &Path,
) -> Result<(), Failure> {
    let mine = hex::encode(pseudonymizer.derive_key("keuze server secret fingerprint"));
    let first = store
        .remember_once("server_secret_fingerprint", &mine)
        .await?;
    if first == mine {
        return Ok(());
    }
    Err(Failure {
        code: 3,
        error: anyhow::anyhow!(
            "the server secret {} is not the one this database was first served with, so \
             pseudonyms would not match the stored ones; nothing was served. Use the \
             secret.key of a node already serving this database (docs/scale-out.md), or \
             restore this data directory's own",
            data.join("secret.key").display()
        ),
    })
}
