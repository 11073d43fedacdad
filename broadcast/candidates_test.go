package broadcast

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// withCandidates adds n host candidates on consecutive ports for each address to the
// offer's first m-line (where a BUNDLE offer carries them).
func withCandidates(offer string, n int, addrs ...string) string {
	var b strings.Builder
	for i := range n {
		for j, a := range addrs {
			fmt.Fprintf(&b, "a=candidate:%d%d 1 udp 2122260223 %s %d typ host\r\n", i, j, strings.Trim(a, "[]"), 10000+i)
		}
	}
	head, tail, _ := strings.Cut(offer, "a=setup:actpass\r\n")
	return head + "a=setup:actpass\r\n" + b.String() + tail
}

func TestCandidatePolicy(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}
	cases := []struct {
		cand     string
		loopback bool
		want     bool
	}{
		{"1 1 udp 2122260223 198.51.100.7 50000 typ host", false, true},
		{"1 1 UDP 2122260223 2001:db8::7 50000 typ host", false, true},
		{"1 1 udp 1686052607 203.0.113.9 61000 typ srflx raddr 10.0.0.2 rport 50000", false, true},
		{"1 1 udp 2122260223 192.0.2.1 50000 typ host", false, false},               // the server itself
		{"1 1 udp 2122260223 ::ffff:192.0.2.1 50000 typ host", false, false},        // the same, mapped
		{"1 1 udp 2122260223 2001:db8::1 50000 typ host", false, false},             // the server itself
		{"1 1 udp 2122260223 127.0.0.1 50000 typ host", false, false},               // loopback
		{"1 1 udp 2122260223 127.0.0.1 50000 typ host", true, true},                 // loopback for tests
		{"1 1 udp 2122260223 ::1 50000 typ host", false, false},                     // loopback
		{"1 1 udp 2122260223 0.0.0.0 50000 typ host", true, false},                  // unspecified
		{"1 1 udp 2122260223 :: 50000 typ host", true, false},                       // unspecified
		{"1 1 udp 2122260223 224.0.0.251 5353 typ host", true, false},               // multicast
		{"1 1 udp 2122260223 ff02::fb 5353 typ host", true, false},                  // multicast
		{"1 1 udp 2122260223 255.255.255.255 50000 typ host", true, false},          // broadcast
		{"1 1 udp 2122260223 198.51.100.7 0 typ host", false, false},                // no port
		{"1 1 udp 2122260223 198.51.100.7 70000 typ host", false, false},            // no port
		{"1 1 tcp 1518280447 198.51.100.7 9 typ host tcptype active", false, false}, // not UDP
		{"1 1 udp 2122260223 evil.example.com 50000 typ host", false, false},        // a name to resolve
		{"1 1 udp 2122260223 3f2a.local 50000 typ host", false, false},              // mDNS: not resolved here
		{"1 1 udp", false, false},
	}
	for _, c := range cases {
		if got := (candidatePolicy{loopback: c.loopback}).allows(c.cand, own); got != c.want {
			t.Errorf("allows(%q, loopback=%v) = %v, want %v", c.cand, c.loopback, got, c.want)
		}
	}
}

// TestOfferCandidatesCapped: an offer with 900 candidates keeps maxOfferCandidates of
// them, in order, and an offer within the rules is applied unchanged.
func TestOfferCandidatesCapped(t *testing.T) {
	info, err := parseOffer(withCandidates(crlf(testOffer), 900, "198.51.100.7"), true, candidatePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if info.candidates != maxOfferCandidates || info.dropped != 900-maxOfferCandidates ||
		strings.Count(info.offer, "a=candidate:") != maxOfferCandidates || !strings.Contains(info.offer, " 10019 typ host") {
		t.Fatalf("kept %d, dropped %d, offer has %d candidates", info.candidates, info.dropped, strings.Count(info.offer, "a=candidate:"))
	}
	plain := withCandidates(crlf(testOffer), 2, "198.51.100.7")
	if info, err := parseOffer(plain, true, candidatePolicy{}); err != nil || info.offer != plain || info.candidates != 2 {
		t.Fatalf("an acceptable offer was rewritten: %+v %v", info, err)
	}
}
