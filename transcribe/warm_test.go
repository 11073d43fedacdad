package transcribe

import (
	"context"
	"testing"
)

// gateEngine warms only when told to.
type gateEngine struct {
	spanEngine
	gate  chan struct{}
	asked int
}

func (e *gateEngine) Warm(ctx context.Context, n int) error {
	e.asked = n
	<-e.gate
	return nil
}

// A pool is not ready until its engine is warm; warming asks for one decoder per worker and
// times the engine, so the first final is judged with a known speed.
func TestPoolReadyAfterWarm(t *testing.T) {
	eng := &gateEngine{gate: make(chan struct{})}
	cfg := DefaultConfig()
	cfg.Workers = 3
	pool, err := NewPool(eng, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if st := pool.Status(); st.Ready || st.Workers != 3 {
		t.Fatalf("ready before warming: %+v", st)
	}
	close(eng.gate)
	<-pool.Warmed()
	if st := pool.Status(); !st.Ready || st.Error != "" {
		t.Fatalf("not ready after warming: %+v", st)
	}
	if eng.asked != 3 {
		t.Errorf("warmed for %d workers, want 3", eng.asked)
	}
	if pool.over.estimate(SampleRate) == 0 && eng.calls == 0 {
		t.Error("no timing decode after warming")
	}
}

// An engine that needs no warming is ready at once.
func TestPoolReadyWithoutWarmer(t *testing.T) {
	pool, err := NewPool(&spanEngine{}, DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	<-pool.Warmed()
	if !pool.Status().Ready {
		t.Error("not ready")
	}
}
