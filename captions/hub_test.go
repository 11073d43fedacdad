package captions

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func newTestHub(t testing.TB, cfg HubConfig) (*Hub, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(reg)
	}
	cfg.Webinar = "w-" + t.Name()
	h := NewHub(cfg)
	t.Cleanup(h.Close)
	return h, reg
}

func TestSubscribersGetIdenticalBytes(t *testing.T) {
	h, reg := newTestHub(t, HubConfig{})
	const n = 50
	subs := make([]*Subscriber, n)
	for i := range subs {
		subs[i] = h.Subscribe("en")
	}
	other := h.Subscribe("es")
	var sent []Caption
	for i := 1; i <= 10; i++ {
		c := Caption{ID: fmt.Sprintf("u%d", i/2), Seq: h.NextSeq(), Final: i%2 == 0, Text: fmt.Sprintf("text %d", i), Lang: "en"}
		h.Publish(c)
		sent = append(sent, c)
	}
	firstSub := make([]Frame, len(sent))
	for i, s := range subs {
		if got := len(s.Frames()); got != len(sent) {
			t.Fatalf("sub %d has %d frames queued, want %d", i, got, len(sent))
		}
		for j, want := range sent {
			f := <-s.Frames()
			if got := decodeFrame(t, f); got != want {
				t.Fatalf("sub %d frame %d: got %+v want %+v", i, j, got, want)
			}
			if string(f.SSE) != string(Encode(want).SSE) {
				t.Fatalf("sub %d frame %d: bytes differ from Encode", i, j)
			}
			if i == 0 {
				firstSub[j] = f
			} else if &f.SSE[0] != &firstSub[j].SSE[0] || &f.JSON[0] != &firstSub[j].JSON[0] {
				// Marshal once: every subscriber holds the very same backing array.
				t.Fatalf("sub %d frame %d: not the same bytes as sub 0's", i, j)
			}
		}
	}
	if len(other.Frames()) != 0 {
		t.Errorf("es subscriber got %d en frames", len(other.Frames()))
	}
	if got := metricValue(t, reg, "lectern_captions_frames_delivered_total"); got != n*10 {
		t.Errorf("delivered = %v, want %d", got, n*10)
	}
	if got := metricValue(t, reg, "lectern_captions_published_total", "type", "final"); got != 5 {
		t.Errorf("published finals = %v, want 5", got)
	}
	if got := metricValue(t, reg, "lectern_captions_subscribers"); got != n+1 {
		t.Errorf("subscribers gauge = %v, want %d", got, n+1)
	}
}

// A subscriber that never reads is dropped once its queue is full; one that keeps up gets
// every event, in order, and never waits on the stuck one.
func TestStuckSubscriberDropped(t *testing.T) {
	const queue = 4
	h, reg := newTestHub(t, HubConfig{ClientQueue: queue})
	stuck := h.Subscribe("en")
	live := h.Subscribe("en")
	const events = 100
	for i := 1; i <= events; i++ {
		c := Caption{ID: "u", Seq: int64(i), Final: true, Text: "x", Lang: "en"}
		h.Publish(c)
		// The live reader reads each event as it comes: it must always find it queued.
		select {
		case f := <-live.Frames():
			if f.Seq != int64(i) {
				t.Fatalf("live reader got seq %d, want %d", f.Seq, i)
			}
		default:
			t.Fatalf("live reader: event %d not delivered", i)
		}
	}
	var got []int64
	for f := range stuck.Frames() { // closed by the hub, so this ends
		got = append(got, f.Seq)
	}
	if want := []int64{1, 2, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("stuck subscriber had %v queued, want %v", got, want)
	}
	if !errors.Is(stuck.Err(), ErrTooSlow) {
		t.Errorf("stuck.Err() = %v, want ErrTooSlow", stuck.Err())
	}
	if live.Err() != nil {
		t.Errorf("live.Err() = %v", live.Err())
	}
	if got := h.Languages(); !reflect.DeepEqual(got, map[string]int{"en": 1}) {
		t.Errorf("Languages() = %v", got)
	}
	if got := metricValue(t, reg, "lectern_captions_subscribers_dropped_total", "reason", "queue_full"); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
	if got := metricValue(t, reg, "lectern_captions_subscribers"); got != 1 {
		t.Errorf("subscribers gauge = %v, want 1", got)
	}
	stuck.Close() // after a drop: a no-op, and the reason stays
	if !errors.Is(stuck.Err(), ErrTooSlow) {
		t.Errorf("after Close, Err() = %v", stuck.Err())
	}
}

func TestDemandCallbacks(t *testing.T) {
	type ev struct {
		lang    string
		readers int
	}
	var mu sync.Mutex
	var got []ev
	var h *Hub
	h, _ = newTestHub(t, HubConfig{ClientQueue: 1, OnDemand: func(lang string, readers int) {
		_ = h.Languages() // the callback may call the hub: no lock is held
		mu.Lock()
		got = append(got, ev{lang, readers})
		mu.Unlock()
	}})
	en1 := h.Subscribe("en")
	en2 := h.Subscribe("en")
	es := h.Subscribe("es")
	if l := h.Languages(); !reflect.DeepEqual(l, map[string]int{"en": 2, "es": 1}) {
		t.Errorf("Languages() = %v", l)
	}
	en1.Close()
	en1.Close()
	en2.Close()
	h.Publish(Caption{Lang: "es", Text: "uno"})
	h.Publish(Caption{Lang: "es", Text: "dos"}) // queue of 1 is full: es dropped, 1→0
	if !errors.Is(es.Err(), ErrTooSlow) {
		t.Errorf("es.Err() = %v", es.Err())
	}
	h.Subscribe("fr")
	h.Subscribe("de")
	h.Close()
	h.Close()
	mu.Lock()
	defer mu.Unlock()
	want := []ev{{"en", 1}, {"es", 1}, {"en", 0}, {"es", 0}, {"fr", 1}, {"de", 1}}
	if len(got) < len(want) || !reflect.DeepEqual(got[:len(want)], want) {
		t.Fatalf("demand events %v, want prefix %v", got, want)
	}
	// Close reports 0 for every language left, in map order.
	rest := map[ev]bool{}
	for _, e := range got[len(want):] {
		rest[e] = true
	}
	if !reflect.DeepEqual(rest, map[ev]bool{{"fr", 0}: true, {"de", 0}: true}) || len(got) != len(want)+2 {
		t.Errorf("events at Close: %v", got[len(want):])
	}
}

func TestClose(t *testing.T) {
	h, reg := newTestHub(t, HubConfig{})
	a, b := h.Subscribe("en"), h.Subscribe("es")
	h.Close()
	for _, s := range []*Subscriber{a, b} {
		if _, open := <-s.Frames(); open {
			t.Errorf("%s: Frames still open after Close", s.Lang())
		}
		if !errors.Is(s.Err(), ErrHubClosed) {
			t.Errorf("%s: Err() = %v", s.Lang(), s.Err())
		}
		s.Close()
	}
	h.Publish(Caption{Lang: "en"}) // no-op, no panic
	late := h.Subscribe("en")
	if _, open := <-late.Frames(); open || !errors.Is(late.Err(), ErrHubClosed) {
		t.Errorf("Subscribe after Close: open=%v err=%v", open, late.Err())
	}
	if _, _, err := h.Resume("en", 0, func(string, int64) ([]Caption, error) { return nil, nil }); !errors.Is(err, ErrHubClosed) {
		t.Errorf("Resume after Close: %v", err)
	}
	if got := metricValue(t, reg, "lectern_captions_subscribers"); got != 0 {
		t.Errorf("subscribers gauge = %v", got)
	}
	if len(h.Languages()) != 0 {
		t.Errorf("Languages() after Close = %v", h.Languages())
	}
}

func TestNextSeq(t *testing.T) {
	h, _ := newTestHub(t, HubConfig{StartSeq: 41})
	if got := h.NextSeq(); got != 42 {
		t.Fatalf("first NextSeq = %d, want 42", got)
	}
	var wg sync.WaitGroup
	seen := make(chan int64, 400)
	for range 4 {
		wg.Go(func() {
			for range 100 {
				seen <- h.NextSeq()
			}
		})
	}
	wg.Wait()
	close(seen)
	uniq := map[int64]bool{}
	for s := range seen {
		if s <= 42 || s > 442 || uniq[s] {
			t.Fatalf("seq %d out of range or repeated", s)
		}
		uniq[s] = true
	}
}

// Publishers, subscribers coming and going, readers and Close all at once: no panic (a send
// on a closed channel would), no deadlock, and every channel ends closed. Run with -race.
func TestConcurrentPublishSubscribeClose(t *testing.T) {
	h, reg := newTestHub(t, HubConfig{ClientQueue: 8, OnDemand: func(string, int) {}})
	langs := []string{"en", "es", "fr"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for p := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				h.Publish(Caption{Seq: h.NextSeq(), Final: i%3 == 0, Lang: langs[(p+i)%3], Text: "x"})
			}
		})
	}
	var readers sync.WaitGroup
	for r := range 12 {
		readers.Go(func() {
			for i := 0; i < 60; i++ {
				s := h.Subscribe(langs[(r+i)%3])
				for j := 0; j < r%4; j++ {
					if _, ok := <-s.Frames(); !ok {
						break
					}
				}
				if r%2 == 0 {
					s.Close()
				} // odd readers leave their subscriber to be dropped or closed by the hub
			}
		})
	}
	readers.Wait()
	h.Close()
	close(stop)
	wg.Wait()
	if got := metricValue(t, reg, "lectern_captions_subscribers"); got != 0 {
		t.Errorf("subscribers gauge after Close = %v", got)
	}
}
