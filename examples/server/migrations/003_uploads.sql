-- Uploads of the CBS data set (Gemeenteportaal): only pseudonymised rows are
-- stored, never the file as uploaded.
CREATE TABLE uploads (
	id           TEXT PRIMARY KEY,
	org_id       TEXT NOT NULL REFERENCES organisations (id),
	user_id      TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('test', 'test-approved', 'accepted', 'processed', 'rejected')),
	rows_read    INTEGER NOT NULL DEFAULT 0,
	rows_written INTEGER NOT NULL DEFAULT 0,
	rows_rejected INTEGER NOT NULL DEFAULT 0,
	rows_flagged INTEGER NOT NULL DEFAULT 0,
	report       TEXT NOT NULL DEFAULT '',  -- the quality report (JSON), never a cell value
	error        TEXT NOT NULL DEFAULT '',
	processed_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX uploads_org ON uploads (org_id, created_at);

-- The pseudonymised rows, as CSV with ';', in chunks of about 256 KiB: one
-- database row per chunk, because a row per line makes a large upload
-- wait on the index.
CREATE TABLE upload_chunks (
	upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
	seq       INTEGER NOT NULL,
	rows      INTEGER NOT NULL,
	data      TEXT NOT NULL,
	PRIMARY KEY (upload_id, seq)
);

-- Scheduled jobs: state in the database, so that of several instances only
-- one runs each job.
CREATE TABLE jobs (
	id          TEXT PRIMARY KEY,           -- such as "process:2026-11-23" for the nightly run
	state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
	run_after   BIGINT NOT NULL,
	started_at  BIGINT NOT NULL DEFAULT 0,
	finished_at BIGINT NOT NULL DEFAULT 0,
	instance    TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT ''
);

-- The report records the nightly job derives from the latest processed
-- delivery of each provider: one row per decision (beschikking), with what
-- the reports need and nothing else.
CREATE TABLE report_records (
	provider_id   TEXT NOT NULL,
	upload_id     TEXT NOT NULL,
	municipality  TEXT NOT NULL,            -- gemeentecode
	category      TEXT NOT NULL,            -- product category
	product       TEXT NOT NULL,
	age_band      TEXT NOT NULL,
	goal_measured BOOLEAN NOT NULL,         -- a valid measurement of goal realisation
	sat_measured  BOOLEAN NOT NULL          -- a valid measurement of client satisfaction
);
CREATE INDEX report_records_provider ON report_records (provider_id);
