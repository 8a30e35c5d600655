-- Fictitious clients of the demo (Portero): the BSN only as a pseudonym, name
-- and address encrypted.
CREATE TABLE clients (
	pseudonym   TEXT PRIMARY KEY,          -- pseudoBSN under the portal's key
	name_enc    TEXT NOT NULL,             -- encrypted, field "clients.name"
	address_enc TEXT NOT NULL,             -- encrypted, field "clients.address"
	birth_year  INTEGER NOT NULL
);

CREATE TABLE indications (
	id           TEXT PRIMARY KEY,
	client       TEXT NOT NULL REFERENCES clients (pseudonym),
	care_profile TEXT NOT NULL,            -- zorgprofiel, such as "VV-05"
	decided_at   BIGINT NOT NULL,
	valid_until  BIGINT NOT NULL
);
CREATE INDEX indications_client ON indications (client);

-- Access log in the spirit of NEN 7513: every lookup and every consent
-- decision, allowed or not. The client appears only by subject key.
CREATE TABLE access_log (
	id           TEXT PRIMARY KEY,
	at           BIGINT NOT NULL,
	subject      TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	on_behalf_of TEXT NOT NULL DEFAULT '',
	org_id       TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	action       TEXT NOT NULL,
	allowed      BOOLEAN NOT NULL,
	reason       TEXT NOT NULL,
	record       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX access_log_org ON access_log (org_id, at);
