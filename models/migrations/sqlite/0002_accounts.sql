-- Accounts, sign-in and access (issue 5). Times are unix seconds, 0 meaning "never".
-- Emails are stored lower-cased by the Go code, and NOCASE is a second guard for ASCII.
CREATE TABLE users (
	id              TEXT PRIMARY KEY,
	email           TEXT NOT NULL COLLATE NOCASE UNIQUE,
	display_name    TEXT NOT NULL DEFAULT '',
	password_hash   TEXT NOT NULL DEFAULT '',
	admin           INTEGER NOT NULL DEFAULT 0,
	disabled        INTEGER NOT NULL DEFAULT 0,
	disabled_reason TEXT NOT NULL DEFAULT '',
	totp_secret     TEXT NOT NULL DEFAULT '',
	totp_enabled    INTEGER NOT NULL DEFAULT 0,
	totp_last_step  INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	last_login_at   INTEGER NOT NULL DEFAULT 0,
	last_seen_at    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
	user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	code_hash  TEXT NOT NULL,
	used_at    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE oidc_links (
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_links_user ON oidc_links(user_id);

-- id_hash is the SHA-256 of the cookie token: a copy of the database does not sign anyone in.
CREATE TABLE auth_sessions (
	id_hash      TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	revoked_at   INTEGER NOT NULL DEFAULT 0,
	mfa_pending  INTEGER NOT NULL DEFAULT 0,
	csrf_token   TEXT NOT NULL,
	ip           TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user ON auth_sessions(user_id);

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- No foreign keys: the audit trail outlives the accounts and webinars it mentions.
CREATE TABLE audit_log (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	at       INTEGER NOT NULL,
	actor_id TEXT NOT NULL DEFAULT '',
	action   TEXT NOT NULL,
	target   TEXT NOT NULL DEFAULT '',
	ip       TEXT NOT NULL DEFAULT '',
	detail   TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action, at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, at);

CREATE TABLE webinar_settings (
	webinar_id    TEXT PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
	owner_id      TEXT REFERENCES users(id),
	visibility    TEXT NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'link', 'registration')),
	passcode_hash TEXT NOT NULL DEFAULT '',
	starts_at     INTEGER NOT NULL DEFAULT 0,
	ends_at       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webinar_settings_owner ON webinar_settings(owner_id);

CREATE TABLE webinar_members (
	webinar_id TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('host', 'cohost', 'panelist', 'attendee')),
	PRIMARY KEY (webinar_id, user_id)
);
CREATE INDEX webinar_members_user ON webinar_members(user_id);

-- token_hash is the SHA-256 of the join token last issued for this registration: issuing a new
-- one, or revoking, makes the old token useless even before it expires.
CREATE TABLE registrations (
	id         TEXT PRIMARY KEY,
	webinar_id TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL COLLATE NOCASE,
	role       TEXT NOT NULL DEFAULT 'attendee' CHECK (role IN ('host', 'cohost', 'panelist', 'attendee')),
	token_hash TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (webinar_id, email)
);
