-- One timeline per webinar (issue 8, item 2). A caption's start_ms/end_ms are ms since the
-- webinar's first audio (first_audio_ms, unix ms, kept so a restarted server continues the
-- same timeline); each presenter session records where it starts on that timeline.
ALTER TABLE webinars ADD COLUMN first_audio_ms BIGINT;

CREATE TABLE presenter_sessions (
	webinar_id     TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	id             TEXT NOT NULL,
	start_ms       BIGINT NOT NULL, -- on the webinar's timeline
	started_at_ms  BIGINT NOT NULL, -- wall clock of its first audio, unix ms
	PRIMARY KEY (webinar_id, id)
);

-- SQLite's version of this migration also lays segments stored before it on one timeline;
-- a PostgreSQL store is younger than that, so it has none.
