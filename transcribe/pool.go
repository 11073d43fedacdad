package transcribe

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Pool runs an Engine on utterances with a fixed number of workers fed by a bounded priority
// queue (finals first; see jobQueue). One Pool serves every Live of a server and the files
// transcribed offline, so the same code decides what is dropped under load.
type Pool struct {
	engine     Engine
	cfg        Config
	punctuates bool
	streamer   Streamer // nil when the engine only does batch
	metrics    *metrics
	queue      *jobQueue
	log        *slog.Logger
	streams    atomic.Int64 // open streams, at most cfg.MaxStreams
	busy       atomic.Int64 // workers running a job
	fillBusy   atomic.Int64 // of which filling a gap
	over       *overload

	warmed  chan struct{} // closed once warm is done
	warmErr error         // set before warmed is closed

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup // workers
	watchWG   sync.WaitGroup // watch and warm
	stopWatch chan struct{}
	once      sync.Once
}

// NewPool starts cfg.Workers workers on eng. Metrics go to reg (a fresh registry when nil).
func NewPool(eng Engine, cfg Config, reg prometheus.Registerer) (*Pool, error) {
	cfg = cfg.withDefaults()
	if dl, ok := eng.(DecoderLimiter); ok {
		cfg.MaxStreams = min(cfg.MaxStreams, dl.Decoders()-1)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("transcribe metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{
		engine:     eng,
		cfg:        cfg,
		punctuates: enginePunctuates(eng),
		metrics:    m,
		queue:      newJobQueue(cfg.QueueSize, m),
		log:        cmp.Or(cfg.Logger, slog.Default()).With("engine", eng.Name()),
		over:       newOverload(cfg),
		warmed:     make(chan struct{}),
		ctx:        ctx,
		cancel:     cancel,
		stopWatch:  make(chan struct{}),
	}
	p.streamer, _ = eng.(Streamer)
	for range cfg.Workers {
		p.wg.Add(1)
		go p.work()
	}
	p.watchWG.Add(2)
	go p.warm()
	go p.watch()
	return p, nil
}

// Engine is the engine the pool runs.
func (p *Pool) Engine() Engine { return p.engine }

// Close stops the workers after they have resolved every queued final (queued partials are
// dropped). Submitting after Close resolves nothing.
func (p *Pool) Close() {
	p.once.Do(func() {
		close(p.stopWatch)
		p.queue.close()
		p.wg.Wait()
		p.cancel()
		p.watchWG.Wait()
		p.dropGaps()
	})
}

func (p *Pool) submit(j *job) {
	if !j.fill {
		p.over.liveAt.Store(time.Now().UnixNano())
	}
	if j.final && j.spec == nil && p.over.enabled {
		p.over.track(j)
	}
	p.queue.push(j)
}

func (p *Pool) work() {
	defer p.wg.Done()
	for {
		j := p.queue.pop()
		if j == nil {
			return
		}
		p.busy.Add(1)
		switch {
		case j.spec != nil:
			p.speculate(j)
		case j.fill:
			p.fill(j)
		case j.final:
			p.final(j)
		default:
			p.partial(j)
		}
		p.busy.Add(-1)
	}
}

// partial decodes a snapshot of an open utterance; a failure only costs this partial.
func (p *Pool) partial(j *job) {
	u := j.u
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed.Load() || len(j.pcm) <= u.lastN {
		return // the final or a newer partial got here first
	}
	if p.shedPartial(u, j) {
		return
	}
	u.lastN = len(j.pcm)
	text, err := p.partialText(u, j.pcm)
	if err != nil {
		p.metrics.engineErrors.Inc()
		p.log.Debug("partial failed", "id", u.id, "err", err)
		return
	}
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return
	}
	if !p.punctuates {
		text = Punctuate(text, false)
	}
	u.shown.Store(true)
	u.emit.partial(u, Event{
		ID: u.id, Session: u.session, Start: j.start, End: j.end, Text: text, Engine: p.engine.Name(),
	}, j.endWall)
}

func (p *Pool) partialText(u *utterance, pcm []float32) (string, error) {
	if u.stream == nil && !u.noStream {
		u.stream = p.newStream() // nil: batch this time, try again at the next partial
		u.written = 0
	}
	if u.stream != nil {
		t0 := time.Now()
		if err := u.stream.Write(pcm[u.written:]); err != nil {
			p.dropStream(u)
			return "", fmt.Errorf("stream write: %w", err)
		}
		u.written = len(pcm)
		text, err := u.stream.Partial()
		p.metrics.latency.WithLabelValues("partial").Observe(time.Since(t0).Seconds())
		if err != nil {
			p.dropStream(u)
		}
		return text, err
	}
	res, err := p.call(pcm, "partial")
	if err != nil {
		return "", err
	}
	return u.agreement.update(resultText(res)), nil
}

// shedPartial drops a partial the pool cannot afford (u.mu held): when it is behind, one
// that needs a batch decode (a stream's hypothesis costs nothing the final will not need),
// and always one that would arrive later than ShedPartialsAt.
func (p *Pool) shedPartial(u *utterance, j *job) bool {
	if !p.over.enabled {
		return false
	}
	stream := u.stream != nil || (!u.noStream && p.streamer != nil && p.streams.Load() < int64(p.cfg.MaxStreams))
	cost := p.over.estimate(len(j.pcm))
	if stream {
		cost = p.over.estimate(len(j.pcm) - u.written)
	}
	now := time.Now()
	switch {
	case now.Sub(j.endWall)+cost > p.cfg.ShedPartialsAt:
		p.over.note(levelShed, now)
		p.metrics.shed.WithLabelValues("late").Inc()
		return true
	case !stream && p.over.levelNow() >= levelShed:
		p.metrics.shed.WithLabelValues("behind").Inc()
		return true
	}
	return false
}

// final decodes a closed utterance, retrying with backoff; it always resolves the utterance.
// When the pool is behind it may take the stream's own result (levelFast) or skip the
// decode altogether (see late).
func (p *Pool) final(j *job) {
	u := j.u
	defer j.done()
	defer p.over.resolve(j)
	u.closed.Store(true) // from here on no partial of u is emitted
	// Take over the utterance's stream, if any. With a batch engine there is nothing to take,
	// and a slow partial decode still running must not delay the final.
	var s Stream
	var written int
	if p.streamer != nil {
		u.mu.Lock()
		s, written = u.stream, u.written
		u.stream = nil
		u.mu.Unlock()
	}
	_, canQuick := s.(QuickFinaler)
	quick := canQuick && p.over.levelNow() >= levelFast
	if p.late(j, p.finalCost(j, s != nil, written, quick)) {
		if s != nil {
			p.closeStream(s)
		}
		p.skip(j)
		return
	}

	var text string
	var err error
	if sp := j.useSpec; sp != nil {
		<-sp.done // queued before this job, so already running or done
		text, err = sp.text, sp.err
		if err == nil && s != nil {
			p.closeStream(s)
			s = nil
		}
	}
	backoff := p.cfg.RetryBackoff
	for try := 0; try < p.cfg.Retries && (j.useSpec == nil || err != nil); try++ {
		if try > 0 {
			select {
			case <-time.After(backoff):
			case <-p.ctx.Done():
			}
			backoff *= 2
		}
		if s != nil {
			text, err = p.streamFinal(s, j.pcm[min(written, len(j.pcm)):], quick)
			s = nil // consumed; a retry decodes the whole utterance in one call
		} else {
			var res Result
			res, err = p.call(j.pcm, "final")
			text = resultText(res)
		}
		if err == nil {
			break
		}
		p.metrics.engineErrors.Inc()
		p.log.Warn("final failed", "id", u.id, "try", try+1, "err", err)
	}
	if s != nil {
		p.closeStream(s)
	}

	ev := &Event{ID: u.id, Session: u.session, Final: true, Start: j.start, End: j.end, Engine: p.engine.Name()}
	switch {
	case err != nil:
		ev.Failed, ev.Error = true, err.Error()
		p.metrics.failed.Inc()
	case strings.TrimSpace(text) == "":
		if u.shown.Load() {
			// Clear the partial on screen: no final will replace it.
			u.emit.partial(nil, Event{ID: u.id, Session: ev.Session, Start: j.start, End: j.end, Engine: ev.Engine}, j.endWall)
		}
		ev = nil
	default:
		ev.Text = strings.Join(strings.Fields(text), " ")
		if !p.punctuates {
			ev.Text = Punctuate(ev.Text, true)
		}
	}
	u.emit.final(u, ev, j.endWall, nil)
}

// spare reports whether a worker is free and no final is queued: a speculative decode there
// delays no final.
func (p *Pool) spare() bool {
	f, _ := p.queue.depth()
	return f == 0 && p.busy.Load() < int64(p.cfg.Workers)
}

// speculate decodes a closed-looking utterance ahead of its final (see speculation).
func (p *Pool) speculate(j *job) {
	defer close(j.spec.done)
	j.spec.started.Store(time.Now().UnixNano())
	res, err := p.call(j.pcm, "speculative")
	if err != nil {
		p.metrics.engineErrors.Inc()
	}
	j.spec.text, j.spec.err = resultText(res), err
}

// streamFinal feeds the rest of the utterance to its stream and ends it: most of the audio
// is decoded already. quick takes the stream's own result (see QuickFinaler).
func (p *Pool) streamFinal(s Stream, rest []float32, quick bool) (string, error) {
	defer p.closeStream(s)
	t0 := time.Now()
	if err := s.Write(rest); err != nil {
		return "", fmt.Errorf("stream write: %w", err)
	}
	var res Result
	var err error
	if qf, ok := s.(QuickFinaler); ok && quick {
		res, err = qf.QuickFinal()
	} else {
		res, err = s.Final()
	}
	p.metrics.latency.WithLabelValues("final").Observe(time.Since(t0).Seconds())
	if err != nil {
		return "", fmt.Errorf("stream final: %w", err)
	}
	return resultText(res), nil
}

func (p *Pool) call(pcm []float32, kind string) (Result, error) {
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.Timeout)
	defer cancel()
	t0 := time.Now()
	res, err := p.engine.Transcribe(ctx, pcm, p.cfg.Options)
	took := time.Since(t0)
	p.metrics.latency.WithLabelValues(kind).Observe(took.Seconds())
	if err == nil {
		p.over.observe(len(pcm), took)
	}
	return res, err
}

// newStream opens a stream for an utterance's partials, or returns nil: the engine cannot
// stream, MaxStreams are open, or the engine refused (then partials use batch calls).
//
// Streams are capped because each may hold an engine resource (a PocketSphinx decoder) for
// a whole utterance: with MaxStreams below the engine's decoder count, a worker waiting for a
// decoder for a batch call can always be served, so the pool cannot deadlock on idle streams.
func (p *Pool) newStream() Stream {
	if p.streamer == nil || p.cfg.MaxStreams <= 0 {
		return nil
	}
	if p.streams.Add(1) > int64(p.cfg.MaxStreams) {
		p.streams.Add(-1)
		return nil
	}
	s, err := p.streamer.NewStream(p.cfg.Options)
	if err != nil {
		p.streams.Add(-1)
		p.log.Debug("no stream", "err", err)
		return nil
	}
	return s
}

func (p *Pool) closeStream(s Stream) {
	s.Close()
	p.streams.Add(-1)
}

// dropStream releases the utterance's stream; after a stream error the utterance continues
// with batch calls.
func (p *Pool) dropStream(u *utterance) {
	if u.stream != nil {
		p.closeStream(u.stream)
		u.stream = nil
	}
	u.written = 0
	u.noStream = true
}

// resultText is the engine's text, or its segments joined when it only fills those.
func resultText(r Result) string {
	if t := strings.TrimSpace(r.Text); t != "" {
		return t
	}
	parts := make([]string, 0, len(r.Segments))
	for _, s := range r.Segments {
		parts = append(parts, strings.TrimSpace(s.Text))
	}
	return strings.Join(parts, " ")
}

// abort stops the pool without waiting for queued finals (a cancelled file transcription).
func (p *Pool) abort() {
	p.cancel()
	p.Close()
}

// waitFinalsBelow blocks until fewer than n finals are queued: offline transcription reads
// the file only as fast as the workers go, while live audio never waits.
func (p *Pool) waitFinalsBelow(ctx context.Context, n int) error {
	for {
		if f, _ := p.queue.depth(); f < n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
