package transcribe

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// latencyCount is how many engine calls of a kind the pool's histogram saw.
func latencyCount(t *testing.T, reg *prometheus.Registry, kind string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "lectern_transcribe_engine_latency_seconds" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetValue() == kind {
					return m.Histogram.GetSampleCount()
				}
			}
		}
	}
	return 0
}

// runPaced feeds pcm in 20 ms chunks, waiting for the queue to drain after each, so what the
// pool does does not depend on scheduling.
func runPaced(t *testing.T, cfg Config, pcm []float32) ([]Event, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	pool, err := NewPool(&spanEngine{}, cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c := &collector{}
	var mu sync.Mutex
	p := newPipeline(cfg.withDefaults(), pool, "s", &mu, c.sink)
	for i := 0; i < len(pcm); i += FrameSamples {
		p.feed(pcm[i:min(i+FrameSamples, len(pcm))], time.Now())
		for {
			if f, q := pool.queue.depth(); f+q == 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	p.flush()
	p.pending.Wait()
	return c.finals(), reg
}

func TestEarlyFinalUsed(t *testing.T) {
	_, pcm := sentencePair(t)
	cfg := DefaultConfig()
	cfg.PartialEvery = 0
	cfg.EarlyFinal = false
	want, _ := runPaced(t, cfg, pcm)
	cfg.EarlyFinal = true
	got, reg := runPaced(t, cfg, pcm)
	if len(got) != len(want) || len(got) != 2 {
		t.Fatalf("%d finals with early finals, %d without", len(got), len(want))
	}
	for i := range got {
		if got[i].Text != want[i].Text || got[i].Start != want[i].Start || got[i].End != want[i].End {
			t.Errorf("final %d: %+v, without speculation %+v", i, got[i], want[i])
		}
	}
	if s, f := latencyCount(t, reg, "speculative"), latencyCount(t, reg, "final"); s != 2 || f != 0 {
		t.Errorf("%d speculative and %d final engine calls, want 2 and 0", s, f)
	}
}

// A pause shorter than MinSilence starts a speculation that must not become the final.
func TestEarlyFinalDiscarded(t *testing.T) {
	dir := t.TempDir()
	a := readWAV(t, flite(t, dir, "a", "The quick brown fox jumps over the lazy dog."))
	b := readWAV(t, flite(t, dir, "b", "Captions appear while the teacher speaks."))
	pcm := mix(concat(silence(time.Second), a, silence(500*time.Millisecond), b, silence(2*time.Second)),
		whiteNoise(10*time.Second, 0.0005, 1))
	cfg := DefaultConfig()
	cfg.PartialEvery = 0
	cfg.MinSilence = 1500 * time.Millisecond
	cfg.EarlyFinal = false
	want, _ := runPaced(t, cfg, pcm)
	cfg.EarlyFinal = true
	got, reg := runPaced(t, cfg, pcm)
	if len(want) != 1 || len(got) != 1 {
		t.Fatalf("%d finals with early finals, %d without; want 1", len(got), len(want))
	}
	if got[0].Text != want[0].Text || got[0].End != want[0].End {
		t.Errorf("final %+v, without speculation %+v", got[0], want[0])
	}
	if s := latencyCount(t, reg, "speculative"); s < 2 {
		t.Errorf("%d speculative calls, want one discarded and one used", s)
	}
}
