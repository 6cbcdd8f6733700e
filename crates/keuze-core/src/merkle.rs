//! The ledger's Merkle tree (RFC 9162 §2.1): hashing, proof generation from a stored
//! tree, and proof verification.
//!
//! A stored tree keeps only its *complete* subtrees. `node(level, index)` is the hash of
//! the perfect subtree over leaves `[index·2^level, (index+1)·2^level)`; it exists once
//! the tree has `(index+1)·2^level` leaves and never changes afterwards, so a store can
//! write each node once. [`TreeBuilder`] yields those nodes as leaves are appended
//! (about `2n` nodes for `n` leaves). Every hash the RFC needs — roots of any size,
//! inclusion and consistency proofs — is then assembled from O(log n) node lookups
//! through [`NodeSource`], without reading the leaves.

use sha2::{Digest, Sha256};

/// A SHA-256 output: a leaf, node or root hash.
pub type Hash = [u8; 32];

/// The RFC 9162 leaf hash: `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// The RFC 9162 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: the SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The Merkle tree hash of a list of leaf hashes, computed in memory (O(n)).
pub fn root(leaves: &[Hash]) -> Hash {
    let mut builder = TreeBuilder::new();
    for leaf in leaves {
        builder.append(*leaf);
    }
    builder.root()
}

/// One complete subtree, addressed as described in the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredNode {
    pub level: u8,
    pub index: u64,
    pub hash: Hash,
}

/// Where proof generation reads complete-subtree hashes from: a database table keyed by
/// `(level, index)`, or a [`MemoryTree`].
pub trait NodeSource {
    type Error;

    /// The hash of the complete subtree over leaves `[index·2^level, (index+1)·2^level)`.
    /// Only nodes inside the tree being proven are asked for.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a proof could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProveError<E> {
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("cannot prove consistency from size {old_size} to the smaller size {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("reading a tree node failed: {0}")]
    Source(#[source] E),
}

/// The largest power of two strictly smaller than `n`; `n` must be at least 2.
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH over leaves `[start, end)` of a stored tree. `start` must be a multiple of the
/// largest power of two not above `end - start` (true for every subtree the RFC's
/// recursion visits), so the range splits into complete subtrees, largest first.
fn range_hash<S: NodeSource>(source: &S, start: u64, end: u64) -> Result<Hash, S::Error> {
    if start >= end {
        return Ok(empty_root());
    }
    let mut parts = Vec::with_capacity(64);
    let mut at = start;
    while at < end {
        let level = 63 - (end - at).leading_zeros();
        let width = 1u64 << level;
        parts.push(source.node(level as u8, at >> level)?);
        at += width;
    }
    // Fold right to left: the smallest (right-most) subtree joins its left neighbours.
    let mut acc = parts.pop().unwrap_or_else(empty_root);
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The root of the first `size` leaves of a stored tree, from O(log n) nodes.
pub fn root_at<S: NodeSource>(size: u64, source: &S) -> Result<Hash, S::Error> {
    range_hash(source, 0, size)
}

/// The RFC 9162 inclusion proof (audit path, §2.1.3.1) for leaf `index` in the tree of
/// the first `size` leaves, nearest sibling first.
pub fn inclusion_proof<S: NodeSource>(
    size: u64,
    index: u64,
    source: &S,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if index >= size {
        return Err(ProveError::IndexOutOfRange { index, size });
    }
    // Walk down from the root, collecting the sibling at each split; reverse at the end.
    let mut siblings = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            siblings.push(range_hash(source, start + k, start + n).map_err(ProveError::Source)?);
            n = k;
        } else {
            siblings.push(range_hash(source, start, start + k).map_err(ProveError::Source)?);
            start += k;
            n -= k;
            m -= k;
        }
    }
    siblings.reverse();
    Ok(siblings)
}

/// The RFC 9162 consistency proof (§2.1.4.1) from the tree of the first `old_size`
/// leaves to the tree of the first `new_size`. Empty when the sizes are equal or
/// `old_size` is 0.
pub fn consistency_proof<S: NodeSource>(
    old_size: u64,
    new_size: u64,
    source: &S,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if old_size > new_size {
        return Err(ProveError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start..start+n], whole_old_tree), unrolled top-down.
    let mut out = Vec::new();
    let (mut start, mut n, mut m) = (0u64, new_size, old_size);
    let mut whole_old_tree = true;
    while m < n {
        let k = split_point(n);
        if m <= k {
            out.push(range_hash(source, start + k, start + n).map_err(ProveError::Source)?);
            n = k;
        } else {
            out.push(range_hash(source, start, start + k).map_err(ProveError::Source)?);
            start += k;
            n -= k;
            m -= k;
            whole_old_tree = false;
        }
    }
    // m == n: the old tree's last subtree; the verifier already knows it when it is the
    // whole old tree.
    if !whole_old_tree {
        out.push(range_hash(source, start, start + n).map_err(ProveError::Source)?);
    }
    out.reverse();
    Ok(out)
}

/// Appends leaves and reports the complete subtrees each append finishes, so a store can
/// write them once. Holds only the O(log n) frontier: the roots of the complete subtrees
/// that make up the current tree, largest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeBuilder {
    size: u64,
    frontier: Vec<Hash>,
}

impl TreeBuilder {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Picks up a stored tree of `size` leaves by reading its frontier (O(log n) nodes).
    pub fn resume<S: NodeSource>(size: u64, source: &S) -> Result<Self, S::Error> {
        let mut frontier = Vec::new();
        let mut at = 0u64;
        for level in (0..64u8).rev() {
            if size & (1u64 << level) != 0 {
                frontier.push(source.node(level, at >> level)?);
                at += 1u64 << level;
            }
        }
        Ok(Self { size, frontier })
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns every node that became complete, the leaf itself
    /// (level 0) first.
    pub fn append(&mut self, leaf: Hash) -> Vec<StoredNode> {
        let mut index = self.size;
        let mut hash = leaf;
        let mut level = 0u8;
        let mut done = vec![StoredNode { level, index, hash }];
        // Each trailing one bit of the old size is a left sibling waiting for this node.
        while index & 1 == 1 {
            let Some(left) = self.frontier.pop() else {
                break;
            };
            hash = node_hash(&left, &hash);
            index >>= 1;
            level += 1;
            done.push(StoredNode { level, index, hash });
        }
        self.frontier.push(hash);
        self.size += 1;
        done
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        let mut nodes = self.frontier.iter().rev();
        let Some(last) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// A whole tree in memory: for tests, and for re-deriving a ledger's tree from its
/// events during `ledger verify`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    builder: TreeBuilder,
    /// `levels[l][i]` is `node(l, i)`.
    levels: Vec<Vec<Hash>>,
}

/// A node that a [`MemoryTree`] does not have (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tree has no complete node at level {level}, index {index}")]
pub struct MissingNode {
    pub level: u8,
    pub index: u64,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_leaves(leaves: &[Hash]) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(*leaf);
        }
        tree
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        for node in self.builder.append(leaf) {
            let level = usize::from(node.level);
            while self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            if let Some(row) = self.levels.get_mut(level) {
                row.push(node.hash);
            }
        }
    }

    pub fn size(&self) -> u64 {
        self.builder.size()
    }

    pub fn root(&self) -> Hash {
        self.builder.root()
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(usize::from(level))
            .and_then(|row| row.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

/// Why a proof did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the old tree size {old_size} is larger than the new tree size {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("the proof has the wrong number of hashes for these tree sizes")]
    WrongLength,
    #[error("the proof does not lead to the expected root hash")]
    RootMismatch,
    #[error("the proof does not lead to the expected old root hash")]
    OldRootMismatch,
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is at `index` in the tree of `size` leaves
/// whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // Skip the levels where this node has no right sibling (the tree's right edge).
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: checks that the tree of `old_size` leaves with root `old_root` is
/// a prefix of the tree of `new_size` leaves with root `new_root`.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        // Nothing to prove beyond the roots themselves.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        if old_size == 0 && *old_root != empty_root() {
            return Err(ProofError::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    let mut path = proof.iter();
    // When the old tree is a complete subtree, its root is the proof's implicit start.
    let seed = if old_size.is_power_of_two() {
        Some(old_root)
    } else {
        path.next()
    };
    let Some(seed) = seed else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*seed, *seed);
    for c in path {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root {
        return Err(ProofError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Lower-case hex of a hash, as receipts and documents write it.
pub fn hash_to_hex(hash: &Hash) -> String {
    hex::encode(hash)
}

/// Parses exactly 64 lower-case hex digits.
pub fn hash_from_hex(s: &str) -> Option<Hash> {
    if s.len() != 64 || s.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tree_root_is_sha256_of_nothing() {
        assert_eq!(
            hex::encode(root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn builder_writes_about_two_nodes_per_leaf() {
        let mut b = TreeBuilder::new();
        let written: usize = (0..1000u32)
            .map(|i| b.append(leaf_hash(&i.to_be_bytes())).len())
            .sum();
        // 2n − popcount(n) nodes for n leaves.
        assert_eq!(written, 2 * 1000 - 1000u32.count_ones() as usize);
    }

    #[test]
    fn resume_continues_where_the_store_left_off() {
        let leaves: Vec<Hash> = (0..37u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let stored = MemoryTree::from_leaves(&leaves[..20]);
        let mut resumed = TreeBuilder::resume(20, &stored).unwrap();
        for leaf in &leaves[20..] {
            resumed.append(*leaf);
        }
        assert_eq!(resumed.root(), root(&leaves));
    }
}
