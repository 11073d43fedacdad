-- The duration limit's count of a live webinar (issue 11, item 4): when its first presenter
-- went live. Kept so a restarted server goes on counting instead of starting again; deleted
-- when the webinar ends (by its host or by the limit).
CREATE TABLE duration_counts (
	webinar_id    TEXT PRIMARY KEY REFERENCES webinars(id) ON DELETE CASCADE,
	started_at_ms BIGINT NOT NULL
);
