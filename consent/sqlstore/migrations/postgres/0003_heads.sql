-- The heads of the chains, written in the same transaction as their events:
-- the sequence number and MAC of the last event, and the registry's state of
-- the chain, sealed by the registry. A head is replaced with every append;
-- its seal shows a change made behind the registry's back, and it shows
-- events cut off the end of its chain.
CREATE TABLE consent_heads (
	chain_id TEXT COLLATE "C" PRIMARY KEY,
	seq      BIGINT NOT NULL CHECK (seq >= 0),
	mac      BYTEA  NOT NULL,
	state    BYTEA  NOT NULL,
	seal     BYTEA  NOT NULL
);

-- The registry's checkpoints, chained and sealed by the registry.
-- Append-only.
CREATE TABLE consent_checkpoints (
	seq     BIGINT PRIMARY KEY CHECK (seq > 0),
	payload BYTEA NOT NULL,
	mac     BYTEA NOT NULL
);

CREATE TRIGGER consent_checkpoints_no_change BEFORE UPDATE OR DELETE ON consent_checkpoints
	FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();

CREATE TRIGGER consent_checkpoints_no_truncate BEFORE TRUNCATE ON consent_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION consent_events_append_only();

-- Sampling reads verified events, not index columns: the columns
-- organisation, purpose and decision are no longer written or read.
DROP INDEX consent_events_population;
