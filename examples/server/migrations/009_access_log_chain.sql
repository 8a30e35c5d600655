-- The access log with the elements of NEN 7513 (the application instance and
-- client address, the user's role, the data object, an action code, the
-- error of a decision that failed) and sealed in MAC chains, one per
-- instance (package consent/accesslog): payload is the sealed entry, mac
-- its MAC in hexadecimal. Entries written before have no chain.
ALTER TABLE access_log ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN object TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE access_log ADD COLUMN chain TEXT;
ALTER TABLE access_log ADD COLUMN seq BIGINT;
ALTER TABLE access_log ADD COLUMN payload TEXT;
ALTER TABLE access_log ADD COLUMN mac TEXT;
CREATE UNIQUE INDEX access_log_chain ON access_log (chain, seq);
