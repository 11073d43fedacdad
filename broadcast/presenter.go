package broadcast

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// presenter is one WHIP session on a room's stage. A new Publish with the same
// credential replaces it, and the new session's read loops start only after the old
// ones returned; room tracks fed by several presenters serialise them (roomTrack.feed).
type presenter struct {
	id    string
	room  *room
	s     *Server
	pc    *webrtc.PeerConnection
	who   Publisher
	slot  int // stage slot, set by setPresenter before ready is closed
	level level
	mute  [numRoles]atomic.Bool // held back by a host (stage_mute.go)
	gated [numRoles]bool        // each written by its role's read loop only
	// parked: the camera is on the main track and not fed to its slot (stage.go, route).
	parked [numRoles]bool

	mu      sync.Mutex
	roles   map[*webrtc.RTPReceiver]trackRole
	lanes   map[*webrtc.RTPReceiver]lane // a relay's upstream stage slots (relay.go); nil otherwise
	stopped bool                         // no read loop may start once close began
	started [numRoles]bool

	ready    chan struct{} // closed once the previous presenter has fully stopped
	done     chan struct{}
	doneOnce sync.Once
	loops    sync.WaitGroup // read loops, so a successor can wait for them
}

// onTrack runs on a pion goroutine for each incoming track.
func (p *presenter) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	p.mu.Lock()
	if l, ok := p.lanes[receiver]; ok {
		p.startLane(track, receiver, l) // unlocks p.mu
		return
	}
	role, ok := p.roles[receiver]
	if !ok || p.stopped || p.started[role] {
		p.mu.Unlock()
		if !ok || p.started[role] {
			// A medium beyond the room's three (a second audio or a third video
			// m-line), or a second stream (simulcast layer) for a role: a room
			// track has exactly one writer, so it is not read. Say so loudly: the
			// viewers miss what the presenter believes they see.
			p.s.m.tracksIgnored.Inc()
			p.s.log.Warn("presenter track ignored", "room", p.room.name, "session", p.id, "kind", track.Kind().String(),
				"mid", receiverMid(p.pc, receiver), "rid", track.RID(), "why", ignoredWhy(ok))
		}
		return
	}
	p.started[role] = true
	p.loops.Add(1)
	p.mu.Unlock()
	if !p.s.goFunc(func() { defer p.loops.Done(); p.readLoop(track, receiver, role) }) {
		p.loops.Done()
	}
}

func ignoredWhy(matched bool) string {
	if matched {
		return "a second stream (simulcast layer) for a role already read"
	}
	return "no room track left for this m-line: a room takes one audio and two video (camera, screen)"
}

// receiverMid names the m-line a receiver belongs to, for the log.
func receiverMid(pc *webrtc.PeerConnection, r *webrtc.RTPReceiver) string {
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == r {
			return tr.Mid()
		}
	}
	return ""
}

// readLoop is the fan-out's source: one goroutine per presenter track. Each packet goes
// to the presenter's stage slot track and, while it is the active speaker (or, for the
// screen, holds the screen share), to the room's main track.
func (p *presenter) readLoop(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, role trackRole) {
	select {
	case <-p.ready:
	case <-p.done:
		return
	}
	codec := track.Codec().RTPCodecCapability
	main, slot := p.room.tracks[role], p.room.slotTrack(p.slot, role)
	if p.lanes != nil {
		slot = nil // a relay: the upstream's slots come on lanes of their own
	}
	for _, rt := range []*roomTrack{main, slot} {
		// The room's main codec follows a presenter alone on stage (as before the stage);
		// with others on stage it stays, and a presenter in another codec is left off
		// the main track (plain viewers could not decode it) but still has its slot.
		if rt == nil || rt == main && slot != nil && len(*p.room.stage.Load()) > 1 {
			continue
		}
		p.adoptCodec(rt, codec)
	}
	up := &upstream{pc: p.pc, ssrc: uint32(track.SSRC())}
	defer main.release(up)
	if slot != nil {
		defer slot.release(up)
	}
	var levelID uint8
	if role == roleAudio {
		levelID = audioLevelID(receiver)
	}
	p.s.log.Info("presenter track", "room", p.room.name, "session", p.id, "slot", p.slot, "role", role.String(), "codec", codec.MimeType, "ssrc", up.ssrc)
	p.readPackets(track, receiver, func(pk *packet) {
		if p.gate(role, up, main, slot) {
			return
		}
		now := time.Now()
		if role == roleAudio {
			p.room.observe(p, packetEnergy(&pk.Packet, levelID), now)
			p.room.tapStage(p, &pk.Packet)
		}
		// The presenter's header extension IDs mean nothing to viewers (their
		// SDP negotiated their own); forward the media without them.
		pk.Extension, pk.Extensions, pk.ExtensionProfile = false, nil, 0
		p.counted(pk)
		switch {
		case role == roleScreen: // the first presenter to share holds the room's screen
			sk := &rtp.Packet{Header: pk.Header, Payload: pk.Payload} // feeding rewrites pk's header
			if main.feedIfFree(up, codec, pk, now) {
				p.room.tapScreen(p.id, codec.MimeType, sk)
			}
		case slot == nil: // a relay's main track: the upstream chose the speaker
			p.relayMain(role, main, up, codec, pk, now)
		default:
			p.route(role, main, slot, up, codec, pk, now)
		}
	})
}

// adoptCodec makes rt carry codec; viewers that negotiated another one are closed (they
// could not decode it).
func (p *presenter) adoptCodec(rt *roomTrack, codec webrtc.RTPCodecCapability) {
	for _, d := range rt.setCodec(codec) {
		p.s.m.codecMismatch.Inc()
		v, why := d.v, "presenter codec changed to "+codec.MimeType
		p.s.goFunc(func() { v.close(why) })
	}
}

// readPackets hands each RTP packet of track to handle, in an allocation of its own (one per
// presenter packet, shared by every viewer), until the track ends; packets that do not parse
// are skipped. It drains the receiver's RTCP (sender reports) meanwhile, so pion's buffer
// never fills.
func (p *presenter) readPackets(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, handle func(*packet)) {
	p.s.goFunc(func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := receiver.Read(buf); err != nil {
				return
			}
		}
	})
	buf := make([]byte, 1500)
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		raw := make([]byte, n)
		copy(raw, buf[:n])
		if pk := (&packet{size: n}); pk.Unmarshal(raw) == nil {
			handle(pk)
		}
	}
}

// counted counts a packet taken in for the viewers.
func (p *presenter) counted(pk *packet) {
	p.s.m.received.Inc()
	p.s.m.receivedBytes.Add(float64(pk.size))
}

func (p *presenter) close(reason string) {
	p.doneOnce.Do(func() {
		close(p.done)
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		if err := p.pc.Close(); err != nil {
			p.s.log.Debug("presenter close", "room", p.room.name, "session", p.id, "err", err)
		}
		p.loops.Wait()
		p.s.log.Info("presenter ended", "room", p.room.name, "session", p.id, "reason", reason)
	})
}
