//! Publishing catalog versions and loading them back. Shared by `keuze catalog publish`,
//! `keuze serve --catalog`, and `POST /v1/catalog/versions`, so all three refuse and
//! accept exactly the same catalogs.

use keuze_core::admin::Attribution;
use keuze_core::catalog::{parse_catalog, parse_catalog_against, CatalogReport};
use keuze_core::change::{diff, CatalogDiff, DiffError};
use keuze_core::{CatalogHistory, CatalogVersion};
use keuze_store::{Store, StoreError, StoredCatalog};
use keuze_tcf::Gvl;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{}", .0.summary())]
    Invalid(Box<CatalogReport>),
    #[error("{0}")]
    BrokenPromise(#[from] DiffError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("published catalog version {number} no longer passes the checks:\n{report}")]
    Unreadable { number: u32, report: String },
    #[error("published catalog version {number} cannot follow the one before it: {error}")]
    Inconsistent { number: u32, error: DiffError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What publishing did.
#[derive(Debug)]
pub enum Published {
    /// The catalog is identical to the version in force; nothing was stored.
    Unchanged { number: u32 },
    /// A new version was stored. `diff` is against the previous version, if any.
    New {
        version: Box<CatalogVersion>,
        diff: Option<CatalogDiff>,
    },
}

fn parse_stored(stored: &StoredCatalog) -> Result<CatalogVersion, LoadError> {
    let name = format!("catalog version {}", stored.number);
    let (catalog, _) = parse_catalog(&name, &stored.source).map_err(|e| LoadError::Unreadable {
        number: stored.number,
        report: e.0.render(),
    })?;
    Ok(CatalogVersion {
        number: stored.number,
        digest: stored.digest,
        catalog,
        published_at: stored.published_at,
    })
}

/// Every published version, oldest first; `None` if nothing was ever published.
pub async fn load_history(store: &dyn Store) -> Result<Option<CatalogHistory>, LoadError> {
    let Some(latest) = store.latest_catalog().await? else {
        return Ok(None);
    };
    let mut history: Option<CatalogHistory> = None;
    for number in 1..=latest.number {
        let Some(stored) = store.catalog_version(number).await? else {
            continue;
        };
        let version = parse_stored(&stored)?;
        match &mut history {
            None => history = Some(CatalogHistory::new(version)),
            Some(h) => {
                h.push(version)
                    .map_err(|error| LoadError::Inconsistent { number, error })?;
            }
        }
    }
    Ok(history)
}

/// Versions published after `after`, oldest first (e.g. by `keuze catalog publish`
/// while the server runs).
pub async fn load_newer(store: &dyn Store, after: u32) -> Result<Vec<CatalogVersion>, LoadError> {
    let Some(latest) = store.latest_catalog().await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for number in after.saturating_add(1)..=latest.number {
        if let Some(stored) = store.catalog_version(number).await? {
            out.push(parse_stored(&stored)?);
        }
    }
    Ok(out)
}

/// Checks `source` and publishes it as the next version, at `by.at`, unless it is
/// identical to the version in force; the store records the admin entry attributed to
/// `by` with it. An invalid catalog, or one that lowers a purpose's revision, is refused
/// and nothing is stored. With a `vendor_list`, a `[tcf]` vendor it does not list as
/// active makes the catalog invalid too.
pub async fn publish(
    store: &dyn Store,
    current: Option<&CatalogVersion>,
    file: &str,
    source: &str,
    vendor_list: Option<&Gvl>,
    by: &Attribution,
) -> Result<Published, PublishError> {
    let parsed = match vendor_list {
        Some(gvl) => parse_catalog_against(file, source, gvl),
        None => parse_catalog(file, source),
    };
    let (catalog, _) = parsed.map_err(|e| PublishError::Invalid(Box::new(e.0)))?;
    let digest = catalog.digest();
    if let Some(cur) = current {
        if cur.digest == digest {
            return Ok(Published::Unchanged { number: cur.number });
        }
    }
    let d = match current {
        Some(cur) => Some(diff(&cur.catalog, &catalog)?),
        None => None,
    };
    let stored = store
        .publish_catalog(digest, catalog.canonical_json(), source.to_owned(), by)
        .await?;
    Ok(Published::New {
        version: Box::new(CatalogVersion {
            number: stored.number,
            digest,
            catalog,
            published_at: stored.published_at,
        }),
        diff: d,
    })
}
