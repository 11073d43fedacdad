-- The server secret shared by every node of a cluster (issue 12): it signs join tokens and
-- node pulls and seals TOTP secrets, so all nodes need the same one. Used when the store is
-- PostgreSQL; an SQLite install keeps its secret file (auth.key) in the data directory.
CREATE TABLE site_secret (
	id         BIGINT PRIMARY KEY CHECK (id = 1),
	secret     TEXT NOT NULL, -- base64 (standard, padded)
	created_at BIGINT NOT NULL
);
