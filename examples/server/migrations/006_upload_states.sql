-- Uploads as a state machine whose every step is atomic (issue 12, points
-- 6 to 9; issue 10, point 5).
--
--   receiving ─┬─> test ──> test-approved          (a provider's first file)
--              ├─> accepted ──> processed ──> superseded
--              ├─> rejected                        (complete, but not usable)
--              └─> abandoned                       (cut off, too large, or its
--                                                   receiver died: never used)
--
-- A file streams in as chunks, each written in its own short transaction, so
-- that no upload holds the write lock while it waits for the network. Until
-- the last step marks it complete, an upload is "receiving": nothing reads
-- it, and when its receiver stops sending heartbeats it is abandoned and its
-- chunks are purged. The nightly job builds an accepted upload's report rows
-- in steps that record their progress, and makes them the provider's report
-- in one short transaction that supersedes the previous delivery.
--
-- SQLite cannot change a CHECK constraint, so the upload tables are rebuilt:
-- the statements work on both databases.

CREATE TABLE uploads_v6 (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL REFERENCES organisations (id),
	user_id       TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('receiving', 'abandoned', 'test', 'test-approved', 'rejected', 'accepted', 'processed', 'superseded')),
	heartbeat_at  BIGINT NOT NULL DEFAULT 0,   -- receiving: the receiver's last sign of life
	received_at   BIGINT NOT NULL DEFAULT 0,   -- when the file was complete
	domain        TEXT NOT NULL DEFAULT '',    -- the pseudonym domain of its BSNs
	chunks        INTEGER NOT NULL DEFAULT 0,  -- chunks of a complete upload
	rows_read     INTEGER NOT NULL DEFAULT 0,
	rows_written  INTEGER NOT NULL DEFAULT 0,
	rows_rejected INTEGER NOT NULL DEFAULT 0,
	rows_flagged  INTEGER NOT NULL DEFAULT 0,
	report        TEXT NOT NULL DEFAULT '',    -- the quality report (JSON), never a cell value
	error         TEXT NOT NULL DEFAULT '',
	built_chunks  INTEGER NOT NULL DEFAULT 0,  -- chunks turned into report rows so far
	built_rows    INTEGER NOT NULL DEFAULT 0,  -- report rows built so far
	processed_at  BIGINT NOT NULL DEFAULT 0,
	purged_at     BIGINT NOT NULL DEFAULT 0    -- its chunks were deleted
);

-- An upload the old code left without a report never finished: the phantom
-- "accepted" upload of a crash. It becomes abandoned, as does every upload
-- received before this migration that is not the newest of its provider.
INSERT INTO uploads_v6 (id, org_id, user_id, created_at, status, received_at, chunks, rows_read, rows_written,
		rows_rejected, rows_flagged, report, error, built_chunks, built_rows, processed_at)
	SELECT id, org_id, user_id, created_at,
		CASE WHEN report = '' AND status IN ('test', 'accepted') THEN 'abandoned' ELSE status END,
		created_at,
		(SELECT COUNT(*) FROM upload_chunks c WHERE c.upload_id = uploads.id),
		rows_read, rows_written, rows_rejected, rows_flagged, report, error,
		CASE WHEN status = 'processed' THEN 1 ELSE 0 END,
		CASE WHEN status = 'processed' THEN rows_written ELSE 0 END,
		processed_at
	FROM uploads;

-- Only a provider's newest processed delivery is its report.
UPDATE uploads_v6 SET status = 'superseded'
	WHERE status IN ('processed', 'accepted') AND EXISTS (
		SELECT 1 FROM uploads_v6 n WHERE n.org_id = uploads_v6.org_id AND n.status = 'processed' AND n.created_at > uploads_v6.created_at);

CREATE TABLE upload_chunks_v6 (
	upload_id TEXT NOT NULL REFERENCES uploads_v6 (id) ON DELETE CASCADE,
	seq       INTEGER NOT NULL,
	rows      INTEGER NOT NULL,
	data      TEXT NOT NULL,
	PRIMARY KEY (upload_id, seq)
);
INSERT INTO upload_chunks_v6 (upload_id, seq, rows, data)
	SELECT c.upload_id, c.seq, c.rows, c.data FROM upload_chunks c JOIN uploads_v6 u ON u.id = c.upload_id WHERE u.status <> 'abandoned';

-- Report rows per upload and chunk: built in steps, shown only for the
-- provider's processed upload, deleted in steps when superseded.
CREATE TABLE report_rows (
	provider_id   TEXT NOT NULL,
	upload_id     TEXT NOT NULL,
	seq           INTEGER NOT NULL,          -- the chunk the row came from
	municipality  TEXT NOT NULL,             -- gemeentecode
	category      TEXT NOT NULL,             -- product category
	product       TEXT NOT NULL,
	age_band      TEXT NOT NULL,
	goal_measured BOOLEAN NOT NULL,          -- a valid measurement of goal realisation
	sat_measured  BOOLEAN NOT NULL           -- a valid measurement of client satisfaction
);
INSERT INTO report_rows (provider_id, upload_id, seq, municipality, category, product, age_band, goal_measured, sat_measured)
	SELECT r.provider_id, r.upload_id, 0, r.municipality, r.category, r.product, r.age_band, r.goal_measured, r.sat_measured
	FROM report_records r JOIN uploads_v6 u ON u.id = r.upload_id WHERE u.status = 'processed';

DROP TABLE report_records;
DROP TABLE upload_chunks;
DROP TABLE uploads;
ALTER TABLE uploads_v6 RENAME TO uploads;
ALTER TABLE upload_chunks_v6 RENAME TO upload_chunks;
CREATE INDEX uploads_org ON uploads (org_id, created_at);
CREATE INDEX uploads_status ON uploads (status);
CREATE INDEX report_rows_upload ON report_rows (upload_id, seq);

-- What the reports read: the rows of each provider's processed delivery.
CREATE VIEW report_records AS
	SELECT r.provider_id, r.upload_id, r.municipality, r.category, r.product, r.age_band, r.goal_measured, r.sat_measured
	FROM report_rows r JOIN uploads u ON u.id = r.upload_id
	WHERE u.status = 'processed';

-- Jobs hold a lease that their worker renews while it runs (a heartbeat):
-- when the worker dies, another instance takes the job over once the lease
-- has run out.
ALTER TABLE jobs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

-- The pseudonym domain of each use of BSNs. Uploads use one domain per
-- receiving municipality (recorded per upload); client lookup has its own.
-- A database with clients keeps the domain they were stored under (""):
-- pseudonyms cannot be moved to another domain without the BSNs, which the
-- portal does not hold.
CREATE TABLE pseudonym_domains (
	purpose TEXT PRIMARY KEY,
	domain  TEXT NOT NULL
);
INSERT INTO pseudonym_domains (purpose, domain)
	SELECT 'client-lookup', CASE WHEN EXISTS (SELECT 1 FROM clients) THEN '' ELSE 'client-lookup' END;
