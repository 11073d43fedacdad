package main

import (
	"context"
	"log/slog"
	"time"

	"lectern/models"
)

// recordingFiles is what retention needs of the recorder (record.Manager).
type recordingFiles interface {
	Active(webinar string) (id string, ok bool)
	Remove(webinar string) error
}

// pruneContent deletes the transcript, chat, Q&A and recordings of every webinar whose last
// activity is older than the policy's retention_days (0: kept forever); the webinar itself
// stays. What "last activity" is: models.StaleWebinars. Recording files go first and the rows
// only once they are gone, so a file that cannot be deleted is retried the next day instead
// of being forgotten. A webinar being recorded right now is not touched.
func pruneContent(ctx context.Context, store *models.Store, files recordingFiles, now time.Time, log *slog.Logger) {
	p, err := store.Policy(ctx)
	if err != nil {
		log.Error("retention: reading the policy", "err", err)
		return
	}
	if p.RetentionDays == 0 {
		return
	}
	ids, err := store.StaleWebinars(ctx, now.Add(-days(p.RetentionDays)))
	if err != nil {
		log.Error("retention: finding old webinars", "err", err)
		return
	}
	for _, id := range ids {
		if files != nil {
			if _, recording := files.Active(id); recording {
				continue
			}
			if err := files.Remove(id); err != nil {
				log.Error("retention: deleting recording files", "webinar", id, "err", err)
				continue
			}
		}
		d, err := store.DeleteContent(ctx, id)
		if err != nil {
			log.Error("retention: deleting content", "webinar", id, "err", err)
			continue
		}
		log.Info("retention: deleted old webinar content", "webinar", id, "retention_days", p.RetentionDays,
			"segments", d.Segments, "chat", d.Chat, "questions", d.Questions, "recordings", d.Recordings)
	}
}
