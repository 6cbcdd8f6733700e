//! The published catalog versions, oldest first, with the diff between each version and
//! the one before. From them follows, per purpose, the last version that changed it
//! materially: a consent given before that version is no longer relied on.

use crate::catalog::{Catalog, Digest256, Purpose};
use crate::change::{diff, CatalogDiff, DiffError, PurposeDiffKind};
use crate::ids::PurposeId;
use crate::time::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;

/// One immutable published version.
#[derive(Debug, Clone)]
pub struct CatalogVersion {
    pub number: u32,
    pub digest: Digest256,
    pub catalog: Catalog,
    pub published_at: Timestamp,
}

/// Every published version, and what changed between consecutive ones.
#[derive(Debug, Clone)]
pub struct CatalogHistory {
    versions: Vec<Arc<CatalogVersion>>,
    /// The last of `versions`, kept apart so there is always one.
    current: Arc<CatalogVersion>,
    /// `diffs[i]` leads from `versions[i]` to `versions[i + 1]`.
    diffs: Vec<CatalogDiff>,
    /// Per purpose, the number of the latest version that changed it materially or
    /// (re)introduced it.
    material_since: HashMap<PurposeId, u32>,
    /// Each purpose in force: its position in the current catalog and its
    /// `material_since`. Decisions look purposes up here, by hash, not by a scan.
    in_force: hashbrown::HashMap<PurposeId, (usize, u32), foldhash::fast::RandomState>,
}

impl CatalogHistory {
    pub fn new(first: CatalogVersion) -> Self {
        let mut material_since = HashMap::new();
        for p in &first.catalog.purposes {
            material_since.insert(p.id.clone(), first.number);
        }
        let first = Arc::new(first);
        let mut history = Self {
            versions: vec![Arc::clone(&first)],
            current: first,
            diffs: Vec::new(),
            material_since,
            in_force: hashbrown::HashMap::default(),
        };
        history.index_in_force();
        history
    }

    fn index_in_force(&mut self) {
        let in_force = self
            .current
            .catalog
            .purposes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let since = self.material_since(p.id.as_str()).unwrap_or(0);
                (p.id.clone(), (i, since))
            })
            .collect();
        self.in_force = in_force;
    }

    /// A purpose of the version in force, with the latest version that changed it
    /// materially (a grant under an older version no longer counts).
    pub fn purpose_in_force(&self, id: &str) -> Option<(&Purpose, u32)> {
        let &(i, since) = self.in_force.get(id)?;
        Some((self.current.catalog.purposes.get(i)?, since))
    }

    /// Adds the next version. Refused if it breaks a promise of the current one.
    pub fn push(&mut self, next: CatalogVersion) -> Result<&CatalogDiff, DiffError> {
        let d = diff(&self.current().catalog, &next.catalog)?;
        for pd in &d.purposes {
            if pd.is_material() || pd.kind == PurposeDiffKind::Added {
                self.material_since.insert(pd.purpose.clone(), next.number);
            }
        }
        let next = Arc::new(next);
        self.versions.push(Arc::clone(&next));
        self.current = next;
        self.diffs.push(d);
        self.index_in_force();
        Ok(self.diffs.last().unwrap_or(&EMPTY))
    }

    /// The version in force.
    pub fn current(&self) -> &CatalogVersion {
        &self.current
    }

    pub fn version(&self, number: u32) -> Option<&CatalogVersion> {
        self.versions
            .iter()
            .find(|v| v.number == number)
            .map(AsRef::as_ref)
    }

    pub fn versions(&self) -> impl DoubleEndedIterator<Item = &CatalogVersion> {
        self.versions.iter().map(AsRef::as_ref)
    }

    /// Each version after the first with the diff that led to it, oldest first.
    pub fn changes(&self) -> impl DoubleEndedIterator<Item = (&CatalogVersion, &CatalogDiff)> {
        self.versions
            .iter()
            .skip(1)
            .map(AsRef::as_ref)
            .zip(&self.diffs)
    }

    /// The latest version that changed `purpose` materially (or introduced it).
    pub fn material_since(&self, purpose: &str) -> Option<u32> {
        self.material_since.get(purpose).copied()
    }

    /// Whether a choice made under `version` for `purpose` still counts today.
    pub fn still_covers(&self, purpose: &str, version: u32) -> bool {
        self.material_since(purpose).is_none_or(|m| version >= m)
    }

    /// What changed from version `from` to the current one, as one diff.
    pub fn diff_since(&self, from: u32) -> Option<Result<CatalogDiff, DiffError>> {
        let old = self.version(from)?;
        Some(diff(&old.catalog, &self.current().catalog))
    }
}

static EMPTY: CatalogDiff = CatalogDiff {
    purposes: Vec::new(),
    organisation: Vec::new(),
    categories: Vec::new(),
};
