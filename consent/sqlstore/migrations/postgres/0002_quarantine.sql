-- The quarantine: stored events that did not verify, moved out of their
-- chain by consent.Registry.Quarantine, with who moved them, when and why.
-- Append-only like the events. A row of consent_events may be deleted only
-- once it is copied here, so that the move is the only way a row leaves.
CREATE TABLE consent_quarantine (
	id             BIGSERIAL PRIMARY KEY,
	chain_id       TEXT COLLATE "C" NOT NULL,
	seq            BIGINT NOT NULL,
	record_id      TEXT COLLATE "C" NOT NULL,
	kind           TEXT   NOT NULL,
	organisation   TEXT   NOT NULL,
	purpose        TEXT   NOT NULL,
	decision       TEXT   NOT NULL,
	recorded_at    BIGINT NOT NULL,
	payload        BYTEA  NOT NULL,
	prev_mac       BYTEA  NOT NULL,
	mac            BYTEA  NOT NULL,
	quarantined_at BIGINT NOT NULL, -- Unix time in nanoseconds
	quarantined_by TEXT   NOT NULL, -- user and organisation of the operator
	reason         TEXT   NOT NULL
);

CREATE INDEX consent_quarantine_chain ON consent_quarantine (chain_id, seq);

CREATE TRIGGER consent_quarantine_no_change BEFORE UPDATE OR DELETE ON consent_quarantine
	FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

CREATE TRIGGER consent_quarantine_no_truncate BEFORE TRUNCATE ON consent_quarantine
	FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only();

CREATE FUNCTION consent_events_quarantine_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM consent_quarantine q
		WHERE q.chain_id = OLD.chain_id AND q.seq = OLD.seq AND q.payload = OLD.payload
		AND q.prev_mac = OLD.prev_mac AND q.mac = OLD.mac) THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'consent_events is append-only: DELETE is allowed only for a row moved to consent_quarantine';
END;
$$;

DROP TRIGGER consent_events_no_change ON consent_events;

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
	FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
	FOR EACH ROW EXECUTE FUNCTION consent_events_quarantine_only();
