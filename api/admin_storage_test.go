package api

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lectern/auth"
	"lectern/captions"
	"lectern/models"
)

// TestAdminStorage: a webinar's share grows with its captions and chat, its recordings are
// counted at their size on disk (a crashed one too), and the largest comes first (here the
// captions outweigh 6 kB of recordings).
func TestAdminStorage(t *testing.T) {
	s := newRecordingServer(t)
	ctx := context.Background()
	adm := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	h := s.user(t, "host@school.example", false)
	small := s.webinar(t, h, models.VisibilityPublic, "")
	big := s.webinar(t, h, models.VisibilityPublic, "")
	line := strings.Repeat("words of a lecture ", 5) // 95 bytes
	for i := range 100 {
		seg := models.Segment{Caption: captions.Caption{ID: fmt.Sprint("c", i), Seq: int64(i + 1), Final: true, Text: line, Lang: "en"},
			Webinar: big.ID, Session: "s1"}
		if err := s.store.SaveSegment(ctx, seg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.store.AddChat(ctx, models.ChatMessage{WebinarID: big.ID, From: "p1", Name: "Ann", Role: models.RoleAttendee,
		Text: "hello", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Two recordings of the small webinar: one finished (its row says 10 bytes, the file has
	// 5000: the file counts), one cut short by a crash (row says 0).
	for i, size := range []int{5000, 1234} {
		id := fmt.Sprint("rec", i)
		if err := s.store.AddRecording(ctx, small.ID, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		path := s.api.Recorder.Path(small.ID, id)
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, size), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.FinishRecording(ctx, "rec0", time.Second, 10); err != nil {
		t.Fatal(err)
	}
	r := s.call(t, adm, "GET", "/api/admin/storage", "", "")
	var st storageAnswer
	r.json(t, &st)
	if r.status != 200 || len(st.Webinars) != 2 {
		t.Fatalf("storage: %d %s", r.status, r.body)
	}
	byID := map[string]webinarStorage{}
	for _, w := range st.Webinars {
		byID[w.ID] = w
	}
	b, sm := byID[big.ID], byID[small.ID]
	if b.DatabaseBytes < int64(100*len(line)) || b.RecordingBytes != 0 {
		t.Errorf("webinar with 100 captions of %d bytes: %+v", len(line), b)
	}
	if sm.RecordingBytes != 6234 || sm.Recordings != 2 || sm.DatabaseBytes <= 0 || sm.DatabaseBytes > 1000 {
		t.Errorf("webinar with two recordings: %+v", sm)
	}
	if st.Webinars[0].ID != big.ID || st.TotalBytes != b.TotalBytes+sm.TotalBytes || sm.TotalBytes != sm.DatabaseBytes+sm.RecordingBytes {
		t.Errorf("order or totals: %+v", st)
	}
	// A deleted file takes no space.
	os.Remove(s.api.Recorder.Path(small.ID, "rec1"))
	s.call(t, adm, "GET", "/api/admin/storage", "", "").json(t, &st)
	for _, w := range st.Webinars {
		if w.ID == small.ID && w.RecordingBytes != 5000 {
			t.Errorf("after deleting a file: %+v", w)
		}
	}
}

// TestAdminAuditFilters: the console's filters (event, person as actor or target, days).
func TestAdminAuditFilters(t *testing.T) {
	s := newAuthServer(t, nil)
	ctx := context.Background()
	admin := s.user(t, "admin@school.example", true)
	adm := creds{session: s.session(t, admin)}
	ann := s.user(t, "ann@school.example", false)
	bob := s.user(t, "bob@school.example", false)
	old := s.clock.Now().Add(-48 * time.Hour)
	for _, e := range []models.AuditEvent{
		{Action: auth.EventSignIn, ActorID: ann.ID, Target: ann.ID, At: old},
		{Action: auth.EventSignIn, ActorID: bob.ID, Target: bob.ID},
		{Action: auth.EventAccountDisabled, ActorID: admin.ID, Target: ann.ID},
	} {
		if err := s.store.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q url.Values) int {
		t.Helper()
		r := s.call(t, adm, "GET", "/api/admin/audit?"+q.Encode(), "", "")
		var ev []models.AuditEvent
		r.json(t, &ev)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", q.Encode(), r.status, r.body)
		}
		return len(ev)
	}
	day := s.clock.Now().Add(-24 * time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		q    url.Values
		want int
	}{
		{url.Values{"user": {ann.ID}}, 2},
		{url.Values{"user": {ann.ID}, "action": {auth.EventSignIn}}, 1},
		{url.Values{"user": {ann.ID}, "since": {day}}, 1},
		{url.Values{"action": {auth.EventSignIn}, "until": {day}}, 1},
		{url.Values{"user": {bob.ID}, "action": {auth.EventAccountDisabled}}, 0},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d events, want %d", c.q.Encode(), got, c.want)
		}
	}
	for _, q := range []string{"since=yesterday", "until=2026-13-01T00:00:00Z", "limit=0", "limit=5000"} {
		if r := s.call(t, adm, "GET", "/api/admin/audit?"+q, "", ""); r.status != 400 || !strings.Contains(r.body, "must be") {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}
