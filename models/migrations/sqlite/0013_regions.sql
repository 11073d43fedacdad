-- Processing regions a webinar's audio and text may go to (issue 11): comma-separated labels,
-- '' for any region the account policy allows.
ALTER TABLE webinars ADD COLUMN regions TEXT NOT NULL DEFAULT '';
