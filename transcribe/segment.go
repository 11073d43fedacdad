package transcribe

import (
	"sync"
	"sync/atomic"
	"time"
)

// pipeline cuts one session's 16 kHz audio into utterances with the VAD and submits partial
// and final jobs to the pool. It is owned by one goroutine (Live's loop or TranscribeFile);
// the utterances it hands out are then shared with the pool's workers.
type pipeline struct {
	cfg     Config
	pool    *Pool
	session string
	vad     *vad
	emit    *emitter

	pos      int64     // timeline position (samples) of the next sample fed
	carry    []float32 // samples short of a whole frame
	wall     time.Time // wall time at which the latest fed audio arrived
	pre      []float32 // pre-roll: recent frames while nobody speaks
	preLvl   []float64
	preAt    int64 // timeline position of pre[0]
	onset    int   // consecutive onset frames
	cur      *utterance
	count    int            // utterances opened in this session
	pending  sync.WaitGroup // finals submitted and not yet emitted
	inflight atomic.Int64   // the same count, readable
}

// utterance is one stretch of speech. Fields above closed belong to the pipeline goroutine;
// those below mu to whichever worker holds mu.
type utterance struct {
	id      string
	session string
	num     int
	at      int64 // timeline position of pcm[0]
	pcm     []float32
	levels  []float64 // per frame, for choosing a cut
	last    int       // frames up to and including the last active one
	silence int       // trailing inactive frames
	voiced  int       // active frames
	partAt  int       // samples at the last partial submitted
	spec    *speculation
	emit    *emitter

	closed atomic.Bool // the final has started: later partials are stale
	shown  atomic.Bool // a non-empty partial reached the sink

	mu        sync.Mutex
	lastN     int // samples of the latest partial decoded
	stream    Stream
	noStream  bool // the engine's streaming failed once; use batch
	written   int  // samples written to stream
	agreement localAgreement
}

func newPipeline(cfg Config, pool *Pool, session string, sinkMu *sync.Mutex, sink func(Event)) *pipeline {
	return &pipeline{
		cfg:     cfg,
		pool:    pool,
		session: session,
		vad:     newVAD(cfg.VAD),
		emit:    newEmitter(sinkMu, sink, pool),
	}
}

func frames(d time.Duration) int { return int(d / frameDur) }

func samplesToDur(n int64) time.Duration {
	return time.Duration(n) * time.Second / SampleRate
}

// feed adds audio that arrived at wall time now.
func (p *pipeline) feed(pcm []float32, now time.Time) {
	p.wall = now
	if len(p.carry) > 0 {
		need := FrameSamples - len(p.carry)
		if len(pcm) < need {
			p.carry = append(p.carry, pcm...)
			return
		}
		p.carry = append(p.carry, pcm[:need]...)
		pcm = pcm[need:]
		p.frame(p.carry)
		p.carry = p.carry[:0]
	}
	for len(pcm) >= FrameSamples {
		p.frame(pcm[:FrameSamples])
		pcm = pcm[FrameSamples:]
	}
	p.carry = append(p.carry, pcm...)
}

// jump moves the timeline to pos without audio (a long gap): what was open is closed.
func (p *pipeline) jump(pos int64) {
	p.flush()
	p.carry = p.carry[:0]
	p.pre, p.preLvl, p.onset = p.pre[:0], p.preLvl[:0], 0
	p.pos = pos
}

// flush closes the open utterance, if any, as it stands.
func (p *pipeline) flush() {
	if p.cur != nil {
		p.close(min(p.cur.last+frames(p.cfg.PostRoll), len(p.cur.levels)))
	}
}

// frame processes one 20 ms frame.
func (p *pipeline) frame(f []float32) {
	info := p.vad.classify(f)
	framePos := p.pos
	p.pos += FrameSamples

	u := p.cur
	if u == nil {
		if len(p.pre) == 0 {
			p.preAt = framePos
		}
		p.pre = append(p.pre, f...)
		p.preLvl = append(p.preLvl, info.Level)
		if keep := frames(p.cfg.PreRoll) + p.cfg.VAD.OnsetFrames; len(p.preLvl) > keep {
			drop := len(p.preLvl) - keep
			p.pre = append(p.pre[:0], p.pre[drop*FrameSamples:]...)
			p.preLvl = append(p.preLvl[:0], p.preLvl[drop:]...)
			p.preAt += int64(drop * FrameSamples)
		}
		if info.Onset {
			p.onset++
		} else {
			p.onset = 0
		}
		if p.onset >= p.cfg.VAD.OnsetFrames {
			p.open(p.pre, p.preLvl, p.preAt, p.onset)
			p.pre, p.preLvl, p.onset = p.pre[:0], p.preLvl[:0], 0
		}
		return
	}

	u.pcm = append(u.pcm, f...)
	u.levels = append(u.levels, info.Level)
	if info.Active {
		u.last, u.silence = len(u.levels), 0
		u.voiced++
	} else {
		u.silence++
	}
	switch {
	case u.silence >= frames(p.cfg.MinSilence):
		p.close(min(u.last+frames(p.cfg.PostRoll), len(u.levels)))
	case len(u.levels) >= frames(p.cfg.MaxUtterance):
		p.cut()
	case u.silence == frames(p.cfg.PostRoll):
		p.speculate()
	default:
		p.maybePartial()
	}
}

// speculation is a final decoded ahead of time, once the speaker has paused for PostRoll:
// the audio the final would hold is complete then, and the utterance closes with exactly
// that audio unless they speak again within MinSilence. Decoding in the remaining silence
// takes up to MinSilence−PostRoll off the final's lag; if they go on, the result is unused.
type speculation struct {
	frames  int          // utterance length decoded
	started atomic.Int64 // unix nanos the decode began; 0 while queued
	done    chan struct{}
	text    string
	err     error
}

// speculate submits a speculative final, only when a worker is free and no final waits: it
// spends spare capacity, never delays anyone's final. (With several speakers on a stage the
// pool is seldom idle, but often has a worker free while the others decode.)
func (p *pipeline) speculate() {
	u := p.cur
	if !p.cfg.EarlyFinal || time.Duration(u.voiced)*frameDur < p.cfg.MinUtterance {
		return
	}
	n := len(u.levels)
	if !p.pool.spare() || !p.pool.affords(n*FrameSamples) {
		return
	}
	u.spec = &speculation{frames: n, done: make(chan struct{})}
	p.pool.submit(&job{u: u, final: true, spec: u.spec, pcm: u.pcm[: n*FrameSamples : n*FrameSamples]})
}

func (p *pipeline) open(pcm []float32, levels []float64, at int64, voiced int) {
	p.count++
	p.cur = &utterance{
		id:      utteranceID(p.session, p.count),
		session: p.session,
		num:     p.count,
		at:      at,
		pcm:     append(make([]float32, 0, 4*SampleRate), pcm...),
		levels:  append([]float64(nil), levels...),
		last:    len(levels),
		voiced:  voiced,
		emit:    p.emit,
	}
}

// cut closes an over-long utterance at its quietest frame near the end and carries the rest
// into a new utterance, so a lecturer who never pauses still gets captions.
func (p *pipeline) cut() {
	u := p.cur
	n := len(u.levels)
	from := max(1, n-frames(p.cfg.CutSearch))
	best := from
	for i := from; i < n; i++ {
		if u.levels[i] < u.levels[best] {
			best = i
		}
	}
	cutAt := best + 1
	restPCM := append([]float32(nil), u.pcm[cutAt*FrameSamples:]...)
	restLvl := append([]float64(nil), u.levels[cutAt:]...)
	restAt := u.at + int64(cutAt*FrameSamples)
	u.last = min(u.last, cutAt)
	p.close(cutAt)
	p.pre, p.preLvl = p.pre[:0], p.preLvl[:0] // the rest belongs to the new utterance
	p.open(restPCM, restLvl, restAt, 0)
	p.cur.last = 0
}

// close ends the open utterance after keep frames; frames after keep return to the pre-roll.
func (p *pipeline) close(keep int) {
	u := p.cur
	p.cur = nil
	p.pre = append(p.pre[:0], u.pcm[keep*FrameSamples:]...)
	p.preLvl = append(p.preLvl[:0], u.levels[keep:]...)
	p.preAt = u.at + int64(keep*FrameSamples)
	u.pcm = u.pcm[:keep*FrameSamples]
	if time.Duration(u.voiced)*frameDur < p.cfg.MinUtterance || keep == 0 {
		u.emit.skip(u)
		return
	}
	// Wall time at which the utterance's last sample arrived: the audio after it (the
	// silence that closed it) arrived since.
	after := samplesToDur(p.pos - (u.at + int64(len(u.pcm))))
	var spec *speculation
	if u.spec != nil && u.spec.frames == keep {
		spec = u.spec
	}
	p.pending.Add(1)
	p.inflight.Add(1)
	u.emit.submitted(u.num, p.wall.Add(-after))
	p.pool.submit(&job{
		u:       u,
		final:   true,
		useSpec: spec,
		pcm:     u.pcm,
		start:   samplesToDur(u.at),
		end:     samplesToDur(u.at + int64(len(u.pcm))),
		endWall: p.wall.Add(-after),
		done:    p.finalDone,
	})
}

func (p *pipeline) finalDone() {
	p.inflight.Add(-1)
	p.pending.Done()
}

func (p *pipeline) maybePartial() {
	if p.cfg.PartialEvery <= 0 {
		return
	}
	u := p.cur
	n := len(u.pcm)
	if samplesToDur(int64(n)) < p.cfg.FirstPartialAt || samplesToDur(int64(n-u.partAt)) < p.cfg.PartialEvery {
		return
	}
	u.partAt = n
	p.pool.submit(&job{
		u:       u,
		pcm:     u.pcm[:n:n],
		start:   samplesToDur(u.at),
		end:     samplesToDur(u.at + int64(n)),
		endWall: p.wall,
	})
}
