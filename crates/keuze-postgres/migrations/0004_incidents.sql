-- Privacy incidents and the notices that tell customers about them.
--
-- An incident is recorded once; only its publication on the public register can be set,
-- once. A notice entry (a customer told, or acknowledging) is a ledger entry like consent
-- and admin entries: it takes the next seq, shared by the three tables, and is a leaf of
-- the same Merkle tree. It names the customer only by the salted commitment, so erasure
-- shreds it like the customer's consent entries. Incidents are numbered, and notices
-- appended, under the schema's ledger advisory lock: each also appends to the ledger.
CREATE TABLE incidents (
    number       BIGINT NOT NULL PRIMARY KEY CHECK (number BETWEEN 1 AND 4294967295),
    digest       BYTEA  NOT NULL CHECK (octet_length(digest) = 32),
    canonical    TEXT   NOT NULL,
    recorded_at  BIGINT NOT NULL,
    published_at BIGINT
);

CREATE FUNCTION incidents_publish_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.published_at IS NOT NULL OR NEW.published_at IS NULL
        OR (NEW.number, NEW.digest, NEW.canonical, NEW.recorded_at)
           IS DISTINCT FROM (OLD.number, OLD.digest, OLD.canonical, OLD.recorded_at) THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = 'an incident is immutable once recorded; it can only be published, once';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER incidents_publish_only BEFORE UPDATE ON incidents
FOR EACH ROW EXECUTE FUNCTION incidents_publish_only();

CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('an incident is immutable once recorded: it cannot be deleted');

CREATE TRIGGER incidents_no_truncate BEFORE TRUNCATE ON incidents
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('an incident is immutable once recorded: it cannot be deleted');

CREATE TABLE notice_events (
    seq                BIGINT NOT NULL PRIMARY KEY CHECK (seq >= 1),
    subject_commitment BYTEA  NOT NULL CHECK (octet_length(subject_commitment) = 32),
    incident           BIGINT NOT NULL REFERENCES incidents (number),
    kind               TEXT   NOT NULL,
    notice_digest      BYTEA  NOT NULL CHECK (octet_length(notice_digest) = 32),
    locale             TEXT   NOT NULL,
    source             TEXT   NOT NULL,
    recorded_at        BIGINT NOT NULL
);

CREATE INDEX notice_events_by_commitment ON notice_events (subject_commitment, seq);
CREATE INDEX notice_events_by_incident ON notice_events (incident, kind);

-- One seq for the three tables: the next seq of any is one more than the largest of all.
CREATE OR REPLACE FUNCTION events_seq_is_next() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS DISTINCT FROM greatest(
        (SELECT coalesce(max(seq), 0) FROM events),
        (SELECT coalesce(max(seq), 0) FROM admin_events),
        (SELECT coalesce(max(seq), 0) FROM notice_events)) + 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
            MESSAGE = 'the ledger is gap-free: seq must be the next number';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER notice_events_seq_is_next BEFORE INSERT ON notice_events
FOR EACH ROW EXECUTE FUNCTION events_seq_is_next();

CREATE TRIGGER notice_events_no_update BEFORE UPDATE ON notice_events
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the ledger is append-only: notice entries cannot be changed');

CREATE TRIGGER notice_events_no_delete BEFORE DELETE ON notice_events
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('the ledger is append-only: notice entries cannot be deleted');

CREATE TRIGGER notice_events_no_truncate BEFORE TRUNCATE ON notice_events
FOR EACH STATEMENT EXECUTE FUNCTION keuze_refuse('the ledger is append-only: notice entries cannot be deleted');
