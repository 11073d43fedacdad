package api

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lectern/models"
)

// An H.264 recording is a Matroska file: listed and served as {rid}.mkv with
// video/x-matroska (range requests too), and a .webm link to it redirects there.
func TestRecordingMatroskaServedAsMKV(t *testing.T) {
	s := newRecordingServer(t)
	h := s.user(t, "host@school.example", false)
	w := s.webinar(t, h, models.VisibilityPublic, "")
	host := creds{session: s.session(t, h)}
	ctx := context.Background()
	if err := s.store.AddRecording(ctx, w.ID, "h264rec", time.Now()); err != nil {
		t.Fatal(err)
	}
	webm := s.api.Recorder.Path(w.ID, "h264rec")
	mkv := strings.TrimSuffix(webm, ".webm") + ".mkv"
	body := append([]byte{0x1a, 0x45, 0xdf, 0xa3}, make([]byte, 4096)...)
	if err := os.MkdirAll(filepath.Dir(mkv), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mkv, body, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := s.store.FinishRecording(ctx, "h264rec", time.Second, int64(len(body))); err != nil {
		t.Fatal(err)
	}
	base := "/api/webinars/" + w.ID + "/recordings"

	var list []struct{ URL string }
	s.call(t, host, "GET", base, "", "").json(t, &list)
	if len(list) != 1 || list[0].URL != base+"/h264rec.mkv" {
		t.Fatalf("recordings %+v, want the .mkv url", list)
	}
	r := s.call(t, host, "GET", list[0].URL, "", "")
	if r.status != 200 || r.header.Get("Content-Type") != "video/x-matroska" || len(r.body) != len(body) {
		t.Fatalf("file: %d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	if r := s.call(t, host, "GET", base+"/h264rec.webm", "", ""); r.status != 302 || r.header.Get("Location") != base+"/h264rec.mkv" {
		t.Errorf(".webm link: %d to %q, want 302 to the .mkv", r.status, r.header.Get("Location"))
	}
	if r := s.call(t, host, "GET", base+"/h264rec.mp4", "", ""); r.status != 404 || !strings.Contains(r.body, `"error"`) {
		t.Errorf(".mp4: %d %s, want a 404 JSON error", r.status, r.body)
	}
}
