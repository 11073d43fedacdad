package webhook

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A delivery over HTTPS carries the event envelope, signed so that webhook.Verify accepts it,
// and its attempt is in the delivery log.
func TestDeliverySignedAndLogged(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, true, nil)
	h := f.hook(t, rc.URL+"/hooks", FormatJSON, WebinarStarted, WebinarEnded)
	f.hook(t, rc.URL+"/other", FormatJSON, RecordingReady) // not subscribed: hears nothing
	roots := x509.NewCertPool()
	roots.AddCert(rc.Certificate())
	d := f.start(t, func(c *Config) { c.RootCAs = roots })

	d.Emit(WebinarStarted, f.w.ID, map[string]string{"title": f.w.Title})
	got := rc.wait(t, 1)[0]
	if err := Verify("whsec_test", got.header.Get(SignatureHeader), got.body, time.Now()); err != nil {
		t.Fatalf("signature %q does not verify: %v", got.header.Get(SignatureHeader), err)
	}
	var ev struct {
		ID        string            `json:"id"`
		Type      string            `json:"type"`
		CreatedAt time.Time         `json:"created_at"`
		WebinarID string            `json:"webinar_id"`
		Data      map[string]string `json:"data"`
	}
	if err := json.Unmarshal(got.body, &ev); err != nil {
		t.Fatalf("body %s: %v", got.body, err)
	}
	if !strings.HasPrefix(ev.ID, "evt_") || ev.Type != WebinarStarted || ev.WebinarID != f.w.ID || ev.CreatedAt.IsZero() || ev.Data["title"] != "Physics 101" {
		t.Fatalf("event %+v", ev)
	}
	if got.header.Get("X-Lectern-Event-Id") != ev.ID || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", got.header)
	}
	ds := f.deliveries(t, h.ID, 1)
	if ds[0].Status != 200 || ds[0].Attempt != 1 || ds[0].EventID != ev.ID || ds[0].Error != "" {
		t.Fatalf("log %+v", ds[0])
	}
	// A presenter reconnecting does not start the webinar again; after the end, a new run does.
	d.Emit(WebinarStarted, f.w.ID, nil)
	d.Emit(WebinarEnded, f.w.ID, nil)
	d.Emit(WebinarStarted, f.w.ID, nil)
	all := rc.wait(t, 3)
	time.Sleep(200 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Fatalf("%d deliveries, want 3 (started, ended, started)", n)
	}
	var types []string
	for _, r := range all[1:] {
		var e Event
		json.Unmarshal(r.body, &e)
		types = append(types, e.Type)
	}
	slices.Sort(types) // workers deliver in parallel: order is not promised
	if strings.Join(types, ",") != "webinar.ended,webinar.started" {
		t.Fatalf("then %v", types)
	}
}

// A failing endpoint is retried with the backoff's waits, with the same event id and a fresh
// signature each time, until it answers 2xx; every attempt is logged.
func TestRetriesWithBackoff(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, false, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n < 3 {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	})
	h := f.hook(t, rc.URL, FormatJSON, RecordingReady)
	backoff := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, time.Hour}
	var mu sync.Mutex
	var asked []time.Duration
	d := f.start(t, func(c *Config) {
		c.Backoff = backoff
		c.Jitter = func(d time.Duration) time.Duration { mu.Lock(); asked = append(asked, d); mu.Unlock(); return d }
	})
	d.Emit(RecordingReady, f.w.ID, map[string]any{"recording_id": "r1"})
	got := rc.wait(t, 3)
	var ids []string
	for i, r := range got {
		var e Event
		json.Unmarshal(r.body, &e)
		ids = append(ids, e.ID)
		if err := Verify("whsec_test", r.header.Get(SignatureHeader), r.body, time.Now()); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("event ids %v differ between attempts", ids)
	}
	for i := 1; i < 3; i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < backoff[i-1] {
			t.Errorf("attempt %d came %s after the previous one, want at least %s", i+1, gap, backoff[i-1])
		}
	}
	ds := f.deliveries(t, h.ID, 3)
	for i, want := range []int{503, 503, 200} {
		if ds[i].Attempt != i+1 || ds[i].Status != want {
			t.Errorf("log %d: %+v, want attempt %d status %d", i, ds[i], i+1, want)
		}
	}
	if !strings.Contains(ds[0].Error, "503") {
		t.Errorf("log error %q does not say 503", ds[0].Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || asked[0] != backoff[0] || asked[1] != backoff[1] {
		t.Errorf("jitter was asked for %v, want the first two waits", asked)
	}
	if ok := testutil.ToFloat64(d.m.result.WithLabelValues("ok")); ok != 1 {
		t.Errorf("ok deliveries %v", ok)
	}
}

// An endpoint that never answers 2xx gets 1+len(Backoff) attempts and no more.
func TestRetriesGiveUp(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, false, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	h := f.hook(t, rc.URL, FormatJSON, WebinarEnded)
	d := f.start(t, func(c *Config) { c.Backoff = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond} })
	d.Emit(WebinarEnded, f.w.ID, nil)
	f.deliveries(t, h.ID, 3)
	time.Sleep(300 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	if failed := testutil.ToFloat64(d.m.result.WithLabelValues("failed")); failed != 1 {
		t.Fatalf("failed deliveries %v, want 1", failed)
	}
}

// A redirect is not followed: the signed body goes only where it was registered to go.
func TestNoRedirectFollowed(t *testing.T) {
	f := newFixture(t)
	elsewhere := newReceiver(t, false, nil)
	rc := newReceiver(t, false, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	})
	h := f.hook(t, rc.URL, FormatJSON, WebinarEnded)
	f.start(t, func(c *Config) { c.Backoff = []time.Duration{} }).Emit(WebinarEnded, f.w.ID, nil)
	ds := f.deliveries(t, h.ID, 1)
	if ds[0].Status != http.StatusTemporaryRedirect {
		t.Fatalf("log %+v, want status 307", ds[0])
	}
	if n := elsewhere.count(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
}

// A thousand joins within a window are one delivery listing the first hundred and counting all.
func TestParticipantJoinsBatched(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, false, nil)
	f.hook(t, rc.URL, FormatJSON, ParticipantJoined)
	d := f.start(t, func(c *Config) { c.JoinWindow = 500 * time.Millisecond })
	for i := range 1000 {
		d.Emit(ParticipantJoined, f.w.ID, map[string]any{"id": i, "name": "P"})
	}
	got := rc.wait(t, 1)
	var ev struct {
		Type string `json:"type"`
		Data struct {
			Count        int              `json:"count"`
			Participants []map[string]any `json:"participants"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != ParticipantJoined || ev.Data.Count+countLater(t, rc) != 1000 || len(ev.Data.Participants) != maxJoinsListed {
		t.Fatalf("first batch: type %s, count %d, %d listed", ev.Type, ev.Data.Count, len(ev.Data.Participants))
	}
	if n := rc.count(); n > 2 {
		t.Fatalf("1000 joins made %d deliveries", n)
	}
}

// countLater waits a window more and sums the counts of any later batches (the 1000 Emits
// may straddle a window's end on a slow machine).
func countLater(t *testing.T, rc *receiver) int {
	time.Sleep(time.Second)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, r := range rc.got[1:] {
		var ev struct {
			Data struct{ Count int } `json:"data"`
		}
		json.Unmarshal(r.body, &ev)
		n += ev.Data.Count
	}
	return n
}

// An endpoint in Slack format gets an incoming-webhook message with the transcript link.
func TestSlackFormat(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, false, nil)
	f.hook(t, rc.URL, FormatSlack, WebinarEnded, ParticipantJoined)
	d := f.start(t, func(c *Config) { c.JoinWindow = 50 * time.Millisecond })
	d.Emit(WebinarEnded, f.w.ID, map[string]string{"transcript_url": "https://webinars.example.org/api/webinars/" + f.w.ID + "/transcript.txt?a=1&b=2"})
	var msg map[string]string
	if err := json.Unmarshal(rc.wait(t, 1)[0].body, &msg); err != nil {
		t.Fatal(err)
	}
	want := "Webinar “Physics 101” has ended. <https://webinars.example.org/api/webinars/" + f.w.ID + "/transcript.txt?a=1&amp;b=2|Transcript>"
	if len(msg) != 1 || msg["text"] != want {
		t.Fatalf("message %q\nwant %q", msg, want)
	}
	d.Emit(ParticipantJoined, f.w.ID, map[string]string{"name": "Ada <script>"})
	d.Emit(ParticipantJoined, f.w.ID, map[string]string{"name": "Grace"})
	json.Unmarshal(rc.wait(t, 2)[1].body, &msg)
	if want := "2 people joined “Physics 101”: Ada &lt;script&gt;, Grace."; msg["text"] != want {
		t.Fatalf("joins %q, want %q", msg["text"], want)
	}
}

// Emit never waits for a delivery: with every worker stuck on a receiver that does not answer,
// a burst of events returns at once, the overflow is dropped and counted.
func TestEmitNeverBlocks(t *testing.T) {
	f := newFixture(t)
	release := make(chan struct{})
	rc := newReceiver(t, false, func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	f.hook(t, rc.URL, FormatJSON, WebinarEnded)
	d := f.start(t, func(c *Config) { c.Queue, c.Workers, c.Timeout = 4, 1, time.Minute })
	d.Emit(WebinarEnded, f.w.ID, nil)
	rc.wait(t, 1) // the only worker now hangs
	done := make(chan struct{})
	go func() {
		for range 1000 {
			d.Emit(WebinarEnded, f.w.ID, nil)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit blocked behind a hanging receiver")
	}
	if rc.count() != 1 {
		t.Fatalf("receiver got %d requests while the first hangs", rc.count())
	}
	if dropped := testutil.ToFloat64(d.m.dropped); dropped < 1000-2*4-1 {
		t.Fatalf("dropped %v of 1000 events with room for 8", dropped)
	}
}

// Without the loopback option, an endpoint that resolves to this machine is refused when
// connecting, whatever its URL says; so is a link-local address (cloud metadata), and for a
// host's endpoint a private one.
func TestDialGuard(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, true, nil)
	roots := x509.NewCertPool()
	roots.AddCert(rc.Certificate())
	h := f.hook(t, rc.URL, FormatJSON, WebinarEnded)
	d := f.start(t, func(c *Config) { c.AllowLoopback, c.RootCAs, c.Backoff = false, roots, []time.Duration{} })
	d.Emit(WebinarEnded, f.w.ID, nil)
	ds := f.deliveries(t, h.ID, 1)
	if ds[0].Status != 0 || !strings.Contains(ds[0].Error, "not allowed") || strings.Contains(ds[0].Error, rc.URL) {
		t.Fatalf("log %+v, want a refused connection that does not repeat the URL", ds[0])
	}
	if rc.count() != 0 {
		t.Fatal("the loopback receiver was reached")
	}
	admin, host := guardDial(false, true), guardDial(false, false)
	for _, addr := range []string{"169.254.169.254:443", "[::1]:443", "0.0.0.0:443", "[fe80::1]:443", "224.0.0.1:443"} {
		if admin("tcp", addr, nil) == nil || host("tcp", addr, nil) == nil {
			t.Errorf("%s allowed", addr)
		}
	}
	for _, addr := range []string{"10.0.0.5:443", "192.168.1.2:443", "[fd00::1]:443"} {
		if err := admin("tcp", addr, nil); err != nil {
			t.Errorf("account-wide endpoint at %s refused: %v", addr, err)
		}
		if host("tcp", addr, nil) == nil {
			t.Errorf("a host's endpoint may reach private %s", addr)
		}
	}
	for _, addr := range []string{"93.184.216.34:443", "[2001:db8::1]:443"} {
		if admin("tcp", addr, nil) != nil || host("tcp", addr, nil) != nil {
			t.Errorf("public %s refused", addr)
		}
	}
}

func TestCheckURL(t *testing.T) {
	cases := []struct {
		url      string
		loopback bool
		ok       bool
	}{
		{"https://hooks.example.org/lectern", false, true},
		{"https://hooks.slack.com/services/T0/B0/XXXX", false, true},
		{"http://hooks.example.org/lectern", false, false},
		{"http://hooks.example.org/lectern", true, false},
		{"http://127.0.0.1:8080/hook", false, false},
		{"http://127.0.0.1:8080/hook", true, true},
		{"http://localhost/hook", true, true},
		{"http://[::1]:9/hook", true, true},
		{"ftp://hooks.example.org/", false, false},
		{"https://user:pw@hooks.example.org/", false, false},
		{"https://hooks.example.org/#frag", false, false},
		{"hooks.example.org/lectern", false, false},
		{"https:///nohost", false, false},
		{"", false, false},
		{"https://x.example/" + strings.Repeat("a", maxURLLen), false, false},
	}
	for _, c := range cases {
		if err := CheckURL(c.url, c.loopback); (err == nil) != c.ok {
			t.Errorf("CheckURL(%q, %v) = %v, want ok %v", c.url, c.loopback, err, c.ok)
		}
	}
}

// Close cancels pending retries: nothing is delivered after it.
func TestCloseStopsRetries(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, false, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	f.hook(t, rc.URL, FormatJSON, WebinarEnded)
	d := f.start(t, func(c *Config) { c.Backoff = []time.Duration{200 * time.Millisecond} })
	d.Emit(WebinarEnded, f.w.ID, nil)
	rc.wait(t, 1)
	d.Close()
	d.Emit(WebinarEnded, f.w.ID, nil)
	time.Sleep(500 * time.Millisecond)
	if n := rc.count(); n != 1 {
		t.Fatalf("%d requests after Close, want the first only", n)
	}
}
