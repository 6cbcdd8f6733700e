//! The ledger's Merkle tree against an independent RFC 9162 reference written here, from
//! the RFC's recursive definitions of MTH, PATH and PROOF: for every tree size 1..=300,
//! every inclusion proof and every consistency proof must equal the reference's and
//! verify, and any change to a proof, root, index or size must make verification fail.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use keuze_core::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, root, root_at, verify_consistency,
    verify_inclusion, Hash, MemoryTree, NodeSource, ProofError, TreeBuilder,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;

const MAX: usize = 300;

/// RFC 9162 §2.1.1, written out again without the crate's code.
mod rfc {
    use super::*;

    pub fn leaf(entry: &[u8]) -> Hash {
        let mut input = vec![0x00];
        input.extend_from_slice(entry);
        Sha256::digest(&input).into()
    }

    pub fn node(l: &Hash, r: &Hash) -> Hash {
        let mut input = vec![0x01];
        input.extend_from_slice(l);
        input.extend_from_slice(r);
        Sha256::digest(&input).into()
    }

    /// The largest power of two smaller than n (n > 1).
    pub fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// A list of inputs D[0:MAX]; every tree in the test is a prefix of it. MTH of a
    /// range does not depend on the tree it sits in, so it is memoised by range.
    pub struct Reference {
        pub entries: Vec<Vec<u8>>,
        memo: RefCell<HashMap<(usize, usize), Hash>>,
    }

    impl Reference {
        pub fn new(entries: Vec<Vec<u8>>) -> Self {
            Self {
                entries,
                memo: RefCell::new(HashMap::new()),
            }
        }

        /// MTH(D[lo:hi]).
        pub fn mth(&self, lo: usize, hi: usize) -> Hash {
            if let Some(h) = self.memo.borrow().get(&(lo, hi)) {
                return *h;
            }
            let n = hi - lo;
            let h = match n {
                0 => Sha256::digest([]).into(),
                1 => leaf(&self.entries[lo]),
                _ => {
                    let k = k(n);
                    node(&self.mth(lo, lo + k), &self.mth(lo + k, hi))
                }
            };
            self.memo.borrow_mut().insert((lo, hi), h);
            h
        }

        /// PATH(m, D[lo:hi]) (§2.1.3.1).
        pub fn path(&self, m: usize, lo: usize, hi: usize) -> Vec<Hash> {
            let n = hi - lo;
            if n == 1 {
                return vec![];
            }
            let k = k(n);
            if m < k {
                let mut p = self.path(m, lo, lo + k);
                p.push(self.mth(lo + k, hi));
                p
            } else {
                let mut p = self.path(m - k, lo + k, hi);
                p.push(self.mth(lo, lo + k));
                p
            }
        }

        /// PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) (§2.1.4.1).
        pub fn proof(&self, m: usize, n: usize) -> Vec<Hash> {
            self.subproof(m, 0, n, true)
        }

        fn subproof(&self, m: usize, lo: usize, hi: usize, b: bool) -> Vec<Hash> {
            let n = hi - lo;
            if m == n {
                return if b { vec![] } else { vec![self.mth(lo, hi)] };
            }
            let k = k(n);
            if m <= k {
                let mut p = self.subproof(m, lo, lo + k, b);
                p.push(self.mth(lo + k, hi));
                p
            } else {
                let mut p = self.subproof(m - k, lo + k, hi, false);
                p.push(self.mth(lo, lo + k));
                p
            }
        }
    }
}

fn entries(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("ledger entry {i}").into_bytes())
        .collect()
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

#[test]
fn hashing_matches_the_rfc_definitions_and_the_published_vectors() {
    // The RFC 6962 test inputs used by Certificate Transparency implementations.
    let inputs: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let leaves: Vec<Hash> = inputs.iter().map(|e| leaf_hash(e)).collect();
    for (i, e) in inputs.iter().enumerate() {
        assert_eq!(leaves[i], rfc::leaf(e));
    }
    let tree = MemoryTree::from_leaves(&leaves);
    for (n, want) in roots.iter().enumerate() {
        assert_eq!(hex::encode(root(&leaves[..n])), *want, "root of size {n}");
        assert_eq!(hex::encode(root_at(n as u64, &tree).unwrap()), *want);
    }
    let a = leaf_hash(b"a");
    let b = leaf_hash(b"b");
    assert_eq!(node_hash(&a, &b), rfc::node(&a, &b));

    let proof = inclusion_proof(8, 0, &tree).unwrap();
    let want = [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ];
    assert_eq!(proof.iter().map(hex::encode).collect::<Vec<_>>(), want);
}

/// Which tamperings to try on the proof for `(n, m)`: all of them in trees up to 64
/// leaves; above that one per proof, a different one each time, so the sweep stays fast
/// in a debug build while every kind is still tried on every tree shape.
fn chosen<T>(all: Vec<T>, n: usize, m: usize) -> Vec<T> {
    if n <= 64 || all.is_empty() {
        return all;
    }
    let pick = (n * 31 + m) % all.len();
    all.into_iter().skip(pick).take(1).collect()
}

#[derive(Clone)]
struct Inclusion {
    leaf: Hash,
    index: u64,
    size: u64,
    proof: Vec<Hash>,
    root: Hash,
}

impl Inclusion {
    fn verify(&self) -> Result<(), ProofError> {
        verify_inclusion(&self.leaf, self.index, self.size, &self.proof, &self.root)
    }
}

#[test]
fn every_inclusion_proof_up_to_300_leaves_matches_the_reference() {
    let reference = rfc::Reference::new(entries(MAX));
    let leaves: Vec<Hash> = reference.entries.iter().map(|e| leaf_hash(e)).collect();
    // One stored tree of 300 leaves serves every smaller size: nodes never change.
    let tree = MemoryTree::from_leaves(&leaves);

    for n in 1..=MAX {
        let size = n as u64;
        let root = reference.mth(0, n);
        assert_eq!(root_at(size, &tree).unwrap(), root, "root of size {n}");
        for (m, leaf) in leaves.iter().enumerate().take(n) {
            let index = m as u64;
            let proof = inclusion_proof(size, index, &tree).unwrap();
            assert_eq!(proof, reference.path(m, 0, n), "PATH({m}, D[{n}])");
            let good = Inclusion {
                leaf: *leaf,
                index,
                size,
                proof: proof.clone(),
                root,
            };
            good.verify().unwrap();

            // Any other leaf, index, size, root or proof fails.
            let mut bad = vec![
                Inclusion {
                    leaf: flip(&good.leaf, m),
                    ..good.clone()
                },
                Inclusion {
                    root: flip(&root, m),
                    ..good.clone()
                },
                Inclusion {
                    index: size,
                    ..good.clone()
                },
            ];
            if n > 1 {
                bad.push(Inclusion {
                    index: (index + 1) % size,
                    ..good.clone()
                });
            }
            // A proof is for one size: the next tree's root does not accept it. (With the
            // same root a neighbouring size can pass, which is why checkpoints sign the
            // size and the root together.)
            if n < MAX {
                bad.push(Inclusion {
                    size: size + 1,
                    root: reference.mth(0, n + 1),
                    ..good.clone()
                });
            }
            let mut longer = proof.clone();
            longer.push(root);
            bad.push(Inclusion {
                proof: longer,
                ..good.clone()
            });
            if !proof.is_empty() {
                bad.push(Inclusion {
                    proof: proof[1..].to_vec(),
                    ..good.clone()
                });
                bad.push(Inclusion {
                    proof: proof[..proof.len() - 1].to_vec(),
                    ..good.clone()
                });
            }
            for i in 0..proof.len() {
                let mut p = proof.clone();
                p[i] = flip(&p[i], i + m);
                bad.push(Inclusion {
                    proof: p,
                    ..good.clone()
                });
            }
            for case in chosen(bad, n, m) {
                assert!(
                    case.verify().is_err(),
                    "a tampered proof for {m} in {n} verified"
                );
            }
        }
        assert!(inclusion_proof(size, size, &tree).is_err());
    }
}

#[derive(Clone)]
struct Consistency {
    old: u64,
    new: u64,
    old_root: Hash,
    new_root: Hash,
    proof: Vec<Hash>,
}

impl Consistency {
    fn verify(&self) -> Result<(), ProofError> {
        verify_consistency(
            self.old,
            self.new,
            &self.old_root,
            &self.new_root,
            &self.proof,
        )
    }
}

#[test]
fn every_consistency_proof_up_to_300_leaves_matches_the_reference() {
    let reference = rfc::Reference::new(entries(MAX));
    let leaves: Vec<Hash> = reference.entries.iter().map(|e| leaf_hash(e)).collect();
    let tree = MemoryTree::from_leaves(&leaves);

    for n in 1..=MAX {
        let new_root = reference.mth(0, n);
        for m in 1..=n {
            let (old, new) = (m as u64, n as u64);
            let old_root = reference.mth(0, m);
            let proof = consistency_proof(old, new, &tree).unwrap();
            assert_eq!(proof, reference.proof(m, n), "PROOF({m}, D[{n}])");
            let good = Consistency {
                old,
                new,
                old_root,
                new_root,
                proof: proof.clone(),
            };
            good.verify().unwrap();

            let mut bad = vec![
                Consistency {
                    old_root: flip(&old_root, n),
                    ..good.clone()
                },
                Consistency {
                    new_root: flip(&new_root, m),
                    ..good.clone()
                },
            ];
            if m < n {
                // The proof is for these two sizes, not for neighbouring ones.
                bad.push(Consistency {
                    old: old + 1,
                    old_root: reference.mth(0, m + 1),
                    ..good.clone()
                });
                bad.push(Consistency {
                    new: new - 1,
                    new_root: reference.mth(0, n - 1),
                    ..good.clone()
                });
                let mut longer = proof.clone();
                longer.push(new_root);
                bad.push(Consistency {
                    proof: longer,
                    ..good.clone()
                });
                bad.push(Consistency {
                    proof: proof[1..].to_vec(),
                    ..good.clone()
                });
            } else {
                assert!(proof.is_empty());
                bad.push(Consistency {
                    proof: vec![old_root],
                    ..good.clone()
                });
            }
            for i in 0..proof.len() {
                let mut p = proof.clone();
                p[i] = flip(&p[i], i + n);
                bad.push(Consistency {
                    proof: p,
                    ..good.clone()
                });
            }
            for case in chosen(bad, n, m) {
                assert!(
                    case.verify().is_err(),
                    "a tampered proof from {m} to {n} verified"
                );
            }
        }
        let size = n as u64;
        assert!(consistency_proof(size + 1, size, &tree).is_err());
        assert_eq!(
            consistency_proof(0, size, &tree).unwrap(),
            Vec::<Hash>::new()
        );
        verify_consistency(0, size, &reference.mth(0, 0), &new_root, &[]).unwrap();
    }
}

#[test]
fn proofs_read_only_logarithmically_many_nodes() {
    struct Counting<'a> {
        tree: &'a MemoryTree,
        reads: std::cell::Cell<usize>,
    }
    impl NodeSource for Counting<'_> {
        type Error = keuze_core::merkle::MissingNode;
        fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
            self.reads.set(self.reads.get() + 1);
            self.tree.node(level, index)
        }
    }
    let leaves: Vec<Hash> = (0..5000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = MemoryTree::from_leaves(&leaves);
    let source = Counting {
        tree: &tree,
        reads: std::cell::Cell::new(0),
    };
    // log2(5000) ≈ 12.3; allow two lookups per level.
    for (size, index) in [(5000u64, 0u64), (4999, 4998), (4097, 4096), (3333, 1234)] {
        source.reads.set(0);
        inclusion_proof(size, index, &source).unwrap();
        assert!(
            source.reads.get() <= 26,
            "inclusion {index}/{size}: {} reads",
            source.reads.get()
        );
        source.reads.set(0);
        consistency_proof(index + 1, size, &source).unwrap();
        assert!(
            source.reads.get() <= 26,
            "consistency {}/{size}: {} reads",
            index + 1,
            source.reads.get()
        );
        source.reads.set(0);
        root_at(size, &source).unwrap();
        assert!(source.reads.get() <= 13);
    }
}

proptest! {
    #[test]
    fn the_builder_agrees_with_the_recursive_definition(
        entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..200),
        split in 0usize..200,
    ) {
        let reference = rfc::Reference::new(entries.clone());
        let mut builder = TreeBuilder::new();
        let mut nodes = 0usize;
        for (i, e) in entries.iter().enumerate() {
            for node in builder.append(leaf_hash(e)) {
                // Each completed node is MTH of the leaves it covers.
                let width = 1usize << node.level;
                let lo = node.index as usize * width;
                prop_assert!(lo + width <= i + 1);
                prop_assert_eq!(node.hash, reference.mth(lo, lo + width));
                nodes += 1;
            }
            prop_assert_eq!(builder.root(), reference.mth(0, i + 1));
        }
        let n = entries.len();
        prop_assert_eq!(builder.size(), n as u64);
        prop_assert_eq!(builder.root(), reference.mth(0, n));
        prop_assert_eq!(nodes, 2 * n - n.count_ones() as usize);

        // A builder resumed from a stored prefix ends at the same root.
        let split = split.min(n);
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let stored = MemoryTree::from_leaves(&leaves[..split]);
        let mut resumed = TreeBuilder::resume(split as u64, &stored).unwrap();
        for leaf in &leaves[split..] {
            resumed.append(*leaf);
        }
        prop_assert_eq!(resumed.root(), reference.mth(0, n));
    }
}
