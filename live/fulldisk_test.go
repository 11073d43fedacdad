//go:build linux

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
	"lectern/internal/tinyfs"
	"lectern/models"
	"lectern/transcribe"
)

// TestFullDiskFinalsShownAndStoredLater: on a real, full filesystem a final is shown marked
// unsaved, the store says it is degraded, and once space returns the final is stored with
// its original seq and re-sent without the mark (issue 8, item 15).
func TestFullDiskFinalsShownAndStoredLater(t *testing.T) {
	dir := tinyfs.Mount(t, 4<<20)
	ctx := context.Background()
	store, err := models.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { m.Close(); bc.Close(); store.Close() })
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "Full disk", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Room(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	decode := func(f captions.Frame) captions.Caption {
		var c captions.Caption
		if err := json.Unmarshal(f.JSON, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// The session's first caption, a partial, arrives while the disk has room.
	r.onEvent("", transcribe.Event{ID: "s-1", Session: "s", Start: time.Second, End: 1500 * time.Millisecond, Text: "Written"})
	next(t, sub)
	free := tinyfs.Fill(t, dir)
	r.onEvent("", transcribe.Event{ID: "s-1", Session: "s", Final: true, Start: time.Second, End: 2 * time.Second, Text: "Written on a full disk."})
	shown := decode(next(t, sub))
	if !shown.Final || !shown.Unsaved || shown.Text != "Written on a full disk." {
		t.Fatalf("on a full disk the final was sent as %+v, want its text marked unsaved", shown)
	}
	if h := store.Health(); h.OK || h.WriteErrors == 0 {
		t.Fatalf("store health on a full disk: %+v", h)
	}
	if got, _ := store.Finals(ctx, w.ID, 0); len(got) != 0 {
		t.Fatalf("stored on a full disk? %+v", got)
	}

	free()
	var saved captions.Caption
	select {
	case f := <-sub.Frames():
		saved = decode(f)
	case <-time.After(60 * time.Second): // the retry backs off to at most 30 s
		t.Fatal("the unsaved final was not stored after space returned")
	}
	if saved.ID != shown.ID || saved.Seq != shown.Seq || saved.Unsaved {
		t.Fatalf("after space returned, sent %+v; first sent %+v", saved, shown)
	}
	got, err := store.Finals(ctx, w.ID, 0)
	if err != nil || len(got) != 1 || got[0].Seq != shown.Seq || got[0].Text != shown.Text {
		t.Fatalf("stored %+v %v, want the final with seq %d", got, err, shown.Seq)
	}
	if h := store.Health(); !h.OK {
		t.Fatalf("store still degraded after space returned: %+v", h)
	}
	// New finals go straight through again.
	r.onEvent("", transcribe.Event{ID: "s-2", Session: "s", Final: true, Start: 3 * time.Second, End: 4 * time.Second, Text: "Space again."})
	if c := decode(next(t, sub)); c.Unsaved || c.Text != "Space again." {
		t.Fatalf("after recovery sent %+v", c)
	}
}
