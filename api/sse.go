package api

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	// sseWriteTimeout bounds one write to a stream's client: a client that cannot take a few
	// hundred bytes in this time is gone, and its goroutine should be too.
	sseWriteTimeout = 10 * time.Second
	// sseKeepAlive keeps proxies from closing an idle stream between events.
	sseKeepAlive = 15 * time.Second
	// sseShutdownTimeout is all a client gets to take the shutdown event: a stuck one must not
	// hold up the server's exit; it reconnects all the same when the connection drops.
	sseShutdownTimeout = time.Second
	// sseSendBuffer caps the kernel's send buffer of a stream's connection. Unbounded, Linux
	// grows it to 4 MiB, which a client that stops reading fills before its queue in package
	// room does: it would never be dropped, only cost that much kernel memory. Events are a
	// few hundred bytes; this is hundreds of them.
	sseSendBuffer = 32 << 10
)

var (
	sseRetry          = []byte("retry: 2000\n\n")
	sseKeepAliveFrame = []byte(": keep-alive\n\n")
)

// sseStream is an open Server-Sent Events response (caption streams, the live channel). The
// server's WriteTimeout is for responses, not streams: each write sets its own deadline
// instead. (Its ReadTimeout needs nothing: net/http lifts the read deadline once a bodiless
// request is read.)
type sseStream struct {
	c  echo.Context
	rc *http.ResponseController
	// deadline is the write deadline last set. It is moved at most once per
	// sseDeadlineRefresh, not per write: setting it costs more than the write itself.
	deadline time.Time
}

// sseDeadlineRefresh is how stale a write deadline may get: a stuck client is given up on
// between sseWriteTimeout-sseDeadlineRefresh and sseWriteTimeout after its last write.
const sseDeadlineRefresh = time.Second

// connKey is the context key of ConnContext.
type connKey struct{}

// ConnContext is for http.Server.ConnContext: it lets a long-lived stream bound its
// connection's send buffer (sseSendBuffer). Without it streams work all the same.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// boundSendBuffer applies sseSendBuffer to an HTTP/1 request's connection (an HTTP/2
// connection carries other streams) and closes the connection after the stream: it is no
// good for a large response any more.
func boundSendBuffer(c echo.Context) {
	r := c.Request()
	conn, _ := r.Context().Value(connKey{}).(net.Conn)
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	tcp, ok := conn.(*net.TCPConn)
	if !ok || r.ProtoMajor != 1 {
		return
	}
	if tcp.SetWriteBuffer(sseSendBuffer) == nil {
		c.Response().Header().Set("Connection", "close")
	}
}

// openSSE sends the event-stream headers and the client's reconnect delay.
func openSSE(c echo.Context) (*sseStream, error) {
	boundSendBuffer(c)
	h := c.Response().Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	st := &sseStream{c: c, rc: http.NewResponseController(c.Response())}
	return st, st.send(sseRetry)
}

// send writes and flushes one frame.
func (st *sseStream) send(b []byte) error {
	if err := st.add(b); err != nil {
		return err
	}
	return st.flush()
}

// add writes a frame into the response's buffer; flush sends what was added.
func (st *sseStream) add(b []byte) error {
	if now := time.Now(); st.deadline.Sub(now) < sseWriteTimeout-sseDeadlineRefresh {
		st.deadline = now.Add(sseWriteTimeout)
		_ = st.rc.SetWriteDeadline(st.deadline)
	}
	_, err := st.c.Response().Write(b)
	return err
}

func (st *sseStream) flush() error { return st.rc.Flush() }

// shutdown sends the shutdown event (see shutdownEvent), giving the client
// sseShutdownTimeout to take it.
func (st *sseStream) shutdown() {
	st.deadline = time.Now().Add(sseShutdownTimeout)
	_ = st.rc.SetWriteDeadline(st.deadline)
	if _, err := st.c.Response().Write(shutdownEvent); err == nil {
		_ = st.flush()
	}
}
