-- The quarantine: stored events that did not verify, moved out of their
-- chain by consent.Registry.Quarantine, with who moved them, when and why.
-- Append-only like the events. A row of consent_events may be deleted only
-- once it is copied here, so that the move is the only way a row leaves.
CREATE TABLE consent_quarantine (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	chain_id       TEXT    NOT NULL,
	seq            INTEGER NOT NULL,
	record_id      TEXT    NOT NULL,
	kind           TEXT    NOT NULL,
	organisation   TEXT    NOT NULL,
	purpose        TEXT    NOT NULL,
	decision       TEXT    NOT NULL,
	recorded_at    INTEGER NOT NULL,
	payload        BLOB    NOT NULL,
	prev_mac       BLOB    NOT NULL,
	mac            BLOB    NOT NULL,
	quarantined_at INTEGER NOT NULL, -- Unix time in nanoseconds
	quarantined_by TEXT    NOT NULL, -- user and organisation of the operator
	reason         TEXT    NOT NULL
);

CREATE INDEX consent_quarantine_chain ON consent_quarantine (chain_id, seq);

CREATE TRIGGER consent_quarantine_no_update BEFORE UPDATE ON consent_quarantine
BEGIN
	SELECT RAISE(ABORT, 'consent_quarantine is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER consent_quarantine_no_delete BEFORE DELETE ON consent_quarantine
BEGIN
	SELECT RAISE(ABORT, 'consent_quarantine is append-only: DELETE is not allowed');
END;

DROP TRIGGER consent_events_no_delete;

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
WHEN NOT EXISTS (SELECT 1 FROM consent_quarantine q
	WHERE q.chain_id = OLD.chain_id AND q.seq = OLD.seq AND q.payload = OLD.payload
	AND q.prev_mac = OLD.prev_mac AND q.mac = OLD.mac)
BEGIN
	SELECT RAISE(ABORT, 'consent_events is append-only: DELETE is allowed only for a row moved to consent_quarantine');
END;
