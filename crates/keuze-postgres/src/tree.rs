//! The stored Merkle tree: reading nodes by (level, index) in one query, and running
//! keuze-core's tree computations (resume, root at a size) over them.

use crate::db_error;
use keuze_core::merkle::{Hash, NodeSource};
use keuze_store::{Result, StoreError};
use sqlx::PgConnection;
use std::cell::RefCell;
use std::collections::HashMap;

/// The number of leaves: the largest leaf index plus one, from the primary key.
pub(crate) async fn stored_size(conn: &mut PgConnection) -> Result<u64> {
    let size: i64 =
        sqlx::query_scalar("SELECT coalesce(max(idx) + 1, 0) FROM tree_nodes WHERE level = 0")
            .fetch_one(conn)
            .await
            .map_err(db_error)?;
    u64::try_from(size)
        .map_err(|_| StoreError::Corrupt(format!("the Merkle tree reports {size} leaves")))
}

/// Stored nodes in the order asked, duplicates and all, with one query: the pairs travel
/// as two arrays and are joined against the primary key. A node not stored is `Corrupt`.
pub(crate) async fn fetch_nodes(
    conn: &mut PgConnection,
    wanted: &[(u8, u64)],
) -> Result<Vec<Hash>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let levels: Vec<i16> = wanted.iter().map(|&(level, _)| i16::from(level)).collect();
    // An index beyond BIGINT is no stored node; -1 finds none either.
    let indices: Vec<i64> = wanted
        .iter()
        .map(|&(_, index)| i64::try_from(index).unwrap_or(-1))
        .collect();
    let hashes: Vec<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT t.hash FROM UNNEST($1::int2[], $2::int8[]) WITH ORDINALITY AS w (level, idx, i) \
         LEFT JOIN tree_nodes AS t ON t.level = w.level AND t.idx = w.idx \
         ORDER BY w.i",
    )
    .bind(levels)
    .bind(indices)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    if hashes.len() != wanted.len() {
        return Err(StoreError::Corrupt(format!(
            "asked for {} Merkle tree nodes, the database answered {}",
            wanted.len(),
            hashes.len()
        )));
    }
    hashes
        .into_iter()
        .zip(wanted)
        .map(|(hash, &(level, index))| {
            let what = || format!("Merkle tree node (level {level}, index {index})");
            let hash = hash.ok_or_else(|| StoreError::Corrupt(format!("{} is missing", what())))?;
            <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| {
                StoreError::Corrupt(format!("{} holds {} bytes, not 32", what(), hash.len()))
            })
        })
        .collect()
}

/// Nodes fetched so far; a node not among them is noted and answered with zeros. Which
/// nodes a tree computation reads depends only on sizes and indices, never on hashes, so
/// one dry run learns them all.
#[derive(Default)]
pub(crate) struct FetchedNodes {
    nodes: HashMap<(u8, u64), Hash>,
    missing: RefCell<Vec<(u8, u64)>>,
}

impl NodeSource for FetchedNodes {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        Ok(self.nodes.get(&(level, index)).copied().unwrap_or_else(|| {
            self.missing.borrow_mut().push((level, index));
            [0; 32]
        }))
    }
}

/// Runs `compute` over the stored tree, reading every node it needs with one query: a dry
/// run to learn which, then the real one.
pub(crate) async fn on_stored_tree<T>(
    conn: &mut PgConnection,
    compute: impl Fn(&FetchedNodes) -> Result<T>,
) -> Result<T> {
    let mut source = FetchedNodes::default();
    let dry = compute(&source)?;
    let wanted = source.missing.take();
    if wanted.is_empty() {
        return Ok(dry);
    }
    let hashes = fetch_nodes(conn, &wanted).await?;
    source.nodes = wanted.into_iter().zip(hashes).collect();
    let result = compute(&source)?;
    match source.missing.take().first() {
        None => Ok(result),
        Some((level, index)) => Err(StoreError::Corrupt(format!(
            "a tree computation asked for node (level {level}, index {index}) only on its \
             second run"
        ))),
    }
}
