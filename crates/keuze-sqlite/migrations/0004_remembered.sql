-- Facts every process using the database must agree on, remembered the first time they
-- are given (e.g. a fingerprint of the server secret that keys the pseudonyms).
CREATE TABLE remembered (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TRIGGER remembered_no_update BEFORE UPDATE ON remembered
BEGIN
    SELECT RAISE(ABORT, 'a remembered value is kept for good');
END;
