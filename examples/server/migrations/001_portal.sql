-- The portal's own tables. Portable between SQLite and PostgreSQL: TEXT ids,
-- BIGINT Unix times in microseconds (0 means "never"), BYTEA for bytes.

CREATE TABLE organisations (
	id                TEXT PRIMARY KEY,
	name              TEXT NOT NULL,
	kind              TEXT NOT NULL CHECK (kind IN ('owner', 'provider', 'municipality')),
	domains           TEXT NOT NULL,                -- e-mail domains, space-separated
	municipality_id   TEXT NOT NULL DEFAULT '',     -- a provider's contracting municipality
	cbs_code          TEXT NOT NULL DEFAULT '',     -- a municipality's gemeentecode
	contract_start    BIGINT NOT NULL DEFAULT 0,
	contract_end      BIGINT NOT NULL DEFAULT 0,    -- 0: no contract registered
	dpa_registered_at BIGINT NOT NULL DEFAULT 0,    -- processing agreement (verwerkersovereenkomst)
	suspended_at      BIGINT NOT NULL DEFAULT 0,    -- sanction by the portal owner
	suspended_reason  TEXT NOT NULL DEFAULT '',
	created_at        BIGINT NOT NULL
);

CREATE TABLE users (
	id                  TEXT PRIMARY KEY,
	org_id              TEXT NOT NULL REFERENCES organisations (id),
	username            TEXT NOT NULL UNIQUE,
	name                TEXT NOT NULL,
	email               TEXT NOT NULL,
	email_key           TEXT NOT NULL UNIQUE,       -- normalised: one address, one user
	phone               TEXT NOT NULL DEFAULT '',
	channel             TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'sms', 'totp')),
	role                TEXT NOT NULL CHECK (role IN ('user', 'admin', 'auditor', 'municipality')),
	password_hash       TEXT NOT NULL,
	password_set_at     BIGINT NOT NULL,
	password_temporary  BOOLEAN NOT NULL DEFAULT FALSE,
	last_login_at       BIGINT NOT NULL DEFAULT 0,
	deactivated_at      BIGINT NOT NULL DEFAULT 0,
	totp_secret         BYTEA,                      -- encrypted with the TOTP key
	totp_last_step      BIGINT NOT NULL DEFAULT 0,
	created_at          BIGINT NOT NULL
);
CREATE INDEX users_org ON users (org_id);

CREATE TABLE password_history (
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash       TEXT NOT NULL,
	set_at     BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, set_at);

CREATE TABLE sessions (
	id_hash      BYTEA PRIMARY KEY,                 -- HMAC of the cookie value
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	stage        TEXT NOT NULL,
	attempt_id   TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Verification codes of the second login step: only an HMAC of the code.
CREATE TABLE login_codes (
	account    TEXT PRIMARY KEY,
	attempt    TEXT NOT NULL,
	mac        BYTEA NOT NULL,
	issued_at  BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	used_at    BIGINT NOT NULL DEFAULT 0
);

-- Password reset links: only the hash of the token.
CREATE TABLE reset_tokens (
	account    TEXT PRIMARY KEY,                  -- a newer request replaces the older token
	hash       BYTEA NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0
);

-- Failed-login counters per account and per source.
CREATE TABLE throttle (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	last_failure BIGINT NOT NULL
);

-- The demo sender's outbox: messages only their addressee can read.
CREATE TABLE outbox (
	id         TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	channel    TEXT NOT NULL,
	subject    TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX outbox_user ON outbox (user_id, created_at);
