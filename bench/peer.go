package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"lectern/internal/udpbuf"
)

// newAPI builds the client side: default codecs, and only NACK on top (viewers
// repair loss the way browsers do; nothing else costs client CPU, which shares
// the machine with the server under test). Client sockets get large receive
// buffers: with hundreds of viewers in one process, default-sized buffers
// overflow whenever the generator is descheduled, and that would be reported as
// the server's loss.
func newAPI(loopbackOnly bool) (*webrtc.API, webrtc.Configuration, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, webrtc.Configuration{}, err
	}
	reg := &interceptor.Registry{}
	// A browser gives up on a packet after a few NACKs; pion's default never does.
	gen, err := nack.NewGeneratorInterceptor(nack.GeneratorMaxNacksPerPacket(3))
	if err != nil {
		return nil, webrtc.Configuration{}, err
	}
	reg.Add(gen)
	resp, err := nack.NewResponderInterceptor()
	if err != nil {
		return nil, webrtc.Configuration{}, err
	}
	reg.Add(resp)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	if loopbackOnly {
		// A server on this machine: keep every packet on loopback.
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	std, err := stdnet.NewNet()
	if err != nil {
		return nil, webrtc.Configuration{}, err
	}
	se.SetNet(bigBufferNet{std})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	// One certificate for every client peer: key generation per peer would be
	// load-generator CPU taken from the server under test.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, webrtc.Configuration{}, err
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, webrtc.Configuration{}, err
	}
	return api, webrtc.Configuration{Certificates: []webrtc.Certificate{*cert}}, nil
}

func gatheredOffer(ctx context.Context, pc *webrtc.PeerConnection) (string, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return pc.LocalDescription().SDP, nil
}

func waitConnected(ctx context.Context, pc *webrtc.PeerConnection, connected <-chan struct{}) error {
	select {
	case <-connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("not connected (%s): %w", pc.ConnectionState(), ctx.Err())
	}
}

func onConnected(pc *webrtc.PeerConnection) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(ch) })
		}
	})
	return ch
}

// presenter is a synthetic WHIP publisher: the stream key's (pub 0) or a
// panelist's on the same stage (pub 1..).
type presenter struct {
	pc           *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticRTP
	location     string
	bearer       string // the credential it published with, also needed to DELETE
	pub          byte
	plis         atomic.Int64
	wantKey      atomic.Bool
	vseq, aseq   atomic.Uint32 // stamp sequence numbers: next to send
}

func startPresenter(ctx context.Context, api *webrtc.API, pcConf webrtc.Configuration, client *http.Client, cfg FanoutConfig, pub int, bearer string) (*presenter, error) {
	pc, err := api.NewPeerConnection(pcConf)
	if err != nil {
		return nil, err
	}
	p := &presenter{pc: pc, bearer: bearer, pub: byte(pub)}
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "bench")
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "bench")
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		x, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			_ = pc.Close()
			return nil, err
		}
		sender := x.Sender()
		go func() { // ends when pc closes
			for {
				pkts, _, err := sender.ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					switch pk.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						p.plis.Add(1)
						p.wantKey.Store(true)
					}
				}
			}
		}()
	}
	connected := onConnected(pc)
	offer, err := gatheredOffer(ctx, pc)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	answer, loc, err := postOffer(ctx, client, cfg.URL+"/whip/"+cfg.Room, bearer, offer)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("whip (publisher %d): %w", pub+1, err)
	}
	p.location = loc
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("whip answer: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := waitConnected(cctx, pc, connected); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("whip: %w", err)
	}
	return p, nil
}

// run sends 30 fps VP8-shaped frames at videoKbps (a keyframe every 2 s or on
// PLI) and 50 pps Opus-sized audio until ctx ends.
func (p *presenter) run(ctx context.Context, videoKbps int) {
	const fps = 30
	frameBytes := videoKbps * 1000 / 8 / fps
	const maxPayload = 1150
	start := time.Now()
	nextVideo, nextAudio := start, start
	var frame int
	var vseq, aseq uint16
	var vts, ats uint32
	lastKey := time.Time{}
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(nextVideo) {
			key := lastKey.IsZero() || now.Sub(lastKey) >= 2*time.Second || p.wantKey.Swap(false)
			if key {
				lastKey = now
			}
			vts += 90000 / fps
			remaining := frameBytes
			for first := true; first || remaining > 0; first = false {
				size := min(remaining, maxPayload)
				size = max(size, 40)
				remaining -= size
				payload := make([]byte, size)
				var flags byte
				if first {
					payload[0] = 0x10 // VP8 descriptor: S=1, PID=0
					if key {
						flags = flagKeyframe
						// frame tag P=0, show_frame; start code; 640x480
						copy(payload[1:], []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
					} else {
						copy(payload[1:], []byte{0x11, 0x02, 0x00})
					}
				}
				putStamp(payload, stamp{kind: kindVideo, flags: flags, pub: p.pub, seq: p.vseq.Add(1) - 1, sent: time.Now().UnixNano()})
				vseq++
				_ = p.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: vseq, Timestamp: vts, Marker: remaining <= 0}, Payload: payload})
			}
			frame++
			nextVideo = start.Add(time.Duration(frame) * time.Second / fps)
		}
		if !now.Before(nextAudio) {
			payload := make([]byte, 100)
			payload[0] = 0x78 // an Opus TOC byte (CELT FB 20 ms)
			putStamp(payload, stamp{kind: kindAudio, pub: p.pub, seq: p.aseq.Add(1) - 1, sent: time.Now().UnixNano()})
			aseq++
			ats += 960
			_ = p.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: ats}, Payload: payload})
			nextAudio = nextAudio.Add(20 * time.Millisecond)
		}
		wait := time.Until(nextVideo)
		if a := time.Until(nextAudio); a < wait {
			wait = a
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
}

// viewer is one synthetic WHEP client.
type viewer struct {
	pc        *webrtc.PeerConnection
	location  string
	posted    time.Time    // just before the WHEP POST
	answered  time.Time    // WHEP answer received
	connected atomic.Int64 // unix nanos when the PeerConnection connected
	firstKey  atomic.Int64 // unix nanos of the first keyframe packet, 0 until then
	firstPkt  atomic.Int64 // unix nanos of the first packet of any kind

	mu    sync.Mutex
	video []seqSet // per publisher: each has its own sequence space, whatever track carries it
	audio []seqSet
}

// windowStart is the send time from which latency samples count (unix nanos).
type recorder struct {
	hist        *latencyHist
	windowStart atomic.Int64
}

func startViewer(ctx context.Context, api *webrtc.API, pcConf webrtc.Configuration, client *http.Client, cfg FanoutConfig, rec *recorder) (*viewer, error) {
	pc, err := api.NewPeerConnection(pcConf)
	if err != nil {
		return nil, err
	}
	v := &viewer{pc: pc, video: make([]seqSet, cfg.Publishers), audio: make([]seqSet, cfg.Publishers)}
	for _, k := range viewerOffer(cfg.Publishers) {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { v.read(tr, rec) })
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			v.connected.CompareAndSwap(0, time.Now().UnixNano())
		}
	})
	offer, err := gatheredOffer(ctx, pc)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	v.posted = time.Now()
	answer, loc, err := postOffer(ctx, client, cfg.ViewURL+"/whep/"+cfg.Room, "", offer)
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("whep: %w", err)
	}
	v.location, v.answered = loc, time.Now()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("whep answer: %w", err)
	}
	return v, nil
}

// viewerOffer lists a viewer's receive-only m-lines. One publisher: one audio and one video,
// a plain WHEP player (today's figure). A stage: what the watch page offers for that many
// slots (web/static/js/stage-tiles.js), one audio m-line per slot (every voice, unmixed),
// then the active speaker's camera, the screen share and one camera per slot (the strip).
func viewerOffer(publishers int) []webrtc.RTPCodecType {
	a, v := webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo
	if publishers <= 1 {
		return []webrtc.RTPCodecType{a, v}
	}
	var out []webrtc.RTPCodecType
	for range publishers {
		out = append(out, a)
	}
	for range 2 + publishers {
		out = append(out, v)
	}
	return out
}

// read runs on pion's OnTrack goroutine until the PeerConnection closes.
func (v *viewer) read(tr *webrtc.TrackRemote, rec *recorder) {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		st, ok := readStamp(pkt.Payload)
		if !ok {
			continue
		}
		v.firstPkt.CompareAndSwap(0, now)
		if st.kind == kindVideo && st.flags&flagKeyframe != 0 {
			v.firstKey.CompareAndSwap(0, now)
		}
		if st.sent >= rec.windowStart.Load() {
			rec.hist.add(time.Duration(now - st.sent))
		}
		v.mu.Lock()
		if int(st.pub) < len(v.video) {
			if st.kind == kindVideo {
				v.video[st.pub].add(st.seq)
			} else {
				v.audio[st.pub].add(st.seq)
			}
		}
		v.mu.Unlock()
	}
}

// bigBufferNet is the standard network with larger UDP receive buffers.
type bigBufferNet struct{ *stdnet.Net }

func (n bigBufferNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if uc, ok := c.(*net.UDPConn); ok && err == nil {
		udpbuf.Grow(uc, 4<<20)
	}
	return c, err
}

// isLoopback reports whether a server URL points at this machine's loopback.
func isLoopback(serverURL string) bool {
	u, err := url.Parse(serverURL)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}
