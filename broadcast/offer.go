package broadcast

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// maxOfferBytes bounds the work done on an offer; the api also limits bodies to 64 KiB.
const maxOfferBytes = 64 << 10

// maxOfferCandidates bounds the remote ICE candidates taken from one offer. Each one costs
// connectivity checks from the server: a browser offers a handful, and an offer with
// hundreds would aim the server's STUN checks at as many ports anywhere.
const maxOfferCandidates = 20

// offerInfo is what a cheap look at an offer tells us before any PeerConnection exists.
type offerInfo struct {
	offer        string          // the offer to apply: the input, less the refused candidates
	candidates   int             // ICE candidates kept
	dropped      int             // ICE candidates refused (see candidatePolicy)
	lines        []offerLine     // usable audio/video m-lines, in order
	audio, video int             // usable m-lines of each kind
	videoCodecs  map[string]bool // lower-case codec names offered on video lines ("vp8", "h264")
	opus         bool
}

// offerLine is one usable audio/video m-line.
type offerLine struct {
	mid    string
	kind   string
	screen bool // msid names it a screen share ("screen" in the stream or track id)
}

// parseOffer validates an offer with pion/sdp alone, so a malformed or hostile
// offer is refused without creating a PeerConnection, socket or goroutine.
// publish selects the direction the remote must use: sendonly/sendrecv for a
// presenter, recvonly/sendrecv for a viewer. Candidates the policy refuses, and those
// beyond maxOfferCandidates, are removed from the offer to apply (info.offer).
func parseOffer(offer string, publish bool, policy candidatePolicy) (offerInfo, error) {
	info := offerInfo{videoCodecs: map[string]bool{}}
	if len(offer) > maxOfferBytes {
		return info, fmt.Errorf("%w: offer larger than %d bytes", ErrBadOffer, maxOfferBytes)
	}
	if strings.TrimSpace(offer) == "" {
		return info, fmt.Errorf("%w: empty offer", ErrBadOffer)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return info, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	sessionDir := direction(d.Attributes)
	_, sessionFP := d.Attribute("fingerprint")
	_, sessionUfrag := d.Attribute("ice-ufrag")
	for _, m := range d.MediaDescriptions {
		kind := m.MediaName.Media
		if kind != "audio" && kind != "video" {
			continue // application (data channel) lines are ignored, not refused
		}
		if m.MediaName.Port.Value == 0 && !bundleOnly(m) {
			continue // rejected/stopped m-line
		}
		if !hasProto(m.MediaName.Protos, "SAVPF") && !hasProto(m.MediaName.Protos, "SAVP") {
			return info, fmt.Errorf("%w: %s m-line is not SRTP (%s)", ErrBadOffer, kind, strings.Join(m.MediaName.Protos, "/"))
		}
		if _, ok := m.Attribute("fingerprint"); !ok && !sessionFP {
			return info, fmt.Errorf("%w: %s m-line has no DTLS fingerprint", ErrBadOffer, kind)
		}
		if _, ok := m.Attribute("ice-ufrag"); !ok && !sessionUfrag {
			return info, fmt.Errorf("%w: %s m-line has no ice-ufrag", ErrBadOffer, kind)
		}
		dir := direction(m.Attributes)
		if dir == "" {
			dir = sessionDir
		}
		if dir == "" {
			dir = "sendrecv"
		}
		switch {
		case dir == "inactive":
			continue
		case publish && dir == "recvonly":
			return info, fmt.Errorf("%w: WHIP offer has a recvonly %s m-line; a presenter must send", ErrBadOffer, kind)
		case !publish && dir == "sendonly":
			return info, fmt.Errorf("%w: WHEP offer has a sendonly %s m-line; a viewer must receive", ErrBadOffer, kind)
		}
		names := codecNames(m)
		mid, _ := m.Attribute("mid")
		msid, _ := m.Attribute("msid")
		info.lines = append(info.lines, offerLine{mid: mid, kind: kind, screen: strings.Contains(strings.ToLower(msid), "screen")})
		if kind == "audio" {
			info.audio++
			if names["opus"] {
				info.opus = true
			}
			continue
		}
		info.video++
		for n := range names {
			info.videoCodecs[n] = true
		}
	}
	if info.audio+info.video == 0 {
		return info, fmt.Errorf("%w: no usable audio or video m-line", ErrBadOffer)
	}
	if err := info.filterCandidates(&d, offer, policy); err != nil {
		return info, err
	}
	if info.audio > 0 && !info.opus {
		return info, fmt.Errorf("%w: audio offered without Opus", ErrBadOffer)
	}
	if info.video > 0 && !(info.videoCodecs["vp8"] || info.videoCodecs["h264"] || info.videoCodecs["vp9"] || info.videoCodecs["av1"]) {
		return info, fmt.Errorf("%w: video offered without VP8, H264, VP9 or AV1", ErrBadOffer)
	}
	return info, nil
}

// candidatePolicy says which remote ICE candidates the server's agent may send checks to.
type candidatePolicy struct {
	loopback bool                // loopback addresses allowed (tests and local benches)
	own      func() []netip.Addr // the server's own addresses, refused; nil: none known
}

// serverAddrs are the addresses of this host's interfaces plus the advertised NAT addresses.
func serverAddrs(nat []string) func() []netip.Addr {
	return func() []netip.Addr {
		var out []netip.Addr
		addrs, _ := net.InterfaceAddrs() // none known on error: the other rules still apply
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				out = append(out, p.Addr().Unmap())
			}
		}
		for _, ip := range nat {
			if a, err := netip.ParseAddr(ip); err == nil {
				out = append(out, a.Unmap())
			}
		}
		return out
	}
}

// filterCandidates keeps, in order, at most maxOfferCandidates candidates the policy allows
// and sets info.offer to the offer without the others.
func (info *offerInfo) filterCandidates(d *sdp.SessionDescription, offer string, policy candidatePolicy) error {
	var own []netip.Addr
	if policy.own != nil {
		own = policy.own()
	}
	keep := func(attrs []sdp.Attribute) []sdp.Attribute {
		out := attrs[:0]
		for _, a := range attrs {
			if a.Key == "candidate" {
				if info.candidates >= maxOfferCandidates || !policy.allows(a.Value, own) {
					info.dropped++
					continue
				}
				info.candidates++
			}
			out = append(out, a)
		}
		return out
	}
	d.Attributes = keep(d.Attributes)
	for _, m := range d.MediaDescriptions {
		m.Attributes = keep(m.Attributes)
	}
	info.offer = offer
	if info.dropped == 0 {
		return nil
	}
	b, err := d.Marshal()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	info.offer = string(b)
	return nil
}

// allows says whether the server may check a candidate ("foundation component transport
// priority address port typ type ..."): UDP, an IP literal (the server resolves no names;
// mDNS .local names are ignored by its agent anyway) and a real port, never the
// unspecified, multicast or broadcast address, the server itself or, unless enabled,
// loopback.
func (p candidatePolicy) allows(value string, own []netip.Addr) bool {
	f := strings.Fields(value)
	if len(f) < 8 || !strings.EqualFold(f[2], "udp") {
		return false
	}
	addr, err := netip.ParseAddr(f[4])
	if err != nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	if port, err := strconv.Atoi(f[5]); err != nil || port < 1 || port > 65535 {
		return false
	}
	switch {
	case addr.IsUnspecified(), addr.IsMulticast(), addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return false
	case addr.IsLoopback():
		return p.loopback
	}
	for _, a := range own {
		if a.WithZone("") == addr {
			return false
		}
	}
	return true
}

func direction(attrs []sdp.Attribute) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return ""
}

// bundleOnly reports an RFC 8843 bundle-only m-line: port 0 there means "send me on the
// BUNDLE transport", not "rejected". GStreamer's webrtcbin (bundle-policy max-bundle) offers
// every m-line after the first this way.
func bundleOnly(m *sdp.MediaDescription) bool {
	_, ok := m.Attribute("bundle-only")
	return ok
}

func hasProto(protos []string, p string) bool {
	for _, x := range protos {
		if x == p {
			return true
		}
	}
	return false
}

// codecNames returns the lower-case encoding names of the rtpmap lines of m.
func codecNames(m *sdp.MediaDescription) map[string]bool {
	out := map[string]bool{}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		// "96 VP8/90000"
		_, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		out[strings.ToLower(strings.TrimSpace(name))] = true
	}
	return out
}

// mimeName maps a pion MIME type ("video/VP8") to the rtpmap name used in offerInfo.
func mimeName(mime string) string {
	_, n, _ := strings.Cut(mime, "/")
	return strings.ToLower(n)
}

var (
	// ErrBadOffer wraps every reason an offer is refused (parse error, wrong
	// direction, no usable media, a codec the room cannot serve).
	ErrBadOffer = errors.New("bad SDP offer")
	// ErrNoSession is returned by End for an unknown room or session.
	ErrNoSession = errors.New("no such session")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("broadcast server closed")
)
