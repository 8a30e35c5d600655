-- Whether each outcome indicator applies to a decision, the denominator of
-- its response rate: the layout's judgement (Layout.Applies: the columns
-- the indicator requires, the end date, filled and valid). Care that is
-- still running has no outcome yet, and must not lower a provider's
-- response. Stored when a delivery is processed, with the report rows,
-- since the raw rows are purged afterwards.
--
-- Rows stored before this migration: a valid measurement implies that the
-- indicator applies, which is all the stored columns tell; whether the
-- others' care had ended is not known. They count as applicable, as
-- before, and applies_known = FALSE marks them, so that the report says
-- so, until the provider's next delivery replaces them.
ALTER TABLE report_rows ADD COLUMN goal_applies BOOLEAN NOT NULL DEFAULT TRUE;  -- goal realisation applies
ALTER TABLE report_rows ADD COLUMN sat_applies BOOLEAN NOT NULL DEFAULT TRUE;   -- client satisfaction applies
ALTER TABLE report_rows ADD COLUMN applies_known BOOLEAN NOT NULL DEFAULT FALSE; -- judged when processed
-- The rows whose applicability is not known, for the report's note: few,
-- and none once every provider has delivered again.
CREATE INDEX report_rows_applies_unknown ON report_rows (upload_id) WHERE NOT applies_known;
DROP VIEW report_records;
CREATE VIEW report_records AS
	SELECT r.provider_id, r.upload_id, r.municipality, r.category, r.product, r.age_band, r.goal_measured, r.sat_measured, r.period,
		r.goal_applies, r.sat_applies, r.applies_known
	FROM report_rows r JOIN uploads u ON u.id = r.upload_id
	WHERE u.status = 'processed';
