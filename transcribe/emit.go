package transcribe

import (
	"sync"
	"time"
)

// emitter hands one session's events to the sink: finals in utterance order (a fast worker
// may finish utterance 5 before a retried utterance 4), partials as they come, one sink call
// at a time per Live.
type emitter struct {
	mu      *sync.Mutex // shared by all sessions of a Live
	sink    func(Event)
	metrics *metrics
	retain  func(gap *job) // keeps a skipped utterance's audio once its Gap is out
	next    int
	held    map[int]heldFinal

	openMu sync.Mutex        // not mu: the sink may be slow (it stores finals)
	open   map[int]time.Time // utterances submitted for a final and not yet emitted: end of audio
}

type heldFinal struct {
	ev      *Event // nil: the utterance produced nothing
	endWall time.Time
	gap     *job // ev is a Gap; its fill job
}

func newEmitter(mu *sync.Mutex, sink func(Event), pool *Pool) *emitter {
	return &emitter{mu: mu, sink: sink, metrics: pool.metrics, retain: pool.retain, next: 1,
		held: map[int]heldFinal{}, open: map[int]time.Time{}}
}

// submitted records that utterance num waits for its final; its audio ended at endWall.
func (e *emitter) submitted(num int, endWall time.Time) {
	e.openMu.Lock()
	e.open[num] = endWall
	e.openMu.Unlock()
}

// lag is how long the oldest utterance still waiting for its final has waited.
func (e *emitter) lag(now time.Time) time.Duration {
	e.openMu.Lock()
	defer e.openMu.Unlock()
	var lag time.Duration
	for _, t := range e.open {
		lag = max(lag, now.Sub(t))
	}
	return lag
}

// partial emits a partial of u now unless u's final has started (checked under e.mu, so a
// partial never follows its final). u is nil for the empty partial that clears the screen.
func (e *emitter) partial(u *utterance, ev Event, endWall time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if u != nil && u.closed.Load() {
		return
	}
	ev.Lag = time.Since(endWall)
	e.metrics.lag.WithLabelValues("partial").Observe(ev.Lag.Seconds())
	e.sink(ev)
}

// final records utterance u's final (nil: none) and emits every final now in order. gap is
// set when ev is a Gap: its audio is retained for filling once the Gap is out.
func (e *emitter) final(u *utterance, ev *Event, endWall time.Time, gap *job) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.held[u.num] = heldFinal{ev, endWall, gap}
	for {
		h, ok := e.held[e.next]
		if !ok {
			return
		}
		e.openMu.Lock()
		delete(e.open, e.next)
		e.openMu.Unlock()
		delete(e.held, e.next)
		e.next++
		if h.ev == nil {
			continue
		}
		h.ev.Lag = time.Since(h.endWall)
		if !h.ev.Gap {
			e.metrics.lag.WithLabelValues("final").Observe(h.ev.Lag.Seconds())
		}
		e.sink(*h.ev)
		if h.gap != nil {
			e.retain(h.gap)
		}
	}
}

// skip records that utterance u gives no final.
func (e *emitter) skip(u *utterance) { e.final(u, nil, time.Time{}, nil) }

// fill emits the late final of a gap; it is outside the live order (its Gap went out long ago).
func (e *emitter) fill(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sink(ev)
}
