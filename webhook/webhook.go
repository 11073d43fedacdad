// Package webhook delivers signed events to registered HTTPS endpoints.
//
// Emit is called on request paths and never blocks: it puts the event in a bounded queue (a
// full queue drops it and counts lectern_webhook_dropped_total). A router goroutine looks up
// the endpoints that subscribed and hands one delivery per endpoint to a few workers, which
// POST it with a per-attempt timeout, follow no redirect, log every attempt in the store and
// retry failures with exponential backoff and jitter. participant.joined is batched per
// webinar: one event per JoinWindow carries that window's joins.
//
// Pending retries live in memory: a restart forgets them (the delivery log shows the last
// failed attempt).
package webhook

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/models"
)

// Store is what the dispatcher reads and writes (models.Store has it).
type Store interface {
	WebhookTargets(ctx context.Context, webinar, typ string) ([]models.Webhook, error)
	Webinar(ctx context.Context, id string) (models.Webinar, error)
	AddWebhookDelivery(ctx context.Context, d models.WebhookDelivery) error
}

// Config wires a Dispatcher; zero fields take the defaults noted.
type Config struct {
	Store      Store
	Registerer prometheus.Registerer // nil: metrics are kept but not exported
	Logger     *slog.Logger

	Queue   int           // events, and deliveries, waiting at most (default 1000 each)
	Workers int           // deliveries in flight at once (default 4)
	Timeout time.Duration // one attempt, connection to answer (default 10 s)
	// Backoff lists the waits before each retry (default DefaultBackoff): a delivery is tried
	// at most 1+len(Backoff) times. Jitter spreads each wait (default: up to +25 %) so that
	// endpoints coming back from an outage are not hit by every retry at once.
	Backoff []time.Duration
	Jitter  func(time.Duration) time.Duration
	// JoinWindow is how often at most a webinar's participant.joined goes out (default 10 s).
	JoinWindow time.Duration
	// AllowLoopback lets endpoints be http://127.0.0.1, http://[::1] or http://localhost and
	// lets deliveries connect to loopback addresses. For tests and local development only.
	AllowLoopback bool
	RootCAs       *x509.CertPool // nil: the system's (tests trust their httptest server)
}

// DefaultBackoff: retries after about 1 s, 5 s, 30 s, 2 min and 10 min (six attempts in all).
var DefaultBackoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Queue <= 0 {
		c.Queue = 1000
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = DefaultBackoff
	}
	if c.Jitter == nil {
		c.Jitter = func(d time.Duration) time.Duration { return d + time.Duration(mrand.Int64N(int64(d)/4+1)) }
	}
	if c.JoinWindow <= 0 {
		c.JoinWindow = 10 * time.Second
	}
}

// Event is the JSON body of a delivery in FormatJSON. ID is the same for every endpoint and
// every retry of one event: receivers use it to ignore repeats.
type Event struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	WebinarID string          `json:"webinar_id"`
	Data      json.RawMessage `json:"data"`
}

// job is one event on its way to one endpoint.
type job struct {
	hook    models.Webhook
	ev      Event
	body    []byte
	attempt int // 1 for the first try
}

// Dispatcher queues, routes and delivers events. A nil *Dispatcher accepts Emit and Close
// and does nothing (webhooks off).
type Dispatcher struct {
	cfg Config
	log *slog.Logger
	// admin delivers to account-wide endpoints, which may be on private networks; webinar
	// delivers to hosts' endpoints, which may not.
	admin, webinar *http.Client
	m              *metrics

	events chan Event
	jobs   chan job
	joins  *batcher
	retry  *timers

	ctx    context.Context // cancelled by Close: in-flight requests end
	cancel context.CancelFunc
	wg     sync.WaitGroup // the router and the workers
	closed atomic.Bool

	mu      sync.Mutex
	started map[string]bool // webinars whose webinar.started went out and that have not ended
}

// maxStarted bounds the started set: webinars whose presenter left and whose host never
// pressed End stay in it. Past the bound it is cleared, at worst sending webinar.started
// again for a webinar that was already live.
const maxStarted = 10000

// New starts a dispatcher's router and workers; Close stops them.
func New(cfg Config) *Dispatcher {
	cfg.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	d := &Dispatcher{cfg: cfg, log: cfg.Logger, admin: newClient(cfg, true), webinar: newClient(cfg, false), m: newMetrics(cfg.Registerer),
		events: make(chan Event, cfg.Queue), jobs: make(chan job, cfg.Queue), retry: newTimers(),
		ctx: ctx, cancel: cancel, started: map[string]bool{}}
	d.joins = newBatcher(cfg.JoinWindow, d.flushJoins)
	d.wg.Add(1 + cfg.Workers)
	go d.route()
	for range cfg.Workers {
		go d.work()
	}
	return d
}

// newClient makes the HTTP client of deliveries: no redirect is followed (a 3xx is a failed
// attempt; following one would let an endpoint bounce the signed body elsewhere), and the
// dial guard refuses addresses on the server's own machine and link-local networks, and
// private ones unless allowPrivate.
func newClient(cfg Config, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: guardDial(cfg.AllowLoopback, allowPrivate)}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Emit queues event typ of webinar with data (any JSON-encodable value) and returns at once.
// webinar.started goes out once per run of a webinar (until its webinar.ended), so presenter
// reconnects do not repeat it; participant.joined is batched (Config.JoinWindow).
func (d *Dispatcher) Emit(typ, webinar string, data any) {
	if d == nil || d.closed.Load() {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		d.log.Error("webhook event not encodable", "type", typ, "webinar", webinar, "err", err)
		return
	}
	switch typ {
	case ParticipantJoined:
		if !d.joins.add(webinar, raw) {
			d.drop("join batches full", typ, webinar)
		}
		return
	case WebinarStarted:
		if !d.firstStart(webinar) {
			return
		}
	case WebinarEnded:
		d.mu.Lock()
		delete(d.started, webinar)
		d.mu.Unlock()
	}
	d.enqueue(Event{ID: newEventID(), Type: typ, CreatedAt: time.Now().UTC(), WebinarID: webinar, Data: raw})
}

func (d *Dispatcher) firstStart(webinar string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started[webinar] {
		return false
	}
	if len(d.started) >= maxStarted {
		clear(d.started)
	}
	d.started[webinar] = true
	return true
}

func (d *Dispatcher) enqueue(ev Event) {
	select {
	case d.events <- ev:
	default:
		d.drop("event queue full", ev.Type, ev.WebinarID)
	}
}

// flushJoins turns one window's joins into one participant.joined event. At most
// maxJoinsListed are listed; count says how many joined in all.
func (d *Dispatcher) flushJoins(webinar string, joins []json.RawMessage, total int) {
	data, _ := json.Marshal(map[string]any{"participants": joins, "count": total})
	d.enqueue(Event{ID: newEventID(), Type: ParticipantJoined, CreatedAt: time.Now().UTC(), WebinarID: webinar, Data: data})
}

// Close stops delivering: queued events and pending retries are dropped, in-flight requests
// are cancelled. Emit after Close does nothing.
func (d *Dispatcher) Close() {
	if d == nil || !d.closed.CompareAndSwap(false, true) {
		return
	}
	d.joins.stop()
	d.retry.stop()
	d.cancel()
	d.wg.Wait()
	d.admin.CloseIdleConnections()
	d.webinar.CloseIdleConnections()
}

// route looks up each event's endpoints and queues one job per endpoint. It blocks when the
// workers are behind, so the event queue fills and Emit drops: the request path never waits.
func (d *Dispatcher) route() {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case ev := <-d.events:
			d.fanOut(ev)
		}
	}
}

func (d *Dispatcher) fanOut(ev Event) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	hooks, err := d.cfg.Store.WebhookTargets(ctx, ev.WebinarID, ev.Type)
	if err != nil {
		d.log.Error("webhook endpoints not read: event not delivered", "event", ev.ID, "type", ev.Type, "err", err)
		return
	}
	if len(hooks) == 0 {
		return
	}
	envelope, err := json.Marshal(ev)
	if err != nil {
		d.log.Error("webhook event not encodable", "event", ev.ID, "err", err)
		return
	}
	var slack []byte
	for _, h := range hooks {
		body := envelope
		if h.Format == FormatSlack {
			if slack == nil {
				slack = slackBody(ev, d.title(ctx, ev.WebinarID))
			}
			body = slack
		}
		select {
		case d.jobs <- job{hook: h, ev: ev, body: body, attempt: 1}:
		case <-d.ctx.Done():
			return
		}
	}
}

// title is the webinar's title for chat messages; its id when it cannot be read.
func (d *Dispatcher) title(ctx context.Context, webinar string) string {
	w, err := d.cfg.Store.Webinar(ctx, webinar)
	if err != nil || w.Title == "" {
		return webinar
	}
	return w.Title
}

func (d *Dispatcher) work() {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case j := <-d.jobs:
			d.attempt(j)
		}
	}
}

// attempt delivers j once, logs the attempt and schedules the next one if it failed.
func (d *Dispatcher) attempt(j job) {
	start := time.Now()
	status, err := d.post(j)
	rec := models.WebhookDelivery{WebhookID: j.hook.ID, EventID: j.ev.ID, EventType: j.ev.Type, WebinarID: j.ev.WebinarID,
		Attempt: j.attempt, Status: status, DurationMS: time.Since(start).Milliseconds(), At: start}
	if err != nil {
		rec.Error = err.Error()
	}
	if d.ctx.Err() != nil {
		return // closing: the attempt was cut short, not the endpoint's fault
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Timeout)
	if lerr := d.cfg.Store.AddWebhookDelivery(ctx, rec); lerr != nil {
		d.log.Warn("webhook delivery not logged", "webhook", j.hook.ID, "event", j.ev.ID, "err", lerr)
	}
	cancel()
	switch {
	case err == nil:
		d.m.result.WithLabelValues("ok").Inc()
	case j.attempt > len(d.cfg.Backoff):
		d.m.result.WithLabelValues("failed").Inc()
		d.log.Warn("webhook delivery failed, no retry left", "webhook", j.hook.ID, "event", j.ev.ID, "type", j.ev.Type, "attempts", j.attempt, "err", err)
	default:
		d.m.result.WithLabelValues("retry").Inc()
		wait := d.cfg.Jitter(d.cfg.Backoff[j.attempt-1])
		j.attempt++
		d.retry.after(wait, func() {
			select {
			case d.jobs <- j:
			default:
				d.drop("delivery queue full", j.ev.Type, j.ev.WebinarID)
			}
		})
	}
}

// drop counts an event or delivery given up for lack of room, and says so in the log at most
// every dropLogEvery.
func (d *Dispatcher) drop(why, typ, webinar string) {
	n := d.m.countDrop()
	now := time.Now().UnixNano()
	last := d.m.lastDropLog.Load()
	if now-last >= int64(dropLogEvery) && d.m.lastDropLog.CompareAndSwap(last, now) {
		d.log.Warn("webhook events dropped", "why", why, "type", typ, "webinar", webinar, "dropped_total", n)
	}
}

const dropLogEvery = 10 * time.Second

func newEventID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "evt_" + hex.EncodeToString(b)
}

// CheckURL says why u cannot be one of this dispatcher's endpoints (see the function
// CheckURL); a nil dispatcher takes https only.
func (d *Dispatcher) CheckURL(u string) error {
	return CheckURL(u, d != nil && d.cfg.AllowLoopback)
}
