package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// This file holds real pion peers for the tests: a publisher that sends known
// payloads and viewers that record what they receive.

func clientAPI(t testing.TB) *webrtc.API { return clientAPIWith(t) }

// clientAPIWith is clientAPI negotiating the given audio header extensions too.
func clientAPIWith(t testing.TB, audioExts ...string) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	for _, uri := range audioExts {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	reg := &interceptor.Registry{}
	// Default interceptors: viewers NACK losses, which exercises the shared cache.
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" }) // tests stay on loopback
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

func newTestServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	cfg.IncludeLoopback = true
	s, err := New(cfg, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// offerFor creates pc's offer with every candidate gathered (non-trickle).
func offerFor(t testing.TB, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("client ICE gathering timed out")
	}
	return pc.LocalDescription().SDP
}

func applyAnswer(t testing.TB, pc *webrtc.PeerConnection, answer string) {
	t.Helper()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
}

// sentLog records every payload the publisher sent, by kind and index.
type sentLog struct {
	mu    sync.Mutex
	video map[uint32][]byte
	audio map[uint32][]byte
}

func newSentLog() *sentLog {
	return &sentLog{video: map[uint32][]byte{}, audio: map[uint32][]byte{}}
}

func (l *sentLog) get(video bool, idx uint32) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if video {
		return l.video[idx]
	}
	return l.audio[idx]
}

// publisher is a pion client presenting VP8-shaped video and Opus-shaped audio.
type publisher struct {
	pc           *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticRTP
	session      Session
	vseq, aseq   uint16
	vts, ats     uint32
	plis         int
	mu           sync.Mutex
}

func newPublisher(t testing.TB, s *Server, room string) *publisher {
	t.Helper()
	return newPublisherCodec(t, s, room, webrtc.MimeTypeVP8)
}

func newPublisherCodec(t testing.TB, s *Server, room, videoMime string) *publisher {
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p := &publisher{pc: pc}
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pub")
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: videoMime, ClockRate: 90000}, "camera", "pub")
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		x, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go func() { // count keyframe requests reaching the publisher
			for {
				pkts, _, err := x.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok {
						p.mu.Lock()
						p.plis++
						p.mu.Unlock()
					}
				}
			}
		}()
	}
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := s.Publish(ctx, room, offerFor(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	p.session = sess
	applyAnswer(t, pc, sess.Answer)
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher did not connect")
	}
	return p
}

// sendFrame sends one video frame of n packets (keyframe or not) and records the payloads.
func (p *publisher) sendFrame(t testing.TB, log *sentLog, next *uint32, n int, key bool) {
	t.Helper()
	p.vts += 3000
	for i := 0; i < n; i++ {
		payload := make([]byte, 300+i)
		_, _ = rand.Read(payload)
		payload[0] = 0x00 // VP8 descriptor: not a partition start
		if i == 0 {
			payload[0] = 0x10 // S=1, PID=0
			payload[1] = 0x01 // frame tag, P=1: interframe
			if key {
				payload[1] = 0x00
			}
		}
		idx := *next
		*next++
		binary.BigEndian.PutUint32(payload[4:8], idx)
		log.mu.Lock()
		log.video[idx] = payload
		log.mu.Unlock()
		p.vseq++
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.vseq, Timestamp: p.vts, Marker: i == n-1}, Payload: payload}
		if err := p.video.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
	}
}

func (p *publisher) sendAudio(t testing.TB, log *sentLog, next *uint32) {
	t.Helper()
	payload := make([]byte, 80)
	_, _ = rand.Read(payload)
	idx := *next
	*next++
	binary.BigEndian.PutUint32(payload[4:8], idx)
	log.mu.Lock()
	log.audio[idx] = payload
	log.mu.Unlock()
	p.aseq++
	p.ats += 960
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.aseq, Timestamp: p.ats}, Payload: payload}
	if err := p.audio.WriteRTP(pkt); err != nil {
		t.Fatal(err)
	}
}

func (p *publisher) pliCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plis
}

// testViewer is a pion WHEP-style client recording received payload indices.
type testViewer struct {
	pc      *webrtc.PeerConnection
	session Session
	read    bool // false: never reads RTP after the first packet (a stuck viewer)
	stop    chan struct{}

	mu         sync.Mutex
	video      map[uint32]bool
	audio      map[uint32]bool
	audioSeqs  []uint16 // arrival order, to check continuity across presenter reconnects
	mismatches int
	keyframes  int
	firstVideo []byte // payload of the first video packet
}

func newTestViewer(t testing.TB, read bool) *testViewer {
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	v := &testViewer{pc: pc, read: read, stop: make(chan struct{}), video: map[uint32]bool{}, audio: map[uint32]bool{}}
	t.Cleanup(v.close)
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func (v *testViewer) start(t testing.TB, s *Server, room string, log *sentLog) {
	t.Helper()
	v.pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		video := tr.Kind() == webrtc.RTPCodecTypeVideo
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if len(pkt.Payload) < 8 {
				continue
			}
			idx := binary.BigEndian.Uint32(pkt.Payload[4:8])
			want := log.get(video, idx)
			v.mu.Lock()
			if string(want) != string(pkt.Payload) {
				v.mismatches++
			} else if video {
				if v.firstVideo == nil {
					v.firstVideo = pkt.Payload
				}
				v.video[idx] = true
				if pkt.Payload[0] == 0x10 && pkt.Payload[1]&1 == 0 {
					v.keyframes++
				}
			} else {
				v.audio[idx] = true
				v.audioSeqs = append(v.audioSeqs, pkt.SequenceNumber)
			}
			v.mu.Unlock()
			if !v.read {
				<-v.stop // stuck until the test ends; pion's buffers fill up
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := s.Subscribe(ctx, room, offerFor(t, v.pc))
	if err != nil {
		t.Fatal(err)
	}
	v.session = sess
	applyAnswer(t, v.pc, sess.Answer)
}

func (v *testViewer) close() {
	select {
	case <-v.stop:
	default:
		close(v.stop)
	}
	_ = v.pc.Close()
}

func (v *testViewer) counts() (video, audio, mismatches int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.video), len(v.audio), v.mismatches
}

func (v *testViewer) has(video bool, from, to uint32) (missing int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := v.audio
	if video {
		m = v.video
	}
	for i := from; i < to; i++ {
		if !m[i] {
			missing++
		}
	}
	return missing
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
