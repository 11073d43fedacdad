package api

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// DefaultStreamsPerAddr is how many long-lived streams (caption streams and live channels)
// one client address may hold open at once when Deps.StreamsPerAddr is zero. A viewer tab
// holds two, and a classroom behind one NAT has many tabs, so the cap is configurable; 40
// stops one host from holding thousands of goroutines and sockets, which is what an
// uncapped long-lived stream invites.
const DefaultStreamsPerAddr = 40

// streamCapRetry is the Retry-After of a refused stream: a viewer's other tab may close soon.
const streamCapRetry = 5 * time.Second

// shutdownRetry is the reconnect delay the shutdown event asks of caption clients: long
// enough for a restart or for a load balancer to move them, short enough to miss little.
const shutdownRetry = 3 * time.Second

// streamLimiter counts the open long-lived streams per client address.
type streamLimiter struct {
	max int // <= 0: no cap

	mu   sync.Mutex
	open map[string]int
}

func newStreamLimiter(perAddr int) *streamLimiter {
	if perAddr == 0 {
		perAddr = DefaultStreamsPerAddr
	}
	return &streamLimiter{max: perAddr, open: map[string]int{}}
}

// acquire takes one stream slot for addr; it reports false when addr already holds max.
func (l *streamLimiter) acquire(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open[addr] >= l.max {
		return false
	}
	l.open[addr]++
	return true
}

// release gives back a slot taken by acquire; an address with none left is forgotten, so
// the map holds only addresses with an open stream.
func (l *streamLimiter) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[addr]--; l.open[addr] <= 0 {
		delete(l.open, addr)
	}
}

// streamAddr is the key a client's streams are counted under: its IP, or for IPv6 its /64,
// because one IPv6 host is routinely given a whole /64 and could otherwise rotate addresses.
func streamAddr(c echo.Context) string {
	ip := net.ParseIP(clientIP(c))
	if ip == nil {
		return clientIP(c)
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// openStream takes a stream slot (a caption stream or the live channel) for the caller and returns its release, or a 429 when the
// caller's address already holds its share.
func (s *Server) openStream(c echo.Context) (release func(), err error) {
	addr := streamAddr(c)
	if !s.streams.acquire(addr) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(streamCapRetry.Seconds())))
		return nil, echo.NewHTTPError(http.StatusTooManyRequests,
			"too many open caption streams and live channels from your address (limit "+strconv.Itoa(s.streams.max)+"); close one and retry")
	}
	return func() { s.streams.release(addr) }, nil
}

// BeginShutdown tells every long-lived stream to end: each caption stream sends its client a
// shutdown event (reconnect after a pause) and returns, so http.Server.Shutdown, which waits
// for running handlers, only has short requests left to drain. Safe to call more than once.
func (s *Server) BeginShutdown() {
	s.stopOnce.Do(func() { close(s.stopping) })
	s.closeLimits()
}

// shutdownEvent is the last frame a caption client gets when the server stops. It carries
// no id, so the browser's Last-Event-ID stays at the last caption and the reconnect resumes
// there; retry makes EventSource wait shutdownRetry before it tries again.
var shutdownEvent = []byte("event: shutdown\nretry: " + strconv.Itoa(int(shutdownRetry.Milliseconds())) +
	"\ndata: {\"reason\":\"server shutting down\",\"retry_ms\":" + strconv.Itoa(int(shutdownRetry.Milliseconds())) + "}\n\n")
