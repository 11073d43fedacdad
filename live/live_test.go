package live

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/models"
	"lectern/transcribe"
)

func newTestRoom(t *testing.T) (*Room, *models.Store) {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := New(Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: log})
	t.Cleanup(func() { m.Close(); bc.Close(); store.Close() })
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "T", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Room(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := m.Room(ctx, w); again != r {
		t.Fatal("a webinar got two rooms")
	}
	return r, store
}

func next(t *testing.T, sub *captions.Subscriber) captions.Frame {
	t.Helper()
	select {
	case f := <-sub.Frames():
		return f
	case <-time.After(5 * time.Second):
		t.Fatal("no caption frame")
		return captions.Frame{}
	}
}

// A final is in the store by the time any viewer can see it; partials are never stored.
func TestFinalStoredBeforeItIsShown(t *testing.T) {
	r, store := newTestRoom(t)
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	ctx := context.Background()

	r.onEvent("Ada", transcribe.Event{ID: "s-1", Session: "s", Start: time.Second, End: 2 * time.Second, Text: "hello cl"})
	if f := next(t, sub); f.Final {
		t.Fatal("partial published as final")
	}
	if got, _ := store.Finals(ctx, r.Webinar().ID, 0); len(got) != 0 {
		t.Fatalf("partial stored: %+v", got)
	}
	r.onEvent("Ada", transcribe.Event{ID: "s-1", Session: "s", Final: true, Start: time.Second, End: 2500 * time.Millisecond, Text: "Hello class.", Engine: "sphinx"})
	f := next(t, sub)
	stored, err := store.Finals(ctx, r.Webinar().ID, 0)
	if err != nil || len(stored) != 1 || !f.Final || stored[0].Seq != f.Seq {
		t.Fatalf("final frame %+v, store %+v %v", f, stored, err)
	}
	if c := stored[0]; c.Text != "Hello class." || c.Speaker != "Ada" || c.StartMS != 1000 || c.EndMS != 2500 {
		t.Fatalf("stored %+v", c)
	}
}

// A final that cannot be stored is still shown, marked unsaved (issue 8, item 15: viewers
// saw nothing while the disk was full).
func TestUnstorableFinalIsShownUnsaved(t *testing.T) {
	r, store := newTestRoom(t)
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	// The session's first caption, a partial, arrives while the store works.
	r.onEvent("", transcribe.Event{ID: "s-2", Session: "s", End: 500 * time.Millisecond, Text: "Lost"})
	next(t, sub)
	store.Close()
	r.onEvent("", transcribe.Event{ID: "s-2", Session: "s", Final: true, End: time.Second, Text: "Lost words."})
	f := next(t, sub)
	var c captions.Caption
	if err := json.Unmarshal(f.JSON, &c); err != nil || !c.Final || !c.Unsaved || c.Text != "Lost words." {
		t.Fatalf("unstored final sent as %s (%v), want it marked unsaved", f.JSON, err)
	}
}

// A failed segment is stored with its time range, and the viewers' partial is cleared.
func TestFailedSegmentIsRecorded(t *testing.T) {
	r, store := newTestRoom(t)
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	r.onEvent("", transcribe.Event{ID: "s-3", Session: "s", Final: true, Failed: true, Start: time.Second, End: 3 * time.Second, Error: "engine down"})
	if f := next(t, sub); f.Final {
		t.Fatalf("failed segment shown as a final: %s", f.JSON)
	}
	if n, err := store.FailedSegments(context.Background(), r.Webinar().ID); err != nil || n != 1 {
		t.Fatalf("failed segments %d %v", n, err)
	}
}
