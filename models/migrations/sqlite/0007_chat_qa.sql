-- Chat and Q&A (issue 9): their switches join the room's (0006), defaults for webinars that
-- never set them: chat to everyone, Q&A on.
ALTER TABLE room_settings ADD COLUMN chat TEXT NOT NULL DEFAULT 'everyone'; -- everyone | hosts | off
ALTER TABLE room_settings ADD COLUMN qa INTEGER NOT NULL DEFAULT 1;

CREATE TABLE chat_messages (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- also the resume cursor (?after=)
	webinar_id TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	sender_id  TEXT NOT NULL,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	to_hosts   INTEGER NOT NULL DEFAULT 0,
	body       TEXT NOT NULL,
	at_ms      INTEGER NOT NULL
);
CREATE INDEX chat_messages_webinar ON chat_messages(webinar_id, id);

CREATE TABLE questions (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	webinar_id  TEXT NOT NULL REFERENCES webinars(id) ON DELETE CASCADE,
	asker_id    TEXT NOT NULL,
	name        TEXT NOT NULL,
	anonymous   INTEGER NOT NULL DEFAULT 0,
	body        TEXT NOT NULL,
	at_ms       INTEGER NOT NULL,
	answer      TEXT NOT NULL DEFAULT '',
	answer_public INTEGER NOT NULL DEFAULT 0,
	answered_by TEXT NOT NULL DEFAULT '',
	dismissed   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX questions_webinar ON questions(webinar_id, id);

CREATE TABLE question_votes (
	question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
	voter_id    TEXT NOT NULL,
	PRIMARY KEY (question_id, voter_id)
);
