package live

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/internal/region"
	"lectern/models"
	"lectern/transcribe"
)

// countingEngine is a speech engine in region "eu" that counts the audio it is given.
type countingEngine struct{ calls *atomic.Int64 }

func (e countingEngine) Name() string                    { return "counting" }
func (e countingEngine) Region() string                  { return "eu" }
func (e countingEngine) Warm(context.Context, int) error { return nil }
func (e countingEngine) Transcribe(context.Context, []float32, transcribe.Options) (transcribe.Result, error) {
	e.calls.Add(1)
	return transcribe.Result{Text: "words"}, nil
}

// A webinar whose regions leave out the engine's gets no audio tap (the engine is never
// handed its audio) and its caption readers are told why; allowing the region taps it, and
// the policy narrowing it again takes the tap away.
func TestEngineOutsideRegionsNeverHearsTheWebinar(t *testing.T) {
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	tc := transcribe.DefaultConfig()
	tc.Workers = 1
	pool, err := transcribe.NewPool(countingEngine{calls: &calls}, tc, reg)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Store: store, Broadcast: bc, Pool: pool, Transcribe: tc, Metrics: captions.NewMetrics(reg),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { m.Close(); pool.Close(); bc.Close(); store.Close() })
	<-pool.Warmed()
	warmCalls := calls.Load()

	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "T", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetWebinarRegions(ctx, w.ID, []string{"local"}); err != nil {
		t.Fatal(err)
	}
	if w, err = store.Webinar(ctx, w.ID); err != nil || len(w.Regions) != 1 {
		t.Fatalf("stored regions %v: %v", w.Regions, err)
	}
	r, err := m.Room(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if tapped(r) {
		t.Fatal("the room tapped audio for an engine in a region the webinar does not allow")
	}
	sub := r.Hub().Subscribe("en")
	defer sub.Close()
	if st := nextStatus(t, sub); st.State != "unavailable" || !strings.Contains(st.Reason, `"eu"`) {
		t.Fatalf("a new caption reader was told %+v, want unavailable naming region eu", st)
	}
	if got := m.Regions(w.ID).String(); got != "local" {
		t.Errorf("effective regions %q, want local", got)
	}

	// The host allows eu: the tap comes, audio reaches the engine, readers are told ok.
	w.Regions = []string{"eu", "local"}
	m.Update(w)
	if !tapped(r) {
		t.Fatal("allowing the engine's region did not tap the audio")
	}
	if st := nextStatus(t, sub); st.State != "ok" {
		t.Fatalf("after allowing: %+v, want ok", st)
	}
	pkts := opusRTP(t, "real_ldc93s1")
	tap := joinSpeaker(r, "k", "s", "Ada")
	for _, p := range pkts {
		tap.WriteAudio("s", p)
	}
	deadline := time.Now().Add(30 * time.Second)
	for calls.Load() == warmCalls {
		if time.Now().After(deadline) {
			t.Fatal("the engine never heard the allowed webinar")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The admin narrows the policy to local: the tap goes again.
	m.SetPolicyRegions(region.Of([]string{"local"}))
	if tapped(r) {
		t.Fatal("narrowing the policy left the audio tapped")
	}
	if got := m.Regions(w.ID).String(); got != "local" {
		t.Errorf("effective regions %q, want local", got)
	}
	// A webinar the store cannot find allows nothing.
	if m.Regions("nope").Allows("local") {
		t.Error("an unknown webinar's regions allow local")
	}
}

func tapped(r *Room) bool {
	r.tapMu.Lock()
	defer r.tapMu.Unlock()
	return r.taps != nil
}

// joinSpeaker puts a presenter on the room's stage tap as broadcast does at their first packet.
func joinSpeaker(r *Room, key, session, name string) broadcast.Tap {
	return speakers{r}.Join(broadcast.StageMember{Publisher: broadcast.Publisher{Key: key, Name: name}, Session: session})
}

func nextStatus(t *testing.T, sub *captions.Subscriber) captions.Status {
	t.Helper()
	for {
		f := next(t, sub)
		if !bytes.HasPrefix(f.SSE, []byte("event: status\n")) {
			continue
		}
		var st captions.Status
		if err := json.Unmarshal(f.JSON, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
}
