package broadcast

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// trackRole names the three media a room carries. Viewers' m-lines and the
// presenter's m-lines are matched by role, in this order.
type trackRole int

const (
	roleAudio trackRole = iota
	roleCamera
	roleScreen
	numRoles
)

func (r trackRole) String() string {
	return [...]string{"audio", "camera", "screen"}[r]
}

func (r trackRole) kind() webrtc.RTPCodecType {
	if r == roleAudio {
		return webrtc.RTPCodecTypeAudio
	}
	return webrtc.RTPCodecTypeVideo
}

// upstream is where keyframe requests for a room track go: the current presenter.
type upstream struct {
	pc   *webrtc.PeerConnection
	ssrc uint32
}

// roomTrack is one medium of a room (audio, camera or screen). It outlives
// presenters: viewers stay attached across a presenter reconnect, and sequence
// numbers and timestamps are rewritten once per packet (not per viewer) so the
// stream they see stays continuous.
type roomTrack struct {
	role        trackRole
	m           *metrics
	cache       *packetCache
	pliInterval time.Duration
	queueLimit  int

	codec atomic.Pointer[webrtc.RTPCodecCapability]
	up    atomic.Pointer[upstream]

	// downs is the fan-out list, replaced (never mutated) on join/leave so the
	// read loop needs no lock per packet.
	downs      atomic.Pointer[[]*downTrack]
	hasPending atomic.Bool
	mu         sync.Mutex   // guards pending and the rebuilding of downs
	pending    []*downTrack // bound, waiting for the read loop to admit them

	wmu sync.Mutex // serialises feed: several presenters may take turns writing (stage.go)
	src *upstream  // guarded by wmu: whose packets the track carries now

	lastPLI   atomic.Int64 // unix nanos of the last PLI sent upstream
	pliWanted atomic.Bool  // a request arrived inside the interval: send at its end

	// Owned by the one running read loop; presenters hand over in sequence
	// (a new presenter's loops wait for the old presenter to stop).
	out          bool // lastSeq/lastTS valid
	lastSeq      uint16
	lastTS       uint32
	lastWall     time.Time
	seqOff       uint16
	tsOff        uint32
	kf           bool // kfSeq/kfTS hold the newest keyframe start
	kfSeq        uint16
	kfTS         uint32
	kfMime       string
	replayOK     bool
	keyframeFunc func(string, []byte) bool
}

func newRoomTrack(role trackRole, cfg Config, m *metrics) *roomTrack {
	size := 2048 // ~4 s of 2.5 Mbit/s video: NACK repair and the GOP replay for joiners
	if role == roleAudio {
		size = 256
	}
	t := &roomTrack{role: role, m: m, cache: newPacketCache(size), pliInterval: cfg.PLIInterval,
		queueLimit: cfg.ViewerQueue, keyframeFunc: isKeyframeStart}
	empty := []*downTrack{}
	t.downs.Store(&empty)
	c := defaultCodec(role)
	t.codec.Store(&c)
	return t
}

func defaultCodec(role trackRole) webrtc.RTPCodecCapability {
	for _, c := range codecList() {
		if role == roleAudio && c.MimeType == webrtc.MimeTypeOpus || role != roleAudio && c.MimeType == webrtc.MimeTypeVP8 {
			return c.RTPCodecCapability
		}
	}
	panic("no default codec")
}

// setCodec records the presenter's codec. Viewers negotiated with a different
// one are taken off the fan-out at once (they cannot decode it) and returned so
// their sessions can be ended and the pages reconnect.
func (t *roomTrack) setCodec(c webrtc.RTPCodecCapability) []*downTrack {
	old := t.codec.Load()
	if strings.EqualFold(old.MimeType, c.MimeType) {
		return nil
	}
	t.codec.Store(&c)
	t.mu.Lock()
	defer t.mu.Unlock()
	var stale []*downTrack
	keep := func(list []*downTrack) []*downTrack {
		out := make([]*downTrack, 0, len(list))
		for _, d := range list {
			if strings.EqualFold(d.codec.MimeType, c.MimeType) {
				out = append(out, d)
			} else {
				stale = append(stale, d)
			}
		}
		return out
	}
	next := keep(*t.downs.Load())
	t.downs.Store(&next)
	t.pending = keep(t.pending)
	return stale
}

// join queues a bound downTrack; the read loop admits it before the next packet.
// A viewer negotiated before a codec change is refused and its session ended.
func (t *roomTrack) join(d *downTrack) {
	t.mu.Lock()
	if c := t.codec.Load(); !strings.EqualFold(c.MimeType, d.codec.MimeType) {
		t.mu.Unlock()
		t.m.codecMismatch.Inc()
		v, why := d.v, "room codec is now "+c.MimeType
		v.s.goFunc(func() { v.close(why) })
		return
	}
	t.pending = append(t.pending, d)
	t.hasPending.Store(true)
	t.mu.Unlock()
}

func (t *roomTrack) leave(d *downTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, x := range t.pending {
		if x == d {
			t.pending = append(t.pending[:i:i], t.pending[i+1:]...)
			return
		}
	}
	cur := *t.downs.Load()
	next := make([]*downTrack, 0, len(cur))
	for _, x := range cur {
		if x != d {
			next = append(next, x)
		}
	}
	t.downs.Store(&next)
}

// startSession is called by a new presenter's read loop before its first packet.
func (t *roomTrack) startSession(c webrtc.RTPCodecCapability, up *upstream) {
	t.up.Store(up)
	t.kf = false
	t.kfMime = c.MimeType
}

// endSession drops what the old presenter left in the cache; a new session
// restarts from its own keyframe anyway.
func (t *roomTrack) endSession(up *upstream) {
	t.up.CompareAndSwap(up, nil)
	for i := range t.cache.slots {
		t.cache.slots[i].Store(nil)
	}
	t.kf = false
}

// forward is the per-packet path: rewrite for continuity, remember, fan out.
// first marks the first packet of a presenter session.
func (t *roomTrack) forward(p *packet, first bool, now time.Time) {
	if first && t.out {
		// Continue the viewers' sequence and timeline where the old session stopped.
		t.seqOff = t.lastSeq + 1 - p.SequenceNumber
		clock := uint32(90000)
		if t.role == roleAudio {
			clock = 48000
		}
		gap := now.Sub(t.lastWall)
		if gap < 20*time.Millisecond {
			gap = 20 * time.Millisecond
		}
		t.tsOff = t.lastTS + uint32(gap.Seconds()*float64(clock)) - p.Timestamp
	} else if first {
		t.seqOff, t.tsOff = 0, 0
	}
	if t.hasPending.Load() {
		t.admit()
	}
	if first && t.role != roleAudio {
		// Viewers already watching need the new encoder's keyframe before any
		// of its delta frames; a new session usually opens with one anyway.
		for _, d := range *t.downs.Load() {
			d.waitKey = true
		}
		if !t.keyframeFunc(t.kfMime, p.Payload) {
			t.requestKeyframe()
		}
	}
	if t.pliWanted.Load() && now.UnixNano()-t.lastPLI.Load() >= int64(t.pliInterval) {
		t.requestKeyframe()
	}
	p.SequenceNumber += t.seqOff
	p.Timestamp += t.tsOff
	if !t.out || seqNewer(p.SequenceNumber, t.lastSeq) {
		t.out, t.lastSeq, t.lastTS, t.lastWall = true, p.SequenceNumber, p.Timestamp, now
	}
	if t.role != roleAudio && t.keyframeFunc(t.kfMime, p.Payload) &&
		(!t.kf || p.Timestamp != t.kfTS && seqNewer(p.SequenceNumber, t.kfSeq)) {
		t.kf, t.kfSeq, t.kfTS = true, p.SequenceNumber, p.Timestamp
	}
	t.cache.put(p)
	key := t.kf && p.SequenceNumber == t.kfSeq
	for _, d := range *t.downs.Load() {
		if d.waitKey {
			if !key {
				continue
			}
			d.waitKey = false
		}
		d.v.enqueue(d, p)
	}
}

// admit moves pending viewers into the fan-out list. For video, a joiner must
// start at a keyframe with no sequence gap after it (a gap makes browsers NACK
// every missing packet, or freeze until the next keyframe), so it either gets
// the whole cached GOP replayed (keyframe up to now: a picture at once), or, when
// the GOP is too long to replay, waits for the next keyframe, which a throttled
// PLI asks for.
func (t *roomTrack) admit() {
	t.mu.Lock()
	joiners := t.pending
	t.pending = nil
	t.hasPending.Store(false)
	cur := *t.downs.Load()
	next := make([]*downTrack, 0, len(cur)+len(joiners))
	next = append(append(next, cur...), joiners...)
	t.downs.Store(&next)
	t.mu.Unlock()
	if t.role == roleAudio || len(joiners) == 0 {
		return
	}
	gop := t.cachedGOP()
	if gop == nil {
		t.m.keyframeMisses.Add(float64(len(joiners)))
		for _, d := range joiners {
			d.waitKey = true
		}
		t.requestKeyframe()
		return
	}
	t.m.keyframeHits.Add(float64(len(joiners)))
	for _, p := range gop {
		for _, d := range joiners {
			d.v.enqueue(d, p)
		}
	}
}

// cachedGOP returns the packets from the newest keyframe up to the newest
// packet, or nil if any is missing or there are too many to replay.
func (t *roomTrack) cachedGOP() []*packet {
	if !t.kf || !t.out {
		return nil
	}
	span := int(t.lastSeq-t.kfSeq) + 1
	if span > t.cache.size() || span > t.queueLimit/2 {
		return nil
	}
	out := make([]*packet, 0, span)
	for s := t.kfSeq; ; s++ {
		p := t.cache.get(s)
		if p == nil {
			return nil
		}
		out = append(out, p)
		if s == t.lastSeq {
			return out
		}
	}
}

// requestKeyframe sends a PLI upstream at most once per pliInterval, however
// many viewers ask: 500 joins at once cost the presenter a handful of keyframes.
// A request inside the interval is not lost: the read loop sends it when the
// interval ends (trailing edge), so late joiners wait at most one interval.
func (t *roomTrack) requestKeyframe() {
	now := time.Now().UnixNano()
	last := t.lastPLI.Load()
	if now-last < int64(t.pliInterval) || !t.lastPLI.CompareAndSwap(last, now) {
		t.pliWanted.Store(true)
		return
	}
	t.pliWanted.Store(false)
	up := t.up.Load()
	if up == nil {
		return
	}
	if err := up.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: up.ssrc}}); err == nil {
		t.m.pliSent.Inc()
	}
}

// seqNewer reports whether a is after b in RTP sequence space (RFC 3550 wrap).
func seqNewer(a, b uint16) bool { return a != b && a-b < 0x8000 }
