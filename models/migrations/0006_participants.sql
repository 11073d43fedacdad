-- Everyone in a webinar's room (issue 9): attendees who joined by name, with their state in
-- the waiting room. Signed-in members and stream keys are participants without a row.
CREATE TABLE participants (
	id         TEXT PRIMARY KEY,
	webinar_id TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	state      TEXT NOT NULL,
	joined_at  INTEGER NOT NULL
);
CREATE INDEX participants_webinar ON participants(webinar_id, joined_at);

-- Room settings: a waiting room holds new attendees until a host admits them; a locked
-- webinar takes no new joins.
ALTER TABLE webinar_settings ADD COLUMN waiting_room INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webinar_settings ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
