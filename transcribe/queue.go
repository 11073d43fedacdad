package transcribe

import (
	"slices"
	"sync"
	"time"
)

// job is one engine request: a partial (a snapshot of a growing utterance) or a final.
type job struct {
	u       *utterance
	final   bool
	pcm     []float32
	start   time.Duration
	end     time.Duration
	endWall time.Time // wall time the last sample of pcm arrived
	done    func()    // called once a final is resolved (emitted, failed or empty)

	spec    *speculation // this job is the speculative decode filling spec (queued as a final)
	useSpec *speculation // this final may take its text from spec
	fill    bool         // decode a skipped utterance for the stored transcript (see overload.go)
}

// tapOf is the tap a job comes from: its pipeline's emitter (one per presenter session, or
// per file). The queue is fair between taps.
func (j *job) tapOf() *emitter {
	if j.u == nil {
		return nil
	}
	return j.u.emit
}

// tapJobs are one tap's queued jobs.
type tapJobs struct {
	finals   []*job
	partials []*job
}

// jobQueue is the pool's bounded priority queue, fair between taps (each presenter on a
// stage is a tap of their own).
//
// Finals always go before partials and are never dropped (their number is bounded by how fast
// people talk, a few a second across all webinars). Partials are bounded: a newer partial of an
// utterance takes the place of its queued older one, and past the limit the oldest partial of
// the tap holding the most is shed. Fills come last; the pool queues one at a time, and only
// when it is idle.
//
// Fairness: within finals (and within partials) taps take turns. The tap served goes to the
// back of the turn order, and a tap that had nothing queued comes in at the front, so a tap's
// final waits for at most the one job a worker is already running, not for the backlog of a
// speaker who talks without pause.
type jobQueue struct {
	mu        sync.Mutex
	cond      *sync.Cond
	taps      map[*emitter]*tapJobs
	turns     []*emitter // taps with queued finals or partials, next to serve first
	nFinals   int
	nPartials int
	fills     []*job
	limit     int
	closed    bool
	metrics   *metrics
}

func newJobQueue(limit int, m *metrics) *jobQueue {
	q := &jobQueue{limit: limit, metrics: m, taps: map[*emitter]*tapJobs{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push never blocks.
func (q *jobQueue) push(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		if j.final && j.done != nil {
			j.done()
		}
		return
	}
	if j.fill {
		q.fills = append(q.fills, j)
		q.cond.Signal()
		return
	}
	t := q.tap(j.tapOf())
	if j.final {
		t.finals = append(t.finals, j)
		q.nFinals++
	} else {
		q.pushPartial(t, j)
	}
	q.gauges()
	q.cond.Signal()
}

// tap returns key's jobs, putting a tap that had none at the front of the turns.
func (q *jobQueue) tap(key *emitter) *tapJobs {
	t := q.taps[key]
	if t == nil {
		t = &tapJobs{}
		q.taps[key] = t
		q.turns = slices.Insert(q.turns, 0, key)
	}
	return t
}

func (q *jobQueue) pushPartial(t *tapJobs, j *job) {
	for i, old := range t.partials {
		if old.u == j.u {
			t.partials[i] = j
			q.metrics.shed.WithLabelValues("superseded").Inc()
			return
		}
	}
	if q.nPartials >= q.limit {
		q.shedPartial(t)
	}
	t.partials = append(t.partials, j)
	q.nPartials++
}

// shedPartial drops the oldest partial of the tap holding the most (t, the pushing tap, on
// a tie): overload costs the busiest speaker's partials first.
func (q *jobQueue) shedPartial(t *tapJobs) {
	most := t
	for _, x := range q.taps {
		if len(x.partials) > len(most.partials) {
			most = x
		}
	}
	if len(most.partials) == 0 {
		return
	}
	most.partials[0] = nil
	most.partials = most.partials[1:]
	q.nPartials--
	q.metrics.shed.WithLabelValues("overload").Inc()
}

// pop blocks until a job is ready; it returns nil once the queue is closed and holds no
// finals (queued partials and fills are dropped on close: nobody will read them).
func (q *jobQueue) pop() *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.nFinals > 0 {
			return q.take(true)
		}
		if q.closed {
			return nil
		}
		if q.nPartials > 0 {
			return q.take(false)
		}
		if len(q.fills) > 0 {
			j := q.fills[0]
			q.fills[0] = nil
			q.fills = q.fills[1:]
			return j
		}
		q.cond.Wait()
	}
}

// take pops the next final (or partial) in turn order; the tap served moves to the back, or
// leaves the turns once it has nothing queued.
func (q *jobQueue) take(final bool) *job {
	for i, key := range q.turns {
		t := q.taps[key]
		list := &t.partials
		if final {
			list = &t.finals
		}
		if len(*list) == 0 {
			continue
		}
		j := (*list)[0]
		(*list)[0] = nil
		*list = (*list)[1:]
		if final {
			q.nFinals--
		} else {
			q.nPartials--
		}
		q.turns = slices.Delete(q.turns, i, i+1)
		if len(t.finals)+len(t.partials) > 0 {
			q.turns = append(q.turns, key)
		} else {
			delete(q.taps, key)
		}
		q.gauges()
		return j
	}
	panic("transcribe: job counts out of step with the taps' queues")
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	for key, t := range q.taps {
		t.partials = nil
		if len(t.finals) == 0 {
			delete(q.taps, key)
			q.turns = slices.DeleteFunc(q.turns, func(k *emitter) bool { return k == key })
		}
	}
	q.nPartials = 0
	q.fills = nil
	q.gauges()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// depth reports queued jobs.
func (q *jobQueue) depth() (finals, partials int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.nFinals, q.nPartials
}

func (q *jobQueue) gauges() {
	q.metrics.queueDepth.WithLabelValues("final").Set(float64(q.nFinals))
	q.metrics.queueDepth.WithLabelValues("partial").Set(float64(q.nPartials))
}
