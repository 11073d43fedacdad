package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RoomConfig describes one run of the live channel (issue 9): channel clients on one webinar
// reading every chat message that senders post at a fixed total rate.
type RoomConfig struct {
	URL     string // server base URL, e.g. http://127.0.0.1:8080
	Webinar string // a public webinar without a waiting room: anyone joins by name and chats
	Clients int    // channel clients reading every message (default 1000)
	Senders int    // chat senders (default 10)
	// Rate is chat messages per second, all senders together (default 100).
	Rate     float64
	Duration time.Duration // sending window (default 20 s)
	// Messages, when set, is how many messages are sent, however long that takes at Rate
	// (Duration is then ignored): a test on a busy machine still sends what it needs.
	Messages int
	// TextBytes is the length of each message's text (default: the stamp alone, ~30 bytes).
	TextBytes int
	// SourceAddrs spreads the clients over 127.0.0.1, .2, ... when the server is on an IPv4
	// loopback address, so that a server keeping its per-address stream cap (default 40)
	// takes them all (default: one address per 32 clients).
	SourceAddrs int
	NoStalled   bool          // leave out the client that never reads
	Settle      time.Duration // longest wait for the last messages once sending stops (default 10 s)
	// GoroutineWait bounds the wait for the server's goroutines to return to their count
	// before the clients joined (default 30 s).
	GoroutineWait   time.Duration
	JoinConcurrency int // joins and channel opens at once (default 32)
	Logger          *slog.Logger
}

// The server lets one participant post serverChatBurst messages per serverChatWindow (api's
// chat limit). A bench sender posts faster than a person types, so it speaks in turn as
// several participants: the server's work per message is the same, and the limit stays on.
const (
	serverChatBurst  = 5
	serverChatWindow = 5 * time.Second
)

// identitiesPerSender is how many participants a sender posting rate messages a second
// needs: each speaks at most serverChatBurst-1 times a window, one message of margin for
// jitter in the sender's pacing.
func identitiesPerSender(rate float64) int {
	return max(1, int(math.Ceil(rate*serverChatWindow.Seconds()/(serverChatBurst-1))))
}

// goroutineSlack is how far above its count before the run the server's goroutines may stay
// and still count as back to baseline (timers, idle connections of other clients).
const goroutineSlack = 10

// RoomReport is the outcome of a run.
type RoomReport struct {
	Clients, Connected int
	Senders            int
	Identities         int // participants each sender speaks as, in turn
	Window             time.Duration
	TextBytes          int
	SourceAddrsUsed    int // loopback addresses the clients came from

	Posted, Acked  int // chat POSTs, and those answered 201
	PostErrors     int
	FirstPostError string
	PostP50        time.Duration // POST round trip
	PostP99        time.Duration

	Expected        int // acknowledged messages × connected clients
	Delivered       int // messages received, each counted once per client
	Missing, Extra  int
	Duplicates      int
	OutOfOrder      int
	ClientsComplete int // clients that got every message once, in order
	// Reconnects counts streams the server ended (a client too far behind is dropped) that
	// the client opened again, resuming with Last-Event-ID; 0 when everyone kept up.
	Reconnects  int
	LatencyP50  time.Duration
	LatencyP99  time.Duration
	LatencyMax  time.Duration
	DeliveredIn time.Duration // from the first POST to the last delivery

	Stalled        bool // a client that never reads took part
	StalledDropped bool // ... and the server ended its stream
	StalledGot     int  // messages it had been sent before that

	ServerScraped         bool
	ServerCPUSeconds      float64 // from the first POST to the last delivery
	CPUPerDeliveredMicros float64
	CPUPerMessageMillis   float64 // per chat message posted, its fan-out included
	GoroutinesBefore      float64 // before the clients joined
	GoroutinesDuring      float64 // every client connected, at the end of the window
	GoroutinesAfter       float64 // after the clients left
	HeapBeforeMB          float64 // go_memstats_heap_inuse_bytes, at the same three moments
	HeapDuringMB          float64
	HeapAfterMB           float64
}

// Check lists what broke the channel's promises: every client gets every message once, in
// order; a stalled client is dropped; the server's goroutines come back down.
func (r RoomReport) Check() error {
	var errs []error
	if r.Connected < r.Clients {
		errs = append(errs, fmt.Errorf("%d of %d clients connected", r.Connected, r.Clients))
	}
	if r.PostErrors > 0 {
		errs = append(errs, fmt.Errorf("%d chat posts failed, first: %s", r.PostErrors, r.FirstPostError))
	}
	if r.Acked == 0 {
		errs = append(errs, errors.New("no chat message was accepted"))
	}
	if r.Missing+r.Extra+r.Duplicates+r.OutOfOrder > 0 {
		errs = append(errs, fmt.Errorf("delivery: %d missing, %d unexpected, %d duplicates, %d out of order", r.Missing, r.Extra, r.Duplicates, r.OutOfOrder))
	}
	if r.Stalled && !r.StalledDropped {
		errs = append(errs, fmt.Errorf("the stalled client was not dropped (it had been sent %d messages)", r.StalledGot))
	}
	if r.ServerScraped && r.GoroutinesAfter > r.GoroutinesBefore+goroutineSlack {
		errs = append(errs, fmt.Errorf("server goroutines %.0f after the clients left, %.0f before", r.GoroutinesAfter, r.GoroutinesBefore))
	}
	return errors.Join(errs...)
}

// String renders the report for a terminal.
func (r RoomReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "room channel: %d/%d clients connected from %d address(es), %d senders (each as %d participants), %d-byte texts, window %s\n",
		r.Connected, r.Clients, r.SourceAddrsUsed, r.Senders, r.Identities, r.TextBytes, r.Window.Round(time.Millisecond))
	fmt.Fprintf(&b, "  chat: %d posted, %d accepted (%.1f/s), %d failed; POST p50 %s p99 %s\n",
		r.Posted, r.Acked, float64(r.Acked)/r.Window.Seconds(), r.PostErrors, r.PostP50.Round(10*time.Microsecond), r.PostP99.Round(10*time.Microsecond))
	fmt.Fprintf(&b, "  delivered %d / %d (%d clients complete): %d missing, %d unexpected, %d duplicates, %d out of order; %d reconnects\n",
		r.Delivered, r.Expected, r.ClientsComplete, r.Missing, r.Extra, r.Duplicates, r.OutOfOrder, r.Reconnects)
	fmt.Fprintf(&b, "  delivery latency p50 %s  p99 %s  max %s\n",
		r.LatencyP50.Round(10*time.Microsecond), r.LatencyP99.Round(10*time.Microsecond), r.LatencyMax.Round(10*time.Microsecond))
	if r.Stalled {
		fmt.Fprintf(&b, "  stalled client: dropped %v, after %d messages\n", r.StalledDropped, r.StalledGot)
	}
	if r.ServerScraped {
		fmt.Fprintf(&b, "  server CPU %.2f s over %s = %.2f µs per delivered message, %.2f ms per chat message\n",
			r.ServerCPUSeconds, r.DeliveredIn.Round(time.Millisecond), r.CPUPerDeliveredMicros, r.CPUPerMessageMillis)
		fmt.Fprintf(&b, "  server goroutines %.0f before, %.0f during, %.0f after; heap in use %.1f MB, %.1f MB, %.1f MB\n",
			r.GoroutinesBefore, r.GoroutinesDuring, r.GoroutinesAfter, r.HeapBeforeMB, r.HeapDuringMB, r.HeapAfterMB)
	} else {
		b.WriteString("  server /metrics not available: no CPU, goroutine or memory figures\n")
	}
	if err := r.Check(); err != nil {
		fmt.Fprintf(&b, "  FAILED: %v\n", strings.ReplaceAll(err.Error(), "\n", "; "))
	} else {
		b.WriteString("  every client got every message once, in order\n")
	}
	return b.String()
}

func (cfg *RoomConfig) defaults() error {
	if cfg.URL == "" || cfg.Webinar == "" {
		return errors.New("bench: URL and Webinar are required")
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Clients, 1000)
	def(&cfg.Senders, 10)
	def(&cfg.JoinConcurrency, 32)
	def(&cfg.SourceAddrs, (cfg.Clients+cfg.Senders+31)/32)
	cfg.SourceAddrs = min(cfg.SourceAddrs, 250)
	if cfg.Rate <= 0 {
		cfg.Rate = 100
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 20 * time.Second
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 10 * time.Second
	}
	if cfg.GoroutineWait <= 0 {
		cfg.GoroutineWait = 30 * time.Second
	}
	if cfg.TextBytes > 1000 {
		return errors.New("bench: TextBytes is at most 1000, the server's chat limit")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Room runs one live-channel load test and returns its report; Check says whether the
// channel kept its promises. Every client has left when it returns.
func Room(ctx context.Context, cfg RoomConfig) (RoomReport, error) {
	if err := cfg.defaults(); err != nil {
		return RoomReport{}, err
	}
	log := cfg.Logger
	rep := RoomReport{Clients: cfg.Clients, Senders: cfg.Senders, Stalled: !cfg.NoStalled, TextBytes: cfg.TextBytes,
		Identities: identitiesPerSender(cfg.Rate / float64(cfg.Senders))}
	if rep.TextBytes == 0 {
		rep.TextBytes = len(chatText(cfg.Senders, int(cfg.Rate*cfg.Duration.Seconds()), time.Now(), 0))
	}
	sn := newSourceNet(cfg.URL, cfg.SourceAddrs)
	defer sn.closeIdle()
	rep.SourceAddrsUsed = len(sn.clients)
	mc := &http.Client{Timeout: 10 * time.Second}
	defer mc.CloseIdleConnections()
	metrics := cfg.URL + "/metrics"
	before, err := scrape(ctx, mc, metrics)
	rep.ServerScraped = err == nil && before.ok

	log.Info("joining", "clients", cfg.Clients, "senders", cfg.Senders, "identities", rep.Identities)
	listeners, err := joinAll(ctx, cfg, sn, "listener", cfg.Clients)
	if err != nil {
		return rep, err
	}
	speakers, err := joinAll(ctx, cfg, sn, "sender", cfg.Senders*rep.Identities)
	if err != nil {
		return rep, err
	}

	var delivered, reconnects atomic.Int64
	updates := make(chan struct{}, 1)
	expect := int(cfg.Rate*cfg.Duration.Seconds()) + 16
	if cfg.Messages > 0 {
		expect = cfg.Messages + 16
	}
	clients := make([]*channelClient, cfg.Clients)
	err = parallel(ctx, cfg.JoinConcurrency, cfg.Clients, func(i int) error {
		t := newTally(cfg.Senders, expect/cfg.Senders*cfg.Senders+cfg.Senders)
		t.delivered = &delivered
		c, err := openChannelClient(ctx, sn.client(i), cfg.URL, cfg.Webinar, listeners[i], t, updates, &reconnects)
		clients[i] = c
		return err
	})
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()
	if err != nil {
		return rep, fmt.Errorf("bench: opening channels: %w", err)
	}
	rep.Connected = cfg.Clients
	var stalled *stalledClient
	if !cfg.NoStalled {
		tok, err := joinAll(ctx, cfg, sn, "stalled", 1)
		if err != nil {
			return rep, err
		}
		if stalled, err = openStalledClient(ctx, sn.dialer(cfg.Clients), cfg.URL, cfg.Webinar, tok[0]); err != nil {
			return rep, err
		}
	}
	sleep(ctx, time.Second) // the join's participant count reaches everyone before the window

	start, err := scrape(ctx, mc, metrics)
	rep.ServerScraped = rep.ServerScraped && err == nil && start.ok
	log.Info("sending", "rate", cfg.Rate, "duration", cfg.Duration)
	t0 := time.Now()
	senders := sendChat(ctx, cfg, sn, speakers, rep.Identities)
	rep.Window = time.Since(t0)
	for _, s := range senders {
		rep.Posted += s.posted
		rep.Acked += s.acked
		rep.PostErrors += s.failed
		if s.firstErr != nil && rep.FirstPostError == "" {
			rep.FirstPostError = s.firstErr.Error()
		}
	}
	waitDelivered(ctx, &delivered, int64(rep.Acked*rep.Connected), cfg.Settle, updates)
	rep.DeliveredIn = time.Since(t0)
	end, err := scrape(ctx, mc, metrics)
	rep.ServerScraped = rep.ServerScraped && err == nil && end.ok
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	if stalled != nil {
		st := newTally(cfg.Senders, 0)
		rep.StalledDropped = stalled.drain(st, 5*time.Second)
		rep.StalledGot = st.total()
	}
	var lat []time.Duration
	for i, c := range clients {
		c.close()
		clients[i] = nil
		rep.tallyClient(c.tally, senders)
		lat = append(lat, c.tally.latencies...)
	}
	rep.Reconnects = int(reconnects.Load())
	rep.LatencyP50, rep.LatencyP99, rep.LatencyMax = quantiles(lat)
	var posts []time.Duration
	for _, s := range senders {
		posts = append(posts, s.rtts...)
	}
	rep.PostP50, rep.PostP99, _ = quantiles(posts)
	sn.closeIdle()
	after := waitGoroutines(ctx, mc, metrics, before.routines+goroutineSlack, cfg.GoroutineWait)
	if rep.ServerScraped {
		rep.ServerCPUSeconds = end.cpu - start.cpu
		if rep.Delivered > 0 {
			rep.CPUPerDeliveredMicros = rep.ServerCPUSeconds / float64(rep.Delivered) * 1e6
		}
		if rep.Acked > 0 {
			rep.CPUPerMessageMillis = rep.ServerCPUSeconds / float64(rep.Acked) * 1e3
		}
		rep.GoroutinesBefore, rep.GoroutinesDuring, rep.GoroutinesAfter = before.routines, end.routines, after.routines
		rep.HeapBeforeMB, rep.HeapDuringMB, rep.HeapAfterMB = before.heap/1e6, end.heap/1e6, after.heap/1e6
	}
	log.Info("room bench done", "p99", rep.LatencyP99, "check", rep.Check())
	return rep, nil
}

// tallyClient adds one client's deliveries to the report.
func (r *RoomReport) tallyClient(t *tally, senders []*chatSender) {
	complete := t.dups == 0 && t.outOfOrder == 0
	for i, s := range senders {
		got := t.got[i]
		r.Delivered += got
		r.Expected += s.acked
		if got < s.acked {
			r.Missing += s.acked - got
			complete = false
		} else if got > s.acked {
			r.Extra += got - s.acked
			complete = false
		}
	}
	r.Duplicates += t.dups
	r.OutOfOrder += t.outOfOrder
	if complete {
		r.ClientsComplete++
	}
}

func quantiles(d []time.Duration) (p50, p99, maxd time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	return pct(d, 0.50), pct(d, 0.99), d[len(d)-1]
}

// waitDelivered waits until want messages were delivered or settle passed since the last
// progress.
func waitDelivered(ctx context.Context, delivered *atomic.Int64, want int64, settle time.Duration, updates <-chan struct{}) {
	last, seen := time.Now(), delivered.Load()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n := delivered.Load()
		if n >= want || time.Since(last) > settle {
			return
		}
		if n != seen {
			last, seen = time.Now(), n
		}
		select {
		case <-ctx.Done():
			return
		case <-updates:
		case <-tick.C:
		}
	}
}

// waitGoroutines polls the server until its goroutines are at most limit, or wait passed;
// it returns the last scrape.
func waitGoroutines(ctx context.Context, mc *http.Client, metrics string, limit float64, wait time.Duration) serverStats {
	deadline := time.Now().Add(wait)
	for {
		st, err := scrape(ctx, mc, metrics)
		if err != nil || !st.ok || st.routines <= limit || time.Now().After(deadline) || ctx.Err() != nil {
			return st
		}
		sleep(ctx, 200*time.Millisecond)
	}
}

// sourceNet spreads a client's connections over several loopback source addresses.
type sourceNet struct {
	dialers    []*net.Dialer
	transports []*http.Transport
	clients    []*http.Client
}

func newSourceNet(base string, addrs int) *sourceNet {
	n := &sourceNet{}
	u, err := url.Parse(base)
	ip := net.ParseIP("")
	if err == nil {
		ip = net.ParseIP(u.Hostname())
	}
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		addrs = 1 // only an IPv4 loopback server is reachable from any 127.0.0.x
	}
	for i := range addrs {
		d := &net.Dialer{Timeout: 10 * time.Second}
		if addrs > 1 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}
		}
		tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 64, DisableCompression: true, IdleConnTimeout: time.Minute}
		n.dialers = append(n.dialers, d)
		n.transports = append(n.transports, tr)
		// No client timeout: channel streams last the whole run; requests carry contexts.
		n.clients = append(n.clients, &http.Client{Transport: tr})
	}
	return n
}

func (n *sourceNet) client(i int) *http.Client { return n.clients[i%len(n.clients)] }
func (n *sourceNet) dialer(i int) *net.Dialer  { return n.dialers[i%len(n.dialers)] }

func (n *sourceNet) closeIdle() {
	for _, t := range n.transports {
		t.CloseIdleConnections()
	}
}

// parallel runs fn(0..n-1) at most conc at a time and returns the first error.
func parallel(ctx context.Context, conc, n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, conc)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// joinAll joins n participants named "<prefix> <i>" and returns their tokens.
func joinAll(ctx context.Context, cfg RoomConfig, sn *sourceNet, prefix string, n int) ([]string, error) {
	tokens := make([]string, n)
	err := parallel(ctx, cfg.JoinConcurrency, n, func(i int) error {
		body := fmt.Sprintf(`{"name":"%s %d"}`, prefix, i)
		var out struct {
			Token string `json:"token"`
			State string `json:"state"`
		}
		if err := postJSON(ctx, sn.client(i), cfg.URL+"/api/webinars/"+cfg.Webinar+"/join", "", body, http.StatusCreated, &out); err != nil {
			return fmt.Errorf("join: %w", err)
		}
		if out.State != "admitted" {
			return fmt.Errorf("join: state %q: the bench needs a webinar without a waiting room", out.State)
		}
		tokens[i] = out.Token
		return nil
	})
	return tokens, err
}

// postJSON posts body and decodes the answer into out when it has status want.
func postJSON(ctx context.Context, hc *http.Client, u, token, body string, want int, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("POST %s: %s %s", u, res.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// chatSender posts its share of the chat, paced, one message after another (so its own
// messages have an order every client must see).
type chatSender struct {
	id       int
	tokens   []string // the participants it speaks as, in turn
	posted   int
	acked    int
	failed   int
	firstErr error
	rtts     []time.Duration
}

// sendChat runs the senders for cfg.Duration and returns them when all have stopped.
func sendChat(ctx context.Context, cfg RoomConfig, sn *sourceNet, tokens []string, perSender int) []*chatSender {
	interval := time.Duration(float64(cfg.Senders) / cfg.Rate * float64(time.Second))
	start := time.Now()
	stop := start.Add(cfg.Duration)
	quota := math.MaxInt
	if cfg.Messages > 0 {
		stop, quota = time.Time{}, (cfg.Messages+cfg.Senders-1)/cfg.Senders
	}
	senders := make([]*chatSender, cfg.Senders)
	var wg sync.WaitGroup
	for i := range senders {
		s := &chatSender{id: i, tokens: tokens[i*perSender : (i+1)*perSender]}
		senders[i] = s
		// Senders take turns evenly, so the total rate is smooth.
		first := start.Add(interval * time.Duration(i) / time.Duration(cfg.Senders))
		wg.Go(func() { s.run(ctx, cfg, sn.client(i), first, interval, stop, quota) })
	}
	wg.Wait()
	return senders
}

// run posts until stop (zero: no end) or quota messages were posted.
func (s *chatSender) run(ctx context.Context, cfg RoomConfig, hc *http.Client, next time.Time, interval time.Duration, stop time.Time, quota int) {
	u := cfg.URL + "/api/webinars/" + cfg.Webinar + "/chat"
	for seq := 0; seq < quota && (stop.IsZero() || next.Before(stop)) && ctx.Err() == nil; seq++ {
		sleep(ctx, time.Until(next))
		sent := time.Now()
		body, _ := json.Marshal(map[string]string{"text": chatText(s.id, seq, sent, cfg.TextBytes), "to": "everyone"})
		err := postJSON(ctx, hc, u, s.tokens[seq%len(s.tokens)], string(body), http.StatusCreated, nil)
		s.posted++
		if err != nil {
			s.failed++
			if s.firstErr == nil {
				s.firstErr = err
			}
		} else {
			s.acked++
			s.rtts = append(s.rtts, time.Since(sent))
		}
		// A sender that fell behind skips the turns it missed rather than bursting: a burst
		// would trip the server's chat limit.
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
	}
}
