-- The events of package consent: append-only, one row per event, chained
-- by prev_mac and mac. Only the payload and MAC are authoritative; the other
-- columns are an index that verification checks against the payload.
CREATE TABLE consent_events (
	chain_id     TEXT    NOT NULL,
	seq          INTEGER NOT NULL CHECK (seq > 0),
	record_id    TEXT    NOT NULL,
	kind         TEXT    NOT NULL,
	organisation TEXT    NOT NULL,
	purpose      TEXT    NOT NULL,
	decision     TEXT    NOT NULL,
	recorded_at  INTEGER NOT NULL, -- Unix time in nanoseconds
	payload      BLOB    NOT NULL,
	prev_mac     BLOB    NOT NULL,
	mac          BLOB    NOT NULL,
	PRIMARY KEY (chain_id, seq)
) WITHOUT ROWID;

CREATE INDEX consent_events_record ON consent_events (record_id, kind);
CREATE INDEX consent_events_population ON consent_events (kind, recorded_at, organisation);

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN
	SELECT RAISE(ABORT, 'consent_events is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN
	SELECT RAISE(ABORT, 'consent_events is append-only: DELETE is not allowed');
END;
