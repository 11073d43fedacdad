-- The room's lifecycle (issue 9): a webinar the host ended for everyone stays ended across
-- restarts until the host reopens it (0: not ended); a participant who joined with a
-- registration's link remembers it, so revoking the registration removes them too.
ALTER TABLE room_settings ADD COLUMN ended_at BIGINT NOT NULL DEFAULT 0; -- unix milliseconds
ALTER TABLE participants ADD COLUMN registration_id TEXT NOT NULL DEFAULT '';
CREATE INDEX participants_registration ON participants(webinar_id, registration_id) WHERE registration_id <> '';
