-- Spot checks of consent (the portal owner's sampling): the manifest lets
-- anyone redraw the same sample.
CREATE TABLE audit_samples (
	id         TEXT PRIMARY KEY,            -- the manifest's id
	manifest   TEXT NOT NULL,               -- JSON
	drawn_by   TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
