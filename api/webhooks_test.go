package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/models"
	"lectern/record"
	"lectern/webhook"
)

// hookSink is a real HTTP server standing for a customer's webhook endpoint.
type hookSink struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	notify chan struct{}
	hang   chan struct{} // when not nil, every request waits for it to close
}

func newHookSink(t *testing.T, hang chan struct{}) *hookSink {
	t.Helper()
	k := &hookSink{notify: make(chan struct{}, 1000), hang: hang}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		k.bodies = append(k.bodies, b)
		k.sigs = append(k.sigs, r.Header.Get(webhook.SignatureHeader))
		k.mu.Unlock()
		k.notify <- struct{}{}
		if k.hang != nil {
			select {
			case <-k.hang:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(k.Close)
	return k
}

// waitFor returns the deliveries once at least n arrived (20 s at most).
func (k *hookSink) waitFor(t *testing.T, n int) [][]byte {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		k.mu.Lock()
		got := append([][]byte(nil), k.bodies...)
		k.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-k.notify:
		case <-deadline:
			t.Fatalf("webhook receiver got %d deliveries, want %d", len(got), n)
		}
	}
}

func (k *hookSink) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.bodies)
}

// withWebhooks gives the server a dispatcher that may deliver to loopback receivers.
func withWebhooks(t *testing.T, edit func(*webhook.Config)) func(*Deps) {
	return func(d *Deps) {
		cfg := webhook.Config{Store: d.Store, Logger: quietLogger(), AllowLoopback: true, Backoff: []time.Duration{}}
		if edit != nil {
			edit(&cfg)
		}
		d.Webhooks = webhook.New(cfg)
		t.Cleanup(d.Webhooks.Close)
	}
}

type createdHook struct {
	ID     string   `json:"id"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
	Format string   `json:"format"`
}

func TestWebhookRegistration(t *testing.T) {
	s := newAuthServer(t, nil)
	ctx := context.Background()
	admin := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	h := s.user(t, "host@school.example", false)
	host := creds{session: s.session(t, h)}
	w := s.webinar(t, h, models.VisibilityPublic, "")
	co := s.user(t, "co@school.example", false)
	if err := s.store.SetMember(ctx, w.ID, co.ID, models.RoleCohost); err != nil {
		t.Fatal(err)
	}
	cohost := creds{session: s.session(t, co)}
	other := creds{session: s.session(t, s.user(t, "other@school.example", false))}

	r := s.call(t, admin, "POST", "/api/admin/webhooks", js,
		`{"url":"https://hooks.slack.com/services/T0/B0/XYZ","events":["webinar.ended","webinar.ended"],"format":"slack","description":"#teachers"}`)
	if r.status != 201 {
		t.Fatalf("admin registers: %d %s", r.status, r.body)
	}
	var acct createdHook
	r.json(t, &acct)
	if !strings.HasPrefix(acct.Secret, "whsec_") || len(acct.Secret) < 40 || strings.Join(acct.Events, ",") != "webinar.ended" || acct.Format != "slack" {
		t.Fatalf("created %s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("the answer with the secret may be cached")
	}
	list := s.call(t, admin, "GET", "/api/admin/webhooks", "", "")
	if list.status != 200 || !strings.Contains(list.body, acct.ID) || strings.Contains(list.body, acct.Secret) || strings.Contains(list.body, "secret") {
		t.Fatalf("list %d %s: want the endpoint without its secret", list.status, list.body)
	}

	// Bad input: 400 with a JSON error, and nothing stored.
	for _, body := range []string{
		`{"url":"http://hooks.example.org/x","events":["webinar.ended"]}`,
		`{"url":"http://127.0.0.1:9/x","events":["webinar.ended"]}`, // loopback only with the dev option
		`{"url":"https://hooks.example.org/x","events":["webinar.exploded"]}`,
		`{"url":"https://hooks.example.org/x","events":[]}`,
		`{"url":"https://hooks.example.org/x","events":["webinar.ended"],"format":"xml"}`,
		`{"url":"https://u:p@hooks.example.org/x","events":["webinar.ended"]}`,
		`{"url":"hooks.example.org","events":["webinar.ended"]}`,
	} {
		r := s.call(t, admin, "POST", "/api/admin/webhooks", js, body)
		var e apiError
		if r.status != 400 || json.Unmarshal([]byte(r.body), &e) != nil || e.Error == "" {
			t.Errorf("%s: %d %s, want 400 with an error", body, r.status, r.body)
		}
		if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/webhooks", js, body); r.status != 400 {
			t.Errorf("host %s: %d %s, want 400", body, r.status, r.body)
		}
	}
	if hs, _ := s.store.Webhooks(ctx, "", true); len(hs) != 1 {
		t.Fatalf("%d endpoints after refused requests, want 1", len(hs))
	}

	// Only admins manage account-wide endpoints; only the webinar's host its own.
	good := `{"url":"https://hooks.example.org/x","events":["participant.joined","webinar.started"]}`
	for _, c := range []struct {
		who  creds
		path string
		want int
	}{
		{host, "/api/admin/webhooks", 403}, {creds{}, "/api/admin/webhooks", 401},
		{cohost, "/api/webinars/" + w.ID + "/webhooks", 403}, {other, "/api/webinars/" + w.ID + "/webhooks", 403},
		{creds{}, "/api/webinars/" + w.ID + "/webhooks", 401},
	} {
		if r := s.call(t, c.who, "POST", c.path, js, good); r.status != c.want {
			t.Errorf("POST %s: %d %s, want %d", c.path, r.status, r.body, c.want)
		}
		if r := s.call(t, c.who, "GET", c.path, "", ""); r.status != c.want {
			t.Errorf("GET %s: %d, want %d", c.path, r.status, c.want)
		}
	}
	if hs, _ := s.store.Webhooks(ctx, "", true); len(hs) != 1 {
		t.Fatalf("%d endpoints after forbidden requests, want 1", len(hs))
	}

	r = s.call(t, host, "POST", "/api/webinars/"+w.ID+"/webhooks", js, good)
	if r.status != 201 {
		t.Fatalf("host registers: %d %s", r.status, r.body)
	}
	var own createdHook
	r.json(t, &own)
	mine := s.call(t, host, "GET", "/api/webinars/"+w.ID+"/webhooks", "", "")
	if mine.status != 200 || !strings.Contains(mine.body, own.ID) || strings.Contains(mine.body, acct.ID) || strings.Contains(mine.body, own.Secret) {
		t.Fatalf("host's list %s: want only the webinar's endpoint, no secret", mine.body)
	}
	// The host cannot reach the account-wide endpoint through the webinar.
	if r := s.call(t, host, "DELETE", "/api/webinars/"+w.ID+"/webhooks/"+acct.ID, "", ""); r.status != 404 {
		t.Fatalf("host deletes the account's endpoint: %d", r.status)
	}
	if r := s.call(t, admin, "GET", "/api/admin/webhooks/"+own.ID+"/deliveries", "", ""); r.status != 200 || r.body != "[]\n" {
		t.Fatalf("deliveries: %d %q", r.status, r.body)
	}
	if r := s.call(t, admin, "GET", "/api/admin/webhooks/nosuch/deliveries", "", ""); r.status != 404 {
		t.Fatalf("deliveries of nothing: %d", r.status)
	}
	if r := s.call(t, admin, "GET", "/api/admin/webhooks/"+own.ID+"/deliveries?limit=0", "", ""); r.status != 400 {
		t.Fatalf("limit=0: %d", r.status)
	}
	if r := s.call(t, host, "DELETE", "/api/webinars/"+w.ID+"/webhooks/"+own.ID, "", ""); r.status != 204 {
		t.Fatalf("host deletes own: %d %s", r.status, r.body)
	}
	if r := s.call(t, admin, "DELETE", "/api/admin/webhooks/"+acct.ID, "", ""); r.status != 204 {
		t.Fatalf("admin deletes: %d %s", r.status, r.body)
	}
	if r := s.call(t, admin, "DELETE", "/api/admin/webhooks/"+acct.ID, "", ""); r.status != 404 {
		t.Fatalf("delete twice: %d", r.status)
	}
	ev, err := s.store.AuditEvents(ctx, auditFilter("webhook.created"))
	if err != nil || len(ev) != 2 || strings.Contains(string(ev[0].Detail)+string(ev[1].Detail), "XYZ") {
		t.Fatalf("audit %+v %v: want two events without the URL's secret path", ev, err)
	}
}

// A receiver that never answers does not slow POST /join (nor POST /end): every request is
// answered while the only delivery worker is stuck on it and the queues overflow.
func TestHangingReceiverDoesNotBlockJoin(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	sink := newHookSink(t, hang)
	s, w, host := roomSetup(t, withWebhooks(t, func(c *webhook.Config) {
		c.Workers, c.Queue, c.JoinWindow, c.Timeout = 1, 2, 20*time.Millisecond, time.Minute
	}))
	if r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/webhooks", map[string]any{"url": sink.URL, "events": []string{"participant.joined", "webinar.ended"}}); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	joinAs(t, s, w.ID, "First", creds{}, 201)
	sink.waitFor(t, 1) // the worker now hangs on the receiver
	var slowest time.Duration
	for i := range 60 {
		start := time.Now()
		joinAs(t, s, w.ID, fmt.Sprintf("P%d", i), creds{}, 201)
		if i%20 == 19 {
			time.Sleep(30 * time.Millisecond) // let windows close so batches queue up and overflow
		}
		slowest = max(slowest, time.Since(start))
	}
	for range 20 { // webinar.ended is queued from the request itself, not from a batch timer
		start := time.Now()
		if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/end", "", ""); r.status != 204 {
			t.Fatalf("end: %d %s", r.status, r.body)
		}
		slowest = max(slowest, time.Since(start))
	}
	if n := sink.count(); n != 1 {
		t.Fatalf("receiver got %d requests; the one it holds should block the only worker", n)
	}
	// The bound is the contract's ("never blocks"), generous for a loaded 2-core machine;
	// a blocked join would wait for the receiver's minute-long timeout.
	if slowest > 5*time.Second {
		t.Fatalf("slowest join took %s while the receiver hangs", slowest)
	}
}

// The webinar's life reaches its endpoints from where it happens: the presenter going live
// (once, not again on a reconnect), joins (batched), a recording stopping, the host ending it
// (with the transcript's links under --public-url), in JSON signed with the endpoint's secret
// and in Slack's format.
func TestWebhookEventsFromTheAPI(t *testing.T) {
	sink, slack := newHookSink(t, nil), newHookSink(t, nil)
	recDir := t.TempDir()
	s, w, host := roomSetup(t, func(d *Deps) {
		withWebhooks(t, func(c *webhook.Config) { c.JoinWindow = time.Second })(d)
		d.PublicURL, d.EngineName = "https://webinars.example.org/", "test"
		m, err := record.NewManager(filepath.Join(recDir, "rec"), d.Broadcast, prometheus.NewRegistry(), quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		d.Recorder = m
	})
	admin := creds{session: s.session(t, s.user(t, "admin@school.example", true))}
	r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/webhooks", map[string]any{"url": sink.URL, "events": webhook.Types})
	var hook createdHook
	r.json(t, &hook)
	if r := s.postJSON(t, admin, "/api/admin/webhooks", map[string]any{"url": slack.URL, "events": []string{"webinar.ended"}, "format": "slack"}); r.status != 201 {
		t.Fatalf("register slack: %d %s", r.status, r.body)
	}

	offer := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	for range 2 { // the second is a presenter reconnecting
		if r := s.call(t, creds{bearer: w.StreamKey}, "POST", "/whip/"+w.ID, "application/sdp", offer); r.status != 201 {
			t.Fatalf("whip: %d %s", r.status, r.body)
		}
	}
	for _, name := range []string{"Ada", "Grace", "Edsger"} {
		joinAs(t, s, w.ID, name, creds{}, 201)
	}
	for _, on := range []bool{true, false} {
		if r := s.postJSON(t, host, "/api/webinars/"+w.ID+"/recording", map[string]bool{"on": on}); r.status != 200 {
			t.Fatalf("recording %v: %d %s", on, r.status, r.body)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the join window closes before the end
	if r := s.call(t, host, "POST", "/api/webinars/"+w.ID+"/end", "", ""); r.status != 204 {
		t.Fatalf("end: %d %s", r.status, r.body)
	}

	bodies := sink.waitFor(t, 5) // started, joined, recording, ended, transcript
	time.Sleep(300 * time.Millisecond)
	if n := sink.count(); n != 5 {
		t.Fatalf("%d deliveries, want 5", n)
	}
	byType := map[string]map[string]any{}
	sink.mu.Lock()
	for i, b := range bodies {
		if err := webhook.Verify(hook.Secret, sink.sigs[i], b, time.Now()); err != nil {
			t.Errorf("delivery %d does not verify with the secret shown at registration: %v", i, err)
		}
		var ev struct {
			Type      string         `json:"type"`
			WebinarID string         `json:"webinar_id"`
			Data      map[string]any `json:"data"`
		}
		json.Unmarshal(b, &ev)
		if ev.WebinarID != w.ID {
			t.Errorf("%s for webinar %q", ev.Type, ev.WebinarID)
		}
		byType[ev.Type] = ev.Data
	}
	sink.mu.Unlock()
	base := "https://webinars.example.org"
	if d := byType["webinar.started"]; d == nil || d["watch_url"] != base+"/watch/"+w.ID {
		t.Errorf("started: %v", d)
	}
	if d := byType["participant.joined"]; d == nil || d["count"] != 3.0 {
		t.Errorf("joined: %v, want one batch of 3", d)
	}
	if d := byType["recording.ready"]; d == nil || !strings.HasPrefix(d["url"].(string), base+"/api/webinars/"+w.ID+"/recordings/") {
		t.Errorf("recording: %v", d)
	}
	transcript := base + "/api/webinars/" + w.ID + "/transcript.txt"
	if d := byType["webinar.ended"]; d == nil || d["transcript_url"] != transcript {
		t.Errorf("ended: %v", d)
	}
	if d := byType["transcript.ready"]; d == nil || d["formats"].(map[string]any)["srt"] != base+"/api/webinars/"+w.ID+"/transcript.srt" {
		t.Errorf("transcript: %v", d)
	}
	var msg map[string]string
	json.Unmarshal(slack.waitFor(t, 1)[0], &msg)
	if want := "Webinar “" + w.Title + "” has ended. <" + transcript + "|Transcript>"; msg["text"] != want {
		t.Errorf("slack %q, want %q", msg["text"], want)
	}
}
