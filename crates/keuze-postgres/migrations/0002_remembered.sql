-- Facts every node must agree on, remembered the first time they are given (e.g. a
-- fingerprint of the server secret that keys the pseudonyms).
CREATE TABLE remembered (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TRIGGER remembered_no_update BEFORE UPDATE ON remembered
FOR EACH ROW EXECUTE FUNCTION keuze_refuse('a remembered value is kept for good');
