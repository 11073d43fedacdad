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
	next    int
	held    map[int]heldFinal
}

type heldFinal struct {
	ev      *Event // nil: the utterance produced nothing
	endWall time.Time
}

func newEmitter(mu *sync.Mutex, sink func(Event), m *metrics) *emitter {
	return &emitter{mu: mu, sink: sink, metrics: m, next: 1, held: map[int]heldFinal{}}
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

// final records utterance u's final (nil: none) and emits every final now in order.
func (e *emitter) final(u *utterance, ev *Event, endWall time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.held[u.num] = heldFinal{ev, endWall}
	for {
		h, ok := e.held[e.next]
		if !ok {
			return
		}
		delete(e.held, e.next)
		e.next++
		if h.ev == nil {
			continue
		}
		h.ev.Lag = time.Since(h.endWall)
		e.metrics.lag.WithLabelValues("final").Observe(h.ev.Lag.Seconds())
		e.sink(*h.ev)
	}
}

// skip records that utterance u gives no final.
func (e *emitter) skip(u *utterance) { e.final(u, nil, time.Time{}) }
