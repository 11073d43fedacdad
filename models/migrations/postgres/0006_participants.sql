-- Everyone in a webinar's room (issue 9): attendees who joined by name, with their state in
-- the waiting room. Signed-in members and stream keys are participants without a row.
CREATE TABLE participants (
	id         TEXT PRIMARY KEY,
	webinar_id TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	state      TEXT NOT NULL,
	joined_at  BIGINT NOT NULL -- unix nanoseconds: joins within a second keep their order
);
CREATE INDEX participants_webinar ON participants(webinar_id, joined_at);

-- Room settings: a waiting room holds new attendees until a host admits them; a locked
-- webinar takes no new joins. Apart from webinar_settings, which old webinars lack.
CREATE TABLE room_settings (
	webinar_id   TEXT PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
	waiting_room BIGINT NOT NULL DEFAULT 0,
	locked       BIGINT NOT NULL DEFAULT 0
);
