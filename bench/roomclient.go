package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The text of every bench chat message starts with a stamp: "lb <sender> <seq> <unix nanos>",
// so a channel client measures delivery latency and checks order from the event alone.
const chatStampPrefix = `"text":"lb `

func chatText(sender, seq int, sent time.Time, size int) string {
	t := "lb " + strconv.Itoa(sender) + " " + strconv.Itoa(seq) + " " + strconv.FormatInt(sent.UnixNano(), 10)
	if pad := size - len(t) - 1; pad > 0 {
		t += " " + strings.Repeat("x", pad)
	}
	return t
}

// readChatStamp finds the stamp in a chat event's JSON data without decoding it all: the
// generator shares the machine with the server, and 100,000 events a second must cost little.
func readChatStamp(data []byte) (sender, seq int, sent int64, ok bool) {
	i := bytes.Index(data, []byte(chatStampPrefix))
	if i < 0 {
		return 0, 0, 0, false
	}
	rest := data[i+len(chatStampPrefix):]
	var f [3]int64
	for k := range f {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || j > 19 {
			return 0, 0, 0, false
		}
		f[k], _ = strconv.ParseInt(string(rest[:j]), 10, 64)
		rest = rest[j:]
		if k < 2 {
			if len(rest) == 0 || rest[0] != ' ' {
				return 0, 0, 0, false
			}
			rest = rest[1:]
		}
	}
	if f[0] > 1<<20 || f[1] > 1<<30 {
		return 0, 0, 0, false
	}
	return int(f[0]), int(f[1]), f[2], true
}

// tally is what one channel client saw of the bench's chat: per sender, the last sequence
// number and how many arrived, and what broke the rules (every message once, in order).
type tally struct {
	lastID     uint64 // SSE id of the last event: ids only grow
	last       []int  // per sender: last seq seen (-1: none)
	got        []int  // per sender: messages received
	dups       int    // a sender's seq seen again
	outOfOrder int    // a sender's seq, or an event id, going backwards
	latencies  []time.Duration
	delivered  *atomic.Int64 // shared by every client: messages received, for the bench to wait on
}

func newTally(senders, expect int) *tally {
	t := &tally{last: make([]int, senders), got: make([]int, senders), latencies: make([]time.Duration, 0, expect)}
	for i := range t.last {
		t.last[i] = -1
	}
	return t
}

func (t *tally) total() int {
	n := 0
	for _, g := range t.got {
		n += g
	}
	return n
}

// event records one SSE event: its id line and, for chat, its data line.
func (t *tally) event(id uint64, chat bool, data []byte, at time.Time) {
	if id != 0 {
		if id <= t.lastID {
			t.outOfOrder++
		}
		t.lastID = id
	}
	if !chat {
		return
	}
	sender, seq, sent, ok := readChatStamp(data)
	if !ok || sender >= len(t.last) {
		return // someone else's chat
	}
	switch {
	case seq == t.last[sender]:
		t.dups++
		return
	case seq < t.last[sender]:
		t.outOfOrder++
	}
	t.last[sender] = seq
	t.got[sender]++
	if t.delivered != nil {
		t.delivered.Add(1)
	}
	t.latencies = append(t.latencies, at.Sub(time.Unix(0, sent)))
}

// readEvents parses a text/event-stream into t until the stream ends; onEvent runs after each
// event. It reads with ReadSlice, so a frame costs no allocation.
func readEvents(r *bufio.Reader, t *tally, onEvent func()) error {
	var id uint64
	var chat bool
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				return fmt.Errorf("event line longer than %d bytes", r.Size())
			}
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if id != 0 || chat {
				t.event(id, false, nil, time.Time{})
			}
			id, chat = 0, false
			onEvent()
		case bytes.HasPrefix(line, []byte("id: ")):
			id, _ = strconv.ParseUint(string(line[4:]), 10, 64)
		case bytes.HasPrefix(line, []byte("event: ")):
			chat = string(line[7:]) == "chat"
		case bytes.HasPrefix(line, []byte("data: ")) && chat:
			t.event(id, true, line[6:], time.Now())
			id, chat = 0, false // counted: the blank line that ends the frame adds nothing
		}
	}
}

// channelClient is one participant reading its live channel. Like a browser's EventSource,
// it reconnects when the server ends its stream (a client that fell too far behind is
// dropped) and resumes after the last event it had, with Last-Event-ID.
type channelClient struct {
	tally      *tally
	hc         *http.Client
	url, token string
	ctx        context.Context
	cancel     context.CancelFunc
	res        *http.Response
	done       chan struct{}
	updates    chan<- struct{} // poked after every event, without blocking
	reconnects *atomic.Int64   // shared: streams the server ended and the client opened again
}

// openChannelClient opens GET .../channel as the participant holding token. It returns once
// the server answered 200, i.e. once the subscription exists.
func openChannelClient(ctx context.Context, hc *http.Client, base, webinar, token string, t *tally, updates chan<- struct{}, reconnects *atomic.Int64) (*channelClient, error) {
	c := &channelClient{tally: t, hc: hc, url: base + "/api/webinars/" + webinar + "/channel", token: token,
		done: make(chan struct{}), updates: updates, reconnects: reconnects}
	c.ctx, c.cancel = context.WithCancel(ctx)
	var err error
	if c.res, err = c.open(0); err != nil {
		c.cancel()
		return nil, err
	}
	go c.run()
	return c, nil
}

func (c *channelClient) open(after uint64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if after > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(after, 10))
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		return nil, fmt.Errorf("channel: %s %s", res.Status, bytes.TrimSpace(b))
	}
	return res, nil
}

// run reads the stream, and opens it again after the last event seen whenever the server
// ends it, until close.
func (c *channelClient) run() {
	defer close(c.done)
	poke := func() {
		select {
		case c.updates <- struct{}{}:
		default:
		}
	}
	for res := c.res; ; {
		_ = readEvents(bufio.NewReaderSize(res.Body, 8<<10), c.tally, poke)
		res.Body.Close()
		for res = nil; res == nil; {
			if c.ctx.Err() != nil {
				return
			}
			sleep(c.ctx, 100*time.Millisecond) // as EventSource waits its retry delay
			res, _ = c.open(c.tally.lastID)
		}
		c.reconnects.Add(1)
	}
}

// close ends the stream and waits for the reader; the tally is the caller's from then on.
func (c *channelClient) close() {
	c.cancel()
	<-c.done
}

// stalledClient opens the channel and then reads nothing: the kernel's buffers fill, then
// the server's queue for it, and the server must drop it without holding up anyone else.
// Its receive buffer is small (stalledReceiveBuffer), so that happens within a short run
// whatever the rate: with the default one, it would hold over a thousand small events.
type stalledClient struct {
	conn net.Conn
	res  *http.Response
}

const stalledReceiveBuffer = 8 << 10

func openStalledClient(ctx context.Context, from *net.Dialer, base, webinar, token string) (*stalledClient, error) {
	d := *from
	d.Control = smallReceiveBuffer
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/webinars/"+webinar+"/channel", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	conn, err := d.DialContext(ctx, "tcp", req.URL.Host)
	if err != nil {
		return nil, err
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReaderSize(conn, 4<<10), req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		conn.Close()
		return nil, fmt.Errorf("stalled client's channel: %s", res.Status)
	}
	return &stalledClient{conn: conn, res: res}, nil
}

// drain reads what the stalled client was sent, at last, and reports whether the server had
// ended the stream (the client was dropped): a client still subscribed would be sent more,
// so its stream would not end; idle bounds the wait for that.
func (s *stalledClient) drain(t *tally, idle time.Duration) (dropped bool) {
	defer s.conn.Close()
	r := bufio.NewReaderSize(s.res.Body, 8<<10)
	_ = s.conn.SetReadDeadline(time.Now().Add(idle))
	err := readEvents(r, t, func() { _ = s.conn.SetReadDeadline(time.Now().Add(idle)) })
	var ne net.Error
	return !errors.As(err, &ne) || !ne.Timeout()
}
