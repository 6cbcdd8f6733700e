-- The audit trail: admin actions (keys created and revoked, catalogs published, erasures,
-- webhooks created and deleted, log key rotations) are entries of the same ledger as
-- consent events. An admin entry takes the next seq, shared with `events`, and is a leaf
-- of the same Merkle tree, so checkpoints and `keuze ledger verify` cover it.
CREATE TABLE admin_events (
    seq         INTEGER PRIMARY KEY,
    action      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    detail      TEXT    NOT NULL, -- a JSON object of strings
    recorded_at INTEGER NOT NULL
) STRICT;

-- One seq for both tables: the next seq of either is one more than the largest of both.
DROP TRIGGER events_seq_is_next;

CREATE TRIGGER events_seq_is_next BEFORE INSERT ON events
WHEN NEW.seq IS NOT max(
    (SELECT coalesce(max(seq), 0) FROM events),
    (SELECT coalesce(max(seq), 0) FROM admin_events)) + 1
BEGIN
    SELECT RAISE(ABORT, 'the ledger is gap-free: seq must be the next number');
END;

CREATE TRIGGER admin_events_seq_is_next BEFORE INSERT ON admin_events
WHEN NEW.seq IS NOT max(
    (SELECT coalesce(max(seq), 0) FROM events),
    (SELECT coalesce(max(seq), 0) FROM admin_events)) + 1
BEGIN
    SELECT RAISE(ABORT, 'the ledger is gap-free: seq must be the next number');
END;

CREATE TRIGGER admin_events_no_update BEFORE UPDATE ON admin_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: admin entries cannot be changed');
END;

CREATE TRIGGER admin_events_no_delete BEFORE DELETE ON admin_events
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only: admin entries cannot be deleted');
END;

-- A revoked key stays listed, with when it was revoked; revocation is final.
ALTER TABLE api_keys ADD COLUMN revoked_at INTEGER;

CREATE TRIGGER api_keys_revocation_only BEFORE UPDATE ON api_keys
WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.secret_hash IS NOT OLD.secret_hash
    OR NEW.scopes IS NOT OLD.scopes OR NEW.label IS NOT OLD.label
    OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'an API key can only be revoked, once; create a new key instead');
END;
