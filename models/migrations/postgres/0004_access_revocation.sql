-- Revocable watch links and registrations (issue 8, item 17). link_epoch is the generation of a
-- webinar's shared links: link and passcode join tokens carry the epoch they were issued
-- under, and rotating the link (epoch + 1) makes every earlier one useless.
ALTER TABLE webinar_settings ADD COLUMN link_epoch BIGINT NOT NULL DEFAULT 0;

-- A registration's live join tokens, by SHA-256. Registering again with the same email adds
-- one (the answer must not tell that the email was registered, nor cut the first holder
-- off); issuing a replacement or revoking the registration ends them all. created_at is in
-- unix nanoseconds (it orders tokens issued within one second; rows copied below keep seconds,
-- which sort as older).
CREATE TABLE registration_tokens (
	registration_id TEXT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
	token_hash      TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	PRIMARY KEY (registration_id, token_hash)
);

INSERT INTO registration_tokens(registration_id, token_hash, created_at)
	SELECT id, token_hash, created_at FROM registrations WHERE token_hash != '';
