-- Propagation. The ledger is the outbox: each sink (a webhook, the NATS stream) keeps a
-- durable cursor, the last seq it delivered, and reads the ledger from there. Nothing
-- is added to the append path.

CREATE TABLE outbox_cursors (
    sink      TEXT    PRIMARY KEY NOT NULL, -- `webhook:<id>` or `nats`
    delivered INTEGER NOT NULL CHECK (delivered >= 0)
) STRICT;

-- An erased subject's pseudonym, kept only while some sink has not yet delivered its
-- erase entries (downstream systems must hear whom to erase), and deleted (with
-- secure_delete) as soon as every sink's cursor has passed `last_seq`. Written by the
-- erasure's own transaction, and only when some sink exists.
CREATE TABLE outbox_erasures (
    commitment BLOB    NOT NULL PRIMARY KEY CHECK (length(commitment) = 32),
    pseudonym  BLOB    NOT NULL CHECK (length(pseudonym) = 32),
    last_seq   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE webhooks (
    id         TEXT    PRIMARY KEY NOT NULL,
    url        TEXT    NOT NULL,
    purposes   TEXT    NOT NULL, -- comma-separated; empty = every purpose
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE dead_letters (
    webhook   TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    attempts  INTEGER NOT NULL,
    error     TEXT    NOT NULL,
    failed_at INTEGER NOT NULL,
    PRIMARY KEY (webhook, seq)
) STRICT, WITHOUT ROWID;
