package transcribe

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// A tap with a long backlog cannot delay another tap's final beyond one job: the other tap's
// final is the next job popped, and taps with backlogs take turns.
func TestQueueTapsTakeTurns(t *testing.T) {
	m, _ := newMetrics(nil)
	q := newJobQueue(64, m)
	var mu sync.Mutex
	a, b := &emitter{mu: &mu}, &emitter{mu: &mu}
	final := func(e *emitter, n int) *job { return &job{u: &utterance{emit: e, num: n}, final: true} }
	for n := range 20 {
		q.push(final(a, n)) // a talks without pause: 20 finals queued
	}
	if j := q.pop(); j.u.emit != a { // a worker takes a's first
		t.Fatalf("first pop from %p, want a", j.u.emit)
	}
	q.push(final(b, 0))
	if j := q.pop(); j.u.emit != b {
		t.Fatalf("b's final waited behind a's backlog (got a's %d)", j.u.num)
	}
	// Both with backlogs: they alternate (b, whose queue was empty, comes in first).
	for n := 1; n < 4; n++ {
		q.push(final(b, n))
	}
	var got []string
	for range 6 {
		j := q.pop()
		got = append(got, fmt.Sprintf("%s%d", map[*emitter]string{a: "a", b: "b"}[j.u.emit], j.u.num))
	}
	if want := "[b1 a1 b2 a2 b3 a3]"; fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}

// Partials take turns the same way, after every final; a newer partial of a tap's utterance
// replaces its older one; past the limit the busiest tap's oldest partial is shed, not the
// quiet tap's only one.
func TestQueuePartialsFairAndBounded(t *testing.T) {
	m, _ := newMetrics(nil)
	q := newJobQueue(4, m)
	var mu sync.Mutex
	a, b := &emitter{mu: &mu}, &emitter{mu: &mu}
	ua := []*utterance{{emit: a, num: 1}, {emit: a, num: 2}, {emit: a, num: 3}, {emit: a, num: 4}}
	for _, u := range ua {
		q.push(&job{u: u, pcm: make([]float32, 1)})
	}
	ub := &utterance{emit: b, num: 1}
	q.push(&job{u: ub, pcm: make([]float32, 1)}) // over the limit: a's oldest goes
	q.push(&job{u: ub, pcm: make([]float32, 2)}) // replaces b's queued partial
	q.push(&job{u: &utterance{emit: a, num: 9}, final: true})
	var got []string
	for range 5 {
		j := q.pop()
		got = append(got, fmt.Sprintf("%s%d/%v/%d", map[*emitter]string{a: "a", b: "b"}[j.u.emit], j.u.num, j.final, len(j.pcm)))
	}
	if want := "[a9/true/0 b1/false/2 a2/false/1 a3/false/1 a4/false/1]"; fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	if f, p := q.depth(); f+p != 0 {
		t.Fatalf("left %d finals, %d partials", f, p)
	}
}

// Through the pool's worker: while one speaker's ten finals keep the only worker busy,
// another speaker's final comes out after at most the one job already running.
func TestPoolFinalNotStarvedByAnotherTap(t *testing.T) {
	eng := &slowEngine{delay: 30 * time.Millisecond}
	cfg := DefaultConfig()
	cfg.Workers, cfg.MaxLag = 1, -1
	pool, err := NewPool(eng, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	<-pool.Warmed()
	var mu sync.Mutex
	var order []string
	sink := func(ev Event) {
		mu.Lock()
		order = append(order, ev.ID)
		mu.Unlock()
	}
	var sinkMu sync.Mutex
	ea, eb := newEmitter(&sinkMu, sink, pool), newEmitter(&sinkMu, sink, pool)
	var wg sync.WaitGroup
	submit := func(e *emitter, id string, num int) {
		wg.Add(1)
		e.submitted(num, time.Now())
		pool.submit(&job{u: &utterance{id: id, num: num, emit: e}, final: true,
			pcm: make([]float32, SampleRate/2), done: wg.Done})
	}
	calls := eng.calls.Load()
	for n := 1; n <= 10; n++ {
		submit(ea, fmt.Sprintf("a-%d", n), n)
	}
	for eng.calls.Load() == calls {
		time.Sleep(time.Millisecond)
	}
	submit(eb, "b-1", 1)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if i := slices.Index(order, "b-1"); i < 0 || i > 1 {
		t.Fatalf("b's final came out at %d in %v, want right after the job that was running", i, order)
	}
}
