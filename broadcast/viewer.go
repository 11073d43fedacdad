package broadcast

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// item is one queued write: which of the viewer's tracks, which shared packet.
type item struct {
	d *downTrack
	p *packet
}

// viewer is one WHEP session. Its queue is bounded and drained in batches by its
// own writer goroutine, so a slow or dead viewer only ever drops its own packets.
type viewer struct {
	id   string
	room *room
	s    *Server
	pc   *webrtc.PeerConnection

	downs [numRoles]*downTrack // the main tracks (active speaker, screen)
	extra []*downTrack         // stage slot tracks (stage_viewer.go)

	mu    sync.Mutex
	queue []item // guarded by mu; cap is the limit
	spare []item // owned by the writer goroutine
	limit int
	wake  chan struct{}

	// A downTrack is bound at SetLocalDescription, long before DTLS is up (pion
	// drops writes until then), so it joins the fan-out only once the
	// PeerConnection is connected; otherwise the keyframe replay would be lost.
	connMu    sync.Mutex
	connected bool
	ended     bool
	bound     []*downTrack

	dropped  atomic.Uint64
	done     chan struct{}
	doneOnce sync.Once
}

// attach is called from Bind.
func (v *viewer) attach(d *downTrack) {
	v.connMu.Lock()
	defer v.connMu.Unlock()
	if v.ended {
		return
	}
	v.bound = append(v.bound, d)
	if v.connected {
		d.rt.join(d)
	}
}

// setConnected starts the fan-out to every bound track.
func (v *viewer) setConnected() {
	v.connMu.Lock()
	defer v.connMu.Unlock()
	if v.ended || v.connected {
		return
	}
	v.connected = true
	for _, d := range v.bound {
		d.rt.join(d)
	}
}

func newViewer(id string, r *room, s *Server, pc *webrtc.PeerConnection) *viewer {
	return &viewer{id: id, room: r, s: s, pc: pc, limit: s.cfg.ViewerQueue,
		queue: make([]item, 0, s.cfg.ViewerQueue), spare: make([]item, 0, s.cfg.ViewerQueue),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// enqueue never blocks: a full queue drops the packet and counts it.
func (v *viewer) enqueue(d *downTrack, p *packet) {
	v.mu.Lock()
	if len(v.queue) >= v.limit {
		v.mu.Unlock()
		if v.dropped.Add(1)&1023 == 1 {
			v.s.log.Warn("viewer too slow, dropping packets", "room", v.room.name, "session", v.id, "dropped", v.dropped.Load())
		}
		v.s.m.dropped.Inc()
		return
	}
	v.queue = append(v.queue, item{d, p})
	wasEmpty := len(v.queue) == 1
	v.mu.Unlock()
	if wasEmpty {
		select {
		case v.wake <- struct{}{}:
		default:
		}
	}
}

// writeLoop drains the queue a batch at a time: one lock and one wake-up per
// batch instead of per packet.
func (v *viewer) writeLoop() {
	for {
		select {
		case <-v.done:
			return
		case <-v.wake:
		}
		v.mu.Lock()
		batch := v.queue
		v.queue = v.spare[:0]
		v.mu.Unlock()
		bytes := 0
		for i, it := range batch {
			bytes += it.d.write(it.p)
			if i&63 == 63 {
				// A joiner's GOP replay is a batch of hundreds of packets; when
				// many viewers join together, yielding lets every writer send its
				// first packets (the keyframe) early instead of one after another.
				runtime.Gosched()
			}
		}
		clear(batch) // let the GC have packets the cache no longer holds
		v.spare = batch
		v.s.m.forwarded.Add(float64(len(batch)))
		v.s.m.forwardedBytes.Add(float64(bytes))
	}
}

// rtcpLoop reads one sender's RTCP: keyframe requests go (throttled) to the
// presenter, NACKs are answered from the room track's shared cache.
func (v *viewer) rtcpLoop(d *downTrack, sender *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				v.s.m.pliReceived.Inc()
				d.rt.requestKeyframe()
			case *rtcp.TransportLayerNack:
				v.answerNack(d, pkt, time.Now().UnixNano())
			}
		}
	}
}

// answerNack resends requested packets from the room track's shared cache. A
// packet resent to this viewer in the last rtxHoldoff is not sent again (a
// receiver repeats NACKs every RTT until repaired), and a viewer whose queue is
// already half full gets no repairs: more packets would only deepen its loss.
func (v *viewer) answerNack(d *downTrack, nack *rtcp.TransportLayerNack, now int64) {
	v.mu.Lock()
	congested := len(v.queue) > v.limit/2
	v.mu.Unlock()
	for _, pair := range nack.Nacks {
		for _, seq := range pair.PacketList() {
			v.s.m.nackReceived.Inc()
			r := &d.rtx[seq%uint16(len(d.rtx))]
			if congested || r.seq == seq && now-r.at < int64(rtxHoldoff) {
				v.s.m.nackSuppressed.Inc()
				continue
			}
			p := d.rt.cache.get(seq)
			if p == nil {
				v.s.m.nackMissed.Inc()
				continue
			}
			r.seq, r.at = seq, now
			v.s.m.nackRetransmitted.Inc()
			v.enqueue(d, p)
		}
	}
}

// rtxHoldoff is the minimum gap between two retransmissions of one packet to one viewer.
const rtxHoldoff = 100 * time.Millisecond

// close ends the session; safe to call many times and from any goroutine.
func (v *viewer) close(reason string) {
	v.doneOnce.Do(func() {
		close(v.done)
		v.connMu.Lock()
		v.ended = true
		v.connMu.Unlock()
		for _, d := range append(v.downs[:], v.extra...) {
			if d != nil {
				d.rt.leave(d)
			}
		}
		v.room.removeViewer(v)
		if err := v.pc.Close(); err != nil {
			v.s.log.Debug("viewer close", "room", v.room.name, "session", v.id, "err", err)
		}
		v.s.log.Info("viewer left", "room", v.room.name, "session", v.id, "reason", reason, "dropped", v.dropped.Load())
	})
}

// downTrack is a viewer's outgoing track. It implements webrtc.TrackLocal itself
// (rather than TrackLocalStaticRTP) so the writer goroutine writes the shared
// packet with one reused header and no per-packet allocation.
type downTrack struct {
	v      *viewer
	rt     *roomTrack
	role   trackRole
	codec  webrtc.RTPCodecCapability
	stream string
	label  string // track id: "audio", "camera", "screen" or a stage slot's ("audio-slot2")

	// Set once in Bind, before the track is published to the read loop.
	ws   webrtc.TrackLocalWriter
	ssrc uint32
	pt   uint8

	waitKey bool // read loop: joined mid-GOP, forward video from the next keyframe

	rtx [256]struct { // rtcp goroutine: recent retransmissions, by seq
		seq uint16
		at  int64
	}

	live   bool       // writer goroutine: a write has succeeded
	waited bool       // writer goroutine: already waited once for pion's writer
	hdr    rtp.Header // writer goroutine scratch
}

func (d *downTrack) ID() string {
	if d.label != "" {
		return d.label
	}
	return d.role.String()
}
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.stream }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.role.kind() }

// Bind picks the negotiated payload type for the room codec and joins the room track.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	var match *webrtc.RTPCodecParameters
	for i, c := range ctx.CodecParameters() {
		if !strings.EqualFold(c.MimeType, d.codec.MimeType) {
			continue
		}
		if match == nil || c.SDPFmtpLine == d.codec.SDPFmtpLine {
			match = &ctx.CodecParameters()[i]
		}
	}
	if match == nil {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.ws, d.ssrc, d.pt = ctx.WriteStream(), uint32(ctx.SSRC()), uint8(match.PayloadType)
	d.v.attach(d)
	return *match, nil
}

func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.rt.leave(d)
	return nil
}

// write sends one shared packet with this viewer's SSRC and payload type.
func (d *downTrack) write(p *packet) int {
	d.hdr = p.Header
	d.hdr.SSRC, d.hdr.PayloadType = d.ssrc, d.pt
	n, err := d.ws.WriteRTP(&d.hdr, p.Payload)
	// Right after "connected", pion may still be wiring SRTP and drops the
	// write with (0, nil). Wait for it once, briefly, so the first packet (the
	// replayed keyframe) is not lost; never again, so a broken writer cannot stall.
	if n == 0 && err == nil && !d.live && !d.waited {
		d.waited = true
		for i := 0; n == 0 && err == nil && i < 50; i++ {
			time.Sleep(time.Millisecond)
			n, err = d.ws.WriteRTP(&d.hdr, p.Payload)
		}
		if n == 0 {
			d.v.s.log.Warn("viewer transport not ready, first packet lost", "room", d.v.room.name, "session", d.v.id, "track", d.role.String(), "err", err)
		}
	}
	if n > 0 {
		d.live = true
	}
	return len(p.Payload)
}
