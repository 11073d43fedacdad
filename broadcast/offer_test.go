package broadcast

import (
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

const testOffer = `v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=mid:0
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a=rtcp-mux
a=sendonly
a=rtpmap:111 opus/48000/2
m=video 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=mid:1
a=ice-ufrag:abcd
a=ice-pwd:abcdefghijklmnopqrstuvwx
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF
a=setup:actpass
a=rtcp-mux
a=sendonly
a=msid:screen-stream screen-track
a=rtpmap:96 VP8/90000
`

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParseOffer(t *testing.T) {
	info, err := parseOffer(crlf(testOffer), true, candidatePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if info.audio != 1 || info.video != 1 || !info.videoCodecs["vp8"] || !info.lines[1].screen {
		t.Errorf("info = %+v", info)
	}
	bad := map[string]string{
		"empty":            "",
		"garbage":          "hello",
		"no media":         strings.SplitN(crlf(testOffer), "m=audio", 2)[0],
		"viewer direction": strings.ReplaceAll(crlf(testOffer), "sendonly", "recvonly"),
		"no fingerprint":   strings.ReplaceAll(crlf(testOffer), "a=fingerprint", "a=x-fingerprint"),
		"no ice":           strings.ReplaceAll(crlf(testOffer), "a=ice-ufrag", "a=x-ufrag"),
		"no opus":          strings.ReplaceAll(crlf(testOffer), "opus/48000/2", "PCMU/8000"),
		"no video codec":   strings.ReplaceAll(crlf(testOffer), "VP8/90000", "H265/90000"),
		"plain RTP":        strings.ReplaceAll(crlf(testOffer), "UDP/TLS/RTP/SAVPF", "RTP/AVP"),
		"too big":          crlf(testOffer) + strings.Repeat("a=x\r\n", 20000),
		"all inactive":     strings.ReplaceAll(crlf(testOffer), "sendonly", "inactive"),
		"rejected m-lines": strings.ReplaceAll(crlf(testOffer), " 9 UDP", " 0 UDP"),
	}
	for name, offer := range bad {
		if _, err := parseOffer(offer, true, candidatePolicy{}); !errors.Is(err, ErrBadOffer) {
			t.Errorf("%s: err = %v, want ErrBadOffer", name, err)
		}
	}
	if _, err := parseOffer(crlf(testOffer), false, candidatePolicy{}); !errors.Is(err, ErrBadOffer) {
		t.Error("a sendonly offer was accepted for viewing")
	}
	if _, err := parseOffer(strings.ReplaceAll(crlf(testOffer), "sendonly", "recvonly"), false, candidatePolicy{}); err != nil {
		t.Errorf("recvonly viewer offer refused: %v", err)
	}
}

// Refused offers must cost nothing: no PeerConnection, no goroutine left behind.
func TestBadOfferLeavesNothing(t *testing.T) {
	s := newTestServer(t, Config{})
	before := runtime.NumGoroutine()
	offers := []string{"", "v=0\r\n", "garbage\x00\xff", strings.ReplaceAll(crlf(testOffer), "sendonly", "recvonly")}
	for _, o := range offers {
		if _, err := s.Publish(t.Context(), "r", o); !errors.Is(err, ErrBadOffer) {
			t.Errorf("Publish(%.20q) = %v, want ErrBadOffer", o, err)
		}
		if _, err := s.Subscribe(t.Context(), "r", crlf(testOffer)); !errors.Is(err, ErrBadOffer) {
			t.Errorf("Subscribe(sendonly) = %v, want ErrBadOffer", err)
		}
	}
	// Passes the cheap checks but pion refuses it (no a=mid under BUNDLE): the
	// PeerConnection made for it must be gone again.
	weird := strings.ReplaceAll(strings.ReplaceAll(crlf(testOffer), "a=mid:0\r\n", ""), "a=mid:1\r\n", "")
	if _, err := s.Publish(t.Context(), "r", weird); !errors.Is(err, ErrBadOffer) {
		t.Errorf("offer without mids: err = %v, want ErrBadOffer", err)
	}
	settleGoroutines(t, before)
	if s.Live("r") || s.Viewers("r") != 0 {
		t.Error("refused offers changed the room")
	}
}

func FuzzOffer(f *testing.F) {
	f.Add(crlf(testOffer))
	f.Add(strings.ReplaceAll(crlf(testOffer), "sendonly", "recvonly"))
	f.Add("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")
	f.Add("")
	f.Add(withCandidates(crlf(testOffer), 30, "198.51.100.7"))
	f.Add(withCandidates(crlf(testOffer), 3, "127.0.0.1", "192.0.2.1", "224.0.0.251", "::", "host.example", "[::1]"))
	policy := candidatePolicy{own: func() []netip.Addr { return []netip.Addr{netip.MustParseAddr("192.0.2.1")} }}
	f.Fuzz(func(t *testing.T, offer string) {
		for _, publish := range []bool{true, false} {
			info, err := parseOffer(offer, publish, policy)
			if err != nil {
				if !errors.Is(err, ErrBadOffer) {
					t.Fatalf("error %v does not wrap ErrBadOffer", err)
				}
				continue
			}
			if info.audio+info.video == 0 || len(info.lines) != info.audio+info.video {
				t.Fatalf("accepted offer with info %+v", info)
			}
			// The offer applied holds only the candidates kept, and keeps them all.
			again, err := parseOffer(info.offer, publish, policy)
			if err != nil || info.candidates > maxOfferCandidates || again.candidates != info.candidates || again.dropped != 0 {
				t.Fatalf("kept %d candidates (dropped %d); the rewritten offer gives %+v, %v",
					info.candidates, info.dropped, again, err)
			}
		}
	})
}
