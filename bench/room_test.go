package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"lectern/api"
	"lectern/broadcast"
	"lectern/captions"
	"lectern/live"
	"lectern/models"
	"lectern/room"
)

// newRoomServer is the real API over a real SQLite file, served on loopback as lectern serve
// does (api.ConnContext included), with a public webinar. queue is the room's per-client queue.
func newRoomServer(t *testing.T, queue int) (url, webinar string) {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	log := slog.New(slog.DiscardHandler)
	bc, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}, Logger: log}, reg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "Load"})
	if err != nil {
		t.Fatal(err)
	}
	lm := live.New(live.Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: log})
	srv := httptest.NewUnstartedServer(api.New(api.Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: log,
		Room: room.NewManager(log, 0, queue)}))
	srv.Config.ConnContext = api.ConnContext
	srv.Start()
	t.Cleanup(func() {
		lm.Close()
		srv.Close()
		bc.Close()
		store.Close()
	})
	return srv.URL, w.ID
}

// The live channel under load, at a scale `make test` affords: every one of 200 clients gets
// every chat message of 10 senders once and in order, a client that never reads is dropped
// while the others keep receiving, and the server's goroutines return to their count before
// the clients came. The server keeps its default cap of streams per address: the clients
// come from several loopback addresses. No latency is asserted here; BENCHMARKS.md has the
// figures of `lectern bench room`.
func TestRoomChannelUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	url, webinar := newRoomServer(t, 64)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	rep, err := Room(ctx, RoomConfig{URL: url, Webinar: webinar, Clients: 200, Senders: 10, Rate: 50,
		Messages: 300, TextBytes: 1000, Settle: 30 * time.Second, GoroutineWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
	if rep.SourceAddrsUsed < 2 {
		t.Errorf("clients came from %d address(es): the stream cap was not exercised", rep.SourceAddrsUsed)
	}
	if !rep.ServerScraped || rep.GoroutinesDuring < rep.GoroutinesBefore+200 {
		t.Errorf("goroutines %.0f before, %.0f with 200 clients: the count does not see the clients", rep.GoroutinesBefore, rep.GoroutinesDuring)
	}
	// Memory comes back too, once collected (the server is this process: collect it here).
	runtime.GC()
	after, err := scrape(ctx, http.DefaultClient, url+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if after.heap > rep.HeapBeforeMB*1e6+16e6 {
		t.Errorf("heap in use %.1f MB after the clients left and a GC, %.1f MB before", after.heap/1e6, rep.HeapBeforeMB)
	}
	// The stalled client fell behind and was cut off before the end, not merely slow.
	if rep.StalledGot >= rep.Acked {
		t.Errorf("stalled client got %d of %d messages", rep.StalledGot, rep.Acked)
	}
}

// A stamp survives the trip through chat JSON, and other text is not taken for one.
func TestChatStamp(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	text := chatText(3, 42, at, 100)
	if len(text) != 100 {
		t.Fatalf("text is %d bytes, want 100", len(text))
	}
	data := []byte(`{"id":7,"from":"p","name":"sender 3","role":"attendee","to":"everyone","text":"` + text + `","at":"x"}`)
	sender, seq, sent, ok := readChatStamp(data)
	if !ok || sender != 3 || seq != 42 || sent != at.UnixNano() {
		t.Fatalf("readChatStamp = %d %d %d %v", sender, seq, sent, ok)
	}
	for _, bad := range []string{`{"text":"hello"}`, `{"text":"lb 1 2"}`, `{"text":"lb 1 x 3"}`, `{"text":"lb 99999999999999999999 1 1"}`} {
		if _, _, _, ok := readChatStamp([]byte(bad)); ok {
			t.Errorf("%s read as a stamp", bad)
		}
	}
}

// A client's tally counts a repeated message as a duplicate and a message or event id going
// back as out of order: the checks the load test relies on can fail.
func TestTallyCatchesDuplicatesAndDisorder(t *testing.T) {
	tl := newTally(2, 8)
	at := time.Now()
	msg := func(sender, seq int) []byte {
		return []byte(`{"text":"` + chatText(sender, seq, at, 0) + `"}`)
	}
	tl.event(1, true, msg(0, 0), at)
	tl.event(2, true, msg(1, 0), at)
	tl.event(3, true, msg(0, 0), at) // duplicate
	tl.event(4, true, msg(0, 2), at)
	tl.event(5, true, msg(0, 1), at) // sender 0 going back
	tl.event(5, false, nil, at)      // event id not growing
	if tl.dups != 1 || tl.outOfOrder != 2 || tl.total() != 4 {
		t.Fatalf("dups %d, out of order %d, total %d; want 1, 2, 4", tl.dups, tl.outOfOrder, tl.total())
	}
}

func FuzzReadChatStamp(f *testing.F) {
	f.Add([]byte(`{"text":"lb 1 2 3"}`))
	f.Add([]byte(`"text":"lb `))
	f.Add([]byte(`"text":"lb 1 2 99999999999999999999`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, q, _, ok := readChatStamp(b); ok && (s < 0 || q < 0) {
			t.Fatalf("negative stamp %d %d accepted", s, q)
		}
	})
}
