package broadcast

import (
	"context"
	"fmt"

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
// room's main tracks (audio, camera, screen share): the active speaker, as plain viewers get
// it. Session.Done is closed when the pull ends (End, the upstream going away, Close).
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

// offerRoles adds the receive-only m-lines the pull offers (audio, camera, screen: what a
// plain viewer's offer has) and maps their receivers to the room's roles.
func (p *presenter) offerRoles() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, role := range []trackRole{roleAudio, roleCamera, roleScreen} {
		tr, err := p.pc.AddTransceiverFromKind(role.kind(), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			return fmt.Errorf("add %s transceiver: %w", role, err)
		}
		p.roles[tr.Receiver()] = role
	}
	return nil
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
