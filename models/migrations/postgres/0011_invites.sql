-- Invitations (issue 11, admin console): an admin adds an account without a password and hands
-- the person a link with which they choose one, once. token_hash is the SHA-256 of the link's
-- secret, so a copy of the database cannot be used to take the account over.
CREATE TABLE invites (
	token_hash TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_by TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invites_user ON invites(user_id);
