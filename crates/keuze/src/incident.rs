//! `keuze incident`: record a privacy incident, see whom a rule selects, tell the affected
//! customers, put the incident on the public register. The same checks and steps as the
//! admin API (`/v1/incidents`), through [`keuze_app::incidents`].

use crate::{cli_attribution, open_database, refused, settings, DataArgs, Failure};
use clap::{Args, Subcommand};
use keuze_app::incidents::{self, IncidentError};
use keuze_core::incident::{parse_time, IncidentDraft, Rule, Window};
use keuze_core::{Pseudonymizer, PurposeId};
use keuze_store::Store;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Record an incident from a TOML file (docs/incidents.md shows one): what happened
    /// in `en` and `nl`, the window, the data categories, purposes or recipients, the
    /// consequences, what was done, what customers can do, a contact, and whether it is
    /// high-risk. Every problem is reported at once; texts that are hard to read get a
    /// warning, as in `keuze catalog check`.
    Record {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List incidents with how many customers were told and acknowledged each.
    List {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Show one incident as recorded (JSON).
    Show {
        number: u32,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Count the customers a rule selects, and how many of them were not told yet.
    /// Nothing is written.
    Audience {
        number: u32,
        #[command(flatten)]
        rule: RuleArgs,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Tell the affected customers: those a rule selects (the default), or those of a
    /// list of the organisation's identifiers (`--identifiers FILE`, one per line, `-`
    /// for standard input), pseudonymised as they are read; the list is not kept. Each
    /// customer gets a `notified` ledger entry and an `incident.notified` event for
    /// webhooks and NATS. Customers told before are skipped, so running it again
    /// finishes a run that stopped.
    Notify {
        number: u32,
        /// A file of identifiers, one per line.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["purposes", "from", "to"])]
        identifiers: Option<PathBuf>,
        #[command(flatten)]
        rule: RuleArgs,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Put an incident on the public register at /privacy/incidents. Once there it stays.
    Publish {
        number: u32,
        #[command(flatten)]
        data: DataArgs,
    },
}

/// A rule; what is not given is the incident's own.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Customers who had granted this purpose at some moment in the window; repeat for
    /// several [default: the incident's purposes].
    #[arg(long = "purpose", value_name = "ID")]
    purposes: Vec<String>,
    /// The window's start, RFC 3339 [default: the incident's].
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// The window's end, RFC 3339 [default: the incident's].
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
}

fn usage(msg: String) -> Failure {
    Failure {
        code: 2,
        error: anyhow::anyhow!(msg),
    }
}

fn failure(e: IncidentError) -> Failure {
    match e {
        IncidentError::Invalid(problems) => {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| {
                    let help = say!("cli-help", help = p.help.to_string());
                    format!("  {}: {}\n    {help}", p.field, p.message)
                })
                .collect();
            refused(say!(
                "cli-incident-refused",
                count = problems.len(),
                problems = lines.join("\n")
            ))
        }
        IncidentError::Unknown(n) => refused(say!("cli-incident-unknown", number = n)),
        IncidentError::NoCatalog => refused(e.to_string()),
        other => other.into(),
    }
}

pub async fn run(command: IncidentCommand) -> Result<(), Failure> {
    match command {
        IncidentCommand::Record { file, data } => record(&file, &data).await,
        IncidentCommand::List { data } => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let all = store.incidents().await?;
            if all.is_empty() {
                outln!("{}", say!("cli-incident-none"));
            }
            for stored in all {
                let incident = incidents::parse(&stored).map_err(failure)?;
                let counts = store.notice_counts(stored.number).await?;
                let published = stored
                    .published_at
                    .map_or(say!("cli-incident-not-published"), |t| {
                        say!("cli-incident-published-at", at = t.to_rfc3339())
                    });
                let title = say!(
                    "cli-incident-title",
                    title = incident.title.get(&crate::words::locale()),
                    risk = if incident.high_risk { "high" } else { "normal" }
                );
                outln!(
                    "{}\t{}\t{title}\t{}\t{}\t{published}",
                    stored.number,
                    stored.recorded_at.to_rfc3339(),
                    say!("cli-incident-notified-count", count = counts.notified),
                    say!(
                        "cli-incident-acknowledged-count",
                        count = counts.acknowledged
                    ),
                );
            }
            Ok(())
        }
        IncidentCommand::Show { number, data } => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let (stored, incident) = incidents::load(&*store, number).await.map_err(failure)?;
            let json = serde_json::json!({
                "number": stored.number,
                "digest": stored.digest.to_string(),
                "recorded_at": stored.recorded_at.to_rfc3339(),
                "published_at": stored.published_at.map(|t| t.to_rfc3339()),
                "incident": incident,
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&json).map_err(anyhow::Error::from)?
            );
            Ok(())
        }
        IncidentCommand::Audience { number, rule, data } => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let (stored, incident) = incidents::load(&*store, number).await.map_err(failure)?;
            let history = keuze_app::catalogs::load_history(&*store).await?;
            let rule = rule_of(&rule, &incident, history.as_ref())?;
            let selected = incidents::select(&*store, &rule).await?;
            let told: std::collections::HashSet<_> = store
                .notified_subjects(stored.number)
                .await?
                .into_iter()
                .collect();
            let already = selected.iter().filter(|s| told.contains(*s)).count();
            outln!(
                "{}",
                say!(
                    "cli-incident-audience",
                    purposes = rule
                        .granted_any_of
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    from = rule.window.from.to_rfc3339(),
                    to = rule.window.to.to_rfc3339(),
                    selected = selected.len(),
                    before = already,
                    now = selected.len() - already
                )
            );
            Ok(())
        }
        IncidentCommand::Notify {
            number,
            identifiers,
            rule,
            data,
        } => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let (stored, incident) = incidents::load(&*store, number).await.map_err(failure)?;
            let affected = match identifiers {
                Some(file) => {
                    let pseudonymizer = pseudonymizer(&settings.data, &*store).await?;
                    read_identifiers(&file, &pseudonymizer)?
                }
                None => {
                    let history = keuze_app::catalogs::load_history(&*store).await?;
                    let rule = rule_of(&rule, &incident, history.as_ref())?;
                    incidents::select(&*store, &rule).await?
                }
            };
            let at = keuze_app::Clock::now(&keuze_app::SystemClock);
            let done = incidents::notify(&*store, &stored, &affected, at, |_, _| {})
                .await
                .map_err(failure)?;
            outln!(
                "{}",
                say!(
                    "cli-incident-notified",
                    number = number,
                    affected = done.affected,
                    notified = done.notified,
                    before = done.already_notified,
                    erased = done.erased
                )
            );
            if let (Some(first), Some(last)) = (done.first_seq, done.last_seq) {
                outln!(
                    "{}",
                    say!("cli-incident-ledger-entries", first = first, last = last)
                );
            }
            Ok(())
        }
        IncidentCommand::Publish { number, data } => {
            let settings = settings(&data)?;
            let store = open_database(&settings, false).await?.store;
            let stored = store
                .publish_incident(number, &cli_attribution())
                .await?
                .ok_or_else(|| failure(IncidentError::Unknown(number)))?;
            outln!(
                "{}",
                say!(
                    "cli-incident-on-register",
                    number = number,
                    since = stored
                        .published_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                )
            );
            Ok(())
        }
    }
}

async fn record(file: &Path, data: &DataArgs) -> Result<(), Failure> {
    let source = std::fs::read_to_string(file).map_err(|e| {
        usage(say!(
            "cli-could-not-read-because",
            path = file.display().to_string(),
            error = e.to_string()
        ))
    })?;
    let draft: IncidentDraft = toml_edit::de::from_str(&source).map_err(|e| {
        refused(say!(
            "cli-incident-file-invalid",
            file = file.display().to_string(),
            error = e.to_string()
        ))
    })?;
    let settings = settings(data)?;
    let store = open_database(&settings, false).await?.store;
    let history = keuze_app::catalogs::load_history(&*store).await?;
    let recorded = incidents::record(&*store, history.as_ref(), &draft, &cli_attribution())
        .await
        .map_err(failure)?;
    for r in &recorded.readability {
        if let Some(w) = r.warning() {
            eprintln!("{}", say!("cli-warning", message = w));
        }
    }
    outln!(
        "{}",
        say!(
            "cli-incident-recorded",
            number = recorded.stored.number,
            digest = recorded.stored.digest.to_string()
        )
    );
    Ok(())
}

/// The rule the flags give; a purpose must be one of some published catalog version.
fn rule_of(
    args: &RuleArgs,
    incident: &keuze_core::incident::Incident,
    history: Option<&keuze_core::CatalogHistory>,
) -> Result<Rule, Failure> {
    let known = |p: &PurposeId| {
        history.is_some_and(|h| {
            h.versions()
                .any(|v| v.catalog.purpose(p.as_str()).is_some())
        })
    };
    let purposes = if args.purposes.is_empty() {
        incident.purposes.clone()
    } else {
        args.purposes
            .iter()
            .map(|p| {
                let id = PurposeId::parse(p).map_err(|e| {
                    usage(say!(
                        "cli-flag-invalid",
                        flag = "--purpose",
                        error = e.to_string()
                    ))
                })?;
                if known(&id) {
                    Ok(id)
                } else {
                    Err(usage(say!("cli-purpose-unknown", purpose = p)))
                }
            })
            .collect::<Result<_, _>>()?
    };
    if purposes.is_empty() {
        return Err(usage(say!("cli-incident-no-purpose")));
    }
    let time = |flag: &str, v: &Option<String>, default| match v {
        None => Ok(default),
        Some(v) => {
            parse_time(v).ok_or_else(|| usage(say!("cli-time-invalid", flag = flag, value = v)))
        }
    };
    let from = time("--from", &args.from, incident.window.from)?;
    let to = time("--to", &args.to, incident.window.to)?;
    if from > to {
        return Err(usage(say!("cli-from-after-to")));
    }
    Ok(Rule {
        granted_any_of: purposes,
        window: Window { from, to },
    })
}

/// The server's pseudonymizer: its secret must exist already (a new one would give
/// pseudonyms no stored customer has) and be the one the database was served with.
async fn pseudonymizer(data: &Path, store: &dyn Store) -> Result<Pseudonymizer, Failure> {
    if !data.join("secret.key").exists() {
        return Err(refused(say!(
            "cli-no-server-secret",
            data = data.display().to_string()
        )));
    }
    let pseudonymizer = Pseudonymizer::new(crate::datadir::server_secret(data)?);
    crate::same_secret_as_the_database(store, &pseudonymizer, data).await?;
    Ok(pseudonymizer)
}

/// Reads identifiers one per line and pseudonymises each as it is read: the raw list is
/// never held whole, stored or logged.
fn read_identifiers(
    file: &Path,
    pseudonymizer: &Pseudonymizer,
) -> Result<std::collections::BTreeSet<keuze_core::SubjectId>, Failure> {
    let reader: Box<dyn std::io::BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).map_err(|e| {
            usage(say!(
                "cli-could-not-read-because",
                path = file.display().to_string(),
                error = e.to_string()
            ))
        })?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut out = std::collections::BTreeSet::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| {
            refused(say!(
                "cli-identifiers-unreadable-line",
                file = file.display().to_string(),
                line = n + 1,
                error = e.to_string()
            ))
        })?;
        let id = line.trim();
        if id.is_empty() {
            continue;
        }
        if id.len() > 256 {
            return Err(refused(say!(
                "cli-identifier-too-long",
                file = file.display().to_string(),
                line = n + 1
            )));
        }
        out.extend(incidents::pseudonymise(pseudonymizer, [id]));
    }
    Ok(out)
}
