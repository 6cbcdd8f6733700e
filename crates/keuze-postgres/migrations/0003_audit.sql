-- The audit trail: admin actions (keys created and revoked, catalogs published, erasures,
-- webhooks created and deleted, log key rotations) are entries of the same ledger as
-- consent events. An admin entry takes the next seq, shared with `events`, and is a leaf
-- of the same Merkle tree, so checkpoints and `keuze ledger verify` cover it. Appends of
-- both kinds hold the schema's ledger advisory lock.
CREATE TABLE admin_events (
    seq         BIGINT NOT NULL PRIMARY KEY CHECK (seq >= 1),
    action      TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    detail      TEXT   NOT NULL, -- a JSON object of strings
    recorded_at BIGINT NOT NULL
);

-- One seq for both tables: the next seq of either is one more than the largest of both.
CREATE OR REPLACE FUNCTION events_seq_is_next() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM greatest(
        (SELECT coalesce(max(seq), 0) FROM events),
        (SELECT coalesce(max(seq), 0) FROM admin_events)) + 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = 'the ledger is gap-free: seq must be the next number';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER admin_events_seq_is_next BEFORE INSERT ON admin_events
FOR EACH ROW EXECUTE FUNCTION events_seq_is_next();

CREATE TRIGGER admin_events_no_update BEFORE UPDATE ON admin_events
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the audit trail is append-only: admin entries cannot be changed');

CREATE TRIGGER admin_events_no_delete BEFORE DELETE ON admin_events
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the audit trail is append-only: admin entries cannot be deleted');

CREATE TRIGGER admin_events_no_truncate BEFORE TRUNCATE ON admin_events
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('the audit trail is append-only: admin entries cannot be deleted');

-- A revoked key stays listed, with when it was revoked; revocation is final.
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;

CREATE FUNCTION api_keys_revocation_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
        OR (NEW.id, NEW.secret_hash, NEW.scopes, NEW.label, NEW.created_at)
           IS DISTINCT FROM (OLD.id, OLD.secret_hash, OLD.scopes, OLD.label, OLD.created_at) THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = 'an API key can only be revoked, once; create a new key instead';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER api_keys_revocation_only BEFORE UPDATE ON api_keys
FOR EACH ROW EXECUTE FUNCTION api_keys_revocation_only();
