-- One timeline per webinar (issue 8, item 2). A caption's start_ms/end_ms are ms since the
-- webinar's first audio (first_audio_ms, unix ms, kept so a restarted server continues the
-- same timeline); each presenter session records where it starts on that timeline.
ALTER TABLE webinars ADD COLUMN first_audio_ms INTEGER;

CREATE TABLE presenter_sessions (
	webinar_id     TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	id             TEXT NOT NULL,
	start_ms       INTEGER NOT NULL, -- on the webinar's timeline
	started_at_ms  INTEGER NOT NULL, -- wall clock of its first audio, unix ms
	PRIMARY KEY (webinar_id, id)
);

-- Segments stored before this migration restarted at 0 with each session. Lay those sessions
-- on one timeline in the order they were spoken. Their wall-clock start was not recorded; it
-- is estimated from when each final was stored (created_at, which is its end plus the
-- caption lag), and a session never starts before the previous one's last final ended.
CREATE TEMP TABLE legacy_sessions AS
SELECT webinar_id, session_id,
	row_number() OVER (PARTITION BY webinar_id ORDER BY min(seq)) AS n,
	max(end_ms) AS len_ms,
	min(created_at * 1000 - end_ms) AS wall_ms
FROM segments GROUP BY webinar_id, session_id;

WITH RECURSIVE laid(webinar_id, n, session_id, start_ms, end_ms, origin) AS (
	SELECT webinar_id, n, session_id, 0, len_ms, wall_ms FROM legacy_sessions WHERE n = 1
	UNION ALL
	SELECT l.webinar_id, l.n, l.session_id,
		max(l.wall_ms - p.origin, p.end_ms),
		max(l.wall_ms - p.origin, p.end_ms) + l.len_ms,
		p.origin
	FROM legacy_sessions l JOIN laid p ON l.webinar_id = p.webinar_id AND l.n = p.n + 1
)
INSERT INTO presenter_sessions(webinar_id, id, start_ms, started_at_ms)
SELECT webinar_id, session_id, start_ms, origin + start_ms FROM laid;

UPDATE segments SET
	start_ms = start_ms + (SELECT p.start_ms FROM presenter_sessions p
		WHERE p.webinar_id = segments.webinar_id AND p.id = segments.session_id),
	end_ms = end_ms + (SELECT p.start_ms FROM presenter_sessions p
		WHERE p.webinar_id = segments.webinar_id AND p.id = segments.session_id);

UPDATE webinars SET first_audio_ms = (SELECT min(started_at_ms) FROM presenter_sessions p
	WHERE p.webinar_id = webinars.id);

DROP TABLE legacy_sessions;
