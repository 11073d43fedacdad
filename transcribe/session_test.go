package transcribe

import (
	"testing"
	"time"
)

// Every event carries the wall time its session's first packet arrived: times restart at 0
// with each session, and the sink needs this to put sessions on one timeline.
func TestLiveEventsCarrySessionStart(t *testing.T) {
	path, _ := sentencePair(t)
	pkts := opusPackets(t, path)
	cfg := DefaultConfig()
	cfg.TapQueue = 4096
	pool, _ := NewPool(&spanEngine{}, cfg, nil)
	defer pool.Close()
	c := &collector{}
	live := NewLive(pool, cfg, c.sink)
	before := time.Now()
	for _, p := range rtpize(pkts, 1, 0, 0, 0) {
		live.WriteAudio("a", p)
	}
	between := time.Now()
	for _, p := range rtpize(pkts, 2, 0, 0, 0) {
		live.WriteAudio("b", p)
	}
	live.Close()
	starts := map[string]time.Time{}
	for _, ev := range c.events {
		if ev.SessionStart.IsZero() {
			t.Fatalf("event %s has no session start", ev.ID)
		}
		if s, ok := starts[ev.Session]; ok && !s.Equal(ev.SessionStart) {
			t.Fatalf("session %s has two starts: %v and %v", ev.Session, s, ev.SessionStart)
		}
		starts[ev.Session] = ev.SessionStart
	}
	a, b := starts["a"], starts["b"]
	if len(starts) != 2 || a.Before(before) || a.After(between) || b.Before(between) {
		t.Fatalf("session starts %v (sent from %v, second session from %v)", starts, before, between)
	}
}
