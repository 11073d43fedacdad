package translate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/captions"
	"lectern/translate"
	"lectern/translate/apertium"
)

var shared *apertium.Translator

// TestMain shares one real Apertium across the stage tests: its pipelines are the slow part.
func TestMain(m *testing.M) {
	var err error
	shared, err = apertium.New(apertium.Config{})
	if err != nil {
		println("apertium:", err.Error())
		os.Exit(1)
	}
	code := m.Run()
	_ = shared.Close()
	os.Exit(code)
}

// counting wraps a translator to count Translate calls and to make it fail on demand.
type counting struct {
	translate.Translator
	name, region string
	calls        atomic.Int64
	fail         atomic.Pointer[error]
	block        chan struct{} // when set, Translate waits on it (after signalling entered)
	entered      chan struct{}
}

func wrap(t translate.Translator, name, region string) *counting {
	return &counting{Translator: t, name: name, region: region}
}

func (c *counting) Name() string   { return c.name }
func (c *counting) Region() string { return c.region }

func (c *counting) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	c.calls.Add(1)
	if c.entered != nil {
		c.entered <- struct{}{}
	}
	if c.block != nil {
		select {
		case <-c.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if p := c.fail.Load(); p != nil {
		return nil, *p
	}
	return c.Translator.Translate(ctx, texts, from, to)
}

func (c *counting) failWith(err error) {
	if err == nil {
		c.fail.Store(nil)
		return
	}
	c.fail.Store(&err)
}

var errBoom = errors.New("boom: 503 from the back end")

// clock is an injectable clock for back-off tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memStore is a map-backed Store; the lead's SQLite store implements the same interface.
type memStore struct {
	mu sync.Mutex
	m  map[string]captions.Caption // webinar|lang|id
}

func newMemStore() *memStore { return &memStore{m: map[string]captions.Caption{}} }

func (s *memStore) SaveTranslation(_ context.Context, webinarID string, c captions.Caption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[webinarID+"|"+c.Lang+"|"+c.ID] = c
	return nil
}

func (s *memStore) Translations(_ context.Context, webinarID, lang string, ids []string) (map[string]captions.Caption, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]captions.Caption{}
	for _, id := range ids {
		if c, ok := s.m[webinarID+"|"+lang+"|"+id]; ok {
			out[id] = c
		}
	}
	return out, nil
}

func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

type pub struct {
	webinar string
	c       captions.Caption
}

// sink records what the stage publishes.
type sink struct{ ch chan pub }

func newSink() *sink { return &sink{ch: make(chan pub, 10000)} }

func (s *sink) publish(webinarID string, c captions.Caption) { s.ch <- pub{webinarID, c} }

func (s *sink) next(t *testing.T) pub {
	t.Helper()
	select {
	case p := <-s.ch:
		return p
	case <-time.After(20 * time.Second):
		t.Fatal("nothing published within 20 s")
		return pub{}
	}
}

func (s *sink) empty(t *testing.T) {
	t.Helper()
	select {
	case p := <-s.ch:
		t.Fatalf("unexpected publication %+v", p)
	default:
	}
}

type env struct {
	stage *translate.Stage
	sink  *sink
	store *memStore
	reg   *prometheus.Registry
	clock *clock
}

func newEnv(t *testing.T, cfg translate.StageConfig) *env {
	t.Helper()
	e := &env{sink: newSink(), store: newMemStore(), reg: prometheus.NewRegistry(),
		clock: &clock{t: time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)}}
	cfg.Store, cfg.Publish, cfg.Registerer, cfg.Now = e.store, e.sink.publish, e.reg, e.clock.Now
	s, err := translate.NewStage(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	e.stage = s
	return e
}

func final(seq int64, text string) captions.Caption {
	return captions.Caption{ID: fmt.Sprintf("cap-%d", seq), Seq: seq, Final: true,
		StartMS: seq * 1000, EndMS: seq*1000 + 900, Text: text, Lang: "en"}
}

// metric reads a counter or gauge from the registry; labels are name, value pairs. A series
// that does not exist reads 0.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
