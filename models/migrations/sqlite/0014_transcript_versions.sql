-- Transcript versions beside the live one (issue 11): a recording transcribed again with
-- another engine, or a teacher's corrections. The live transcript stays in segments; a
-- version keeps its cues as a JSON array (a class is a few thousand cues at most).
CREATE TABLE transcript_versions (
	id            TEXT PRIMARY KEY,
	webinar_id    TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	kind          TEXT NOT NULL,            -- retranscription or edit
	source        TEXT NOT NULL DEFAULT '', -- the recording transcribed, or the version edited
	engine        TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL,            -- running, done or failed
	progress      REAL NOT NULL DEFAULT 0,  -- 0..1
	error         TEXT NOT NULL DEFAULT '',
	created_at_ms INTEGER NOT NULL,
	cues          TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX transcript_versions_webinar ON transcript_versions(webinar_id, created_at_ms);
-- Which transcript downloads by default: '' is the live one.
ALTER TABLE webinars ADD COLUMN default_transcript TEXT NOT NULL DEFAULT '';
