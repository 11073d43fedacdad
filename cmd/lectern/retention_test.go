package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/models"
	"lectern/record"
)

// The housekeeping loop deletes exactly the content of webinars older than the policy's
// retention_days, recording files included, and leaves newer webinars and the webinars
// themselves alone (issue 11, item 3).
func TestHousekeepingRetention(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	store, err := openTestStore(t, ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rec, err := record.NewManager(filepath.Join(data, "recordings"), nil, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	day := 24 * time.Hour
	webinar := func(title string, at time.Time) (models.Webinar, string) {
		t.Helper()
		w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.AddChat(ctx, models.ChatMessage{WebinarID: w.ID, From: "p", Name: "P", Role: models.RoleAttendee, To: "everyone", Text: "hi", At: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.AddQuestion(ctx, models.Question{WebinarID: w.ID, AskerID: "p", Name: "P", Text: "why?", At: at}); err != nil {
			t.Fatal(err)
		}
		id := "rec-" + w.ID
		if err := store.AddRecording(ctx, w.ID, id, at.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := store.FinishRecording(ctx, id, time.Hour, 5); err != nil {
			t.Fatal(err)
		}
		path := rec.Path(w.ID, id)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("webm!"), 0o640); err != nil {
			t.Fatal(err)
		}
		return w, path
	}
	old, oldFile := webinar("31 days ago", now.Add(-31*day))
	recent, recentFile := webinar("29 days ago", now.Add(-29*day))

	p := models.DefaultPolicy
	p.RetentionDays = 30
	if err := store.SavePolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	stop := startHousekeeping(store, 0, 0, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	deadline := time.Now().Add(20 * time.Second)
	for {
		stale, err := store.StaleWebinars(ctx, now.Add(-30*day))
		if err != nil {
			t.Fatal(err)
		}
		if len(stale) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still stale after housekeeping: %v", stale)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()

	content := func(id string) (chat, questions, recordings int) {
		t.Helper()
		cs, err := store.Chat(ctx, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		qs, err := store.Questions(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		rs, err := store.Recordings(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs), len(qs), len(rs)
	}
	if c, q, r := content(old.ID); c+q+r != 0 {
		t.Errorf("old webinar keeps %d chat, %d questions, %d recordings", c, q, r)
	}
	if _, err := os.Stat(oldFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old recording file: %v, want deleted", err)
	}
	if _, err := store.Webinar(ctx, old.ID); err != nil {
		t.Errorf("the old webinar itself was deleted: %v", err)
	}
	if c, q, r := content(recent.ID); c != 1 || q != 1 || r != 1 {
		t.Errorf("recent webinar has %d chat, %d questions, %d recordings, want 1 each", c, q, r)
	}
	if _, err := os.Stat(recentFile); err != nil {
		t.Errorf("recent recording file: %v", err)
	}
}

// Without a retention policy nothing is deleted, however old.
func TestHousekeepingKeepsEverythingWithoutRetention(t *testing.T) {
	ctx := context.Background()
	store, err := openTestStore(t, ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "ancient"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddChat(ctx, models.ChatMessage{WebinarID: w.ID, From: "p", Name: "P", Role: models.RoleAttendee, To: "everyone", Text: "hi", At: time.Now().Add(-3650 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pruneContent(ctx, store, nil, time.Now(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if cs, err := store.Chat(ctx, w.ID, 0); err != nil || len(cs) != 1 {
		t.Fatalf("chat %v %v, want the message kept", cs, err)
	}
}
