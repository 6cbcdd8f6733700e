//! The decision index: every subject's last choice per purpose, in memory, so decisions
//! never wait on storage. It has to hold millions of subjects on one machine, so it is
//! laid out for size (issue 6 sets ≤ 100 bytes per subject with 20 purposes answered):
//!
//! - one byte arena holds a record per subject: the 32-byte pseudonym, a `u16` body length
//!   and the body;
//! - a [`HashTable`] of `u64` arena offsets finds a record. Pseudonyms are HMAC outputs,
//!   already uniformly random, so their first eight bytes are the hash;
//! - a body is a list of *groups*. One request records all its purposes in one go: the
//!   events get consecutive sequence numbers, one time and one catalog version. A group
//!   stores those once (`first_seq`, `recorded_at`, `catalog_version`, LEB128 varints) and
//!   then one varint per event, `slot << 2 | action`, where `slot` numbers the purpose. The
//!   event at position `i` has `seq = first_seq + i`.
//! - when a newer choice replaces one, the old entry is marked dead (it keeps its position,
//!   so the sequence numbers after it still add up); a group with no live entry is dropped.
//!   There is at most one live entry per purpose.
//!
//! A record that grows is rewritten at the end of the arena; the old bytes are counted as
//! garbage and the arena is compacted when garbage outweighs what is live.

use crate::decision::{decide, Decision, LastChoice};
use crate::event::{Action, ConsentEvent};
use crate::ids::{CategoryId, PurposeId};
use crate::published::CatalogHistory;
use crate::subject::SubjectId;
use crate::time::Timestamp;
use hashbrown::HashTable;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const KEY: usize = 32;
const HEADER: usize = KEY + 2;
/// The action code of an entry a newer choice replaced.
const DEAD: u64 = 3;
/// Compaction waits until there is at least this much garbage.
const MIN_GARBAGE: usize = if cfg!(test) { 4096 } else { 1 << 20 };

/// Every subject's last choice per purpose. Built from the store's projection at start and
/// updated with each committed batch ([`DecisionIndex::apply_all`]).
#[derive(Debug, Default, Clone)]
pub struct DecisionIndex {
    /// Purpose id by slot, and slot by purpose id. Slots are never reused.
    purposes: Vec<PurposeId>,
    slots: hashbrown::HashMap<PurposeId, u64, foldhash::fast::RandomState>,
    /// Arena offset of each subject's record.
    table: HashTable<u64>,
    arena: Vec<u8>,
    /// Bytes of the arena no record uses any more.
    garbage: usize,
    /// Erased subjects, with the sequence number of their erasure (0 if not known).
    erased: HashMap<SubjectId, u64, BuildHasherDefault<FirstWord>>,
}

/// Hashes a pseudonym by its first eight bytes: it is an HMAC output, uniformly random
/// already, so hashing it again would only cost time.
#[derive(Debug, Default, Clone, Copy)]
pub struct FirstWord(u64);

impl Hasher for FirstWord {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        word.iter_mut().zip(bytes).for_each(|(w, b)| *w = *b);
        self.0 ^= u64::from_le_bytes(word);
    }
}

const SNAPSHOT_MAGIC: &[u8] = b"keuze decision index snapshot v1\n";

/// Why a snapshot was not loaded (the caller then rebuilds the index from the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the decision index snapshot is unusable: {0}")]
pub struct SnapshotError(&'static str);

struct HashingWriter<'a, W: std::io::Write> {
    inner: &'a mut W,
    hash: sha2::Sha256,
}

impl<W: std::io::Write> std::io::Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hash, buf.get(..n).unwrap_or_default());
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One question of [`DecisionIndex::decide_many`].
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub subject: &'a SubjectId,
    pub purpose: &'a str,
    pub categories: &'a [CategoryId],
}

/// One group of a record, decoded for an update.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    first_seq: u64,
    recorded_at: i64,
    catalog_version: u32,
    /// `slot << 2 | action code`.
    entries: Vec<u64>,
}

impl DecisionIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one committed event; see [`DecisionIndex::apply_all`].
    pub fn apply(&mut self, event: &ConsentEvent) {
        self.apply_all(std::slice::from_ref(event));
    }

    /// Applies committed events in ledger order; an older event never overwrites a newer.
    /// An erasure forgets the subject's choices and marks it erased for good. A subject's
    /// consecutive events (one request) are merged into its record in one rewrite.
    pub fn apply_all(&mut self, events: &[ConsentEvent]) {
        for run in events.chunk_by(|a, b| a.event.subject == b.event.subject) {
            self.apply_run(run);
        }
        self.compact_if_wasteful();
    }

    fn apply_run(&mut self, run: &[ConsentEvent]) {
        let Some(subject) = run.first().map(|e| e.event.subject) else {
            return;
        };
        if let Some(erasure) = run.iter().find(|e| e.event.action == Action::Erase) {
            self.forget(&subject);
            self.erased.entry(subject).or_insert(erasure.seq);
            return;
        }
        if self.erased.contains_key(&subject) {
            return;
        }
        let found = self.find(&subject);
        let mut groups = found.map(|at| self.groups_at(at)).unwrap_or_default();
        for e in run {
            let slot = self.slot_for(&e.event.purpose);
            merge(&mut groups, slot, e);
        }
        groups.retain(|g| g.entries.iter().any(|&e| e & 3 != DEAD));
        let mut body = Vec::with_capacity(64);
        groups.iter().for_each(|g| encode_group(g, &mut body));
        self.store_record(&subject, found, &body);
    }

    pub fn last(&self, subject: &SubjectId, purpose: &str) -> Option<LastChoice> {
        let slot = *self.slots.get(purpose)?;
        let at = self.find(subject)?;
        find_live(self.body_at(at), slot)
    }

    /// All last choices of one subject, by purpose.
    pub fn subject(&self, subject: &SubjectId) -> Option<HashMap<PurposeId, LastChoice>> {
        let at = self.find(subject)?;
        let mut out = HashMap::new();
        for g in self.groups_at(at) {
            for (i, &entry) in g.entries.iter().enumerate() {
                let purpose = usize::try_from(entry >> 2)
                    .ok()
                    .and_then(|s| self.purposes.get(s));
                if let (Some(p), false) = (purpose, entry & 3 == DEAD) {
                    out.insert(p.clone(), g.choice(i as u64, entry));
                }
            }
        }
        Some(out)
    }

    /// Marks a subject erased without its erasure event at hand (loading at start).
    pub fn mark_erased(&mut self, subject: SubjectId) {
        self.forget(&subject);
        self.erased.entry(subject).or_insert(0);
    }

    pub fn is_erased(&self, subject: &SubjectId) -> bool {
        self.erased.contains_key(subject)
    }

    pub fn decide(
        &self,
        history: &CatalogHistory,
        subject: &SubjectId,
        purpose: &str,
        categories: &[CategoryId],
        now: Timestamp,
    ) -> Decision {
        let q = Question {
            subject,
            purpose,
            categories,
        };
        self.answer(history, &q, self.find(subject), now)
    }

    /// One question, its subject's record already located (`at`).
    fn answer(
        &self,
        history: &CatalogHistory,
        q: &Question<'_>,
        at: Option<usize>,
        now: Timestamp,
    ) -> Decision {
        if !self.erased.is_empty() {
            if let Some(&seq) = self.erased.get(q.subject) {
                if history.current().catalog.purpose(q.purpose).is_some() {
                    return Decision::erased((seq > 0).then_some(seq));
                }
            }
        }
        let last = at.and_then(|at| {
            let slot = *self.slots.get(q.purpose)?;
            find_live(self.body_at(at), slot)
        });
        decide(history, q.purpose, q.categories, last, now)
    }

    /// Answers many questions, in order: the same answers as [`DecisionIndex::decide`] one
    /// by one, in two passes. The first locates every subject's record, the second reads
    /// them. Within a pass the lookups do not depend on each other, so the processor
    /// overlaps their cache misses; one decision after another it cannot, because each is
    /// a chain of dependent loads (table, bucket, record) too long for it to look ahead.
    pub fn decide_many(
        &self,
        history: &CatalogHistory,
        questions: &[Question<'_>],
        now: Timestamp,
    ) -> Vec<Decision> {
        let located: Vec<Option<usize>> = questions.iter().map(|q| self.find(q.subject)).collect();
        questions
            .iter()
            .zip(located)
            .map(|(q, at)| self.answer(history, q, at, now))
            .collect()
    }

    /// Subjects with at least one choice held (erased subjects are not counted).
    pub fn subject_count(&self) -> usize {
        self.table.len()
    }

    /// Bytes the index holds on the heap, garbage included (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.table.capacity() * (std::mem::size_of::<u64>() + 1)
            + self.erased.capacity() * (std::mem::size_of::<(SubjectId, u64)>() + 1)
    }

    // -----------------------------------------------------------------------------------
    // Snapshots: what a restart loads instead of replaying the whole projection

    /// Writes the index as it reflects the ledger up to `seq`: the purpose names, every
    /// live record (garbage left out) and a SHA-256 of it all. Erasures are not in it: the
    /// store's list of erased subjects is applied after loading.
    pub fn write_snapshot(&self, seq: u64, out: &mut impl std::io::Write) -> std::io::Result<()> {
        use sha2::Digest;
        use std::io::Write;
        let mut out = HashingWriter {
            inner: out,
            hash: sha2::Sha256::new(),
        };
        out.write_all(SNAPSHOT_MAGIC)?;
        out.write_all(&seq.to_le_bytes())?;
        out.write_all(&(self.purposes.len() as u64).to_le_bytes())?;
        for p in &self.purposes {
            out.write_all(&(p.as_str().len() as u64).to_le_bytes())?;
            out.write_all(p.as_str().as_bytes())?;
        }
        out.write_all(&(self.table.len() as u64).to_le_bytes())?;
        for &at in self.table.iter() {
            let Ok(start) = usize::try_from(at) else {
                continue;
            };
            let end = start + HEADER + body_len(&self.arena, start);
            if let Some(record) = self.arena.get(start..end) {
                out.write_all(record)?;
            }
        }
        let digest = out.hash.finalize();
        out.inner.write_all(&digest)
    }

    /// Reads what [`DecisionIndex::write_snapshot`] wrote; returns the index and the
    /// ledger sequence number it reflects. Anything damaged or truncated is refused whole.
    pub fn from_snapshot(mut bytes: Vec<u8>) -> Result<(Self, u64), SnapshotError> {
        use sha2::Digest;
        let body_end = bytes
            .len()
            .checked_sub(32)
            .ok_or(SnapshotError("shorter than its checksum"))?;
        let (content, digest) = bytes.split_at(body_end);
        if sha2::Sha256::digest(content).as_slice() != digest {
            return Err(SnapshotError("its checksum does not match its content"));
        }
        let mut r = content.strip_prefix(SNAPSHOT_MAGIC).ok_or(SnapshotError(
            "it is not a Keuze index snapshot of this format",
        ))?;
        fn word(r: &mut &[u8]) -> Result<u64, SnapshotError> {
            let (w, rest) = r
                .split_first_chunk::<8>()
                .ok_or(SnapshotError("it ends early"))?;
            *r = rest;
            Ok(u64::from_le_bytes(*w))
        }
        let seq = word(&mut r)?;
        let count = word(&mut r)?;
        let mut index = Self::new();
        for _ in 0..count {
            let len = usize::try_from(word(&mut r)?)
                .map_err(|_| SnapshotError("a purpose name is too long"))?;
            let (name, rest) = r
                .split_at_checked(len)
                .ok_or(SnapshotError("it ends inside a purpose name"))?;
            r = rest;
            let id = std::str::from_utf8(name)
                .ok()
                .and_then(|n| PurposeId::parse(n).ok())
                .ok_or(SnapshotError("it holds an invalid purpose id"))?;
            index.slot_for(&id);
        }
        let records = word(&mut r)?;
        let start = content.len() - r.len();
        bytes.truncate(body_end);
        bytes.drain(..start);
        index.arena = bytes;
        let mut at = 0usize;
        for _ in 0..records {
            let len = body_len(&index.arena, at);
            let end = at + HEADER + len;
            let key = key_at(&index.arena, at as u64)
                .filter(|_| end <= index.arena.len())
                .ok_or(SnapshotError("it ends inside a record"))?;
            let arena = &index.arena;
            index
                .table
                .insert_unique(hash(key), at as u64, |&o| hash_at(arena, o));
            at = end;
        }
        if at != index.arena.len() {
            return Err(SnapshotError("it holds bytes after its last record"));
        }
        Ok((index, seq))
    }

    // -----------------------------------------------------------------------------------
    // The arena

    fn find(&self, subject: &SubjectId) -> Option<usize> {
        let key = subject.as_bytes();
        self.table
            .find(hash(key), |&at| same_key(key_at(&self.arena, at), key))
            .and_then(|&at| usize::try_from(at).ok())
    }

    fn body_at(&self, at: usize) -> &[u8] {
        let len = body_len(&self.arena, at);
        self.arena
            .get(at + HEADER..at + HEADER + len)
            .unwrap_or_default()
    }

    fn groups_at(&self, at: usize) -> Vec<Group> {
        decode_groups(self.body_at(at))
    }

    fn slot_for(&mut self, purpose: &PurposeId) -> u64 {
        if let Some(&slot) = self.slots.get(purpose) {
            return slot;
        }
        let slot = self.purposes.len() as u64;
        self.purposes.push(purpose.clone());
        self.slots.insert(purpose.clone(), slot);
        slot
    }

    /// Writes a subject's record: in place if it fits, else at the end of the arena.
    fn store_record(&mut self, subject: &SubjectId, found: Option<usize>, body: &[u8]) {
        let Ok(len) = u16::try_from(body.len()) else {
            // Unreachable in practice: a body holds at most one live entry per purpose plus
            // group headers. Keep the old record rather than write a torn one.
            return;
        };
        if body.is_empty() {
            self.forget(subject);
            return;
        }
        if let Some(at) = found {
            let old = body_len(&self.arena, at);
            if body.len() <= old {
                if let Some(dst) = self.arena.get_mut(at + KEY..at + HEADER + body.len()) {
                    let (len_bytes, rest) = dst.split_at_mut(2);
                    len_bytes.copy_from_slice(&len.to_le_bytes());
                    rest.copy_from_slice(body);
                    self.garbage += old - body.len();
                    return;
                }
            }
            self.garbage += HEADER + old;
        }
        let at = self.arena.len() as u64;
        self.arena.extend_from_slice(subject.as_bytes());
        self.arena.extend_from_slice(&len.to_le_bytes());
        self.arena.extend_from_slice(body);
        let key = subject.as_bytes();
        let arena = &self.arena;
        match self
            .table
            .find_mut(hash(key), |&o| same_key(key_at(arena, o), key))
        {
            Some(slot) => *slot = at,
            None => {
                self.table
                    .insert_unique(hash(key), at, |&o| hash_at(arena, o));
            }
        }
    }

    fn forget(&mut self, subject: &SubjectId) {
        let key = subject.as_bytes();
        let arena = &self.arena;
        if let Ok(entry) = self
            .table
            .find_entry(hash(key), |&o| same_key(key_at(arena, o), key))
        {
            let (at, _) = entry.remove();
            if let Ok(at) = usize::try_from(at) {
                self.garbage += HEADER + body_len(&self.arena, at);
            }
        }
    }

    fn compact_if_wasteful(&mut self) {
        if self.garbage < MIN_GARBAGE || self.garbage * 2 < self.arena.len() {
            return;
        }
        let mut fresh = Vec::with_capacity(self.arena.len() - self.garbage);
        for at in self.table.iter_mut() {
            let Ok(start) = usize::try_from(*at) else {
                continue;
            };
            let end = start + HEADER + body_len(&self.arena, start);
            if let Some(record) = self.arena.get(start..end) {
                *at = fresh.len() as u64;
                fresh.extend_from_slice(record);
            }
        }
        self.arena = fresh;
        self.garbage = 0;
    }
}

impl Group {
    /// The choice recorded by entry `entry` at position `i`.
    fn choice(&self, i: u64, entry: u64) -> LastChoice {
        LastChoice {
            seq: self.first_seq + i,
            action: action_of(entry & 3),
            catalog_version: self.catalog_version,
            recorded_at: Timestamp::from_unix_millis(self.recorded_at),
        }
    }
}

/// Folds one event into a subject's groups: kills the entry it replaces (unless that one is
/// newer), then extends the last group if the event continues it, or starts a new one.
fn merge(groups: &mut Vec<Group>, slot: u64, e: &ConsentEvent) {
    for g in groups.iter_mut() {
        for (i, entry) in g.entries.iter_mut().enumerate() {
            if *entry >> 2 == slot && *entry & 3 != DEAD {
                if g.first_seq + i as u64 >= e.seq {
                    return;
                }
                *entry = slot << 2 | DEAD;
            }
        }
    }
    let entry = slot << 2 | action_code(e.event.action);
    let at = e.event.recorded_at.unix_millis();
    match groups.last_mut() {
        Some(g)
            if g.recorded_at == at
                && g.catalog_version == e.event.catalog_version
                && g.first_seq + g.entries.len() as u64 == e.seq =>
        {
            g.entries.push(entry);
        }
        _ => groups.push(Group {
            first_seq: e.seq,
            recorded_at: at,
            catalog_version: e.event.catalog_version,
            entries: vec![entry],
        }),
    }
}

fn action_code(a: Action) -> u64 {
    match a {
        Action::Grant => 0,
        Action::Withdraw => 1,
        // Erasures never reach a record (the subject is forgotten instead).
        Action::Object | Action::Erase => 2,
    }
}

fn action_of(code: u64) -> Action {
    match code {
        0 => Action::Grant,
        1 => Action::Withdraw,
        _ => Action::Object,
    }
}

/// The live entry for `slot` in a body: the hot path of every decision, so it skips
/// entries without building them.
fn find_live(body: &[u8], slot: u64) -> Option<LastChoice> {
    let mut r = Reader(body);
    let wanted_grant = slot << 2;
    while !r.0.is_empty() {
        let (first_seq, at, version, n) = (r.varint()?, r.varint()?, r.varint()?, r.varint()?);
        for i in 0..n {
            let entry = r.varint()?;
            if entry & !3 == wanted_grant && entry & 3 != DEAD {
                return Some(LastChoice {
                    seq: first_seq + i,
                    action: action_of(entry & 3),
                    catalog_version: u32::try_from(version).unwrap_or(u32::MAX),
                    recorded_at: Timestamp::from_unix_millis(unzigzag(at)),
                });
            }
        }
    }
    None
}

fn decode_groups(body: &[u8]) -> Vec<Group> {
    let mut r = Reader(body);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let (Some(first_seq), Some(at), Some(version), Some(n)) =
            (r.varint(), r.varint(), r.varint(), r.varint())
        else {
            break;
        };
        let entries = (0..n).map_while(|_| r.varint()).collect();
        out.push(Group {
            first_seq,
            recorded_at: unzigzag(at),
            catalog_version: u32::try_from(version).unwrap_or(u32::MAX),
            entries,
        });
    }
    out
}

fn encode_group(g: &Group, out: &mut Vec<u8>) {
    put_varint(out, g.first_seq);
    put_varint(out, zigzag(g.recorded_at));
    put_varint(out, u64::from(g.catalog_version));
    put_varint(out, g.entries.len() as u64);
    g.entries.iter().for_each(|&e| put_varint(out, e));
}

fn hash(key: &[u8; KEY]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(key.first_chunk::<8>().unwrap_or(&[0; 8]));
    u64::from_le_bytes(first)
}

/// Two pseudonyms are the same: compared as two 128-bit words, not by a `memcmp` call.
fn same_key(a: Option<&[u8; KEY]>, b: &[u8; KEY]) -> bool {
    let Some(a) = a else { return false };
    let words = |k: &[u8; KEY]| {
        let (lo, hi) = k.split_at(16);
        (
            lo.try_into().map(u128::from_ne_bytes).ok(),
            hi.try_into().map(u128::from_ne_bytes).ok(),
        )
    };
    words(a) == words(b)
}

fn key_at(arena: &[u8], at: u64) -> Option<&[u8; KEY]> {
    let at = usize::try_from(at).ok()?;
    arena.get(at..at + KEY)?.try_into().ok()
}

fn hash_at(arena: &[u8], at: u64) -> u64 {
    key_at(arena, at).map_or(0, hash)
}

fn body_len(arena: &[u8], at: usize) -> usize {
    arena
        .get(at + KEY..at + HEADER)
        .and_then(|b| b.try_into().ok())
        .map_or(0, |b| usize::from(u16::from_le_bytes(b)))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::catalog::Digest256;
    use crate::event::{NewEvent, Source};
    use crate::ids::Locale;

    fn ev(seq: u64, subject: u8, purpose: &str, action: Action, at: i64, v: u32) -> ConsentEvent {
        ConsentEvent {
            seq,
            event: NewEvent {
                subject: SubjectId::from_bytes([subject; 32]),
                purpose: PurposeId::parse(purpose).unwrap(),
                action,
                source: Source::Api,
                catalog_version: v,
                notice_digest: Digest256::of(b"n"),
                locale: Locale::parse("en").unwrap(),
                recorded_at: Timestamp::from_unix_millis(at),
                context_digest: Digest256::of(b"c"),
            },
        }
    }

    /// A catalog version with these consent purposes; half of them expire after a day.
    fn history(purposes: &[&str]) -> CatalogHistory {
        let mut toml = String::from(
            "[organisation]\nname = \"T\"\ncontact = \"https://t.example\"\nprivacy_contact = \"p@t.example\"\ncountry = \"NL\"\n",
        );
        for (i, p) in purposes.iter().enumerate() {
            let life = if i % 2 == 0 {
                "consent_lifetime = \"1 day\"\n"
            } else {
                ""
            };
            toml.push_str(&format!(
                "\n[[purposes]]\nid = \"{p}\"\nlegal_basis = \"consent\"\ncategories = [\"contact.email\"]\nretention = \"1 year\"\n{life}title = {{ en = \"T\", nl = \"T\" }}\ndescription = {{ en = \"We mail you.\", nl = \"We mailen je.\" }}\nbenefit = {{ en = \"News.\", nl = \"Nieuws.\" }}\nalternative = {{ en = \"No mail.\", nl = \"Geen mail.\" }}\n"
            ));
        }
        let (catalog, _) = crate::catalog::parse::parse_catalog("t.toml", &toml).unwrap();
        CatalogHistory::new(crate::published::CatalogVersion {
            number: 2,
            digest: Digest256::of(toml.as_bytes()),
            catalog,
            published_at: Timestamp::from_unix_millis(0),
        })
    }

    fn s(n: u8) -> SubjectId {
        SubjectId::from_bytes([n; 32])
    }

    #[test]
    fn varints_and_zigzag_round_trip() {
        for v in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Reader(&b).varint(), Some(v));
        }
        for v in [0, 1, -1, 1_700_000_000_000, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(
            Reader(&[0x80]).varint(),
            None,
            "a torn varint is not a value"
        );
    }

    #[test]
    fn one_request_is_one_group_and_every_seq_adds_up() {
        let mut index = DecisionIndex::new();
        let purposes = ["a", "b", "c", "d"];
        let run: Vec<_> = purposes
            .iter()
            .enumerate()
            .map(|(i, p)| ev(10 + i as u64, 1, p, Action::Grant, 5_000, 2))
            .collect();
        index.apply_all(&run);
        for (i, p) in purposes.iter().enumerate() {
            let last = index.last(&s(1), p).unwrap();
            assert_eq!(last.seq, 10 + i as u64);
            assert_eq!(last.catalog_version, 2);
            assert_eq!(last.recorded_at, Timestamp::from_unix_millis(5_000));
        }
        let at = index.find(&s(1)).unwrap();
        assert_eq!(index.groups_at(at).len(), 1);
    }

    #[test]
    fn a_newer_choice_replaces_and_an_older_one_does_not() {
        let mut index = DecisionIndex::new();
        index.apply_all(&[
            ev(1, 1, "a", Action::Grant, 1, 1),
            ev(2, 1, "b", Action::Grant, 1, 1),
        ]);
        index.apply(&ev(7, 1, "a", Action::Withdraw, 9, 3));
        let a = index.last(&s(1), "a").unwrap();
        assert_eq!(
            (a.seq, a.action, a.catalog_version),
            (7, Action::Withdraw, 3)
        );
        assert_eq!(index.last(&s(1), "b").unwrap().seq, 2, "b kept its seq");
        index.apply(&ev(5, 1, "a", Action::Grant, 4, 1));
        assert_eq!(
            index.last(&s(1), "a").unwrap().seq,
            7,
            "older event ignored"
        );
        // Replace b too: the first group has no live entry left and is dropped.
        index.apply(&ev(8, 1, "b", Action::Object, 9, 3));
        let at = index.find(&s(1)).unwrap();
        let groups = index.groups_at(at);
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!(groups[0].entries.len(), 2, "7 and 8 continue one group");
        assert_eq!(index.last(&s(1), "b").unwrap().action, Action::Object);
    }

    #[test]
    fn erasure_forgets_for_good() {
        let mut index = DecisionIndex::new();
        index.apply(&ev(1, 1, "a", Action::Grant, 1, 1));
        index.apply(&ev(2, 2, "a", Action::Grant, 1, 1));
        index.apply(&ev(3, 1, "a", Action::Erase, 2, 1));
        index.apply(&ev(4, 1, "a", Action::Grant, 3, 1));
        assert!(index.is_erased(&s(1)));
        assert_eq!(index.last(&s(1), "a"), None);
        assert_eq!(index.subject(&s(1)), None);
        assert_eq!(index.subject_count(), 1);
        assert_eq!(index.last(&s(2), "a").unwrap().seq, 2);
    }

    #[test]
    fn compaction_keeps_every_record() {
        let mut index = DecisionIndex::new();
        let mut seq = 0;
        // Many rewrites of growing records make garbage well past the threshold.
        for round in 0..40u32 {
            let mut batch = Vec::new();
            for subject in 0..=255u8 {
                for p in ["a", "b", "c"] {
                    seq += 1;
                    batch.push(ev(seq, subject, p, Action::Grant, i64::from(round), round));
                }
            }
            // Interleave subjects so every run is one subject's three events.
            index.apply_all(&batch);
            // A second purpose set in another group grows each record.
            let more: Vec<_> = (0..=255u8)
                .map(|subject| {
                    seq += 1;
                    ev(
                        seq,
                        subject,
                        &format!("p{}", round % 7),
                        Action::Withdraw,
                        1,
                        9,
                    )
                })
                .collect();
            index.apply_all(&more);
        }
        assert!(index.garbage < MIN_GARBAGE || index.garbage * 2 < index.arena.len());
        for subject in 0..=255u8 {
            let all = index.subject(&s(subject)).unwrap();
            assert_eq!(all.len(), 3 + 7, "subject {subject}: {all:?}");
            assert_eq!(all["a"].catalog_version, 39);
        }
    }

    #[test]
    fn a_snapshot_loads_back_the_same_index_and_refuses_damage() {
        let mut index = DecisionIndex::new();
        let mut seq = 0;
        for subject in 0..50u8 {
            let run: Vec<_> = ["a", "b", "c"]
                .iter()
                .map(|p| {
                    seq += 1;
                    ev(seq, subject, p, Action::Grant, i64::from(subject), 1)
                })
                .collect();
            index.apply_all(&run);
        }
        // Make garbage, so the snapshot must leave it out.
        seq += 1;
        index.apply(&ev(seq, 7, "b", Action::Withdraw, 99, 2));
        let mut bytes = Vec::new();
        index.write_snapshot(seq, &mut bytes).unwrap();
        let (loaded, at) = DecisionIndex::from_snapshot(bytes.clone()).unwrap();
        assert_eq!(at, seq);
        assert_eq!(loaded.subject_count(), 50);
        for subject in 0..50u8 {
            assert_eq!(loaded.subject(&s(subject)), index.subject(&s(subject)));
        }
        assert_eq!(loaded.last(&s(7), "b").unwrap().action, Action::Withdraw);

        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                DecisionIndex::from_snapshot(bytes[..cut].to_vec()).is_err(),
                "cut at {cut}"
            );
        }
        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 1;
        assert_eq!(
            DecisionIndex::from_snapshot(flipped).unwrap_err(),
            SnapshotError("its checksum does not match its content")
        );
    }

    proptest::proptest! {
        /// The compact index answers exactly what a plain map of last choices answers,
        /// whatever the mix of requests, repeated purposes, erasures and arrival order.
        #[test]
        fn agrees_with_a_plain_map(
            requests in proptest::collection::vec(
                (0u8..6, proptest::collection::vec((0usize..5, 0usize..4), 1..6), 0i64..3, 1u32..3),
                1..60,
            ),
            shuffle_within_batches in proptest::bool::ANY,
        ) {
            let purposes = ["a", "b", "c", "d", "e"];
            let actions = [Action::Grant, Action::Withdraw, Action::Object, Action::Erase];
            let mut seq = 0;
            let mut batches: Vec<Vec<ConsentEvent>> = Vec::new();
            for (subject, choices, at, v) in &requests {
                let batch = choices
                    .iter()
                    .map(|&(p, a)| {
                        seq += 1;
                        ev(seq, *subject, purposes[p], actions[a], *at, *v)
                    })
                    .collect();
                batches.push(batch);
            }
            let mut model: HashMap<(u8, &str), LastChoice> = HashMap::new();
            let mut erased: HashMap<u8, u64> = HashMap::new();
            let mut index = DecisionIndex::new();
            for mut batch in batches {
                for e in &batch {
                    let subject = e.event.subject.as_bytes()[0];
                    if e.event.action == Action::Erase {
                        model.retain(|(s, _), _| *s != subject);
                        erased.entry(subject).or_insert(e.seq);
                    } else if !erased.contains_key(&subject) {
                        let key = (subject, purposes.iter().find(|p| **p == e.event.purpose.as_str()).copied().unwrap());
                        if model.get(&key).is_none_or(|l| l.seq < e.seq) {
                            model.insert(key, LastChoice::from(e));
                        }
                    }
                }
                if shuffle_within_batches {
                    // Older events after newer ones must not win.
                    batch.reverse();
                }
                index.apply_all(&batch);
            }
            let history = history(&purposes);
            let subjects: Vec<SubjectId> = (0u8..6).map(s).collect();
            let questions: Vec<Question<'_>> = subjects
                .iter()
                .flat_map(|subject| purposes.iter().chain(["nope"].iter()).map(move |p| Question { subject, purpose: p, categories: &[] }))
                .collect();
            let now = Timestamp::from_unix_millis(86_400_001);
            let many = index.decide_many(&history, &questions, now);
            for (q, d) in questions.iter().zip(&many) {
                proptest::prop_assert_eq!(d, &index.decide(&history, q.subject, q.purpose, &[], now));
            }
            for subject in 0u8..6 {
                proptest::prop_assert_eq!(index.is_erased(&s(subject)), erased.contains_key(&subject));
                for p in purposes {
                    proptest::prop_assert_eq!(index.last(&s(subject), p), model.get(&(subject, p)).copied(), "subject {} purpose {}", subject, p);
                }
            }
        }
    }
}
