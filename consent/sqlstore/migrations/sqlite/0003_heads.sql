-- The heads of the chains, written in the same transaction as their events:
-- the sequence number and MAC of the last event, and the registry's state of
-- the chain, sealed by the registry. A head is replaced with every append;
-- its seal shows a change made behind the registry's back, and it shows
-- events cut off the end of its chain.
CREATE TABLE consent_heads (
	chain_id TEXT    PRIMARY KEY,
	seq      INTEGER NOT NULL CHECK (seq >= 0),
	mac      BLOB    NOT NULL,
	state    BLOB    NOT NULL,
	seal     BLOB    NOT NULL
) WITHOUT ROWID;

-- The registry's checkpoints, chained and sealed by the registry.
-- Append-only.
CREATE TABLE consent_checkpoints (
	seq     INTEGER PRIMARY KEY CHECK (seq > 0),
	payload BLOB    NOT NULL,
	mac     BLOB    NOT NULL
);

CREATE TRIGGER consent_checkpoints_no_update BEFORE UPDATE ON consent_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'consent_checkpoints is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER consent_checkpoints_no_delete BEFORE DELETE ON consent_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'consent_checkpoints is append-only: DELETE is not allowed');
END;

-- Sampling reads verified events, not index columns: the columns
-- organisation, purpose and decision are no longer written or read.
DROP INDEX consent_events_population;
