package api

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// validOffer makes a real browser-shaped offer: audio + camera + screen, sendonly or recvonly.
func validOffer(t *testing.T, dir webrtc.RTPTransceiverDirection) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: dir}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

func TestBadInputIsRefusedAndLeavesNothing(t *testing.T) {
	ts := newTestServer(t)
	id, key := ts.webinar.ID, ts.webinar.StreamKey
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	big := strings.Repeat("a", 64<<10+1)
	cases := []struct {
		name, method, path, ctype, token, body string
		want                                   int
	}{
		{"whip no bearer", "POST", "/whip/" + id, "application/sdp", "", send, 401},
		{"whip wrong bearer", "POST", "/whip/" + id, "application/sdp", "nope", send, 401},
		{"whip other webinar's key shape", "POST", "/whip/" + id, "application/sdp", key + "x", send, 401},
		{"whip unknown webinar", "POST", "/whip/doesnotexist", "application/sdp", key, send, 404},
		{"whep unknown webinar", "POST", "/whep/doesnotexist", "application/sdp", "", send, 404},
		{"whip wrong content type", "POST", "/whip/" + id, "application/json", key, send, 415},
		{"whep no content type", "POST", "/whep/" + id, "", "", send, 415},
		{"whip malformed sdp", "POST", "/whip/" + id, "application/sdp", key, "v=0\r\nthis is not sdp", 400},
		{"whep malformed sdp", "POST", "/whep/" + id, "application/sdp", "", "hello", 400},
		{"whip empty body", "POST", "/whip/" + id, "application/sdp", key, "", 400},
		{"whip oversized", "POST", "/whip/" + id, "application/sdp", key, big, 413},
		{"whep oversized", "POST", "/whep/" + id, "application/sdp", "", big, 413},
		{"whip delete unknown session", "DELETE", "/whip/" + id + "/nosuch", "", key, "", 404},
		{"whip delete without key", "DELETE", "/whip/" + id + "/nosuch", "", "", "", 401},
		{"whep delete unknown session", "DELETE", "/whep/" + id + "/nosuch", "", "", "", 404},
		{"whip patch", "PATCH", "/whip/" + id + "/nosuch", "application/trickle-ice-sdpfrag", key, "a=end-of-candidates", 405},
	}
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := ts.do(t, tc.method, tc.path, tc.ctype, tc.token, tc.body)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d (body %q)", res.StatusCode, tc.want, body)
			}
			var e apiError
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Fatalf("body %q is not a JSON error", body)
			}
		})
	}
	if ts.bc.Live(id) || ts.bc.Viewers(id) != 0 {
		t.Fatalf("refused requests changed the room: live=%v viewers=%d", ts.bc.Live(id), ts.bc.Viewers(id))
	}
	ts.CloseClientConnections()
	if n := settledGoroutines(before); n > before {
		t.Fatalf("goroutines grew from %d to %d after refused requests", before, n)
	}
}

// settledGoroutines waits briefly for goroutines to wind down and returns the count.
func settledGoroutines(target int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 50 && n > target; i++ {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

func TestWHIPAndWHEPSessions(t *testing.T) {
	ts := newTestServer(t)
	id, key := ts.webinar.ID, ts.webinar.StreamKey

	res, body := ts.do(t, "OPTIONS", "/whip/"+id, "", "", "")
	if res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}

	res, body = ts.do(t, "POST", "/whep/"+id, "application/sdp", "", validOffer(t, webrtc.RTPTransceiverDirectionRecvonly))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("whep before presenter: %d %s", res.StatusCode, body)
	}
	viewerLoc := res.Header.Get("Location")
	if !strings.HasPrefix(viewerLoc, "/whep/"+id+"/") || res.Header.Get("Content-Type") != "application/sdp" || !strings.HasPrefix(body, "v=0") {
		t.Fatalf("whep answer: location %q type %q body %.20q", viewerLoc, res.Header.Get("Content-Type"), body)
	}
	if ts.bc.Viewers(id) != 1 {
		t.Fatalf("viewers = %d, want 1", ts.bc.Viewers(id))
	}

	res, body = ts.do(t, "POST", "/whip/"+id, "application/sdp; charset=utf-8", key, validOffer(t, webrtc.RTPTransceiverDirectionSendonly))
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("whip: %d %s", res.StatusCode, body)
	}
	presenterLoc := res.Header.Get("Location")
	if !ts.bc.Live(id) {
		t.Fatal("room not live after WHIP")
	}
	var info publicWebinar
	_, body = ts.do(t, "GET", "/api/webinars/"+id, "", "", "")
	if err := json.Unmarshal([]byte(body), &info); err != nil || !info.Live || info.Viewers != 1 || strings.Contains(body, key) {
		t.Fatalf("info %s", body)
	}

	if res, _ := ts.do(t, "DELETE", viewerLoc, "", "", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("whep delete: %d", res.StatusCode)
	}
	if res, _ := ts.do(t, "DELETE", presenterLoc, "", key, ""); res.StatusCode != http.StatusOK {
		t.Fatalf("whip delete: %d", res.StatusCode)
	}
	if ts.bc.Live(id) || ts.bc.Viewers(id) != 0 {
		t.Fatalf("after delete: live=%v viewers=%d", ts.bc.Live(id), ts.bc.Viewers(id))
	}
}

func TestPagesAndHeaders(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/watch/" + ts.webinar.ID, "/studio/" + ts.webinar.ID} {
		res, body := ts.do(t, "GET", path, "", "", "")
		if res.StatusCode != 200 || !strings.Contains(body, "<script type=\"module\" src=\"/static/js/") {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Fatalf("%s: CSP %q", path, csp)
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Fatalf("%s refers to another origin", path)
		}
	}
	if res, _ := ts.do(t, "GET", "/watch/nosuch", "", "", ""); res.StatusCode != 404 {
		t.Fatalf("unknown watch page: %d", res.StatusCode)
	}
	if res, body := ts.do(t, "GET", "/watch/"+ts.webinar.ID, "", "", ""); !strings.Contains(body, `id="captions"`) {
		t.Fatalf("watch page has no captions area (%d)", res.StatusCode)
	}
	if res, _ := ts.do(t, "GET", "/static/js/watch.js", "", "", ""); res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("watch.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, body := ts.do(t, "GET", "/healthz", "", "", ""); res.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", res.StatusCode, body)
	}
	if res, body := ts.do(t, "GET", "/metrics", "", "", ""); res.StatusCode != 200 || !strings.Contains(body, "lectern_") {
		t.Fatalf("metrics: %d", res.StatusCode)
	}
}
