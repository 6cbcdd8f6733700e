//! `keuze serve`: the composition root. Everything else the CLI does goes through the
//! application layer (`keuze-app`); only here is an `AppState` handed to the HTTP edges
//! (`keuze-server`) to serve, with the settings of the edge (limits, TLS, timeouts).

use crate::config::Settings;
use crate::{
    catalog_to_serve, datadir, load_vendor_list, open_database, same_secret_as_the_database,
    settings, DataArgs, Failure,
};
use anyhow::Context;
use clap::Args;
use keuze_app::catalogs;
use keuze_app::propagate::{NatsConfig, PropagationConfig, RetryPolicy};
use keuze_app::{AppState, ServerParts, SystemClock};
use keuze_core::catalog::{parse_catalog, SAMPLE_CATALOG};
use keuze_core::{CatalogHistory, Pseudonymizer};
use keuze_server::limits::Limit;
use keuze_server::listen::{ConnectionLimits, Tls};
use keuze_server::Edge;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The catalog to serve; published as a new version if it differs from the last one.
    #[arg(long, env = "KEUZE_CATALOG", value_name = "FILE")]
    catalog: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
    #[arg(long, env = "KEUZE_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// Publish every consent event to NATS JetStream at this URL, e.g.
    /// nats://127.0.0.1:4222. The stream is created if absent; see docs/propagation.md.
    #[arg(long, env = "KEUZE_NATS", value_name = "URL")]
    nats: Option<String>,
    /// The JetStream stream's name [default: KEUZE_CONSENT].
    #[arg(long, env = "KEUZE_NATS_STREAM", value_name = "NAME")]
    nats_stream: Option<String>,
    /// Events go to `<PREFIX>.<purpose>` [default: keuze.consent].
    #[arg(long, env = "KEUZE_NATS_SUBJECT_PREFIX", value_name = "PREFIX")]
    nats_subject_prefix: Option<String>,
    /// How often a webhook delivery is tried before it becomes a dead letter [default: 10].
    #[arg(long, env = "KEUZE_WEBHOOK_MAX_ATTEMPTS", value_name = "N")]
    webhook_max_attempts: Option<u64>,
    /// The wait after a first failed delivery, doubled after each further one
    /// [default: 500].
    #[arg(long, env = "KEUZE_WEBHOOK_RETRY_BASE_MS", value_name = "MS")]
    webhook_retry_base_ms: Option<u64>,
    /// The longest wait between two delivery attempts [default: 300000].
    #[arg(long, env = "KEUZE_WEBHOOK_RETRY_MAX_MS", value_name = "MS")]
    webhook_retry_max_ms: Option<u64>,
    /// Requests per API key: `<n>/s` or `<n>/min`, optionally `burst <n>`, or `off`.
    /// Over it, 429 with Retry-After [default: 5000/s burst 10000].
    #[arg(long, env = "KEUZE_RATE_LIMIT_PER_KEY", value_name = "RATE")]
    rate_limit_per_key: Option<Limit>,
    /// Requests per client address without an API key (the banner, /me, the notice)
    /// [default: 20/s burst 200].
    #[arg(long, env = "KEUZE_RATE_LIMIT_PER_CLIENT", value_name = "RATE")]
    rate_limit_per_client: Option<Limit>,
    /// Behind a reverse proxy: take the client's address from the last X-Forwarded-For
    /// entry and the scheme from X-Forwarded-Proto (for HSTS). Only if the proxy sets
    /// them; otherwise any client can claim any address.
    #[arg(long, env = "KEUZE_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// The IAB Global Vendor List (format 3) that TC strings are made for; the catalog's
    /// [tcf] vendors must all be active on it, or nothing starts. Without one, the sample
    /// catalog uses the sample list and other catalogs make no TC strings.
    #[arg(long, env = "KEUZE_TCF_VENDOR_LIST", value_name = "FILE")]
    tcf_vendor_list: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(
        long,
        env = "KEUZE_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "KEUZE_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
}

/// Propagation settings: a flag or environment variable wins over the config file.
fn propagation(args: &ServeArgs, settings: &Settings) -> PropagationConfig {
    let nats = args
        .nats
        .clone()
        .or_else(|| settings.nats.clone())
        .map(|url| {
            let mut nats = NatsConfig::new(url);
            if let Some(stream) = args
                .nats_stream
                .clone()
                .or_else(|| settings.nats_stream.clone())
            {
                nats.stream = stream;
            }
            if let Some(prefix) = args
                .nats_subject_prefix
                .clone()
                .or_else(|| settings.nats_subject_prefix.clone())
            {
                nats.subject_prefix = prefix;
            }
            nats
        });
    let mut retry = RetryPolicy::default();
    if let Some(n) = args.webhook_max_attempts.or(settings.webhook_max_attempts) {
        retry.max_attempts = u32::try_from(n).unwrap_or(u32::MAX).max(1);
    }
    if let Some(ms) = args
        .webhook_retry_base_ms
        .or(settings.webhook_retry_base_ms)
    {
        retry.base_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = args.webhook_retry_max_ms.or(settings.webhook_retry_max_ms) {
        retry.max_delay = Duration::from_millis(ms);
    }
    if let Some(ms) = settings.webhook_timeout_ms {
        retry.timeout = Duration::from_millis(ms);
    }
    PropagationConfig {
        nats,
        webhooks: settings.webhooks.clone(),
        retry,
        batch: 0,
    }
}

pub(crate) async fn serve(args: ServeArgs) -> Result<(), Failure> {
    let settings = settings(&args.data)?;
    let propagation = propagation(&args, &settings);
    let (edge, connections, tls) = edge(&args, &settings)?;
    // Before the database: a bad vendor list is refused before anything is created.
    let vendor_list = args
        .tcf_vendor_list
        .clone()
        .or_else(|| settings.tcf_vendor_list.clone())
        .as_deref()
        .map(load_vendor_list)
        .transpose()?;
    let listen = args
        .listen
        .or_else(|| settings.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let catalog_file = args.catalog.or_else(|| settings.catalog.clone());
    // The database first: a bad --database is refused before any secret is created.
    let database = open_database(&settings, true).await?;
    let secret = datadir::server_secret(&settings.data)?;
    let log_key = datadir::log_key(&settings.data)?;
    let location = database.location;
    let store = database.store;
    let pseudonymizer = Pseudonymizer::new(secret);
    same_secret_as_the_database(&*store, &pseudonymizer, &settings.data).await?;
    let clock = Arc::new(SystemClock);
    let now = keuze_app::Clock::now(&*clock);
    let catalog =
        catalog_to_serve(&*store, catalog_file.as_deref(), vendor_list.as_ref(), now).await?;
    let version = catalog.current().number;
    let vendor_list = vendor_list_in_force(&catalog, vendor_list)?;
    let state = AppState::start(ServerParts {
        store,
        catalog,
        pseudonymizer,
        clock,
        seed: None,
        log_key,
        index_snapshot: Some(settings.data.join(datadir::INDEX_SNAPSHOT)),
        outbox: Some(database.outbox),
        ledger_growth: database.ledger_growth,
        propagation,
        tcf_vendor_list: vendor_list.map(Arc::new),
    })
    .await?;
    tokio::spawn(follow_publications(state.clone()));
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| say!("cli-serve-cannot-listen", address = listen.clone()))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data = %settings.data.display(), database = %location, catalog_version = version, "keuze is serving");
    let scheme = if tls.is_some() { "https" } else { "http" };
    outln!(
        "{}",
        say!("cli-serve-listening", url = format!("{scheme}://{addr}"))
    );
    keuze_server::listen::serve(
        listener,
        keuze_server::app_with(state.clone(), &edge),
        connections,
        tls,
        shutdown_signal(),
    )
    .await
    .context(say!("cli-serve-failed"))?;
    state.writer().flush().await?;
    tracing::info!("all pending writes are committed");
    if let Err(e) = state.save_index_snapshot().await {
        // Not fatal: the next start rebuilds the index from the projection.
        tracing::error!(error = %e, "the decision index snapshot was not saved");
    }
    tracing::info!("bye");
    Ok(())
}

/// The vendor list to serve TC strings with: the one given, or the sample list while the
/// sample catalog is in force. Every [tcf] vendor of the catalog in force must be active
/// on it: if one is not, serving is a usage error (exit 2) and nothing starts.
fn vendor_list_in_force(
    catalog: &CatalogHistory,
    given: Option<keuze_tcf::Gvl>,
) -> Result<Option<keuze_tcf::Gvl>, Failure> {
    let current = catalog.current();
    let Some(tcf) = &current.catalog.tcf else {
        return Ok(given);
    };
    let list = match given {
        Some(list) => list,
        None => {
            let sample = parse_catalog("sample", SAMPLE_CATALOG)
                .map(|(c, _)| c.digest())
                .ok();
            if sample != Some(current.digest) {
                tracing::warn!(
                    catalog_version = current.number,
                    "the catalog has a [tcf] table but no vendor list was given, so no TC strings are made; give --tcf-vendor-list FILE"
                );
                return Ok(None);
            }
            tracing::info!("serving the sample catalog's TC strings with the sample vendor list");
            keuze_tcf::Gvl::from_json(keuze_core::tcf::SAMPLE_VENDOR_LIST).map_err(|e| {
                anyhow::anyhow!(say!("cli-serve-sample-vendor-list", error = e.to_string()))
            })?
        }
    };
    let problems = keuze_core::tcf::vendor_problems(tcf, &list);
    if !problems.is_empty() {
        let list_of: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(Failure {
            code: 2,
            error: anyhow::anyhow!(say!(
                "cli-serve-vendors-not-on-list",
                version = current.number,
                vendors = list_of.join("; ")
            )),
        });
    }
    tracing::info!(
        vendor_list_version = list.vendor_list_version,
        vendors = tcf.vendors.len(),
        "making TC strings"
    );
    Ok(Some(list))
}

/// The limits and TLS of `serve`: flags, then the config file, then defaults. A bad
/// value is a usage error.
fn edge(
    args: &ServeArgs,
    settings: &Settings,
) -> Result<(Edge, ConnectionLimits, Option<Tls>), Failure> {
    let usage = |error: anyhow::Error| Failure { code: 2, error };
    let from_config = |value: &Option<String>, key: &str| -> Result<Option<Limit>, Failure> {
        value
            .as_deref()
            .map(|v| {
                v.parse::<Limit>().map_err(|e| {
                    usage(anyhow::anyhow!(say!(
                        "cli-serve-config-limit",
                        key = key.to_owned(),
                        error = e.to_string()
                    )))
                })
            })
            .transpose()
    };
    let mut edge = Edge::default();
    if let Some(l) = args.rate_limit_per_key.or(from_config(
        &settings.rate_limit_per_key,
        "rate_limit_per_key",
    )?) {
        edge.limits.per_key = l;
    }
    if let Some(l) = args.rate_limit_per_client.or(from_config(
        &settings.rate_limit_per_client,
        "rate_limit_per_client",
    )?) {
        edge.limits.per_client = l;
    }
    edge.limits.trust_forwarded_for =
        args.trust_forwarded_for || settings.trust_forwarded_for.unwrap_or(false);
    if let Some(ms) = settings.request_timeout_ms {
        edge.request_timeout = Duration::from_millis(ms);
    }
    let mut connections = ConnectionLimits::default();
    if let Some(ms) = settings.header_read_timeout_ms {
        connections.header_read_timeout = Duration::from_millis(ms);
    }
    let cert = args.tls_cert.clone().or_else(|| settings.tls_cert.clone());
    let key = args.tls_key.clone().or_else(|| settings.tls_key.clone());
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => {
            Some(Tls::from_pem_files(&cert, &key).map_err(|e| usage(e.into()))?)
        }
        (None, None) => None,
        _ => return Err(usage(anyhow::anyhow!(say!("cli-serve-tls-needs-both")))),
    };
    Ok((edge, connections, tls))
}

/// Puts versions published by `keuze catalog publish` (another process) in force.
async fn follow_publications(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tick.tick().await;
        let after = state.catalog().current().number;
        match catalogs::load_newer(&**state.store(), after).await {
            Ok(newer) if newer.is_empty() => {}
            Ok(newer) => {
                let numbers: Vec<u32> = newer.iter().map(|v| v.number).collect();
                match state.adopt(newer) {
                    Ok(()) => tracing::info!(
                        ?numbers,
                        "catalog versions published elsewhere are now in force"
                    ),
                    Err(e) => {
                        tracing::error!(error = %e, "a newly published catalog version was not adopted")
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not look for newly published catalog versions")
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new requests, draining pending writes");
}
