-- Provable consent: the ledger's Merkle tree, per-subject salts, erasure, checkpoints.
--
-- A ledger row now holds exactly what its Merkle leaf commits to: the subject only as a
-- salted commitment, never the clear pseudonym. The pseudonym ↔ commitment link lives in
-- `subjects` alone, so deleting a subject's row (and with it the salt) leaves no row that
-- can be tied to the pseudonym: crypto-shredding.

-- Rows written before this migration name their subject in the clear and have no salt,
-- commitment, context digest or tree nodes; none of these can be made up here (a
-- commitment is a SHA-256 SQLite cannot compute). Nothing was deployed with 0001, so a
-- ledger that is not empty is refused instead of being migrated.
CREATE TEMP TABLE migration_0002_guard (events INTEGER NOT NULL);

CREATE TEMP TRIGGER migration_0002_needs_an_empty_ledger
BEFORE INSERT ON migration_0002_guard
WHEN NEW.events > 0
BEGIN
    SELECT RAISE(ABORT, 'migration 0002 (proofs) cannot convert a ledger that already holds events: they were recorded without subject salts or Merkle tree nodes; open a new, empty data directory instead');
END;

INSERT INTO migration_0002_guard SELECT count(*) FROM events;

DROP TRIGGER migration_0002_needs_an_empty_ledger;
DROP TABLE migration_0002_guard;

-- Every subject that has events and is not erased: its secret salt and the commitment
-- `SHA-256("keuze-subject-v1" ‖ 0x00 ‖ salt ‖ pseudonym)` its ledger rows carry.
-- Deleted on erasure; the store runs with `secure_delete` so the salt's bytes are
-- overwritten, not merely unlinked.
CREATE TABLE subjects (
    pseudonym  BLOB NOT NULL PRIMARY KEY CHECK (length(pseudonym) = 32),
    salt       BLOB NOT NULL CHECK (length(salt) = 32),
    commitment BLOB NOT NULL UNIQUE CHECK (length(commitment) = 32)
) STRICT, WITHOUT ROWID;

-- The ledger is rebuilt as a new table (SQLite cannot change a column in place): create
-- the new table, copy (nothing: the ledger is empty, see above), drop the old one and
-- rename. The projection refers to `events`, so it goes first and is recreated after.
DROP TABLE consent_state;

CREATE TABLE events_new (
    seq                INTEGER PRIMARY KEY,
    subject_commitment BLOB    NOT NULL CHECK (length(subject_commitment) = 32),
    purpose            TEXT    NOT NULL,
    action             TEXT    NOT NULL,
    source             TEXT    NOT NULL,
    catalog_version    INTEGER NOT NULL,
    notice_digest      BLOB    NOT NULL CHECK (length(notice_digest) = 32),
    locale             TEXT    NOT NULL,
    recorded_at        INTEGER NOT NULL,
    context_digest     BLOB    NOT NULL CHECK (length(context_digest) = 32)
) STRICT;

DROP TABLE events; -- drops its index and triggers with it

ALTER TABLE events_new RENAME TO events;

CREATE INDEX events_by_commitment ON events (subject_commitment, seq);

-- The database itself keeps the ledger append-only and gap-free, whoever writes to it.
CREATE TRIGGER events_seq_is_next BEFORE INSERT ON events
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM events)
BEGIN
    SELECT RAISE(ABORT, 'the consent ledger is gap-free: seq must be the next number');
END;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the consent ledger is append-only: events cannot be changed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the consent ledger is append-only: events cannot be deleted');
END;

-- Current state, a projection of the ledger: each subject's latest event per purpose.
-- Keyed by the clear pseudonym (it is current state, dropped on erasure) and rebuildable
-- from `events` joined through `subjects` at any time.
CREATE TABLE consent_state (
    subject BLOB    NOT NULL,
    purpose TEXT    NOT NULL,
    seq     INTEGER NOT NULL REFERENCES events (seq),
    PRIMARY KEY (subject, purpose)
) STRICT, WITHOUT ROWID;

-- The Merkle tree over the ledger (RFC 9162), as its complete subtrees: node (level, idx)
-- is the hash of leaves [idx·2^level, (idx+1)·2^level); level 0 holds the leaf hash of
-- event seq = idx + 1. A node never changes once its subtree is complete.
CREATE TABLE tree_nodes (
    level INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

-- INSERT OR REPLACE deletes the row it replaces without firing DELETE triggers.
CREATE TRIGGER tree_nodes_written_once BEFORE INSERT ON tree_nodes
WHEN EXISTS (SELECT 1 FROM tree_nodes WHERE level = NEW.level AND idx = NEW.idx)
BEGIN
    SELECT RAISE(ABORT, 'the Merkle tree is append-only: a node is written once');
END;

CREATE TRIGGER tree_nodes_no_update BEFORE UPDATE ON tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'the Merkle tree is append-only: nodes cannot be changed');
END;

CREATE TRIGGER tree_nodes_no_delete BEFORE DELETE ON tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'the Merkle tree is append-only: nodes cannot be deleted');
END;

-- Signed checkpoints (C2SP tlog-checkpoint notes), one per tree size, sizes only growing
-- (which also refuses INSERT OR REPLACE of an existing one).
CREATE TABLE checkpoints (
    size      INTEGER PRIMARY KEY CHECK (size >= 0),
    root      BLOB    NOT NULL CHECK (length(root) = 32),
    note      TEXT    NOT NULL,
    signed_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER checkpoints_only_grow BEFORE INSERT ON checkpoints
WHEN NEW.size <= (SELECT max(size) FROM checkpoints)
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: a new checkpoint must be for a larger tree');
END;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: a checkpoint cannot be changed');
END;

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only: a checkpoint cannot be deleted');
END;

-- The public halves of every log signing key used, so old checkpoints stay verifiable.
CREATE TABLE log_keys (
    verifier   TEXT    PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Erased pseudonyms: nothing more is recorded for them, ever. `erased_at` is the UTC day
-- of the erasure (unix ms of its midnight), never the exact time: that would equal the
-- erase entries' `recorded_at` and tie the pseudonym to their commitment. Keyed by the
-- pseudonym (WITHOUT ROWID), so no insertion order is kept either.
CREATE TABLE erased_subjects (
    pseudonym BLOB    NOT NULL PRIMARY KEY CHECK (length(pseudonym) = 32),
    erased_at INTEGER NOT NULL CHECK (erased_at % 86400000 = 0)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER erased_subjects_no_update BEFORE UPDATE ON erased_subjects
BEGIN
    SELECT RAISE(ABORT, 'an erasure is final: it cannot be changed');
END;

CREATE TRIGGER erased_subjects_no_delete BEFORE DELETE ON erased_subjects
BEGIN
    SELECT RAISE(ABORT, 'an erasure is final: it cannot be undone');
END;
