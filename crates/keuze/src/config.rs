//! Settings: flags, then `KEUZE_*` environment variables (both through clap), then the
//! config file, then defaults. The file is read by serde into [`Settings`], which refuses
//! any key it does not know; an error names the file, the line and column, the key's path
//! and what the file takes there.

use crate::DataArgs;
use anyhow::{bail, Context};
use keuze_app::propagate::ConfiguredWebhook;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
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

/// Everything the config file can say; a key it does not know is refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Relative to the config file; `keuze-data` if not given.
    #[serde(default = "default_data")]
    pub data: PathBuf,
    /// `postgres://…`, which may hold a password; `None` is SQLite in `data`.
    pub database: Option<SecretString>,
    pub database_schema: Option<String>,
    pub catalog: Option<PathBuf>,
    pub listen: Option<String>,
    pub nats: Option<String>,
    pub nats_stream: Option<String>,
    pub nats_subject_prefix: Option<String>,
    /// The `[[webhook]]` tables.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<ConfiguredWebhook>,
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

fn default_data() -> PathBuf {
    PathBuf::from("keuze-data")
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data: default_data(),
            database: None,
            database_schema: None,
            catalog: None,
            listen: None,
            nats: None,
            nats_stream: None,
            nats_subject_prefix: None,
            webhooks: Vec::new(),
            webhook_max_attempts: None,
            webhook_retry_base_ms: None,
            webhook_retry_max_ms: None,
            webhook_timeout_ms: None,
            rate_limit_per_key: None,
            rate_limit_per_client: None,
            trust_forwarded_for: None,
            request_timeout_ms: None,
            header_read_timeout_ms: None,
            tls_cert: None,
            tls_key: None,
            tcf_vendor_list: None,
        }
    }
}

impl Settings {
    pub fn load(args: &DataArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(p) => Some(p.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
        };
        let mut settings = match &file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        if let Some(d) = &args.data {
            settings.data = d.clone();
        }
        if let Some(url) = &args.database {
            settings.database = Some(SecretString::from(url.as_str()));
        }
        if let Some(schema) = &args.database_schema {
            settings.database_schema = Some(schema.clone());
        }
        Ok(settings)
    }

    /// The database URL, if one is set.
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_ref().map(ExposeSecret::expose_secret)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the config file {}", path.display()))?;
        let file = path.display();
        let document = toml_edit::de::Deserializer::parse(text.as_str()).map_err(|e| {
            anyhow::anyhow!(
                "{file}{} is not valid TOML: {}",
                place(&text, &e),
                e.message()
            )
        })?;
        let mut settings: Self = serde_path_to_error::deserialize(document).map_err(|e| {
            let key = e.path().to_string();
            let e = e.into_inner();
            anyhow::anyhow!("{file}{}: {}", place(&text, &e), explain(&key, e.message()))
        })?;
        // Paths in the file are relative to the file, not to wherever keuze was started.
        let base = path.parent().unwrap_or(Path::new("."));
        settings.data = base.join(&settings.data);
        for path in [
            &mut settings.catalog,
            &mut settings.tls_cert,
            &mut settings.tls_key,
            &mut settings.tcf_vendor_list,
        ]
        .into_iter()
        .flatten()
        {
            *path = base.join(&*path);
        }
        for (key, ms) in [
            ("request_timeout_ms", settings.request_timeout_ms),
            ("header_read_timeout_ms", settings.header_read_timeout_ms),
        ] {
            if ms == Some(0) {
                bail!("{file}: `{key}` must be a whole number of milliseconds from 1, e.g. {key} = 10000");
            }
        }
        for (i, webhook) in settings.webhooks.iter().enumerate() {
            check_webhook(webhook)
                .map_err(|why| anyhow::anyhow!("{file}: webhook #{}: {why}", i + 1))?;
        }
        Ok(settings)
    }
}

/// `:line:column` of a TOML error, where the parser knows the place.
fn place(text: &str, e: &toml_edit::de::Error) -> String {
    let Some(span) = e.span() else {
        return String::new();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!(":{line}:{column}")
}

/// serde's message about `key` (a path like `webhook[0].url`) in the words of a config
/// file: keys, not fields; whole numbers, not `u64`; and how to write a webhook.
fn explain(key: &str, message: &str) -> String {
    let message = message
        .trim_end()
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key")
        .replace("expected u64", "expected a whole number from 0");
    // An unknown key's path is the key itself, which the message names already.
    let named = !key.contains(['.', '[']) && message.contains(&format!("`{key}`"));
    let hint = if key == "webhook" {
        "; write each webhook as a [[webhook]] table with name, url and secret"
    } else {
        ""
    };
    if key.is_empty() || key == "." || named {
        format!("{message}{hint}")
    } else {
        format!("`{key}`: {message}{hint}")
    }
}

/// What serde cannot check of a `[[webhook]]` table.
fn check_webhook(webhook: &ConfiguredWebhook) -> Result<(), String> {
    for (key, value) in [
        ("name", webhook.name.as_str()),
        ("url", webhook.url.as_str()),
        ("secret", webhook.secret.expose_secret()),
    ] {
        if value.trim().is_empty() {
            return Err(format!("`{key}` must be a non-empty string"));
        }
    }
    let name = &webhook.name;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "name `{name}` may hold only letters, digits, `_` and `-`"
        ));
    }
    let url = &webhook.url;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!("url `{url}` must start with http:// or https://"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("keuze.toml");
        std::fs::write(&path, text)?;
        Settings::from_file(&path)
    }

    fn refusal(text: &str) -> String {
        match read(text) {
            Ok(settings) => panic!("accepted: {settings:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_sample_config_is_accepted() {
        let settings = read(SAMPLE_CONFIG).unwrap();
        assert!(settings.data.ends_with("keuze-data"));
        assert!(settings.catalog.unwrap().ends_with("catalog.toml"));
        assert_eq!(settings.listen.as_deref(), Some("127.0.0.1:8080"));
    }

    #[test]
    fn a_webhook_table_is_read_with_its_secret_kept_out_of_debug() {
        let settings = read(
            "database = \"postgres://keuze:hunter2@db/keuze\"\n\
             [[webhook]]\nname = \"crm\"\nurl = \"https://crm.example/k\"\n\
             purposes = [\"newsletter\"]\nsecret = \"whsec_do_not_log\"\n",
        )
        .unwrap();
        let [webhook] = settings.webhooks.as_slice() else {
            panic!("{:?}", settings.webhooks)
        };
        assert_eq!(webhook.name, "crm");
        assert_eq!(webhook.purposes[0].as_str(), "newsletter");
        assert_eq!(webhook.secret.expose_secret(), "whsec_do_not_log");
        assert_eq!(
            settings.database_url(),
            Some("postgres://keuze:hunter2@db/keuze")
        );
        let debug = format!("{settings:?}");
        assert!(!debug.contains("whsec_do_not_log"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn an_unknown_key_is_refused_naming_it_its_place_and_the_keys_allowed() {
        let err = refusal("listen = \"127.0.0.1:0\"\nlisen = \"x\"\n");
        assert!(err.contains("keuze.toml:2:1: unknown key `lisen`"), "{err}");
        assert!(err.contains("`listen`"), "{err}");
        let err = refusal("[[webhook]]\nname = \"a\"\nurl = \"http://x\"\nsecrt = \"s\"\n");
        assert!(
            err.contains("keuze.toml:4:1: `webhook[0].secrt`: unknown key `secrt`"),
            "{err}"
        );
        assert!(err.contains("`secret`"), "{err}");
    }

    #[test]
    fn a_mistyped_value_is_refused_naming_its_key_and_place() {
        let err = refusal("data = \"d\"\nwebhook_max_attempts = \"ten\"\n");
        assert!(
            err.contains("keuze.toml:2:24: `webhook_max_attempts`: invalid type"),
            "{err}"
        );
        let err = refusal("[[webhook]]\nname = \"a\"\nurl = \"http://x\"\n");
        assert!(err.contains("`webhook[0]`: missing key `secret`"), "{err}");
        let err = refusal("[[webhook]]\nname = \"a b\"\nurl = \"http://x\"\nsecret = \"s\"\n");
        assert!(err.contains("webhook #1: name `a b`"), "{err}");
        let err = refusal("request_timeout_ms = 0\n");
        assert!(
            err.contains("`request_timeout_ms` must be a whole number"),
            "{err}"
        );
    }
}
