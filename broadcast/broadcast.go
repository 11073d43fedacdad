// Package broadcast carries presenters' WebRTC media (WHIP) to many viewers
// (WHEP): sessions, rooms, the RTP fan-out, keyframe requests, NACK repair and
// the audio tap. It knows nothing of HTTP, SQL or speech. A room's stage holds up
// to six presenters; plain viewers get the active speaker (stage.go).
//
// Viewers who arrive before the presenter get a complete answer at once, with
// audio, camera and (if they offered a second video m-line) screen tracks in the
// room's codec (VP8 until a presenter has used another), and start receiving
// when the presenter goes live. If the presenter then sends a different video
// codec, their session is ended so the page reconnects and negotiates again.
//
// The fan-out (track.go, viewer.go): one read loop per presenter track hands
// each packet, by pointer, to every viewer's bounded queue; the viewer list is a
// copy-on-write slice behind an atomic pointer; each viewer's own goroutine
// drains its queue in batches, so a slow viewer only drops (and counts) its own
// packets. Sequence numbers are rewritten once on ingest (continuity across
// presenter reconnects), never per viewer, so one packet cache per room track
// answers every viewer's NACKs and gives a joining viewer the current GOP at
// once; when the GOP is not cached, the viewer starts at the next keyframe,
// asked for with a throttled PLI.
package broadcast

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the broadcast settings; zero values get the defaults of New.
type Config struct {
	ViewerQueue     int           // packets queued per viewer before drops are counted (default 2048)
	PLIInterval     time.Duration // min gap between keyframe requests sent to the presenter (default 500ms)
	IncludeLoopback bool          // offer loopback ICE candidates (tests, local benches)
	UDPPortMin      uint16        // optional ephemeral UDP port range
	UDPPortMax      uint16
	NAT1To1IPs      []string // optional public IPs to advertise as host candidates
	// Interfaces limits ICE gathering to these network interfaces ("lo" keeps tests and local
	// benches on loopback); empty means every interface.
	Interfaces []string
	Logger     *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ViewerQueue <= 0 {
		c.ViewerQueue = 2048 // holds a replayed GOP of up to 1024 packets plus live traffic
	}
	if c.PLIInterval <= 0 {
		c.PLIInterval = 500 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Session identifies a WHIP or WHEP session; Answer is the complete SDP answer
// (ICE candidates gathered, no trickle).
type Session struct {
	ID     string
	Answer string
	// Done is closed when a viewer session ends for any reason: End, a failed or closed
	// connection (a closed tab sends no DELETE), the room ending or the server closing.
	// Callers that keep per-session bookkeeping forget the session then. Nil for presenters.
	Done <-chan struct{}
}

// Server owns every room, peer connection and goroutine of the broadcast.
type Server struct {
	cfg            Config
	log            *slog.Logger
	m              *metrics
	presenterAPI   *webrtc.API
	viewerAPI      *webrtc.API
	pcConfig       webrtc.Configuration // one DTLS certificate for every session
	gatherDeadline time.Duration
	candidates     candidatePolicy // which remote ICE candidates an offer may bring
	onStage        atomic.Pointer[func(string)]

	mu     sync.Mutex
	rooms  map[string]*room
	closed bool
	wg     sync.WaitGroup // every goroutine the server starts
}

// New builds a Server and registers its metrics on reg.
func New(cfg Config, reg prometheus.Registerer) (*Server, error) {
	cfg = cfg.withDefaults()
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("broadcast metrics: %w", err)
	}
	papi, vapi, err := newAPIs(cfg)
	if err != nil {
		return nil, fmt.Errorf("broadcast webrtc: %w", err)
	}
	// pion would generate a key pair and certificate for every PeerConnection;
	// one per server saves that work on each join (browsers share one per origin).
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("broadcast dtls key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("broadcast dtls certificate: %w", err)
	}
	return &Server{cfg: cfg, log: cfg.Logger, m: m, presenterAPI: papi, viewerAPI: vapi,
		pcConfig:       webrtc.Configuration{Certificates: []webrtc.Certificate{*cert}},
		gatherDeadline: 5 * time.Second, rooms: map[string]*room{},
		candidates: candidatePolicy{loopback: cfg.IncludeLoopback, own: serverAddrs(cfg.NAT1To1IPs)}}, nil
}

// goFunc runs f on a goroutine the server waits for in Close; false after Close.
func (s *Server) goFunc(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Server) room(name string, create bool) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[name]
	if r == nil && create && !s.closed {
		r = newRoom(name, s)
		s.rooms[name] = r
	}
	return r
}

// Publish starts a presenter session for room from a WHIP offer with the webinar's
// stream key: it replaces the stream key's current session, if any (a reconnect);
// viewers stay attached and see one continuous stream.
func (s *Server) Publish(ctx context.Context, roomName, offer string) (Session, error) {
	return s.PublishAs(ctx, roomName, offer, Publisher{})
}

// PublishAs starts a presenter session on the room's stage for who. The same who.Key
// publishing again replaces its own session (and keeps its slot); a new key when MaxStage
// presenters are on stage gets ErrStageFull, before any PeerConnection exists.
func (s *Server) PublishAs(ctx context.Context, roomName, offer string, who Publisher) (Session, error) {
	if who.Key == "" {
		who.Key = streamKeyID
	}
	info, err := parseOffer(offer, true, s.candidates)
	if err != nil {
		s.m.badOffers.Inc()
		return Session{}, err
	}
	r := s.room(roomName, true)
	if r == nil {
		return Session{}, ErrClosed
	}
	if r.stageFull(who.Key) {
		return Session{}, ErrStageFull
	}
	pc, err := s.presenterAPI.NewPeerConnection(s.pcConfig)
	if err != nil {
		return Session{}, fmt.Errorf("whip %s: %w", roomName, err)
	}
	p := &presenter{id: newID(), room: r, s: s, pc: pc, who: who, roles: map[*webrtc.RTPReceiver]trackRole{},
		ready: make(chan struct{}), done: make(chan struct{})}
	pc.OnTrack(p.onTrack)
	answer, err := s.negotiate(ctx, pc, info.offer, func() error {
		p.mu.Lock()
		defer p.mu.Unlock()
		assignRoles(pc, info, p.roles)
		if len(p.roles) == 0 {
			return fmt.Errorf("%w: no m-line could be matched to audio, camera or screen", ErrBadOffer)
		}
		return nil
	})
	if err != nil {
		_ = pc.Close()
		return Session{}, fmt.Errorf("whip %s: %w", roomName, err)
	}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			r.clearPresenter(p)
			p.close("connection " + st.String())
		}
	})
	old, err := r.setPresenter(p)
	if err != nil { // the last slot went to someone else while we negotiated
		p.close("stage full")
		return Session{}, err
	}
	if old != nil {
		old.close("replaced by " + p.id)
	}
	close(p.ready)
	if s.isClosed() { // Close ran while we negotiated
		r.clearPresenter(p)
		p.close("server closed")
		return Session{}, ErrClosed
	}
	s.log.Info("presenter joined", "room", roomName, "session", p.id, "slot", p.slot, "speaker", who.Name, "audio", info.audio, "video", info.video)
	return Session{ID: p.id, Answer: answer}, nil
}

// assignRoles maps the presenter's transceivers to audio, camera and screen: the
// first audio m-line is audio; video m-lines are camera then screen in order,
// unless an msid names one of them a screen share.
func assignRoles(pc *webrtc.PeerConnection, info offerInfo, roles map[*webrtc.RTPReceiver]trackRole) {
	screenMid := ""
	for _, l := range info.lines {
		if l.kind == "video" && l.screen {
			screenMid = l.mid
			break
		}
	}
	usable := map[string]bool{}
	for _, l := range info.lines {
		usable[l.mid] = true
	}
	taken := [numRoles]bool{}
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == nil || !usable[tr.Mid()] {
			continue
		}
		role := roleAudio
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			switch {
			case screenMid != "" && tr.Mid() == screenMid:
				role = roleScreen
			case !taken[roleCamera]:
				role = roleCamera
			default:
				role = roleScreen
			}
		}
		if taken[role] {
			continue
		}
		taken[role] = true
		roles[tr.Receiver()] = role
	}
}

// Subscribe starts a viewer session for room from a WHEP offer.
func (s *Server) Subscribe(ctx context.Context, roomName, offer string) (Session, error) {
	info, err := parseOffer(offer, false, s.candidates)
	if err != nil {
		s.m.badOffers.Inc()
		return Session{}, err
	}
	r := s.room(roomName, true)
	if r == nil {
		return Session{}, ErrClosed
	}
	want, err := viewerTracks(r, info)
	if err != nil {
		s.m.badOffers.Inc()
		return Session{}, err
	}
	pc, err := s.viewerAPI.NewPeerConnection(s.pcConfig)
	if err != nil {
		return Session{}, fmt.Errorf("whep %s: %w", roomName, err)
	}
	v := newViewer(newID(), r, s, pc)
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			v.setConnected()
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			v.close("connection " + st.String())
		}
	})
	senders, dts := make([]*webrtc.RTPSender, len(want)), make([]*downTrack, len(want))
	answer, err := s.negotiate(ctx, pc, info.offer, func() error {
		for i, w := range want {
			d := &downTrack{v: v, rt: w.rt, role: w.role, codec: w.codec, label: w.label, stream: "lectern-" + roomName}
			sender, err := pc.AddTrack(d)
			if err != nil {
				return fmt.Errorf("add %s track: %w", w.label, err)
			}
			v.addDown(w.main, d)
			senders[i], dts[i] = sender, d
		}
		return nil
	})
	if err != nil {
		v.close("negotiation failed")
		return Session{}, fmt.Errorf("whep %s: %w", roomName, err)
	}
	r.addViewer(v)
	ok := s.goFunc(v.writeLoop)
	for i, d := range dts {
		if ok {
			ok = s.goFunc(func() { v.rtcpLoop(d, senders[i]) })
		}
	}
	if !ok {
		v.close("server closed")
		return Session{}, ErrClosed
	}
	s.log.Info("viewer joined", "room", roomName, "session", v.id)
	return Session{ID: v.id, Answer: answer, Done: v.done}, nil
}

// negotiate applies the offer, lets setup add tracks or read transceivers, and
// returns the answer once ICE gathering is complete (WHIP/WHEP clients expect
// every candidate in the answer).
func (s *Server) negotiate(ctx context.Context, pc *webrtc.PeerConnection, offer string, setup func() error) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if err := setup(); err != nil {
		return "", err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	timer := time.NewTimer(s.gatherDeadline)
	defer timer.Stop()
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-timer.C:
		return "", fmt.Errorf("ICE gathering did not complete in %s", s.gatherDeadline)
	}
	return pc.LocalDescription().SDP, nil
}

// End stops a presenter or viewer session.
func (s *Server) End(roomName, sessionID string) error {
	r := s.room(roomName, false)
	if r == nil {
		return ErrNoSession
	}
	r.mu.Lock()
	var p *presenter
	for _, x := range r.presenters {
		if x.id == sessionID {
			p = x
		}
	}
	v := r.viewers[sessionID]
	r.mu.Unlock()
	switch {
	case p != nil && p.id == sessionID:
		r.clearPresenter(p)
		p.close("ended")
	case v != nil:
		v.close("ended")
	default:
		return ErrNoSession
	}
	return nil
}

// AddTap attaches t to the room's presenter audio (and camera video if t is a
// VideoTap, screen share if a ScreenTap), across presenter reconnects, until remove is called.
func (s *Server) AddTap(roomName string, t Tap) (remove func()) {
	r := s.room(roomName, true)
	if r == nil {
		return func() {}
	}
	return r.addTap(t)
}

// RequestKeyframe asks the room's presenter for a camera keyframe through the
// viewers' throttled PLI path (a tap that lost video or joined mid-stream).
func (s *Server) RequestKeyframe(roomName string) {
	if r := s.room(roomName, false); r != nil {
		r.tracks[roleCamera].requestKeyframe()
	}
}

// RequestScreenKeyframe is RequestKeyframe for the screen share (a recording
// switching its main picture to the screen).
func (s *Server) RequestScreenKeyframe(roomName string) {
	if r := s.room(roomName, false); r != nil {
		r.tracks[roleScreen].requestKeyframe()
	}
}

// Viewers returns the number of viewer sessions in the room.
func (s *Server) Viewers(roomName string) int {
	r := s.room(roomName, false)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.viewers)
}

// Live reports whether the room has a presenter session on stage (from Publish until
// it ends, fails or is replaced).
func (s *Server) Live(roomName string) bool {
	r := s.room(roomName, false)
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.presenters) > 0
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close ends every session, closes every peer connection and waits for every
// goroutine the server started.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.endAll("server closed")
	}
	s.wg.Wait()
	return nil
}

// EndRoom ends the room's presenter and every viewer and forgets the room (its webinar is
// gone). Taps stay attached to nothing and receive no more audio.
func (s *Server) EndRoom(roomName string) {
	s.mu.Lock()
	r := s.rooms[roomName]
	delete(s.rooms, roomName)
	s.mu.Unlock()
	if r != nil {
		r.endAll("room ended")
	}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
