-- Privacy incidents and the notices that tell customers about them.
--
-- An incident is recorded once; only its publication on the public register can be set,
-- once. A notice entry (a customer told, or acknowledging) is a ledger entry like consent
-- and admin entries: it takes the next seq, shared by the three tables, and is a leaf of
-- the same Merkle tree. It names the customer only by the salted commitment, so erasure
-- shreds it like the customer's consent entries.
CREATE TABLE incidents (
    number       INTEGER PRIMARY KEY,
    digest       BLOB    NOT NULL CHECK (length(digest) = 32),
    canonical    TEXT    NOT NULL,
    recorded_at  INTEGER NOT NULL,
    published_at INTEGER
) STRICT;

CREATE TRIGGER incidents_publish_only BEFORE UPDATE ON incidents
WHEN OLD.published_at IS NOT NULL OR NEW.published_at IS NULL
    OR NEW.number IS NOT OLD.number OR NEW.digest IS NOT OLD.digest
    OR NEW.canonical IS NOT OLD.canonical OR NEW.recorded_at IS NOT OLD.recorded_at
BEGIN
    SELECT RAISE(ABORT, 'an incident is recorded once; it can only be published, once');
END;

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
BEGIN
    SELECT RAISE(ABORT, 'incidents cannot be deleted');
END;

CREATE TABLE notice_events (
    seq                INTEGER PRIMARY KEY,
    subject_commitment BLOB    NOT NULL CHECK (length(subject_commitment) = 32),
    incident           INTEGER NOT NULL REFERENCES incidents (number),
    kind               TEXT    NOT NULL,
    notice_digest      BLOB    NOT NULL CHECK (length(notice_digest) = 32),
    locale             TEXT    NOT NULL,
    source             TEXT    NOT NULL,
    recorded_at        INTEGER NOT NULL
) STRICT;

CREATE INDEX notice_events_by_commitment ON notice_events (subject_commitment, seq);
CREATE INDEX notice_events_by_incident ON notice_events (incident, kind);

-- One seq for the three tables.
DROP TRIGGER events_seq_is_next;
DROP TRIGGER admin_events_seq_is_next;

CREATE TRIGGER events_seq_is_next BEFORE INSERT ON events
WHEN NEW.seq IS NOT max(
    (SELECT coalesce(max(seq), 0) FROM events),
    (SELECT coalesce(max(seq), 0) FROM admin_events),
    (SELECT coalesce(max(seq), 0) FROM notice_events)) + 1
BEGIN
    SELECT RAISE(ABORT, 'the ledger is gap-free: seq must be the next number');
END;

CREATE TRIGGER admin_events_seq_is_next BEFORE INSERT ON admin_events
WHEN NEW.seq IS NOT max(
    (SELECT coalesce(max(seq), 0) FROM events),
    (SELECT coalesce(max(seq), 0) FROM admin_events),
    (SELECT coalesce(max(seq), 0) FROM notice_events)) + 1
BEGIN
    SELECT RAISE(ABORT, 'the ledger is gap-free: seq must be the next number');
END;

CREATE TRIGGER notice_events_seq_is_next BEFORE INSERT ON notice_events
WHEN NEW.seq IS NOT max(
    (SELECT coalesce(max(seq), 0) FROM events),
    (SELECT coalesce(max(seq), 0) FROM admin_events),
    (SELECT coalesce(max(seq), 0) FROM notice_events)) + 1
BEGIN
    SELECT RAISE(ABORT, 'the ledger is gap-free: seq must be the next number');
END;

CREATE TRIGGER notice_events_no_update BEFORE UPDATE ON notice_events
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: notice entries cannot be changed');
END;

CREATE TRIGGER notice_events_no_delete BEFORE DELETE ON notice_events
BEGIN
    SELECT RAISE(ABORT, 'the ledger is append-only: notice entries cannot be deleted');
END;
