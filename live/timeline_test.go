package live

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"lectern/captions"
	"lectern/transcribe"
)

// Each presenter session's clock starts at 0; the room puts its captions (live and stored) on
// the webinar's timeline, so a reconnect 9 s after the first audio continues at 9 s.
func TestReconnectContinuesTheTimeline(t *testing.T) {
	r, store := newTestRoom(t)
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	t0 := time.Now().Add(-time.Minute)
	r.onEvent("", transcribe.Event{ID: "a-1", Session: "a", SessionStart: t0, Final: true, Start: 500 * time.Millisecond, End: 6340 * time.Millisecond, Text: "First session."})
	next(t, sub)
	r.onEvent("", transcribe.Event{ID: "b-1", Session: "b", SessionStart: t0.Add(9 * time.Second), Start: 300 * time.Millisecond, End: time.Second, Text: "Sec"})
	var c captions.Caption
	if f := next(t, sub); json.Unmarshal(f.JSON, &c) != nil || c.StartMS != 9300 || c.EndMS != 10000 {
		t.Fatalf("partial of the second session %s, want start_ms 9300 end_ms 10000", f.JSON)
	}
	r.onEvent("", transcribe.Event{ID: "b-1", Session: "b", SessionStart: t0.Add(9 * time.Second), Final: true, Start: 300 * time.Millisecond, End: 2 * time.Second, Text: "Second session."})
	next(t, sub)
	got, err := store.Finals(context.Background(), r.Webinar().ID, 0)
	if err != nil || len(got) != 2 {
		t.Fatalf("finals %+v %v", got, err)
	}
	if got[0].StartMS != 500 || got[0].EndMS != 6340 || got[1].StartMS != 9300 || got[1].EndMS != 11000 {
		t.Fatalf("stored times %d–%d, %d–%d; want 500–6340, 9300–11000", got[0].StartMS, got[0].EndMS, got[1].StartMS, got[1].EndMS)
	}
}

// A session that begins while the store refuses writes (a full disk) is still shown, placed
// after what viewers already saw at its distance from the first audio (issue 8, items 2 and
// 15: its captions used to be dropped, partials included).
func TestSessionPlacedWithoutTheStore(t *testing.T) {
	r, store := newTestRoom(t)
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	t0 := time.Now().Add(-time.Minute)
	r.onEvent("", transcribe.Event{ID: "a-1", Session: "a", SessionStart: t0, Final: true, Start: 500 * time.Millisecond, End: 3 * time.Second, Text: "Stored."})
	next(t, sub)
	store.Close()
	r.onEvent("", transcribe.Event{ID: "b-1", Session: "b", SessionStart: t0.Add(9 * time.Second), Start: 300 * time.Millisecond, End: time.Second, Text: "Still"})
	var c captions.Caption
	if f := next(t, sub); json.Unmarshal(f.JSON, &c) != nil || c.StartMS != 9300 || c.EndMS != 10000 {
		t.Fatalf("partial of a session the store could not place: %+v, want 9300–10000", c)
	}
	r.onEvent("", transcribe.Event{ID: "b-1", Session: "b", SessionStart: t0.Add(9 * time.Second), Final: true, Start: 300 * time.Millisecond, End: 2 * time.Second, Text: "Still shown."})
	if f := next(t, sub); json.Unmarshal(f.JSON, &c) != nil || !c.Final || !c.Unsaved || c.StartMS != 9300 {
		t.Fatalf("final of a session the store could not place: %+v, want it unsaved at 9300", c)
	}
}
