//! Inclusion and consistency proofs: the honest proof for a true claim verifies, and
//! nothing else does — no edited proof, no other index, size, leaf or root. Checked
//! against an independent recursive RFC 9162 implementation over 64 known leaves.

use arbitrary::Arbitrary;
use keuze_core::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, verify_consistency,
    verify_inclusion, Hash, MemoryTree,
};
use std::sync::OnceLock;

/// How many leaves the reference tree has.
pub const LEAVES: u64 = 64;

struct Reference {
    leaves: Vec<Hash>,
    tree: MemoryTree,
}

fn reference() -> &'static Reference {
    static R: OnceLock<Reference> = OnceLock::new();
    R.get_or_init(|| {
        let leaves: Vec<Hash> = (0..LEAVES).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let tree = MemoryTree::from_leaves(&leaves);
        Reference { leaves, tree }
    })
}

/// The largest power of two smaller than `n` (n ≥ 2): where RFC 9162 splits a tree.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// RFC 9162 §2.1.1 MTH, written out recursively: the reference the verifier must agree with.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The root that `proof` (nearest sibling first) leads to from `leaf` at `index` in a
/// tree of `size` leaves, by the recursive definition; `None` if the proof has the wrong
/// length. An independent statement of what `verify_inclusion` must accept.
fn path_root(leaf: &Hash, index: u64, size: u64, proof: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    if size == 1 {
        return proof.is_empty().then_some(*leaf);
    }
    let (sibling, rest) = proof.split_last()?;
    let k = split(size);
    if index < k {
        Some(node_hash(&path_root(leaf, index, k, rest)?, sibling))
    } else {
        Some(node_hash(
            sibling,
            &path_root(leaf, index - k, size - k, rest)?,
        ))
    }
}

/// A claim and a proof for it, as edits of the honest ones.
#[derive(Debug, Clone, Arbitrary)]
pub struct ProofInput {
    pub size: u8,
    pub index: u8,
    pub old_size: u8,
    pub claim: Vec<ClaimEdit>,
    pub edits: Vec<ProofEdit>,
    pub consistency_claim: Vec<ClaimEdit>,
    pub consistency_edits: Vec<ProofEdit>,
}

/// A change to what is claimed.
#[derive(Debug, Clone, Arbitrary)]
pub enum ClaimEdit {
    Index(u64),
    Size(u64),
    /// The claimed size is the true size plus this (wrapping).
    SizeDelta(i8),
    IndexDelta(i8),
    Leaf([u8; 32]),
    /// Another leaf of the reference tree.
    OtherLeaf(u8),
    Root([u8; 32]),
    /// The root of another size of the reference tree.
    OtherRoot(u8),
}

/// A change to a proof's list of hashes.
#[derive(Debug, Clone, Arbitrary)]
pub enum ProofEdit {
    Replace {
        at: u8,
        with: [u8; 32],
    },
    FlipBit {
        at: u8,
        bit: u8,
    },
    Remove {
        at: u8,
    },
    Insert {
        at: u8,
        with: [u8; 32],
    },
    /// Insert a real node hash: a leaf of the tree or a root of one of its prefixes.
    InsertReal {
        at: u8,
        leaf: u8,
        root: bool,
    },
    Duplicate {
        at: u8,
    },
    Swap {
        a: u8,
        b: u8,
    },
    Truncate {
        len: u8,
    },
    Reverse,
}

fn edit_proof(proof: &mut Vec<Hash>, edit: &ProofEdit) {
    let r = reference();
    let at = |i: u8, len: usize| if len == 0 { 0 } else { usize::from(i) % len };
    match *edit {
        ProofEdit::Replace { at: i, with } => {
            if !proof.is_empty() {
                let i = at(i, proof.len());
                proof[i] = with;
            }
        }
        ProofEdit::FlipBit { at: i, bit } => {
            if !proof.is_empty() {
                let i = at(i, proof.len());
                proof[i][usize::from(bit / 8) % 32] ^= 1 << (bit % 8);
            }
        }
        ProofEdit::Remove { at: i } => {
            if !proof.is_empty() {
                let i = at(i, proof.len());
                proof.remove(i);
            }
        }
        ProofEdit::Insert { at: i, with } => {
            let i = at(i, proof.len() + 1);
            proof.insert(i, with);
        }
        ProofEdit::InsertReal { at: i, leaf, root } => {
            let i = at(i, proof.len() + 1);
            let n = usize::from(leaf) % r.leaves.len();
            let h = if root {
                mth(&r.leaves[..=n])
            } else {
                r.leaves[n]
            };
            proof.insert(i, h);
        }
        ProofEdit::Duplicate { at: i } => {
            if !proof.is_empty() {
                let i = at(i, proof.len());
                proof.insert(i, proof[i]);
            }
        }
        ProofEdit::Swap { a, b } => {
            if !proof.is_empty() {
                let (a, b) = (at(a, proof.len()), at(b, proof.len()));
                proof.swap(a, b);
            }
        }
        ProofEdit::Truncate { len } => proof.truncate(usize::from(len)),
        ProofEdit::Reverse => proof.reverse(),
    }
}

struct Claim {
    index: u64,
    size: u64,
    leaf: Hash,
    root: Hash,
}

fn edit_claim(c: &mut Claim, edit: &ClaimEdit) {
    let r = reference();
    match *edit {
        ClaimEdit::Index(i) => c.index = i,
        ClaimEdit::Size(s) => c.size = s,
        ClaimEdit::SizeDelta(d) => c.size = c.size.wrapping_add_signed(i64::from(d)),
        ClaimEdit::IndexDelta(d) => c.index = c.index.wrapping_add_signed(i64::from(d)),
        ClaimEdit::Leaf(h) => c.leaf = h,
        ClaimEdit::OtherLeaf(i) => c.leaf = r.leaves[usize::from(i) % r.leaves.len()],
        ClaimEdit::Root(h) => c.root = h,
        ClaimEdit::OtherRoot(n) => c.root = mth(&r.leaves[..usize::from(n) % (r.leaves.len() + 1)]),
    }
}

pub fn merkle_proofs(input: &ProofInput) {
    let r = reference();
    let size = 1 + u64::from(input.size) % LEAVES;
    let index = u64::from(input.index) % size;

    // Inclusion.
    let mut claim = Claim {
        index,
        size,
        leaf: r.leaves[index as usize],
        root: mth(&r.leaves[..size as usize]),
    };
    for e in &input.claim {
        edit_claim(&mut claim, e);
    }
    let mut proof = inclusion_proof(size, index, &r.tree).unwrap();
    for e in &input.edits {
        edit_proof(&mut proof, e);
    }
    let verdict = verify_inclusion(&claim.leaf, claim.index, claim.size, &proof, &claim.root);
    let leads_to_root = path_root(&claim.leaf, claim.index, claim.size, &proof) == Some(claim.root);
    assert_eq!(
        verdict.is_ok(),
        leads_to_root,
        "inclusion of leaf {} in size {} with a {}-hash proof: {verdict:?}",
        claim.index,
        claim.size,
        proof.len()
    );
    // Under a root of the real tree, only the real leaf with the honest proof verifies.
    if claim.size <= LEAVES && claim.root == mth(&r.leaves[..claim.size as usize]) {
        let honest_claim = claim.index < claim.size
            && claim.leaf == r.leaves[claim.index as usize]
            && proof == inclusion_proof(claim.size, claim.index, &r.tree).unwrap();
        assert_eq!(verdict.is_ok(), honest_claim, "{verdict:?}");
    }
    if input.claim.is_empty() && input.edits.is_empty() {
        assert!(verdict.is_ok(), "the honest proof was refused: {verdict:?}");
    }
    // Consistency.
    let old_size = u64::from(input.old_size) % (size + 1);
    let mut old = Claim {
        index: 0,
        size: old_size,
        leaf: [0; 32],
        root: mth(&r.leaves[..old_size as usize]),
    };
    let mut new = Claim {
        index: 0,
        size,
        leaf: [0; 32],
        root: mth(&r.leaves[..size as usize]),
    };
    // Claim edits alternate between the old and the new tree head.
    for (i, e) in input.consistency_claim.iter().enumerate() {
        edit_claim(if i % 2 == 0 { &mut old } else { &mut new }, e);
    }
    let mut proof = consistency_proof(old_size, size, &r.tree).unwrap();
    for e in &input.consistency_edits {
        edit_proof(&mut proof, e);
    }
    let verdict = verify_consistency(old.size, new.size, &old.root, &new.root, &proof);
    let trivial = old.size == 0 || old.size == new.size;
    let expected = if old.size > new.size {
        Some(false)
    } else if trivial {
        Some(
            proof.is_empty()
                && (old.size != 0 || old.root == empty_root())
                && (old.size != new.size || old.root == new.root),
        )
    } else if new.size <= LEAVES && new.root == mth(&r.leaves[..new.size as usize]) {
        // A real root fixes every hash below it: only the real old root and the honest
        // proof lead to it.
        Some(
            old.root == mth(&r.leaves[..old.size as usize])
                && proof == consistency_proof(old.size, new.size, &r.tree).unwrap(),
        )
    } else {
        // Made-up roots: a proof can be valid for some other tree; nothing to compare.
        None
    };
    if let Some(expected) = expected {
        assert_eq!(
            verdict.is_ok(),
            expected,
            "consistency of size {} with size {} with a {}-hash proof: {verdict:?}",
            old.size,
            new.size,
            proof.len()
        );
    }
    if input.consistency_claim.is_empty() && input.consistency_edits.is_empty() {
        assert!(verdict.is_ok(), "the honest proof was refused: {verdict:?}");
    }
}
