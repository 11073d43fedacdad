package models

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"lectern/captions"
	"lectern/internal/region"
)

// The policy reads back as saved, defaults where never set, and a bad one changes nothing.
func TestPolicyRoundTrip(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	got, err := s.Policy(ctx)
	if err != nil || !reflect.DeepEqual(got, DefaultPolicy) {
		t.Fatalf("fresh policy %+v %v, want the default", got, err)
	}
	want := Policy{Chat: SwitchOff, QA: SwitchAllowed, Recording: SwitchOff, WaitingRoomDefault: true,
		PasscodeRequired: true, MaxDurationMinutes: 40, AllowedRegions: []string{"eu-west-1", "local"},
		RetentionDays: 30, Require2FA: true}
	in := want
	in.AllowedRegions = []string{"eu-west-1", "local", "eu-west-1"} // repeats are dropped
	if err := s.SavePolicy(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Policy(ctx); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("policy %+v %v, want %+v", got, err, want)
	}
	if v, _ := s.SiteSetting(ctx, "require_2fa", ""); v != "true" {
		t.Fatalf("require_2fa site setting %q: the sign-in check reads it", v)
	}
	bad := want
	bad.MaxDurationMinutes = -1
	if err := s.SavePolicy(ctx, bad); err == nil || !strings.Contains(err.Error(), "max_duration_minutes") {
		t.Fatalf("negative duration saved: %v", err)
	}
	if got, _ = s.Policy(ctx); !reflect.DeepEqual(got, want) {
		t.Fatalf("a refused policy changed it to %+v", got)
	}
}

func TestPolicyCheck(t *testing.T) {
	ok := DefaultPolicy
	for _, tc := range []struct {
		name string
		edit func(*Policy)
		want string // "" = valid
	}{
		{"default", func(*Policy) {}, ""},
		{"chat", func(p *Policy) { p.Chat = "sometimes" }, "chat"},
		{"qa empty", func(p *Policy) { p.QA = "" }, "qa"},
		{"recording", func(p *Policy) { p.Recording = "on" }, "recording"},
		{"duration max", func(p *Policy) { p.MaxDurationMinutes = MaxDurationMinutesLimit }, ""},
		{"duration over", func(p *Policy) { p.MaxDurationMinutes = MaxDurationMinutesLimit + 1 }, "max_duration_minutes"},
		{"retention", func(p *Policy) { p.RetentionDays = -3 }, "retention_days"},
		{"region space", func(p *Policy) { p.AllowedRegions = []string{"eu west"} }, "allowed_regions"},
		{"region empty", func(p *Policy) { p.AllowedRegions = []string{""} }, "allowed_regions"},
		{"too many regions", func(p *Policy) { p.AllowedRegions = make([]string, region.MaxLabels+1) }, "at most"},
	} {
		p := ok
		tc.edit(&p)
		err := p.Check()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The policy turns off what it forbids and leaves everything else as the webinar set it.
func TestPolicyLimit(t *testing.T) {
	room := RoomSettings{WaitingRoom: true, Chat: ChatEveryone, QA: true}
	if got := DefaultPolicy.Limit(room); got != room {
		t.Fatalf("default policy changed %+v to %+v", room, got)
	}
	p := DefaultPolicy
	p.Chat, p.QA = SwitchOff, SwitchOff
	if got := p.Limit(room); got != (RoomSettings{WaitingRoom: true, Chat: ChatOff, QA: false}) {
		t.Fatalf("limited %+v", got)
	}
}

// Retention selects exactly the webinars whose last activity is before the cut-off, and
// deletes their content (translations and votes with it) and nothing of the others.
func TestRetentionDeletesExactlyTheOlder(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	cut := time.Unix(1_800_000_000, 0)
	day := 24 * time.Hour
	mk := func(title string) string {
		w, err := s.CreateWebinar(ctx, NewWebinar{Title: title})
		if err != nil {
			t.Fatal(err)
		}
		return w.ID
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	segment := func(w string, seq int64, at time.Time) {
		t.Helper()
		c := captions.Caption{ID: w + "-" + string(rune('a'+seq)), Seq: seq, Final: true, Text: "hello", Lang: "en"}
		if err := s.SaveSegment(ctx, Segment{Caption: c, Webinar: w, Session: "s"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTranslation(ctx, w, captions.Caption{ID: c.ID, Seq: seq, Final: true, Text: "hola", Lang: "es"}); err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE segments SET created_at = ? WHERE webinar_id = ? AND id = ?`, at.Unix(), w, c.ID)
	}
	chat := func(w string, at time.Time) {
		t.Helper()
		if _, err := s.AddChat(ctx, ChatMessage{WebinarID: w, From: "p", Name: "P", Role: RoleAttendee, To: "everyone", Text: "hi", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	question := func(w string, at time.Time) {
		t.Helper()
		q, err := s.AddQuestion(ctx, Question{WebinarID: w, AskerID: "p", Name: "P", Text: "why?", At: at})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Vote(ctx, w, q.ID, "v"); err != nil {
			t.Fatal(err)
		}
	}
	recording := func(w, id string, at time.Time, d time.Duration) {
		t.Helper()
		if err := s.AddRecording(ctx, w, id, at); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRecording(ctx, id, d, 1000); err != nil {
			t.Fatal(err)
		}
	}

	old := mk("old: everything two days before the cut-off")
	segment(old, 1, cut.Add(-2*day))
	chat(old, cut.Add(-2*day))
	question(old, cut.Add(-2*day))
	recording(old, "r-old", cut.Add(-2*day), time.Hour)
	edited, err := s.AddTranscriptVersion(ctx, TranscriptVersion{Webinar: old, Kind: KindEdit, Source: LiveTranscript, State: VersionDone},
		[]captions.Caption{{ID: "e-1", Text: "corrected", StartMS: 0, EndMS: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefaultTranscript(ctx, old, edited.ID); err != nil {
		t.Fatal(err)
	}

	recentChat := mk("old transcript, but a chat message after the cut-off")
	segment(recentChat, 1, cut.Add(-3*day))
	chat(recentChat, cut.Add(time.Second))

	longRec := mk("a recording that started before the cut-off and ended after it")
	recording(longRec, "r-long", cut.Add(-time.Hour), 2*time.Hour)

	edge := mk("last activity exactly at the cut-off: not older")
	question(edge, cut)

	recentSession := mk("old chat, a presenter went live after the cut-off")
	chat(recentSession, cut.Add(-5*day))
	if _, err := s.StartSession(ctx, recentSession, "s2", cut.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}

	empty := mk("no content at all")
	_ = empty

	stale, err := s.StaleWebinars(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 1 || stale[0] != old {
		t.Fatalf("stale %v, want only %s", stale, old)
	}
	d, err := s.DeleteContent(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if d != (ContentDeleted{Segments: 1, Chat: 1, Questions: 1, Recordings: 1, Versions: 1}) {
		t.Fatalf("deleted %+v", d)
	}
	if def, err := s.DefaultTranscript(ctx, old); err != nil || def != LiveTranscript {
		t.Errorf("default transcript after retention: %q %v, want live", def, err)
	}
	counts := func(w string) [6]int {
		var n [6]int
		for i, table := range []string{"segments", "translations", "chat_messages", "questions", "recordings", "webinars"} {
			col := "webinar_id"
			if table == "webinars" {
				col = "id"
			}
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE `+col+` = ?`, w).Scan(&n[i]); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	if got := counts(old); got != [6]int{0, 0, 0, 0, 0, 1} {
		t.Fatalf("old webinar keeps %v (segments, translations, chat, questions, recordings, webinar)", got)
	}
	var votes int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM question_votes`).Scan(&votes); err != nil || votes != 1 {
		t.Fatalf("%d votes left (%v), want only the edge webinar's", votes, err)
	}
	for w, want := range map[string][6]int{
		recentChat:    {1, 1, 1, 0, 0, 1},
		longRec:       {0, 0, 0, 0, 1, 1},
		edge:          {0, 0, 0, 1, 0, 1},
		recentSession: {0, 0, 1, 0, 0, 1},
	} {
		if got := counts(w); got != want {
			t.Errorf("%s: %v, want %v untouched", w, got, want)
		}
	}
	if stale, _ = s.StaleWebinars(ctx, cut); len(stale) != 0 {
		t.Fatalf("still stale after deleting: %v", stale)
	}
}

// A duration count keeps its first start until it ends, survives reopening the store, and
// goes with its webinar.
func TestDurationCounts(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := testOpen(t, ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.CreateWebinar(ctx, NewWebinar{Title: "Counted"})
	if err != nil {
		t.Fatal(err)
	}
	first := time.UnixMilli(1_800_000_000_123)
	for _, at := range []time.Time{first, first.Add(time.Hour)} {
		if got, err := s.StartCount(ctx, w.ID, at); err != nil || !got.Equal(first) {
			t.Fatalf("start at %v: %v %v, want the first start %v", at, got, err, first)
		}
	}
	if _, err := s.StartCount(ctx, "nosuch", first); !errors.Is(err, ErrNotFound) {
		t.Fatalf("count of no webinar: %v", err)
	}
	s.Close()
	if s, err = testOpen(t, ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cs, err := s.Counts(ctx); err != nil || len(cs) != 1 || !cs[w.ID].Equal(first) {
		t.Fatalf("after reopening: %v %v", cs, err)
	}
	if err := s.EndCount(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.StartCount(ctx, w.ID, first.Add(time.Hour)); err != nil || !got.Equal(first.Add(time.Hour)) {
		t.Fatalf("after the end a new count starts afresh: %v %v", got, err)
	}
	if err := s.DeleteWebinar(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if cs, _ := s.Counts(ctx); len(cs) != 0 {
		t.Fatalf("counts of a deleted webinar: %v", cs)
	}
}
