-- Site-wide policy switches set by admins (issue 5: "require 2FA for everyone"), as text
-- key/value pairs so a new switch needs no migration.
CREATE TABLE site_settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
