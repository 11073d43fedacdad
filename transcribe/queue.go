package transcribe

import (
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

// jobQueue is the pool's bounded priority queue. Finals always go before partials and are
// never dropped (their number is bounded by how fast people talk, a few a second across all
// webinars). Partials are bounded: a newer partial of an utterance takes the place of its
// queued older one, and past the limit the oldest partial is shed. Fills come last; the pool
// queues one at a time, and only when it is idle.
type jobQueue struct {
	mu       sync.Mutex
	cond     *sync.Cond
	finals   []*job
	partials []*job
	fills    []*job
	limit    int
	closed   bool
	metrics  *metrics
}

func newJobQueue(limit int, m *metrics) *jobQueue {
	q := &jobQueue{limit: limit, metrics: m}
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
	switch {
	case j.fill:
		q.fills = append(q.fills, j)
	case j.final:
		q.finals = append(q.finals, j)
	default:
		q.pushPartial(j)
	}
	q.gauges()
	q.cond.Signal()
}

func (q *jobQueue) pushPartial(j *job) {
	for i, old := range q.partials {
		if old.u == j.u {
			q.partials[i] = j
			q.metrics.shed.WithLabelValues("superseded").Inc()
			return
		}
	}
	if len(q.partials) >= q.limit {
		q.partials[0] = nil
		q.partials = q.partials[1:]
		q.metrics.shed.WithLabelValues("overload").Inc()
	}
	q.partials = append(q.partials, j)
}

// pop blocks until a job is ready; it returns nil once the queue is closed and holds no
// finals (queued partials and fills are dropped on close: nobody will read them).
func (q *jobQueue) pop() *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if len(q.finals) > 0 {
			j := q.finals[0]
			q.finals[0] = nil
			q.finals = q.finals[1:]
			q.gauges()
			return j
		}
		if q.closed {
			return nil
		}
		if len(q.partials) > 0 {
			j := q.partials[0]
			q.partials[0] = nil
			q.partials = q.partials[1:]
			q.gauges()
			return j
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

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.partials = nil
	q.fills = nil
	q.gauges()
	q.cond.Broadcast()
	q.mu.Unlock()
}

// depth reports queued jobs.
func (q *jobQueue) depth() (finals, partials int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.finals), len(q.partials)
}

func (q *jobQueue) gauges() {
	q.metrics.queueDepth.WithLabelValues("final").Set(float64(len(q.finals)))
	q.metrics.queueDepth.WithLabelValues("partial").Set(float64(len(q.partials)))
}
