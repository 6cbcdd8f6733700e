-- The consent ledger: one row per consent event, append-only, `seq` gap-free from 1.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,
    subject         BLOB    NOT NULL CHECK (length(subject) = 32),
    purpose         TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    catalog_version INTEGER NOT NULL,
    notice_digest   BLOB    NOT NULL CHECK (length(notice_digest) = 32),
    locale          TEXT    NOT NULL,
    recorded_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX events_by_subject ON events (subject, seq);

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
-- Rebuildable from `events` at any time.
CREATE TABLE consent_state (
    subject BLOB    NOT NULL,
    purpose TEXT    NOT NULL,
    seq     INTEGER NOT NULL REFERENCES events (seq),
    PRIMARY KEY (subject, purpose)
) STRICT, WITHOUT ROWID;

-- API keys: only the SHA-256 of the secret is kept.
CREATE TABLE api_keys (
    id          TEXT    PRIMARY KEY NOT NULL,
    secret_hash BLOB    NOT NULL CHECK (length(secret_hash) = 32),
    scopes      TEXT    NOT NULL, -- comma-separated, e.g. 'decide,record'
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- Published catalog versions. Not unique on digest: publishing an older catalog again
-- later is a new version.
CREATE TABLE catalog_versions (
    number       INTEGER PRIMARY KEY CHECK (number >= 1),
    digest       BLOB    NOT NULL CHECK (length(digest) = 32),
    canonical    TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    published_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER catalog_versions_no_update BEFORE UPDATE ON catalog_versions
BEGIN
    SELECT RAISE(ABORT, 'a published catalog version is immutable');
END;

CREATE TRIGGER catalog_versions_no_delete BEFORE DELETE ON catalog_versions
BEGIN
    SELECT RAISE(ABORT, 'a published catalog version is immutable');
END;
