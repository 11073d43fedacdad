CREATE TABLE webinars (
	id          TEXT PRIMARY KEY,
	title       TEXT NOT NULL,
	stream_key  TEXT NOT NULL UNIQUE,
	language    TEXT NOT NULL DEFAULT 'en',
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);

-- Finals only: partials are never stored. seq is the webinar's caption sequence number, the
-- SSE event id viewers resume from.
CREATE TABLE segments (
	id          TEXT NOT NULL,
	webinar_id  TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	session_id  TEXT NOT NULL,
	seq         BIGINT NOT NULL,
	start_ms    BIGINT NOT NULL,
	end_ms      BIGINT NOT NULL,
	speaker     TEXT NOT NULL DEFAULT '',
	text        TEXT NOT NULL,
	lang        TEXT NOT NULL,
	engine      TEXT NOT NULL DEFAULT '',
	failed      BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (webinar_id, id)
);
CREATE UNIQUE INDEX segments_seq ON segments(webinar_id, seq);

CREATE TABLE translations (
	webinar_id  TEXT NOT NULL,
	segment_id  TEXT NOT NULL,
	lang        TEXT NOT NULL,
	text        TEXT NOT NULL,
	pivot       TEXT NOT NULL DEFAULT '',
	translator  TEXT NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	PRIMARY KEY (webinar_id, segment_id, lang),
	FOREIGN KEY (webinar_id, segment_id) REFERENCES segments(webinar_id, id) ON DELETE CASCADE
);
