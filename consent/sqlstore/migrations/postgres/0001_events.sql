-- The events of package consent: append-only, one row per event, chained
-- by prev_mac and mac. Only the payload and MAC are authoritative; the other
-- columns are an index that verification checks against the payload. Ids
-- sort by bytes (COLLATE "C"), as Go sorts them.
CREATE TABLE consent_events (
	chain_id     TEXT COLLATE "C" NOT NULL,
	seq          BIGINT NOT NULL CHECK (seq > 0),
	record_id    TEXT COLLATE "C" NOT NULL,
	kind         TEXT   NOT NULL,
	organisation TEXT   NOT NULL,
	purpose      TEXT   NOT NULL,
	decision     TEXT   NOT NULL,
	recorded_at  BIGINT NOT NULL, -- Unix time in nanoseconds
	payload      BYTEA  NOT NULL,
	prev_mac     BYTEA  NOT NULL,
	mac          BYTEA  NOT NULL,
	PRIMARY KEY (chain_id, seq)
);

CREATE INDEX consent_events_record ON consent_events (record_id, kind);
CREATE INDEX consent_events_population ON consent_events (kind, recorded_at, organisation);

CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'consent_events is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER consent_events_no_change BEFORE UPDATE OR DELETE ON consent_events
	FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
	FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only();
