//! Which database a command uses: the embedded SQLite file in the data directory, or a
//! PostgreSQL database shared by several nodes (`--database postgres://…`). The URL's
//! scheme picks the backend; everything above the [`Store`] trait is the same.

use crate::config::Settings;
use keuze_postgres::{PgStore, PgStoreOptions};
use keuze_sqlite::SqliteStore;
use keuze_store::{Outbox, Store, StoreError};
use std::sync::Arc;
use tokio::sync::watch;

/// An opened database.
pub struct Database {
    pub store: Arc<dyn Store>,
    pub outbox: Arc<dyn Outbox>,
    /// How the ledger grows by commits of every node sharing the database; `None` for
    /// SQLite, which only this process writes.
    pub ledger_growth: Option<watch::Receiver<u64>>,
    /// Where the data is, for messages: a file path or `host:port/db` (never a password).
    pub location: String,
}

/// What was wrong with `--database`: a usage error, not a database failure.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadUrl(String);

/// The backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `None` (no `--database`) is SQLite in the data directory; `postgres://` and
/// `postgresql://` are PostgreSQL. Anything else is refused with what to write instead.
pub fn backend(url: Option<&str>) -> Result<Backend, BadUrl> {
    let Some(url) = url else {
        return Ok(Backend::Sqlite);
    };
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("postgres" | "postgresql") => Ok(Backend::Postgres),
        Some(other) => Err(BadUrl(say!(
            "cli-database-scheme-unsupported",
            url = redact(url),
            scheme = other
        ))),
        None => Err(BadUrl(say!("cli-database-not-a-url", url = redact(url)))),
    }
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Opens the database the settings name, bringing its schema up to date. With
/// `follow`, a PostgreSQL database also reports how other nodes grow the ledger.
pub async fn open(settings: &Settings, follow: bool) -> Result<Database, OpenError> {
    let backend = backend(settings.database_url())?;
    if let Some(schema) = &settings.database_schema {
        if backend == Backend::Sqlite {
            return Err(BadUrl(say!("cli-database-schema-needs-postgres", schema = schema)).into());
        }
        if !keuze_postgres::valid_schema(schema) {
            return Err(BadUrl(say!("cli-database-schema-invalid", schema = schema)).into());
        }
    }
    match backend {
        Backend::Sqlite => {
            let store = Arc::new(SqliteStore::open(&settings.data).await?);
            Ok(Database {
                location: store.db_path().display().to_string(),
                outbox: store.clone(),
                store,
                ledger_growth: None,
            })
        }
        Backend::Postgres => {
            let url = settings.database_url().unwrap_or_default();
            let options = PgStoreOptions {
                schema: settings.database_schema.clone(),
                // While the database is away, a write waits this long for a connection
                // before it is answered 503 (and a batch queued behind it as long again).
                acquire_timeout: std::time::Duration::from_secs(3),
                ..PgStoreOptions::default()
            };
            let store = Arc::new(PgStore::connect_with(url, options).await?);
            let ledger_growth = if follow {
                Some(store.ledger_notifications().await?)
            } else {
                None
            };
            Ok(Database {
                location: format!("{} (schema {})", redact(url), store.schema()),
                outbox: store.clone(),
                store,
                ledger_growth,
            })
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Usage(#[from] BadUrl),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_scheme_picks_the_backend() {
        assert_eq!(backend(None).unwrap(), Backend::Sqlite);
        for url in [
            "postgres://u@h/db",
            "postgresql://u@h:5432/db",
            "POSTGRES://h/db",
        ] {
            assert_eq!(backend(Some(url)).unwrap(), Backend::Postgres, "{url}");
        }
        let e = backend(Some("mysql://root:hunter2@h/db")).unwrap_err().0;
        // In the operator's language, whatever that is where the tests run.
        assert!(e.contains("`mysql://`"), "{e}");
        assert!(!e.contains("hunter2"), "the password is not repeated: {e}");
        assert_eq!(
            backend(Some("keuze.db")).unwrap_err().0,
            say!("cli-database-not-a-url", url = "keuze.db")
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://keuze:s3cret@db.internal:5432/keuze"),
            "postgres://keuze:***@db.internal:5432/keuze"
        );
        assert_eq!(redact("postgres://keuze@db/k"), "postgres://keuze@db/k");
        assert_eq!(redact("postgres://db/k?x=a@b"), "postgres://db/k?x=a@b");
    }
}
