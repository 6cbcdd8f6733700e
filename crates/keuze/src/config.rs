//! Settings: flags, then `KEUZE_*` environment variables (both through clap), then the
//! config file, then defaults.

use crate::DataArgs;
use anyhow::{bail, Context};
use keuze_core::PurposeId;
use std::path::{Path, PathBuf};

pub const SAMPLE_CONFIG: &str = r#"# Keuze configuration. Flags and KEUZE_* environment variables override these.

# Where Keuze keeps its database and server secret (KEUZE_DATA).
data = "keuze-data"

# A PostgreSQL database shared by several nodes instead of SQLite in `data`
# (KEUZE_DATABASE); see docs/scale-out.md. The data directory still holds the secrets.
# database = "postgres://keuze@db.internal:5432/keuze"
# database_schema = "keuze"              # created if missing (KEUZE_DATABASE_SCHEMA)

# The catalog to serve (KEUZE_CATALOG). Published as a new version when it changes.
catalog = "catalog.toml"

# Address to listen on (KEUZE_LISTEN).
listen = "127.0.0.1:8080"

# The IAB Global Vendor List (format 3) that TC strings are made for and the catalog's
# [tcf] vendors are checked against (KEUZE_TCF_VENDOR_LIST). `keuze init` writes a
# sample; use the IAB's current list: https://vendor-list.consensu.org/v3/vendor-list.json
tcf_vendor_list = "vendor-list.json"

# Publish every consent event to NATS JetStream (KEUZE_NATS); see docs/propagation.md.
# nats = "nats://127.0.0.1:4222"
# nats_stream = "KEUZE_CONSENT"          # created if absent (KEUZE_NATS_STREAM)
# nats_subject_prefix = "keuze.consent"  # events go to <prefix>.<purpose>

# Webhooks: a signed JSON POST per consent event. More can be added with the admin API.
# [[webhook]]
# name = "crm"                            # stored as webhook id `cfg_crm`
# url = "https://crm.example/keuze"
# purposes = ["newsletter"]               # leave out for every purpose
# secret = "whsec_change_me"              # signs the Keuze-Signature header
#
# Retries of failed deliveries: exponential backoff with jitter, then a dead letter.
# webhook_max_attempts = 10
# webhook_retry_base_ms = 500
# webhook_retry_max_ms = 300000
# webhook_timeout_ms = 10000

# Limits (docs/operations.md, "Limits"). A rate is `<n>/s` or `<n>/min`, optionally with
# `burst <n>`, or "off".
# rate_limit_per_key = "5000/s burst 10000"   # per API key (KEUZE_RATE_LIMIT_PER_KEY)
# rate_limit_per_client = "20/s burst 200"    # per client address, requests without a key
# trust_forwarded_for = false                 # behind a reverse proxy that sets X-Forwarded-For/-Proto
# request_timeout_ms = 30000                  # a request not complete by then gets 408
# header_read_timeout_ms = 10000              # a client must send its request head within this

# Serve HTTPS (and send HSTS) with a PEM certificate chain and its key (KEUZE_TLS_CERT,
# KEUZE_TLS_KEY). Behind a TLS-terminating proxy, set trust_forwarded_for instead.
# tls_cert = "/etc/keuze/cert.pem"
# tls_key = "/etc/keuze/key.pem"
"#;

const DEFAULT_CONFIG: &str = "keuze.toml";

/// A `[[webhook]]` table of the config file.
#[derive(Clone)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    pub purposes: Vec<PurposeId>,
    pub secret: String,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("purposes", &self.purposes)
            .field("secret", &"***")
            .finish()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub data: PathBuf,
    /// `postgres://…`; `None` is SQLite in `data`.
    pub database: Option<String>,
    pub database_schema: Option<String>,
    pub catalog: Option<PathBuf>,
    pub listen: Option<String>,
    pub nats: Option<String>,
    pub nats_stream: Option<String>,
    pub nats_subject_prefix: Option<String>,
    pub webhooks: Vec<WebhookSettings>,
    pub webhook_max_attempts: Option<u64>,
    pub webhook_retry_base_ms: Option<u64>,
    pub webhook_retry_max_ms: Option<u64>,
    pub webhook_timeout_ms: Option<u64>,
    pub rate_limit_per_key: Option<String>,
    pub rate_limit_per_client: Option<String>,
    pub trust_forwarded_for: Option<bool>,
    pub request_timeout_ms: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tcf_vendor_list: Option<PathBuf>,
}

const KEYS: &str =
    "`data`, `database`, `database_schema`, `catalog`, `listen`, `nats`, `nats_stream`, \
    `nats_subject_prefix`, `webhook_max_attempts`, `webhook_retry_base_ms`, \
    `webhook_retry_max_ms`, `webhook_timeout_ms`, `rate_limit_per_key`, \
    `rate_limit_per_client`, `trust_forwarded_for`, `request_timeout_ms`, \
    `header_read_timeout_ms`, `tls_cert`, `tls_key`, `tcf_vendor_list` and `[[webhook]]` \
    tables";

impl Settings {
    pub fn load(args: &DataArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(p) => Some(p.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
        };
        let mut settings = match &file {
            Some(path) => Self::from_file(path)?,
            None => Self {
                data: PathBuf::from("keuze-data"),
                ..Self::default()
            },
        };
        if let Some(d) = &args.data {
            settings.data = d.clone();
        }
        if let Some(url) = &args.database {
            settings.database = Some(url.clone());
        }
        if let Some(schema) = &args.database_schema {
            settings.database_schema = Some(schema.clone());
        }
        Ok(settings)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the config file {}", path.display()))?;
        let doc: toml_edit::DocumentMut = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        // Paths in the file are relative to the file, not to wherever keuze was started.
        let base = path.parent().unwrap_or(Path::new("."));
        let mut settings = Self {
            data: base.join("keuze-data"),
            ..Self::default()
        };
        let file = path.display();
        for (key, item) in doc.iter() {
            if key == "webhook" {
                let Some(tables) = item.as_array_of_tables() else {
                    bail!("{file}: `webhook` must be a table array: write each as [[webhook]] with name, url and secret");
                };
                for (i, table) in tables.iter().enumerate() {
                    settings
                        .webhooks
                        .push(webhook(table, &format!("{file}: webhook #{}", i + 1))?);
                }
                continue;
            }
            if key.starts_with("webhook_") {
                let Some(n) = item.as_integer().and_then(|n| u64::try_from(n).ok()) else {
                    bail!("{file}: `{key}` must be a whole number, e.g. {key} = 10");
                };
                let slot = match key {
                    "webhook_max_attempts" => &mut settings.webhook_max_attempts,
                    "webhook_retry_base_ms" => &mut settings.webhook_retry_base_ms,
                    "webhook_retry_max_ms" => &mut settings.webhook_retry_max_ms,
                    "webhook_timeout_ms" => &mut settings.webhook_timeout_ms,
                    other => bail!("{file}: unknown key `{other}`; the config file takes {KEYS}"),
                };
                *slot = Some(n);
                continue;
            }
            if key == "trust_forwarded_for" {
                let Some(b) = item.as_bool() else {
                    bail!("{file}: `{key}` must be true or false");
                };
                settings.trust_forwarded_for = Some(b);
                continue;
            }
            if key == "request_timeout_ms" || key == "header_read_timeout_ms" {
                let Some(n) = item
                    .as_integer()
                    .and_then(|n| u64::try_from(n).ok())
                    .filter(|n| *n > 0)
                else {
                    bail!("{file}: `{key}` must be a whole number of milliseconds from 1, e.g. {key} = 10000");
                };
                if key == "request_timeout_ms" {
                    settings.request_timeout_ms = Some(n);
                } else {
                    settings.header_read_timeout_ms = Some(n);
                }
                continue;
            }
            let Some(value) = item.as_str() else {
                bail!("{file}: `{key}` must be a string, e.g. {key} = \"...\"");
            };
            match key {
                "data" => settings.data = base.join(value),
                "database" => settings.database = Some(value.to_owned()),
                "database_schema" => settings.database_schema = Some(value.to_owned()),
                "catalog" => settings.catalog = Some(base.join(value)),
                "listen" => settings.listen = Some(value.to_owned()),
                "nats" => settings.nats = Some(value.to_owned()),
                "nats_stream" => settings.nats_stream = Some(value.to_owned()),
                "nats_subject_prefix" => settings.nats_subject_prefix = Some(value.to_owned()),
                "rate_limit_per_key" => settings.rate_limit_per_key = Some(value.to_owned()),
                "rate_limit_per_client" => settings.rate_limit_per_client = Some(value.to_owned()),
                "tls_cert" => settings.tls_cert = Some(base.join(value)),
                "tls_key" => settings.tls_key = Some(base.join(value)),
                "tcf_vendor_list" => settings.tcf_vendor_list = Some(base.join(value)),
                other => bail!("{file}: unknown key `{other}`; the config file takes {KEYS}"),
            }
        }
        Ok(settings)
    }
}

fn webhook(table: &toml_edit::Table, at: &str) -> anyhow::Result<WebhookSettings> {
    let text = |key: &str| -> anyhow::Result<String> {
        match table.get(key).map(|v| v.as_str()) {
            Some(Some(s)) if !s.trim().is_empty() => Ok(s.to_owned()),
            Some(_) => bail!("{at}: `{key}` must be a non-empty string"),
            None => bail!("{at}: `{key}` is missing; a webhook needs name, url and secret"),
        }
    };
    for (key, _) in table.iter() {
        if !matches!(key, "name" | "url" | "secret" | "purposes") {
            bail!("{at}: unknown key `{key}`; a webhook takes name, url, secret and purposes");
        }
    }
    let name = text("name")?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("{at}: name `{name}` may hold only letters, digits, `_` and `-`");
    }
    let url = text("url")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{at}: url `{url}` must start with http:// or https://");
    }
    let mut purposes = Vec::new();
    if let Some(item) = table.get("purposes") {
        let Some(array) = item.as_array() else {
            bail!("{at}: `purposes` must be a list, e.g. purposes = [\"newsletter\"]");
        };
        for v in array {
            let Some(p) = v.as_str() else {
                bail!("{at}: `purposes` must hold purpose ids as strings");
            };
            purposes.push(PurposeId::parse(p).map_err(|e| anyhow::anyhow!("{at}: {e}"))?);
        }
    }
    Ok(WebhookSettings {
        name,
        url,
        purposes,
        secret: text("secret")?,
    })
}
