-- The onboarding of a care provider, as the Gemeenteportaal describes it: the
-- municipality registers a provider it has contracted, the portal sends a
-- short survey, then the processing agreement (verwerkersovereenkomst); the
-- provider has access once both are in. And the reporting period of each
-- report record, for the Zorgmonitor's selection and trend.

ALTER TABLE organisations ADD COLUMN registered_by TEXT NOT NULL DEFAULT '';     -- the municipality that registered the provider
ALTER TABLE organisations ADD COLUMN registered_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN survey_sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN survey_received_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN dpa_sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN access_granted_at BIGINT NOT NULL DEFAULT 0; -- when the account details went out

-- Providers that had access before onboarding existed keep it.
UPDATE organisations SET survey_received_at = dpa_registered_at, dpa_sent_at = dpa_registered_at, access_granted_at = dpa_registered_at
	WHERE kind = 'provider' AND dpa_registered_at > 0;

-- The survey: a link with a one-time token (only its SHA-256 is kept), and
-- the answers once it is filled in.
CREATE TABLE surveys (
	org_id      TEXT PRIMARY KEY REFERENCES organisations (id),
	token_hash  BYTEA NOT NULL UNIQUE,
	sent_at     BIGINT NOT NULL,
	expires_at  BIGINT NOT NULL,
	answered_at BIGINT NOT NULL DEFAULT 0,
	answers     TEXT NOT NULL DEFAULT ''           -- JSON
);

-- The reporting half-year of a decision ("2026-1", "2026-2"): the half-year
-- in which the care ended, or began when it has not ended. Rows from before
-- this column have no period until their provider's next delivery.
ALTER TABLE report_rows ADD COLUMN period TEXT NOT NULL DEFAULT '';
DROP VIEW report_records;
CREATE VIEW report_records AS
	SELECT r.provider_id, r.upload_id, r.municipality, r.category, r.product, r.age_band, r.goal_measured, r.sat_measured, r.period
	FROM report_rows r JOIN uploads u ON u.id = r.upload_id
	WHERE u.status = 'processed';

-- The protected Zorgmonitor of one state of the report records (the
-- protection takes seconds): computed once, read by every instance. It holds
-- only what the municipality may see; a withheld value is not in it.
CREATE TABLE report_cache (
	version    TEXT PRIMARY KEY,
	data       TEXT NOT NULL,                       -- JSON
	created_at BIGINT NOT NULL
);
