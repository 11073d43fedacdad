package models

import (
	"context"
	"testing"
	"time"

	"lectern/captions"
)

// Sessions are placed at their wall-clock distance from the webinar's first audio; the origin
// survives a reopened store; a session never starts before a stored final ends.
func TestStartSessionTimeline(t *testing.T) {
	ctx := context.Background()
	s, dir := openTest(t)
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "T"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	place := func(s *Store, id string, at time.Time) int64 {
		t.Helper()
		start, err := s.StartSession(ctx, w.ID, id, at)
		if err != nil {
			t.Fatal(err)
		}
		return start
	}
	if got := place(s, "a", t0); got != 0 {
		t.Fatalf("first session starts at %d, want 0", got)
	}
	save := func(id, session string, seq, start, end int64) {
		t.Helper()
		err := s.SaveSegment(ctx, Segment{Caption: captions.Caption{ID: id, Seq: seq, Final: true, StartMS: start, EndMS: end, Text: "x", Lang: "en"},
			Webinar: w.ID, Session: session})
		if err != nil {
			t.Fatal(err)
		}
	}
	save("a-1", "a", 1, 500, 6340)
	if got := place(s, "b", t0.Add(9*time.Second)); got != 9000 {
		t.Fatalf("session 9 s after the first starts at %d, want 9000", got)
	}
	if got := place(s, "a", t0.Add(time.Hour)); got != 0 {
		t.Fatalf("a known session moved to %d", got)
	}
	save("b-1", "b", 2, 9100, 12000)

	// A restarted server continues the same timeline.
	s2, err := testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := place(s2, "c", t0.Add(60*time.Second)); got != 60000 {
		t.Fatalf("session after a restart starts at %d, want 60000", got)
	}
	// A clock stepped back cannot put a session on top of stored finals.
	if got := place(s2, "d", t0.Add(2*time.Second)); got != 12000 {
		t.Fatalf("session with an early clock starts at %d, want 12000 (the last final's end)", got)
	}
	ps, err := s2.PresenterSessions(ctx, w.ID)
	if err != nil || len(ps) != 4 || ps[0].ID != "a" || ps[1].ID != "b" || ps[2].ID != "d" || ps[3].ID != "c" {
		t.Fatalf("sessions %+v %v", ps, err)
	}
	if !ps[1].StartedAt.Equal(t0.Add(9 * time.Second)) {
		t.Fatalf("session b started at %v", ps[1].StartedAt)
	}
	if _, err := s2.StartSession(ctx, "nope", "x", t0); err == nil {
		t.Fatal("a session of an unknown webinar was placed")
	}
}

// Segments stored before the timeline migration restarted at 0 with each session; the
// migration lays those sessions one after the other, keeping the gap their storage times show.
func TestTimelineMigrationLaysOutOldSessions(t *testing.T) {
	sqliteOnly(t) // a PostgreSQL store never held segments from before the timeline
	ctx := context.Background()
	s, dir := openTest(t)
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Old"})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 0004.
	for _, q := range []string{
		`DROP TABLE presenter_sessions`,
		`ALTER TABLE webinars DROP COLUMN first_audio_ms`,
		`DELETE FROM schema_migrations WHERE name = 'migrations/0005_timeline.sql'`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	const t0 = 1_770_000_000 // unix s at which session a's audio began
	for _, seg := range []struct {
		id, session string
		seq         int64
		start, end  int64
		stored      int64 // unix s
	}{
		{"a-1", "a", 1, 500, 4000, t0 + 5},
		{"a-2", "a", 2, 4800, 6340, t0 + 7},
		{"b-1", "b", 3, 300, 2000, t0 + 32}, // b began about 30 s after a
		{"c-1", "c", 4, 100, 900, t0 + 33},  // c's times overlap b's if taken at face value
	} {
		_, err := s.db.ExecContext(ctx, `INSERT INTO segments(id, webinar_id, session_id, seq, start_ms, end_ms, text, lang, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'x', 'en', ?)`, seg.id, w.ID, seg.session, seg.seq, seg.start, seg.end, seg.stored)
		if err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	finals, err := s.Finals(ctx, w.ID, 0)
	if err != nil || len(finals) != 4 {
		t.Fatalf("finals %+v %v", finals, err)
	}
	for i := 1; i < len(finals); i++ {
		if finals[i].StartMS < finals[i-1].EndMS {
			t.Errorf("final %d (%d–%d) overlaps the one before (%d–%d)", i, finals[i].StartMS, finals[i].EndMS, finals[i-1].StartMS, finals[i-1].EndMS)
		}
	}
	if f := finals[2]; f.StartMS < 25000 || f.StartMS > 35000 || f.EndMS-f.StartMS != 1700 {
		t.Errorf("session b's final at %d–%d, want about 30 s in and 1.7 s long", f.StartMS, f.EndMS)
	}
	ps, err := s.PresenterSessions(ctx, w.ID)
	if err != nil || len(ps) != 3 || ps[0].StartMS != 0 {
		t.Fatalf("sessions %+v %v", ps, err)
	}
	// New sessions continue the same timeline.
	start, err := s.StartSession(ctx, w.ID, "d", time.Unix(t0+100, 0))
	if err != nil || start < 99000 || start > 101000 {
		t.Fatalf("session after the migration starts at %d %v, want about 100 s", start, err)
	}
}
