//! The schema migrations, embedded so the binary carries them and a change to a file
//! rebuilds the crate. Versions follow the file names' numeric prefixes.

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "remembered",
        include_str!("../migrations/0002_remembered.sql"),
    ),
    (3, "audit", include_str!("../migrations/0003_audit.sql")),
    (
        4,
        "incidents",
        include_str!("../migrations/0004_incidents.sql"),
    ),
];

/// [`MIGRATIONS`] as sqlx's migrator reads them.
#[derive(Debug)]
pub(crate) struct Embedded;

type Resolved = Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send>>;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> Resolved {
        let migrations = MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(std::future::ready(Ok(migrations)))
    }
}
