package api

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/models"
	"lectern/record"
)

func newRecordingServer(t *testing.T) *authServer {
	t.Helper()
	dir := t.TempDir()
	return newAuthServer(t, func(d *Deps) {
		m, err := record.NewManager(dir, d.Broadcast, prometheus.NewRegistry(), quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		d.Recorder = m
	})
}

func TestRecordingLifecycle(t *testing.T) {
	s := newRecordingServer(t)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityPublic, "")
	host := creds{session: s.session(t, h)}
	base := "/api/webinars/" + w.ID

	var on struct {
		Recording bool   `json:"recording"`
		ID        string `json:"id"`
	}
	r := s.postJSON(t, host, base+"/recording", map[string]bool{"on": true})
	if r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	r.json(t, &on)
	if !on.Recording || on.ID == "" {
		t.Fatalf("start answered %s", r.body)
	}
	// Idempotent: the same recording, not a second one.
	var again struct{ ID string }
	s.postJSON(t, host, base+"/recording", map[string]bool{"on": true}).json(t, &again)
	if again.ID != on.ID {
		t.Errorf("second start made recording %s, want %s", again.ID, on.ID)
	}
	var info struct{ Recording bool }
	s.call(t, host, "GET", base, "", "").json(t, &info)
	if !info.Recording {
		t.Error("GET /api/webinars/:id does not say it is recording")
	}
	if r := s.postJSON(t, host, base+"/recording", map[string]bool{"on": false}); r.status != 200 || !strings.Contains(r.body, `"recording":false`) {
		t.Fatalf("stop: %d %s", r.status, r.body)
	}

	var list []struct {
		ID    string  `json:"id"`
		Bytes int64   `json:"bytes"`
		URL   string  `json:"url"`
		Dur   float64 `json:"duration_s"`
	}
	s.call(t, host, "GET", base+"/recordings", "", "").json(t, &list)
	if len(list) != 1 || list[0].ID != on.ID || list[0].Bytes == 0 {
		t.Fatalf("recordings %+v", list)
	}

	full := s.call(t, host, "GET", list[0].URL, "", "")
	if full.status != 200 || full.header.Get("Content-Type") != "video/webm" || int64(len(full.body)) != list[0].Bytes {
		t.Fatalf("file: %d %q, %d bytes (listed %d)", full.status, full.header.Get("Content-Type"), len(full.body), list[0].Bytes)
	}
	if !bytes.HasPrefix([]byte(full.body), []byte{0x1a, 0x45, 0xdf, 0xa3}) {
		t.Error("file does not start with the EBML magic")
	}
	req, _ := http.NewRequest("GET", s.URL+list[0].URL, nil)
	req.AddCookie(&http.Cookie{Name: "lectern_session", Value: host.session})
	req.Header.Set("Range", "bytes=4-11")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var part bytes.Buffer
	_, _ = part.ReadFrom(res.Body)
	if res.StatusCode != http.StatusPartialContent || part.String() != full.body[4:12] {
		t.Errorf("range: %d %x, want 206 %x", res.StatusCode, part.Bytes(), full.body[4:12])
	}
	if r := s.call(t, host, "GET", base+"/recordings/"+on.ID+".mp4", "", ""); r.status != 404 || !strings.Contains(r.body, "error") {
		t.Errorf("wrong extension: %d %s", r.status, r.body)
	}
}

func TestRecordingRefusals(t *testing.T) {
	s := newRecordingServer(t)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityPublic, "")
	host := creds{session: s.session(t, h)}
	p := s.user(t, "panelist@school.example", false)
	if err := s.store.SetMember(t.Context(), w.ID, p.ID, models.RolePanelist); err != nil {
		t.Fatal(err)
	}
	base := "/api/webinars/" + w.ID
	if r := s.postJSON(t, creds{session: s.session(t, p)}, base+"/recording", map[string]bool{"on": true}); r.status != 403 || !strings.Contains(r.body, `"error"`) {
		t.Errorf("panelist start: %d %s", r.status, r.body)
	}
	for _, body := range []string{`{}`, `{"on":"yes"}`, `{"on":true,"x":1}`} {
		if r := s.call(t, host, "POST", base+"/recording", "application/json", body); r.status != 400 || !strings.Contains(r.body, `"error"`) {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	if _, ok := s.api.Recorder.Active(w.ID); ok {
		t.Error("a refused request started a recording")
	}
}

// Deleting a webinar stops its recording and deletes its files.
func TestRecordingStopsWhenWebinarDeleted(t *testing.T) {
	s := newRecordingServer(t)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityPublic, "")
	host := creds{session: s.session(t, h)}
	if r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/recording", map[string]bool{"on": true}); r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	if r := s.call(t, host, "DELETE", "/api/webinars/"+w.ID, "", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, ok := s.api.Recorder.Active(w.ID); ok {
		t.Error("recording still running after the webinar was deleted")
	}
	if _, err := os.Stat(filepath.Dir(s.api.Recorder.Path(w.ID, "x"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("recordings of the deleted webinar are still on disk (%v)", err)
	}
}

// Shutdown finalizes running recordings and stores their size.
func TestStopRecordingsAtShutdown(t *testing.T) {
	s := newRecordingServer(t)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityPublic, "")
	host := creds{session: s.session(t, h)}
	if r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/recording", map[string]bool{"on": true}); r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	s.api.StopRecordings(t.Context())
	if _, ok := s.api.Recorder.Active(w.ID); ok {
		t.Error("recording still running after StopRecordings")
	}
	recs, err := s.store.Recordings(t.Context(), w.ID)
	if err != nil || len(recs) != 1 || recs[0].Bytes == 0 {
		t.Errorf("stored recordings %+v (%v), want one with its size", recs, err)
	}
}
