-- Keuze on PostgreSQL: the same tables and the same guarantees as the SQLite backend's
-- three migrations, as one schema. Every table lives in the schema the store was opened
-- in (the connection's search_path), so several deployments can share one database.
--
-- The database itself keeps the ledger, the Merkle tree, the checkpoints, published
-- catalogs and erasures as they were written, whoever writes to it: the triggers below
-- refuse to change or delete them, and refuse a ledger row that is not the next seq.

-- A trigger function that refuses the statement with its first argument as the message.
CREATE FUNCTION keuze_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'restrict_violation', MESSAGE = TG_ARGV[0];
END;
$$;

-- The consent ledger: one row per consent event, what its Merkle leaf commits to. The
-- subject appears only as the salted commitment; the pseudonym lives in `subjects`.
CREATE TABLE events (
    seq                BIGINT NOT NULL PRIMARY KEY CHECK (seq >= 1),
    subject_commitment BYTEA  NOT NULL CHECK (octet_length(subject_commitment) = 32),
    purpose            TEXT   NOT NULL,
    action             TEXT   NOT NULL,
    source             TEXT   NOT NULL,
    catalog_version    BIGINT NOT NULL CHECK (catalog_version BETWEEN 0 AND 4294967295),
    notice_digest      BYTEA  NOT NULL CHECK (octet_length(notice_digest) = 32),
    locale             TEXT   NOT NULL,
    recorded_at        BIGINT NOT NULL,
    context_digest     BYTEA  NOT NULL CHECK (octet_length(context_digest) = 32)
);

CREATE INDEX events_by_commitment ON events (subject_commitment, seq);

-- Gap-free from 1. A row-level BEFORE trigger sees the rows its own statement inserted
-- before, so a batch inserted in seq order by one statement passes row by row; the
-- primary key makes the largest seq an index lookup.
CREATE FUNCTION events_seq_is_next() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) + 1 FROM events) THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = 'the consent ledger is gap-free: seq must be the next number';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER events_seq_is_next BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION events_seq_is_next();

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the consent ledger is append-only: events cannot be changed');

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the consent ledger is append-only: events cannot be deleted');

-- TRUNCATE fires no row triggers; PostgreSQL has statement-level ones for it.
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('the consent ledger is append-only: events cannot be deleted');

-- Every subject that has events and is not erased: its secret salt and the commitment
-- `SHA-256("keuze-subject-v1" ‖ 0x00 ‖ salt ‖ pseudonym)` its ledger rows carry. Deleted
-- on erasure (crypto-shredding).
CREATE TABLE subjects (
    pseudonym  BYTEA NOT NULL PRIMARY KEY CHECK (octet_length(pseudonym) = 32),
    salt       BYTEA NOT NULL CHECK (octet_length(salt) = 32),
    commitment BYTEA NOT NULL UNIQUE CHECK (octet_length(commitment) = 32)
);

-- Current state, a projection of the ledger: each subject's latest event per purpose.
-- Keyed by the clear pseudonym (it is current state, dropped on erasure) and rebuildable
-- from `events` joined through `subjects` at any time.
CREATE TABLE consent_state (
    subject BYTEA  NOT NULL,
    purpose TEXT   NOT NULL,
    seq     BIGINT NOT NULL REFERENCES events (seq),
    PRIMARY KEY (subject, purpose)
);

-- The Merkle tree over the ledger (RFC 9162), as its complete subtrees: node (level, idx)
-- is the hash of leaves [idx·2^level, (idx+1)·2^level); level 0 holds the leaf hash of
-- event seq = idx + 1. A node never changes once its subtree is complete; the primary key
-- refuses writing one twice.
CREATE TABLE tree_nodes (
    level SMALLINT NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx   BIGINT   NOT NULL CHECK (idx >= 0),
    hash  BYTEA    NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (level, idx)
);

CREATE TRIGGER tree_nodes_no_update BEFORE UPDATE ON tree_nodes
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the Merkle tree is append-only: nodes cannot be changed');

CREATE TRIGGER tree_nodes_no_delete BEFORE DELETE ON tree_nodes
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the Merkle tree is append-only: nodes cannot be deleted');

CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('the Merkle tree is append-only: nodes cannot be deleted');

-- Signed checkpoints (C2SP tlog-checkpoint notes), one per tree size, sizes only growing.
CREATE TABLE checkpoints (
    size      BIGINT NOT NULL PRIMARY KEY CHECK (size >= 0),
    root      BYTEA  NOT NULL CHECK (octet_length(root) = 32),
    note      TEXT   NOT NULL,
    signed_at BIGINT NOT NULL
);

CREATE FUNCTION checkpoints_only_grow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size <= (SELECT max(size) FROM checkpoints) THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = 'checkpoints are append-only: a new checkpoint must be for a larger tree';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER checkpoints_only_grow BEFORE INSERT ON checkpoints
FOR EACH ROW EXECUTE FUNCTION checkpoints_only_grow();

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('checkpoints are append-only: a checkpoint cannot be changed');

CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('checkpoints are append-only: a checkpoint cannot be deleted');

CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('checkpoints are append-only: a checkpoint cannot be deleted');

-- The public halves of every log signing key used, so old checkpoints stay verifiable.
CREATE TABLE log_keys (
    verifier   TEXT   NOT NULL PRIMARY KEY,
    created_at BIGINT NOT NULL
);

-- Erased pseudonyms: nothing more is recorded for them, ever. `erased_at` is the UTC day
-- of the erasure (unix ms of its midnight), never the exact time: that would equal the
-- erase entries' `recorded_at` and tie the pseudonym to their commitment.
CREATE TABLE erased_subjects (
    pseudonym BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(pseudonym) = 32),
    erased_at BIGINT NOT NULL CHECK (erased_at % 86400000 = 0)
);

CREATE TRIGGER erased_subjects_no_update BEFORE UPDATE ON erased_subjects
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('an erasure is final: it cannot be changed');

CREATE TRIGGER erased_subjects_no_delete BEFORE DELETE ON erased_subjects
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('an erasure is final: it cannot be undone');

CREATE TRIGGER erased_subjects_no_truncate BEFORE TRUNCATE ON erased_subjects
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('an erasure is final: it cannot be undone');

-- API keys: only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id          TEXT   NOT NULL PRIMARY KEY,
    secret_hash BYTEA  NOT NULL CHECK (octet_length(secret_hash) = 32),
    scopes      TEXT[] NOT NULL,
    label       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Published catalog versions. Not unique on digest: publishing an older catalog again
-- later is a new version.
CREATE TABLE catalog_versions (
    number       BIGINT NOT NULL PRIMARY KEY CHECK (number BETWEEN 1 AND 4294967295),
    digest       BYTEA  NOT NULL CHECK (octet_length(digest) = 32),
    canonical    TEXT   NOT NULL,
    source       TEXT   NOT NULL,
    published_at BIGINT NOT NULL
);

CREATE TRIGGER catalog_versions_no_update BEFORE UPDATE ON catalog_versions
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('a published catalog version is immutable');

CREATE TRIGGER catalog_versions_no_delete BEFORE DELETE ON catalog_versions
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('a published catalog version is immutable');

CREATE TRIGGER catalog_versions_no_truncate BEFORE TRUNCATE ON catalog_versions
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('a published catalog version is immutable');

-- Propagation. The ledger is the outbox: each sink (a webhook, the NATS stream) keeps a
-- durable cursor, the last seq it delivered, and reads the ledger from there.
CREATE TABLE outbox_cursors (
    sink      TEXT   NOT NULL PRIMARY KEY, -- `webhook:<id>` or `nats:<stream>`
    delivered BIGINT NOT NULL CHECK (delivered >= 0)
);

-- An erased subject's pseudonym, kept only while some sink has not yet delivered its
-- erase entries (downstream systems must hear whom to erase), and deleted as soon as every
-- sink's cursor has passed `last_seq`. Written by the erasure's own transaction, and only
-- when some sink exists.
CREATE TABLE outbox_erasures (
    commitment BYTEA  NOT NULL PRIMARY KEY CHECK (octet_length(commitment) = 32),
    pseudonym  BYTEA  NOT NULL CHECK (octet_length(pseudonym) = 32),
    last_seq   BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id         TEXT   NOT NULL PRIMARY KEY,
    url        TEXT   NOT NULL,
    purposes   TEXT[] NOT NULL, -- empty = every purpose
    secret     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE dead_letters (
    webhook   TEXT   NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    attempts  BIGINT NOT NULL,
    error     TEXT   NOT NULL,
    failed_at BIGINT NOT NULL,
    PRIMARY KEY (webhook, seq)
);
