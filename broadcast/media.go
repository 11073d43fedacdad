package broadcast

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"lectern/internal/udpbuf"
)

// Payload types follow Chrome's usual numbering so answers look familiar in logs.
// RTX is deliberately not registered: retransmissions travel on the media SSRC
// (RFC 4585 plain NACK), which lets one shared packet cache answer every viewer.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"},
}

func codecList() []webrtc.RTPCodecParameters {
	h264 := func(pt uint8, profile string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{PayloadType: webrtc.PayloadType(pt), RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
			RTCPFeedback: videoFeedback,
		}}
	}
	return []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}},
		h264(102, "42001f"), h264(106, "42e01f"), h264(127, "4d001f"), h264(112, "64001f"),
		{PayloadType: 98, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0", RTCPFeedback: videoFeedback}},
		{PayloadType: 45, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeAV1, ClockRate: 90000, RTCPFeedback: videoFeedback}},
	}
}

func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecList() {
		kind := webrtc.RTPCodecTypeVideo
		if strings.HasPrefix(c.MimeType, "audio/") {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			return nil, fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}
	return m, nil
}

// newAPIs builds two pion APIs because the two sides need different interceptors.
// The presenter (one per room) gets NACK generation, receiver reports and TWCC so
// the browser's congestion control ramps up. Viewers (hundreds per room) get only
// sender reports: every interceptor runs per packet per viewer, and pion's NACK
// responder would keep a private packet copy buffer per viewer (~1.5 MB); NACKs are
// answered from the room's shared cache instead (viewer.go).
func newAPIs(cfg Config) (presenter, viewer *webrtc.API, err error) {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(cfg.IncludeLoopback)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	// AES-GCM is about 4x cheaper than AES-CM+HMAC per packet; browsers offer both.
	se.SetSRTPProtectionProfiles(dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80)
	// A dead viewer is noticed in seconds, not pion's default 30 s.
	se.SetICETimeouts(5*time.Second, 10*time.Second, 2*time.Second)
	if cfg.UDPPortMin != 0 || cfg.UDPPortMax != 0 {
		if err := se.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, nil, fmt.Errorf("udp port range: %w", err)
		}
	}
	if len(cfg.Interfaces) > 0 {
		se.SetInterfaceFilter(func(name string) bool { return slices.Contains(cfg.Interfaces, name) })
	}
	if len(cfg.NAT1To1IPs) > 0 {
		se.SetNAT1To1IPs(cfg.NAT1To1IPs, webrtc.ICECandidateTypeHost)
	}

	pm, err := newMediaEngine()
	if err != nil {
		return nil, nil, err
	}
	// RFC 6464 audio levels let the active-speaker choice (stage.go) skip decoding Opus.
	if err := pm.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, nil, fmt.Errorf("audio level extension: %w", err)
	}
	preg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, nil, err
	}
	preg.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return nil, nil, err
	}
	preg.Add(rr)
	if err := webrtc.ConfigureTWCCSender(pm, preg); err != nil {
		return nil, nil, err
	}
	// The presenter's sockets get a large receive buffer: a keyframe arrives as a
	// burst, and if the read loop is descheduled for a moment the default
	// ~200 KB buffer overflows and every viewer sees the loss.
	std, err := stdnet.NewNet()
	if err != nil {
		return nil, nil, err
	}
	pse := se
	pse.SetNet(bigBufferNet{std})
	presenter = webrtc.NewAPI(webrtc.WithMediaEngine(pm), webrtc.WithInterceptorRegistry(preg), webrtc.WithSettingEngine(pse))

	vm, err := newMediaEngine()
	if err != nil {
		return nil, nil, err
	}
	vreg := &interceptor.Registry{}
	sr, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, nil, err
	}
	vreg.Add(sr)
	viewer = webrtc.NewAPI(webrtc.WithMediaEngine(vm), webrtc.WithInterceptorRegistry(vreg), webrtc.WithSettingEngine(se))
	return presenter, viewer, nil
}

// bigBufferNet is the standard network with 4 MB UDP receive buffers.
type bigBufferNet struct{ *stdnet.Net }

func (n bigBufferNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if uc, ok := c.(*net.UDPConn); ok && err == nil {
		udpbuf.Grow(uc, 4<<20)
	}
	return c, err
}
