-- The outbox becomes a delivery queue (issue 10): each message is claimed
-- with a lease, handed to SMTP or the SMS gateway, and marked sent only once
-- accepted. Recipient and body are encrypted and wiped once the message is
-- delivered or given up. Messages from before are taken as delivered.
ALTER TABLE outbox ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN give_up_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
UPDATE outbox SET state = 'sent', body = '', sent_at = created_at;
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Fingerprints of the keys the database was set up with: an HMAC of a fixed
-- label under each key, never the key. An instance with another key file
-- refuses to start instead of failing every login.
CREATE TABLE key_fingerprints (
	name        TEXT PRIMARY KEY,          -- session, code, pepper, consent_chain, keyring:<id>
	fingerprint BYTEA NOT NULL,
	created_at  BIGINT NOT NULL
);
