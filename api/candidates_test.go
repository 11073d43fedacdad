package api

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestOfferCandidatesCannotAimChecks: one anonymous WHEP offer carrying 900 candidates
// makes the server send connectivity checks to at most 20 of them (issue 8, item 16: 900
// candidates drew 7,200 checks to 900 ports). Every candidate is a real UDP socket here, so
// the test counts the ports the server's ICE agent actually sends to.
func TestOfferCandidatesCannotAimChecks(t *testing.T) {
	ts := newTestServer(t) // loopback candidates allowed, as in every local test
	const n, limit = 900, 20
	var mu sync.Mutex
	checked := map[int]bool{}
	var wg sync.WaitGroup
	defer wg.Wait() // after the sockets close (deferred later, so run earlier)
	var cands strings.Builder
	for i := range n {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		port := conn.LocalAddr().(*net.UDPAddr).Port
		fmt.Fprintf(&cands, "a=candidate:%d 1 udp %d 127.0.0.1 %d typ host\r\n", i, 2122260223-i, port)
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1500)
			if _, _, err := conn.ReadFromUDP(buf); err == nil {
				mu.Lock()
				checked[port] = true
				mu.Unlock()
			}
		}()
	}
	offer := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	head, tail, ok := strings.Cut(offer, "a=mid:0\r\n")
	if !ok {
		t.Fatal("offer has no mid 0")
	}
	offer = head + "a=mid:0\r\n" + cands.String() + tail
	if len(offer) > 64<<10 {
		t.Fatalf("offer of %d bytes is over the API's limit", len(offer))
	}
	res, body := ts.do(t, "POST", "/whep/"+ts.webinar.ID, "application/sdp", "", offer)
	if res.StatusCode != 201 {
		t.Fatalf("whep: %d %s", res.StatusCode, body)
	}
	// pion checks a pair every few tens of milliseconds: 3 s reach hundreds of ports.
	time.Sleep(3 * time.Second)
	mu.Lock()
	got := len(checked)
	mu.Unlock()
	if got == 0 || got > limit {
		t.Fatalf("the server sent checks to %d of the %d offered ports, want 1..%d", got, n, limit)
	}
	t.Logf("checks went to %d of %d offered ports", got, n)
}
