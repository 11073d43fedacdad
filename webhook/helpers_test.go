package webhook

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"lectern/models"
)

// received is one request a receiver got.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is a real HTTP server standing for a customer's endpoint: it records every
// request and answers with whatever answer says (200 when nil).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	notify chan struct{}
	answer func(n int, w http.ResponseWriter, r *http.Request) // n: 1 for the first request
}

func newReceiver(t *testing.T, tls bool, answer func(int, http.ResponseWriter, *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{notify: make(chan struct{}, 1000), answer: answer}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{at: time.Now(), header: r.Header.Clone(), body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		rc.notify <- struct{}{}
		if rc.answer != nil {
			rc.answer(n, w, r)
		}
	})
	if tls {
		rc.Server = httptest.NewTLSServer(h)
	} else {
		rc.Server = httptest.NewServer(h)
	}
	t.Cleanup(rc.Close)
	return rc
}

// wait blocks until the receiver got n requests in all, failing the test after 20 s.
func (rc *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		rc.mu.Lock()
		got := append([]received(nil), rc.got...)
		rc.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-rc.notify:
		case <-deadline:
			t.Fatalf("receiver got %d requests, want %d", len(got), n)
		}
	}
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got)
}

// fixture is a real SQLite store with one webinar.
type fixture struct {
	store *models.Store
	w     models.Webinar
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := st.CreateWebinar(ctx, models.NewWebinar{Title: "Physics 101"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{store: st, w: w}
}

// hook registers an endpoint for the fixture's webinar.
func (f fixture) hook(t *testing.T, url, format string, events ...string) models.Webhook {
	t.Helper()
	h, err := f.store.CreateWebhook(context.Background(), models.Webhook{WebinarID: f.w.ID, URL: url, Secret: "whsec_test",
		Events: events, Format: format})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// start is a dispatcher on the fixture's store that may reach loopback receivers; edit
// changes its config.
func (f fixture) start(t *testing.T, edit func(*Config)) *Dispatcher {
	t.Helper()
	cfg := Config{Store: f.store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AllowLoopback: true}
	if edit != nil {
		edit(&cfg)
	}
	d := New(cfg)
	t.Cleanup(d.Close)
	return d
}

// deliveries waits until the endpoint's log has n attempts and returns them oldest first.
func (f fixture) deliveries(t *testing.T, hook string, n int) []models.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds, err := f.store.WebhookDeliveries(context.Background(), hook, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) >= n {
			for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
				ds[i], ds[j] = ds[j], ds[i]
			}
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log has %d attempts, want %d", len(ds), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
