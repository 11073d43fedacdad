package broadcast

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"
)

// RelayPublisher is the Publisher.Key of a relay session: the stage seat of the media an edge
// pulls from another node (see Relay).
const RelayPublisher = "node-relay"

// Exchange sends a WHEP offer to another node and returns its SDP answer.
type Exchange func(ctx context.Context, offer string) (answer string, err error)

// Relay feeds a room from another Lectern node: this server becomes a WHEP client of the
// upstream node (exchange posts the offer), and what arrives is the room's presenter, so the
// local viewers fan out from it exactly as from a presenter here: the same room tracks, the
// same packet cache answering their NACKs, their keyframe requests going (throttled) to the
// upstream peer, which forwards them to its own presenter. The pull asks for the upstream
// room's main tracks (the active speaker's audio and camera, the screen share) and for every
// stage slot's audio and camera (see offerRoles). Session.Done is closed when the pull ends
// (End, the upstream going away, Close).
//
// The client peer is made with the presenter API: it NACKs what the upstream lost and sends
// receiver reports, like a browser viewer would.
func (s *Server) Relay(ctx context.Context, roomName string, exchange Exchange) (Session, error) {
	r := s.room(roomName, true)
	if r == nil {
		return Session{}, ErrClosed
	}
	if r.stageFull(RelayPublisher) {
		return Session{}, ErrStageFull
	}
	pc, err := s.presenterAPI.NewPeerConnection(s.pcConfig)
	if err != nil {
		return Session{}, fmt.Errorf("relay %s: %w", roomName, err)
	}
	p := &presenter{id: newID(), room: r, s: s, pc: pc, who: Publisher{Key: RelayPublisher},
		roles: map[*webrtc.RTPReceiver]trackRole{}, ready: make(chan struct{}), done: make(chan struct{})}
	if err := p.offerRoles(); err != nil {
		_ = pc.Close()
		return Session{}, fmt.Errorf("relay %s: %w", roomName, err)
	}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			r.clearPresenter(p)
			p.close("upstream connection " + st.String())
		}
	})
	if err := s.offerAndApply(ctx, pc, exchange); err != nil {
		p.close("negotiation failed")
		return Session{}, fmt.Errorf("relay %s: %w", roomName, err)
	}
	old, err := r.setPresenter(p)
	if err != nil {
		p.close("stage full")
		return Session{}, err
	}
	if old != nil {
		old.close("replaced by relay " + p.id)
	}
	close(p.ready)
	if s.isClosed() {
		r.clearPresenter(p)
		p.close("server closed")
		return Session{}, ErrClosed
	}
	s.log.Info("relay joined", "room", roomName, "session", p.id)
	return Session{ID: p.id, Done: p.done}, nil
}

// lane is where one of a relay's upstream stage slot m-lines goes here: the same slot's track.
type lane struct {
	slot int
	role trackRole
}

// offerRoles adds the receive-only m-lines the pull offers, as the upstream maps them
// (stage_viewer.go): every slot's audio then the active speaker's; the active speaker's
// camera, the screen share, then every slot's camera. The room here thus carries the
// upstream's stage as is: slot viewers get every voice, plain viewers the active speaker.
func (p *presenter) offerRoles() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lanes = map[*webrtc.RTPReceiver]lane{}
	add := func(kind webrtc.RTPCodecType) (*webrtc.RTPReceiver, error) {
		tr, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			return nil, fmt.Errorf("add %s transceiver: %w", kind, err)
		}
		return tr.Receiver(), nil
	}
	for _, m := range relayLines() {
		r, err := add(m.role.kind())
		if err != nil {
			return err
		}
		if m.slot < 0 {
			p.roles[r] = m.role
		} else {
			p.lanes[r] = m
		}
	}
	return nil
}

// relayLines is the pull's m-lines in offer order; slot -1 is a main track.
func relayLines() []lane {
	var out []lane
	for k := range MaxStage {
		out = append(out, lane{k, roleAudio})
	}
	out = append(out, lane{-1, roleAudio}, lane{-1, roleCamera}, lane{-1, roleScreen})
	for k := range MaxStage {
		out = append(out, lane{k, roleCamera})
	}
	return out
}

// relayMain feeds a relay's main track: the upstream chose the active speaker and applied
// the hosts' mutes, so the packet goes on as it came, through the same taps as a speaker's.
func (p *presenter) relayMain(role trackRole, main *roomTrack, up *upstream, codec webrtc.RTPCodecCapability, pk *packet, now time.Time) {
	if role == roleAudio {
		p.room.tap(p.id, &pk.Packet)
	} else {
		p.room.tapVideo(p.id, codec.MimeType, &pk.Packet)
	}
	main.feed(up, codec, pk, now)
}

// startLane starts the read loop of an upstream slot m-line, once; it is called with p.mu
// held and unlocks it.
func (p *presenter) startLane(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, l lane) {
	if p.stopped {
		p.mu.Unlock()
		return
	}
	delete(p.lanes, receiver) // a second stream on it (a simulcast layer) is not read
	p.loops.Add(1)
	p.mu.Unlock()
	if !p.s.goFunc(func() { defer p.loops.Done(); p.laneLoop(track, receiver, l) }) {
		p.loops.Done()
	}
}

// laneLoop forwards an upstream slot to the same slot here. Nothing is decided again: no
// active speaker, no mute, no caption tap (only the origin transcribes).
func (p *presenter) laneLoop(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, l lane) {
	select {
	case <-p.ready:
	case <-p.done:
		return
	}
	rt, codec := p.room.slotTrack(l.slot, l.role), track.Codec().RTPCodecCapability
	p.adoptCodec(rt, codec)
	up := &upstream{pc: p.pc, ssrc: uint32(track.SSRC())}
	defer rt.release(up)
	p.readPackets(track, receiver, func(pk *packet) {
		pk.Extension, pk.Extensions, pk.ExtensionProfile = false, nil, 0
		p.counted(pk)
		rt.feed(up, codec, pk, time.Now())
	})
}

// offerAndApply makes the complete offer (every candidate gathered: WHEP has no trickle here),
// has exchange deliver it and applies the answer.
func (s *Server) offerAndApply(ctx context.Context, pc *webrtc.PeerConnection, exchange Exchange) error {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	answer, err := exchange(ctx, pc.LocalDescription().SDP)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("%w: upstream answer: %v", ErrBadOffer, err)
	}
	return nil
}
