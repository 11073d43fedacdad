-- Webhook endpoints and their delivery log (issue 11, item 6). An endpoint with a NULL
-- webinar_id is account-wide (registered by an admin); others belong to one webinar (its
-- host). events is a comma-separated list of event types. The secret signs every delivery, so
-- it is kept as is (it is shown once to whoever registers the endpoint, never listed).
CREATE TABLE webhooks (
	id            TEXT PRIMARY KEY,
	webinar_id    TEXT REFERENCES webinars(id) ON DELETE CASCADE,
	url           TEXT NOT NULL,
	secret        TEXT NOT NULL,
	events        TEXT NOT NULL,
	format        TEXT NOT NULL,
	description   TEXT NOT NULL DEFAULT '',
	created_by    TEXT NOT NULL DEFAULT '',
	created_at_ms INTEGER NOT NULL
);
CREATE INDEX webhooks_webinar ON webhooks(webinar_id);

-- One row per delivery attempt; status 0 means no HTTP answer (refused, timed out).
CREATE TABLE webhook_deliveries (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	webhook_id  TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
	event_id    TEXT NOT NULL,
	event_type  TEXT NOT NULL,
	webinar_id  TEXT NOT NULL DEFAULT '',
	attempt     INTEGER NOT NULL,
	status      INTEGER NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL,
	at_ms       INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);
