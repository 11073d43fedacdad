package transcribe

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// paceEngine takes factor × the audio's duration for every call, scaled by 1/scale (the test's
// clock runs scale times faster than real time). It warms instantly.
type paceEngine struct {
	factor, scale float64
	calls         atomic.Int64
	warms         atomic.Int64
}

func (e *paceEngine) Name() string   { return "pace" }
func (e *paceEngine) Region() string { return "local" }
func (e *paceEngine) Warm(context.Context, int) error {
	e.warms.Add(1)
	return nil
}
func (e *paceEngine) Transcribe(ctx context.Context, pcm []float32, _ Options) (Result, error) {
	e.calls.Add(1)
	d := time.Duration(e.factor / e.scale * float64(samplesToDur(int64(len(pcm)))))
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	return Result{Text: fmt.Sprintf("said %d samples", len(pcm))}, nil
}

// scaled divides every wall-clock setting of the overload control by k: audio is fed k
// times faster than real time, so behaviour is that of real time with k times the margin.
func scaled(cfg Config, k float64) Config {
	s := func(d time.Duration) time.Duration { return time.Duration(float64(d) / k) }
	cfg.MaxLag, cfg.ShedPartialsAt, cfg.FastFinalsAt, cfg.FillAfter = s(cfg.MaxLag), s(cfg.ShedPartialsAt), s(cfg.FastFinalsAt), s(cfg.FillAfter)
	return cfg
}

// Overload: an engine three times slower than real time captions a presenter who speaks in
// real time. Live captions stay within the documented bound (Config.MaxLag, 5 s), partials
// are shed before any audio is skipped, viewers are told (delayed, then paused, then ok),
// lectern_caption_lag_seconds shows the lag, and once the pool is idle every utterance that
// was skipped is filled from its retained audio, so the transcript has them all.
func TestOverloadBoundsLagAndFillsGaps(t *testing.T) {
	const k = 3 // the test's clock: real time / k
	var parts [][]float32
	for _, name := range []string{"real_ldc93s1", "real_harvard_sb_spk1_snt1", "real_harvard_sb_spk1_snt3", "real_goforward"} {
		parts = append(parts, silence(800*time.Millisecond), readWAV(t, "/work/shared/speech/real/"+name+".wav"))
	}
	// A short answer, cheap enough to caption live even on this engine.
	parts = append(parts, silence(800*time.Millisecond), readWAV(t, flite(t, t.TempDir(), "yes", "Yes.")))
	speech := concat(append(parts, silence(1500*time.Millisecond))...)
	path := filepath.Join(t.TempDir(), "talk.wav")
	writeWAV16(t, path, speech)
	pkts := rtpize(opusPackets(t, path), 3, 0, 0, 0)

	cfg := scaled(DefaultConfig(), k)
	cfg.Workers = 1
	reg := prometheus.NewRegistry()
	eng := &paceEngine{factor: 3, scale: k}
	pool, err := NewPool(eng, cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	<-pool.Warmed()
	if st := pool.Status(); !st.Ready || st.State != StatusOK {
		t.Fatalf("pool not ready and ok after warming: %+v", st)
	}

	var (
		mu        sync.Mutex
		events    []Event
		shedAtGap = -1.0
		shedTotal = func() float64 {
			return testutil.ToFloat64(pool.metrics.shed.WithLabelValues("late")) + testutil.ToFloat64(pool.metrics.shed.WithLabelValues("behind"))
		}
		maxGauge   float64
		stopSample = make(chan struct{})
		sampled    = make(chan struct{})
	)
	sink := func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Gap && shedAtGap < 0 {
			shedAtGap = shedTotal()
		}
		events = append(events, ev)
	}
	go func() { // what /metrics shows while the presenter speaks and the pool catches up
		defer close(sampled)
		for {
			select {
			case <-stopSample:
				return
			case <-time.After(20 * time.Millisecond):
				maxGauge = max(maxGauge, testutil.ToFloat64(pool.metrics.liveLag))
			}
		}
	}()

	live := feedLive(t, pool, cfg, pkts, 20*time.Millisecond/k, sink)
	defer live.Close()

	// The utterances the same packets give with an engine that keeps up.
	fast, err := NewPool(&spanEngine{}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	ref := &collector{}
	refCfg := cfg
	refCfg.TapQueue = len(pkts) // fed faster than real time: no packet may be dropped
	feedLive(t, fast, refCfg, pkts, time.Millisecond, ref.sink).Close()
	want := ref.finals()
	if len(want) < 5 {
		t.Fatalf("reference segmentation found %d utterances", len(want))
	}
	// Wait until every utterance is out, every gap filled, and the viewers told "ok".
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := 0
		last := Event{}
		for _, ev := range events {
			if ev.Status != "" {
				last = ev
			} else if ev.Final && !ev.Fill {
				n++
			}
		}
		mu.Unlock()
		if st := pool.Status(); st.Gaps == 0 && last.Status == StatusOK && n == len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gaps not filled or status not back to ok: %+v", pool.Status())
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(stopSample)
	<-sampled

	mu.Lock()
	defer mu.Unlock()
	bound := cfg.MaxLag
	live1, gaps, fills := map[string]Event{}, map[string]Event{}, map[string]Event{}
	var states []string
	for _, ev := range events {
		switch {
		case ev.Status != "":
			if len(states) == 0 || states[len(states)-1] != ev.Status {
				states = append(states, ev.Status)
			}
			if ev.Lag > bound {
				t.Errorf("status event reports lag %v over the bound %v", ev.Lag, bound)
			}
		case ev.Fill:
			fills[ev.ID] = ev
		case ev.Gap:
			gaps[ev.ID] = ev
			if ev.Lag > bound {
				t.Errorf("gap %s told %v after its words, bound %v", ev.ID, ev.Lag, bound)
			}
		case ev.Final:
			live1[ev.ID] = ev
			if ev.Lag > bound {
				t.Errorf("final %s shown %v after its words, bound %v", ev.ID, ev.Lag, bound)
			}
		}
	}
	t.Logf("scale 1/%d: %d utterances, %d captioned live, %d skipped and filled; states %v; max gauge %.2fs (bound %v)",
		k, len(want), len(live1), len(gaps), states, maxGauge, bound)
	if maxGauge > bound.Seconds() {
		t.Errorf("lectern_caption_lag_seconds reached %.2fs, bound %v", maxGauge, bound)
	}
	if maxGauge == 0 {
		t.Error("lectern_caption_lag_seconds never showed any lag")
	}
	if len(gaps) == 0 {
		t.Fatal("nothing skipped: the engine was not slow enough to test overload")
	}
	if len(live1) == 0 {
		t.Error("nothing captioned live, not even the short answer")
	}
	if shedAtGap <= 0 {
		t.Errorf("no partial shed before the first gap (shed then: %v)", shedAtGap)
	}
	if len(states) < 3 || states[0] != StatusDelayed || !slices.Contains(states, StatusPaused) || states[len(states)-1] != StatusOK {
		t.Errorf("viewers were told %v, want delayed first, then paused, ending ok", states)
	}
	// Every utterance is in the transcript: captioned live, or skipped and filled.
	for _, w := range want {
		id := w.ID
		ev, ok := live1[id]
		if !ok {
			ev, ok = fills[id]
			if _, gap := gaps[id]; ok && !gap {
				t.Errorf("%s filled without a gap", id)
			}
		}
		if !ok || ev.Text == "" || ev.Start != w.Start || ev.End != w.End {
			t.Errorf("utterance %s (%v-%v) missing from the transcript: got %+v", id, w.Start, w.End, ev)
		}
	}
	if got := testutil.ToFloat64(pool.metrics.filled); int(got) != len(gaps) {
		t.Errorf("filled counter %v, gaps %d", got, len(gaps))
	}
	if got := testutil.ToFloat64(pool.metrics.gapDropped); got != 0 {
		t.Errorf("%v gaps dropped under the memory bound", got)
	}
}

// feedLive plays RTP packets into a new Live on pool, one every pace.
func feedLive(t *testing.T, pool *Pool, cfg Config, pkts []*rtp.Packet, pace time.Duration, sink func(Event)) *Live {
	t.Helper()
	live := NewLive(pool, cfg, sink)
	start := time.Now()
	for i, p := range pkts {
		time.Sleep(time.Until(start.Add(time.Duration(i) * pace)))
		live.WriteAudio("s", p)
	}
	if n := live.Drops(); n > 0 {
		t.Fatalf("%d packets dropped at the tap", n)
	}
	return live
}

// quickStream records which ending a final took.
type quickStream struct {
	fakeStream
	quick *atomic.Int64
}

func (s *quickStream) QuickFinal() (Result, error) {
	s.quick.Add(1)
	return s.Final()
}

type quickEngine struct {
	streamEngine
	quick atomic.Int64
}

func (e *quickEngine) NewStream(Options) (Stream, error) {
	e.streams.Add(1)
	e.open.Add(1)
	return &quickStream{fakeStream: fakeStream{e: &e.streamEngine}, quick: &e.quick}, nil
}

// Behind by FastFinalsAt, a final with a stream takes the stream's own result instead of
// decoding the utterance again; in normal times it does not.
func TestFastFinalsWhenBehind(t *testing.T) {
	speech := readWAV(t, "/work/shared/speech/real/real_ldc93s1.wav")
	for _, behind := range []bool{false, true} {
		eng := &quickEngine{}
		cfg := DefaultConfig()
		cfg.Workers = 2
		cfg.EarlyFinal = false
		pool, err := NewPool(eng, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if behind {
			pool.over.mu.Lock()
			pool.over.lastAt[levelFast] = time.Now().Add(time.Hour) // held for the whole test
			pool.over.mu.Unlock()
			pool.over.level.Store(levelFast)
		}
		c := &collector{}
		var mu sync.Mutex
		p := newPipeline(cfg.withDefaults(), pool, "s", &mu, c.sink)
		pcm := concat(speech, silence(time.Second))
		for i := 0; i < len(pcm); i += FrameSamples {
			p.feed(pcm[i:min(i+FrameSamples, len(pcm))], time.Now())
			for { // let every partial feed the stream
				if f, q := pool.queue.depth(); f+q == 0 && pool.busy.Load() == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		p.flush()
		p.pending.Wait()
		pool.Close()
		if f := c.finals(); len(f) == 0 || f[0].Text == "" {
			t.Fatalf("behind=%v: finals %+v", behind, f)
		}
		if got := eng.quick.Load() > 0; got != behind {
			t.Errorf("behind=%v: quick finals %d", behind, eng.quick.Load())
		}
	}
}

// Retained audio is bounded: past GapAudio the oldest gap's audio is dropped and counted.
func TestGapAudioBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GapAudio = 5 * time.Second
	pool, err := NewPool(&spanEngine{}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for i := range 4 {
		pool.retain(&job{u: &utterance{id: fmt.Sprint(i)}, fill: true, pcm: silence(2 * time.Second)})
	}
	gaps, audio := pool.over.pending()
	if gaps != 2 || audio != 4*time.Second {
		t.Errorf("%d gaps with %v of audio kept, want 2 with 4s", gaps, audio)
	}
	if got := testutil.ToFloat64(pool.metrics.gapDropped); got != 2 {
		t.Errorf("dropped counter %v, want 2", got)
	}
	pool.over.mu.Lock()
	first := pool.over.gaps[0].u.id
	pool.over.mu.Unlock()
	if first != "2" {
		t.Errorf("kept %s first, want the newest two", first)
	}
}
