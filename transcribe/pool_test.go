package transcribe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// slowEngine is a test double for the pool: every call takes delay (or until ctx ends) and
// fails while failures > 0.
type slowEngine struct {
	delay    time.Duration
	failures atomic.Int64 // calls left that fail; negative: fail forever
	calls    atomic.Int64
	onCall   func()
}

func (e *slowEngine) Name() string   { return "slow" }
func (e *slowEngine) Region() string { return "local" }
func (e *slowEngine) Transcribe(ctx context.Context, pcm []float32, _ Options) (Result, error) {
	e.calls.Add(1)
	if e.onCall != nil {
		e.onCall()
	}
	select {
	case <-time.After(e.delay):
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	if f := e.failures.Load(); f < 0 || (f > 0 && e.failures.Add(-1) >= 0) {
		return Result{}, errors.New("engine down")
	}
	return Result{Text: fmt.Sprintf("said %d samples", len(pcm))}, nil
}

// streamEngine adds the Streamer interface to spanEngine.
type streamEngine struct {
	spanEngine
	streams atomic.Int64
	open    atomic.Int64
}

type fakeStream struct {
	e       *streamEngine
	n       int
	final   bool
	closed  bool
	written []int
}

func (e *streamEngine) NewStream(Options) (Stream, error) {
	e.streams.Add(1)
	e.open.Add(1)
	return &fakeStream{e: e}, nil
}
func (s *fakeStream) Write(pcm []float32) error {
	if s.final {
		return errors.New("write after final")
	}
	s.n += len(pcm)
	return nil
}
func (s *fakeStream) Partial() (string, error) {
	return strings.TrimSpace(strings.Repeat("word ", s.n/(SampleRate*3/10))), nil
}
func (s *fakeStream) Final() (Result, error) {
	s.final = true
	t, _ := s.Partial()
	return Result{Text: t}, nil
}
func (s *fakeStream) Close() error {
	if !s.closed {
		s.closed = true
		s.e.open.Add(-1)
	}
	return nil
}

// collector is a sink that records events.
type collector struct {
	mu     sync.Mutex
	events []Event
}

func (c *collector) sink(ev Event) {
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
}

func (c *collector) finals() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Event
	for _, e := range c.events {
		if e.Final {
			out = append(out, e)
		}
	}
	return out
}

// run feeds pcm through a new pipeline on pool as fast as possible and waits for its finals.
func run(pool *Pool, cfg Config, session string, pcm []float32, sink func(Event)) *pipeline {
	var mu sync.Mutex
	p := newPipeline(cfg.withDefaults(), pool, session, &mu, sink)
	for i := 0; i < len(pcm); i += 320 {
		p.feed(pcm[i:min(i+320, len(pcm))], time.Now())
	}
	p.flush()
	return p
}

func TestPoolOverload(t *testing.T) {
	speech := readWAV(t, "/work/shared/speech/real/real_jfk.wav")
	want := len(segment(t, DefaultConfig(), speech))

	cfg := DefaultConfig()
	cfg.Workers = 1
	cfg.QueueSize = 4
	cfg.PartialEvery = 500 * time.Millisecond
	reg := prometheus.NewRegistry()
	eng := &slowEngine{delay: 20 * time.Millisecond}
	var pool *Pool
	var maxPartials atomic.Int64
	eng.onCall = func() {
		if _, p := pool.queue.depth(); int64(p) > maxPartials.Load() {
			maxPartials.Store(int64(p))
		}
	}
	pool, err := NewPool(eng, cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// Six webinars speak at once, fed frame by frame in turn, far faster than real time.
	const webinars = 6
	cols := make([]*collector, webinars)
	var pipes []*pipeline
	var mu sync.Mutex
	for i := range cols {
		cols[i] = &collector{}
		pipes = append(pipes, newPipeline(cfg.withDefaults(), pool, fmt.Sprintf("w%d", i), &mu, cols[i].sink))
	}
	for i := 0; i < len(speech); i += 320 {
		for _, p := range pipes {
			p.feed(speech[i:min(i+320, len(speech))], time.Now())
		}
	}
	for _, p := range pipes {
		p.flush()
	}
	for _, p := range pipes {
		p.pending.Wait()
	}
	for i, c := range cols {
		f := c.finals()
		if len(f) != want {
			t.Errorf("webinar %d: %d finals, want %d", i, len(f), want)
		}
		for j, e := range f {
			if e.ID != utteranceID(fmt.Sprintf("w%d", i), j+1) || e.Failed || e.Text == "" {
				t.Errorf("webinar %d final %d: %+v", i, j, e)
			}
		}
	}
	if shed := testutil.ToFloat64(pool.metrics.shed.WithLabelValues("overload")); shed == 0 {
		t.Error("no partial was shed under overload")
	}
	if m := maxPartials.Load(); m > int64(cfg.QueueSize) {
		t.Errorf("%d partials queued, limit %d", m, cfg.QueueSize)
	}
	if n := testutil.CollectAndCount(reg, "lectern_transcribe_caption_lag_seconds"); n == 0 {
		t.Error("no lag histogram")
	}
}

func TestPoolRetriesThenSucceeds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RetryBackoff = time.Millisecond
	cfg.PartialEvery = 0
	eng := &slowEngine{}
	eng.failures.Store(2)
	pool, _ := NewPool(eng, cfg, nil)
	defer pool.Close()
	c := &collector{}
	speech := readWAV(t, "/work/shared/speech/real/real_ldc93s1.wav")
	run(pool, cfg, "s", concat(speech, silence(time.Second)), c.sink).pending.Wait()
	f := c.finals()
	if len(f) != 1 || f[0].Failed || f[0].Text == "" {
		t.Fatalf("finals %+v", f)
	}
	if got := testutil.ToFloat64(pool.metrics.engineErrors); got != 2 {
		t.Errorf("%v engine errors, want 2", got)
	}
}

func TestPoolEngineDownGivesFailedFinals(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RetryBackoff = time.Millisecond
	cfg.Retries = 3
	eng := &slowEngine{}
	eng.failures.Store(-1)
	pool, _ := NewPool(eng, cfg, nil)
	defer pool.Close()
	speech := readWAV(t, "/work/shared/speech/real/real_jfk.wav")
	want := segment(t, cfg, speech)
	c := &collector{}
	run(pool, cfg, "s", speech, c.sink).pending.Wait()
	f := c.finals()
	if len(f) != len(want) {
		t.Fatalf("%d finals, want %d (failed ones included)", len(f), len(want))
	}
	for i, e := range f {
		if !e.Failed || e.Text != "" || e.Error == "" {
			t.Errorf("final %d not failed: %+v", i, e)
		}
		if e.Start != want[i].Start || e.End != want[i].End {
			t.Errorf("failed final %d covers %v-%v, want %v-%v", i, e.Start, e.End, want[i].Start, want[i].End)
		}
	}
	if got, want := testutil.ToFloat64(pool.metrics.failed), float64(len(want)); got != want {
		t.Errorf("failed counter %v, want %v", got, want)
	}
	for _, e := range c.events {
		if !e.Final && e.Text != "" {
			t.Errorf("partial with text from a failing engine: %+v", e)
		}
	}
}

// Partials carry their final's ID, come before it, and none follows it; a streaming engine's
// streams are all closed.
func TestPoolPartialsThenFinal(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(fmt.Sprintf("streaming=%v", streaming), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Workers = 2
			var eng Engine = &spanEngine{}
			se := &streamEngine{}
			if streaming {
				eng = se
			}
			pool, _ := NewPool(eng, cfg, nil)
			c := &collector{}
			speech := readWAV(t, "/work/shared/speech/real/real_jfk.wav")
			// Feed in real time's order but faster; partials need the pool to keep up, so
			// wait for each partial's slot instead of racing ahead.
			var mu sync.Mutex
			p := newPipeline(cfg.withDefaults(), pool, "s", &mu, c.sink)
			for i := 0; i < len(speech); i += 320 {
				p.feed(speech[i:min(i+320, len(speech))], time.Now())
				for {
					if f, q := pool.queue.depth(); f+q == 0 {
						break
					}
					time.Sleep(time.Millisecond)
				}
			}
			p.flush()
			p.pending.Wait()
			pool.Close()

			finalSeen := map[string]bool{}
			partials := map[string]int{}
			for _, e := range c.events {
				if finalSeen[e.ID] {
					t.Errorf("event after final: %+v", e)
				}
				if e.Final {
					finalSeen[e.ID] = true
				} else {
					partials[e.ID]++
				}
			}
			total := 0
			for id, n := range partials {
				if !finalSeen[id] {
					t.Errorf("partials of %s have no final", id)
				}
				total += n
			}
			if total == 0 {
				t.Error("no partials")
			}
			if streaming && (se.streams.Load() == 0 || se.open.Load() != 0) {
				t.Errorf("streams: %d opened, %d still open", se.streams.Load(), se.open.Load())
			}
		})
	}
}

func TestQueueFinalsFirstAndSupersede(t *testing.T) {
	m, _ := newMetrics(nil)
	q := newJobQueue(2, m)
	u1, u2, u3 := &utterance{}, &utterance{}, &utterance{}
	q.push(&job{u: u1, pcm: make([]float32, 1)})
	q.push(&job{u: u2, pcm: make([]float32, 1)})
	q.push(&job{u: u1, pcm: make([]float32, 2)}) // replaces u1's queued partial in place
	q.push(&job{u: u3, final: true})
	q.push(&job{u: u3, pcm: make([]float32, 1)}) // over the limit: u1's (oldest) is shed
	want := []struct {
		u     *utterance
		final bool
	}{{u3, true}, {u2, false}, {u3, false}}
	for i, w := range want {
		j := q.pop()
		if j.u != w.u || j.final != w.final {
			t.Errorf("pop %d: got %p final=%v", i, j.u, j.final)
		}
	}
	if got := testutil.ToFloat64(m.shed.WithLabelValues("superseded")); got != 1 {
		t.Errorf("superseded %v", got)
	}
	if got := testutil.ToFloat64(m.shed.WithLabelValues("overload")); got != 1 {
		t.Errorf("overload %v", got)
	}
	q.close()
	if j := q.pop(); j != nil {
		t.Errorf("pop after close: %+v", j)
	}
}

// Two pools may share one registry.
func TestPoolsShareRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	for range 2 {
		p, err := NewPool(&spanEngine{}, DefaultConfig(), reg)
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
	}
}
