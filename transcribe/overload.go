package transcribe

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Overload control. One pool serves every live webinar, and the machine it runs on may be
// busy with other work (a browser, a build): its engine can fall behind the audio for a
// while. Without a bound the queue of finals grows and every caption comes later than the
// one before. The pool watches its lag (the age of the oldest live final not yet out) and
// degrades in steps, each one cheaper than the last:
//
//  1. shed partials: a partial that needs a batch decode, or would arrive later than
//     ShedPartialsAt, is dropped (a stream's running hypothesis costs nothing extra);
//  2. fast finals: a final with a stream takes the stream's own result instead of
//     decoding the whole utterance again;
//  3. skip: a final that would come later than MaxLag is not decoded live. Viewers get a
//     Gap (a recorded, empty final with its time range) and the utterance's audio is kept,
//     within GapAudio, to be decoded once the pool has been idle for FillAfter; the Fill
//     event then completes the stored transcript.
//
// Whether a job is late is predicted from its age and the engine's measured real-time
// factor, so a final is skipped before it is decoded rather than shown late.
const (
	levelOK   = iota
	levelShed // partials shed
	levelFast // finals from the stream's own result
	levelSkip // stale audio skipped
	levels
)

// levelHold is how long a level stays once its condition stops holding, so the viewers'
// status does not flap between states at every utterance.
const levelHold = 2 * time.Second

// overload is the pool's state for overload control.
type overload struct {
	enabled bool          // false for files: nobody watches, nothing is shed or skipped
	skipAt  time.Duration // a final predicted to come later than this is skipped
	rtf     atomic.Uint64 // math.Float64bits of the engine's real-time factor (moving average); 0 unknown
	level   atomic.Int32

	mu         sync.Mutex
	unresolved map[*job]struct{} // live finals submitted and not yet resolved
	lastAt     [levels]time.Time // when each level's condition last held
	gaps       []*job            // skipped utterances to fill, oldest first
	gapSamples int
	filling    bool         // a fill job is queued or running
	idleSince  time.Time    // when the pool last had live work
	liveAt     atomic.Int64 // unix ns of the last live job submitted: someone is speaking
}

func newOverload(cfg Config) *overload {
	return &overload{
		enabled:    cfg.MaxLag > 0,
		skipAt:     cfg.MaxLag * 4 / 5, // a fifth of the bound is left for estimation error and scheduling
		unresolved: map[*job]struct{}{},
		idleSince:  time.Now(),
	}
}

// observe updates the real-time factor from one engine call on samples of audio.
func (o *overload) observe(samples int, took time.Duration) {
	audio := samplesToDur(int64(samples))
	if audio < 300*time.Millisecond {
		return // too short to say much: fixed costs dominate
	}
	x := took.Seconds() / audio.Seconds()
	old := math.Float64frombits(o.rtf.Load())
	if old > 0 {
		x = 0.7*old + 0.3*x
	}
	o.rtf.Store(math.Float64bits(x))
}

// estimate is how long the engine is expected to take on samples of audio (0 while unknown).
func (o *overload) estimate(samples int) time.Duration {
	rtf := math.Float64frombits(o.rtf.Load())
	return time.Duration(rtf * float64(samplesToDur(int64(samples))))
}

func (o *overload) levelNow() int { return int(o.level.Load()) }

func (o *overload) track(j *job) {
	o.mu.Lock()
	o.unresolved[j] = struct{}{}
	o.mu.Unlock()
}

func (o *overload) resolve(j *job) {
	o.mu.Lock()
	delete(o.unresolved, j)
	o.mu.Unlock()
}

// lag is the age of the oldest unresolved live final.
func (o *overload) lag(now time.Time) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	var lag time.Duration
	for j := range o.unresolved {
		lag = max(lag, now.Sub(j.endWall))
	}
	return lag
}

// note records that level's condition holds now (a late partial was shed, a final skipped).
func (o *overload) note(level int, now time.Time) {
	o.mu.Lock()
	o.lastAt[level] = now
	o.mu.Unlock()
	if int(o.level.Load()) < level {
		o.level.Store(int32(level))
	}
}

// update recomputes the level from the lag: the highest level whose condition held within
// its hold time. Skipping holds for MaxLag, so viewers see "paused" until captions are
// back within the bound for a while.
func (o *overload) update(cfg Config, now time.Time, lag time.Duration) int {
	if !o.enabled {
		return levelOK
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if lag > cfg.ShedPartialsAt {
		o.lastAt[levelShed] = now
	}
	if lag > cfg.FastFinalsAt {
		o.lastAt[levelFast] = now
	}
	level := levelOK
	for l := levelShed; l < levels; l++ {
		hold := levelHold
		if l == levelSkip {
			hold = max(levelHold, cfg.MaxLag)
		}
		if !o.lastAt[l].IsZero() && now.Sub(o.lastAt[l]) < hold {
			level = l
		}
	}
	o.level.Store(int32(level))
	return level
}

// retain keeps a skipped utterance's audio for filling, dropping the oldest beyond limit
// samples; it returns how many were dropped.
func (o *overload) retain(j *job, limit int) (dropped []*job) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gaps = append(o.gaps, j)
	o.gapSamples += len(j.pcm)
	for o.gapSamples > limit && len(o.gaps) > 0 {
		d := o.gaps[0]
		o.gaps[0] = nil
		o.gaps = o.gaps[1:]
		o.gapSamples -= len(d.pcm)
		dropped = append(dropped, d)
	}
	return dropped
}

// nextFill hands out the oldest gap when the pool has had no live work for idleFor and no
// fill is under way.
func (o *overload) nextFill(now time.Time, liveIdle bool, idleFor time.Duration) *job {
	o.mu.Lock()
	defer o.mu.Unlock()
	if at := time.Unix(0, o.liveAt.Load()); at.After(o.idleSince) {
		o.idleSince = at // partials come every PartialEvery while anyone speaks
	}
	if !liveIdle {
		o.idleSince = now
		return nil
	}
	if o.filling || len(o.gaps) == 0 || now.Sub(o.idleSince) < idleFor {
		return nil
	}
	j := o.gaps[0]
	o.gaps[0] = nil
	o.gaps = o.gaps[1:]
	o.filling = true
	return j
}

// filled ends a fill: its audio is released.
func (o *overload) filled(j *job) {
	o.mu.Lock()
	o.gapSamples -= len(j.pcm)
	o.filling = false
	o.mu.Unlock()
}

// pending is the number of gaps waiting and the audio they keep.
func (o *overload) pending() (gaps int, audio time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.gaps)
	if o.filling {
		n++
	}
	return n, samplesToDur(int64(o.gapSamples))
}

// drain empties the gap list (the pool closes, its workers stopped) and says how many gaps
// stay unfilled, counting a fill the closed queue dropped.
func (o *overload) drain() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.gaps)
	if o.filling {
		n++
	}
	o.gaps, o.gapSamples, o.filling = nil, 0, false
	return n
}

// stateOf is the viewers' name for a level.
func stateOf(level int) string {
	switch level {
	case levelOK:
		return StatusOK
	case levelSkip:
		return StatusPaused
	default:
		return StatusDelayed
	}
}

// watchEvery is how often the pool re-reads its lag.
const watchEvery = 100 * time.Millisecond

// watch owns the overload level, the lag gauge and the filling of gaps.
func (p *Pool) watch() {
	defer p.watchWG.Done()
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stopWatch:
			return
		case now := <-t.C:
			p.tick(now)
		}
	}
}

func (p *Pool) tick(now time.Time) {
	lag := p.over.lag(now)
	p.metrics.liveLag.Set(lag.Seconds())
	level := p.over.update(p.cfg, now, lag)
	p.metrics.level.Set(float64(level))
	f, q := p.queue.depth()
	liveIdle := f+q == 0 && p.busy.Load() == p.fillBusy.Load()
	if j := p.over.nextFill(now, liveIdle, p.cfg.FillAfter); j != nil {
		p.queue.push(j)
	}
}

// late reports whether a live final should be skipped: it would come out later than the
// bound even if decoded now at the engine's usual speed.
func (p *Pool) late(j *job, cost time.Duration) bool {
	return p.over.enabled && !j.endWall.IsZero() && time.Since(j.endWall)+cost > p.over.skipAt
}

// affords reports whether a speculative final of samples would finish within the bound:
// one that would not is wasted (its final is skipped) and holds a worker others need.
func (p *Pool) affords(samples int) bool {
	return !p.over.enabled || p.over.estimate(samples) <= p.over.skipAt
}

// finalCost predicts the decode time of a final: with a stream, the audio not yet written
// (and, unless quick, the whole utterance again); without, the whole utterance.
func (p *Pool) finalCost(j *job, stream bool, written int, quick bool) time.Duration {
	if sp := j.useSpec; sp != nil {
		select {
		case <-sp.done:
			return 0
		default:
		}
		// Running: the final waits only for what is left of it.
		if at := sp.started.Load(); at != 0 {
			return max(0, p.over.estimate(sp.frames*FrameSamples)-time.Since(time.Unix(0, at)))
		}
	}
	n := len(j.pcm)
	if stream {
		rest := max(0, n-written)
		n = rest
		if !quick {
			n += len(j.pcm)
		}
	}
	return p.over.estimate(n)
}

// skip resolves a final without decoding it: viewers get a Gap, and once it is out the
// utterance's audio is kept for filling (see emitter.final).
func (p *Pool) skip(j *job) {
	u := j.u
	p.metrics.skipped.Inc()
	p.over.note(levelSkip, time.Now())
	p.log.Info("captions behind: utterance skipped live, kept to fill later", "id", u.id,
		"audio", samplesToDur(int64(len(j.pcm))), "age", time.Since(j.endWall).Round(time.Millisecond))
	ev := &Event{ID: u.id, Session: u.session, Final: true, Failed: true, Gap: true,
		Start: j.start, End: j.end, Engine: p.engine.Name(),
		Error: "skipped live: the speech engine was behind; decoded later"}
	gap := &job{u: u, fill: true, pcm: j.pcm, start: j.start, end: j.end}
	u.emit.final(u, ev, j.endWall, gap)
}

// retain keeps a gap's audio once the gap is out (stored, shown), so its fill cannot
// overtake it.
func (p *Pool) retain(gap *job) {
	dropped := p.over.retain(gap, int(p.cfg.GapAudio.Seconds()*SampleRate))
	for _, d := range dropped {
		p.metrics.gapDropped.Inc()
		p.log.Warn("audio kept for a caption gap dropped: over the memory bound", "id", d.u.id,
			"bound", p.cfg.GapAudio)
	}
	_, audio := p.over.pending()
	p.metrics.gapAudio.Set(audio.Seconds())
}

// fill decodes a skipped utterance from its retained audio and emits its Fill event.
func (p *Pool) fill(j *job) {
	u := j.u
	p.fillBusy.Add(1)
	defer func() {
		p.over.filled(j)
		_, audio := p.over.pending()
		p.metrics.gapAudio.Set(audio.Seconds())
		p.fillBusy.Add(-1)
	}()
	res, err := p.call(j.pcm, "fill")
	if err != nil {
		p.metrics.engineErrors.Inc()
		p.log.Warn("caption gap not filled: the gap stays", "id", u.id, "err", err)
		return
	}
	text := strings.Join(strings.Fields(resultText(res)), " ")
	if text == "" {
		return // no words after all: the gap stays, as for a failed segment
	}
	if !p.punctuates {
		text = Punctuate(text, true)
	}
	p.metrics.filled.Inc()
	u.emit.fill(Event{ID: u.id, Session: u.session, Final: true, Fill: true,
		Start: j.start, End: j.end, Text: text, Engine: p.engine.Name()})
}

// dropGaps forgets the gaps not yet filled when the pool closes.
func (p *Pool) dropGaps() {
	n := p.over.drain()
	if n == 0 {
		return
	}
	p.metrics.gapDropped.Add(float64(n))
	p.metrics.gapAudio.Set(0)
	p.log.Warn("caption gaps left unfilled at shutdown", "gaps", n)
}

// State is the live captions' state (StatusOK, StatusDelayed, StatusPaused).
func (p *Pool) State() string { return stateOf(p.over.levelNow()) }

// PoolStatus is what the pool reports about itself for status pages.
type PoolStatus struct {
	Engine  string
	Ready   bool   // the engine's decoders are loaded (see Warmer)
	Error   string // why warming failed
	Workers int
	State   string        // StatusOK, StatusDelayed or StatusPaused
	Lag     time.Duration // see lectern_caption_lag_seconds
	Gaps    int           // skipped utterances waiting to be filled
}

// Status reports readiness and how far behind live captions are.
func (p *Pool) Status() PoolStatus {
	gaps, _ := p.over.pending()
	st := PoolStatus{
		Engine: p.engine.Name(), Workers: p.cfg.Workers, State: p.State(),
		Lag: p.over.lag(time.Now()), Gaps: gaps,
	}
	select {
	case <-p.warmed:
		st.Ready = p.warmErr == nil
		if p.warmErr != nil {
			st.Error = p.warmErr.Error()
		}
	default:
	}
	return st
}
