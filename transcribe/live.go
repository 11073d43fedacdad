package transcribe

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// tapPacket is what the tap keeps of an RTP packet: the tap must not hold on to pkt.
type tapPacket struct {
	session string
	seq     uint16
	ts      uint32
	payload []byte
	at      time.Time
}

// Live captions one webinar: it is the broadcast.Tap of the webinar's room and calls sink
// with caption events. WriteAudio only copies the packet into a bounded channel; one
// goroutine owned by Live reorders, decodes, segments and submits to the shared Pool.
// The sink is called by one goroutine at a time.
type Live struct {
	cfg  Config
	pool *Pool
	sink func(Event)
	log  *slog.Logger

	in     chan tapPacket
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	closed atomic.Bool
	drops  atomic.Uint64

	// owned by run
	sinkMu  sync.Mutex
	jitter  *jitterBuffer
	decoder *opusTimeline
	pipe    *pipeline
	session string
	last    time.Time // arrival of the last packet
	out     []tapPacket
	pipes   []*pipeline // every session's pipeline, to wait for their finals on Close
	shown   shownStatus // the status viewers were last told
}

// NewLive starts captioning into sink with pool's engine.
func NewLive(pool *Pool, cfg Config, sink func(Event)) *Live {
	cfg = cfg.withDefaults()
	l := &Live{
		cfg:     cfg,
		pool:    pool,
		sink:    sink,
		log:     slog.Default().With("component", "transcribe.live"),
		in:      make(chan tapPacket, cfg.TapQueue),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		jitter:  newJitterBuffer(cfg.JitterDepth),
		decoder: newOpusTimeline(cfg.MaxPLCFrames),
	}
	go l.run()
	return l
}

// WriteAudio implements broadcast.Tap: it never blocks; when the decoder is behind, the packet
// is dropped and counted.
func (l *Live) WriteAudio(session string, pkt *rtp.Packet) {
	if pkt == nil || l.closed.Load() {
		return
	}
	p := tapPacket{
		session: session,
		seq:     pkt.SequenceNumber,
		ts:      pkt.Timestamp,
		payload: append([]byte(nil), pkt.Payload...),
		at:      time.Now(),
	}
	select {
	case l.in <- p:
	default:
		l.drops.Add(1)
		l.pool.metrics.tapDrops.Inc()
	}
}

// Drops is the number of packets dropped at the tap.
func (l *Live) Drops() uint64 { return l.drops.Load() }

// Close stops the goroutine, closes the open utterance and waits until its final (and every
// earlier one) has been emitted. The pool stays open: it is shared.
func (l *Live) Close() {
	l.once.Do(func() {
		l.closed.Store(true)
		close(l.stop)
		<-l.done
		for _, p := range l.pipes {
			p.pending.Wait()
		}
	})
}

func (l *Live) run() {
	defer close(l.done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			l.drain()
			l.endSession()
			return
		case p := <-l.in:
			l.packet(p)
		case now := <-tick.C:
			l.idle(now)
			l.report(now)
		}
	}
}

// drain handles the packets already accepted before Close.
func (l *Live) drain() {
	for {
		select {
		case p := <-l.in:
			l.packet(p)
		default:
			return
		}
	}
}

func (l *Live) packet(p tapPacket) {
	if l.pipe == nil || p.session != l.session {
		l.endSession()
		l.session = p.session
		l.pipe = newPipeline(l.cfg, l.pool, p.session, &l.sinkMu, l.sessionSink(p.at))
		// Keep only sessions with finals in flight, for Close to wait on.
		l.pipes = slices.DeleteFunc(l.pipes, func(p *pipeline) bool { return p.inflight.Load() == 0 })
		l.pipes = append(l.pipes, l.pipe)
		l.jitter.reset()
		l.decoder.reset()
	}
	l.last = p.at
	lost := l.jitter.lost
	l.out = l.jitter.push(p, l.out[:0])
	l.play(p.at, lost)
}

// sessionSink stamps a session's events with the wall time its first packet arrived: Start
// and End restart at 0 with each session, and the sink needs the session's place in time to
// lay every session of a webinar on one timeline.
func (l *Live) sessionSink(started time.Time) func(Event) {
	return func(ev Event) {
		ev.SessionStart = started
		l.sink(ev)
	}
}

func (l *Live) play(now time.Time, lostBefore uint64) {
	if d := l.jitter.lost - lostBefore; d > 0 {
		l.pool.metrics.lost.Add(float64(d))
	}
	for i, q := range l.out {
		l.decoder.add(q,
			func(pcm []float32) { l.pipe.feed(pcm, now) },
			l.pipe.jump)
		l.out[i] = tapPacket{}
	}
}

// idle runs when no packet came for a while: release what the jitter buffer holds (nothing
// will fill its holes) and close an utterance the presenter left open by going quiet with
// DTX or stopping, so its final is not held until they speak again.
func (l *Live) idle(now time.Time) {
	if l.pipe == nil || len(l.in) > 0 {
		return // behind, not idle: l.last is when the backlog's oldest packet arrived
	}
	quiet := now.Sub(l.last)
	if quiet > 3*frameDur && len(l.jitter.held) > 0 {
		lost := l.jitter.lost
		l.out = l.jitter.flush(l.out[:0])
		l.play(now, lost)
	}
	if quiet > l.cfg.MinSilence && l.pipe.cur != nil {
		l.pipe.wall = now
		l.pipe.flush()
	}
}

func (l *Live) endSession() {
	if l.pipe == nil {
		return
	}
	lost := l.jitter.lost
	l.out = l.jitter.flush(l.out[:0])
	l.play(time.Now(), lost)
	l.pipe.flush()
	l.log.Debug("session ended", "session", l.session, "lost", l.jitter.lost, "late", l.jitter.late,
		"duplicates", l.jitter.dups, "decode_errors", l.decoder.decodeErrors, "drops", l.drops.Load())
	l.pipe = nil
}
