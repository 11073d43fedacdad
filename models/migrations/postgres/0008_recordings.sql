-- Recordings of a webinar's presenter media (issue 11). The file is
-- DATA/recordings/{webinar_id}/{id}.webm; duration_ms and bytes are filled
-- when the recording stops (a crash leaves them 0 and the file readable).
CREATE TABLE recordings (
	id            TEXT PRIMARY KEY,
	webinar_id    TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	started_at_ms BIGINT NOT NULL,
	duration_ms   BIGINT NOT NULL DEFAULT 0,
	bytes         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX recordings_webinar ON recordings(webinar_id, started_at_ms);
