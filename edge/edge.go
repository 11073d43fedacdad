// Package edge makes a node that is not a webinar's origin serve it anyway: the node pulls
// the webinar's tracks from the origin over WHEP (the same standard path viewers use, so an
// edge may pull from another edge: cascades work) and feeds them into its own broadcast room
// as that room's presenter (broadcast.Server.Relay). Local viewers then fan out from the
// pulled tracks exactly as from a presenter here: packets by pointer, NACKs answered from the
// local packet cache, keyframe requests throttled and sent upstream.
//
// One pull per webinar however many local viewers; it ends Linger after the last local
// viewer left, and it reconnects by itself, with backoff, asking the Directory where the
// origin is on every attempt (the origin restarted, or the presenter moved to another node).
package edge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/cluster"
)

// Config holds the edge's parts and timings; zero durations get the defaults of New.
type Config struct {
	Broadcast *broadcast.Server
	Directory cluster.Directory
	Secret    []byte       // the server secret every node shares (node bearer tokens)
	Client    *http.Client // nil: a plain client with RequestTimeout

	// Upstream says which node to pull a webinar from; nil: its origin (Directory.Origin).
	// A deployment may point edges at other edges to build a tree (cascade).
	Upstream func(ctx context.Context, webinar string) (cluster.Node, bool, error)

	Linger         time.Duration // a pull outlives its last local viewer this long (default 30 s)
	Check          time.Duration // how often a running pull looks at its viewers and the origin (default 1 s)
	Retry          time.Duration // first wait after a failed pull (default 250 ms), doubled up to MaxRetry
	MaxRetry       time.Duration // default 5 s
	RequestTimeout time.Duration // WHEP POST/DELETE and negotiation bound (default 15 s)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer // for lectern_edge_* metrics; nil: not registered
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Linger, 30*time.Second)
	def(&c.Check, time.Second)
	def(&c.Retry, 250*time.Millisecond)
	def(&c.MaxRetry, 5*time.Second)
	def(&c.RequestTimeout, 15*time.Second)
	if c.Directory == nil {
		c.Directory = cluster.Single{}
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.RequestTimeout}
	}
	if c.Upstream == nil {
		c.Upstream = c.Directory.Origin
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Manager owns every pull of one node.
type Manager struct {
	cfg    Config
	log    *slog.Logger
	m      metrics
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu    sync.Mutex
	pulls map[string]*pull
	wg    sync.WaitGroup

	sessions atomic.Int64 // relay sessions ever established, for tests and status
}

// pull is one webinar's pull loop; wanted (guarded by Manager.mu) is when a viewer last asked.
type pull struct {
	webinar string
	cancel  context.CancelFunc
	done    chan struct{}
	wanted  time.Time
}

// New makes a Manager; it pulls nothing until Ensure.
func New(cfg Config) *Manager {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Registerer), ctx: ctx, cancel: cancel, pulls: map[string]*pull{}}
}

// Ensure starts the webinar's pull unless it runs already: a viewer is about to join here.
func (m *Manager) Ensure(webinar string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.pulls[webinar]; p != nil {
		p.wanted = time.Now()
		return
	}
	if m.ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithCancel(m.ctx)
	p := &pull{webinar: webinar, cancel: cancel, done: make(chan struct{}), wanted: time.Now()}
	m.pulls[webinar] = p
	m.wg.Add(1)
	m.m.pulls.Inc()
	go func() {
		defer m.wg.Done()
		defer m.m.pulls.Dec()
		m.run(ctx, p)
	}()
}

// Stop ends the webinar's pull and waits until its relay has left the room: a presenter is
// about to publish here (this node becomes the origin).
func (m *Manager) Stop(webinar string) {
	m.mu.Lock()
	p := m.pulls[webinar]
	delete(m.pulls, webinar)
	m.mu.Unlock()
	if p != nil {
		p.cancel()
		<-p.done
	}
}

// Relays lists the webinars this node pulls (cluster.Node.Relays).
func (m *Manager) Relays() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.pulls))
	for w := range m.pulls {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// Sessions is the number of relay sessions established since New (a reconnect counts again).
func (m *Manager) Sessions() int64 { return m.sessions.Load() }

// Close ends every pull and waits for them.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

// run is one webinar's pull loop: find the upstream, pull until the session ends, wait, again.
func (m *Manager) run(ctx context.Context, p *pull) {
	defer close(p.done)
	defer p.cancel()
	defer m.forget(p)
	wait := m.cfg.Retry
	var idleSince time.Time
	for {
		if m.finished(p, &idleSince) {
			return
		}
		if m.attempt(ctx, p, &idleSince) {
			wait = m.cfg.Retry // it ran: the next attempt is soon, backoff starts over
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, m.cfg.MaxRetry)
	}
}

// attempt pulls from the current upstream until the session ends; false if none started.
func (m *Manager) attempt(ctx context.Context, p *pull, idleSince *time.Time) bool {
	up, ok, err := m.cfg.Upstream(ctx, p.webinar)
	switch {
	case err != nil:
		m.log.Warn("edge: no upstream", "webinar", p.webinar, "err", err)
		return false
	case !ok || m.isSelf(up):
		return false // no origin yet, or this node is it: nothing to pull (viewers wait as for a presenter)
	}
	var loc string
	nctx, cancel := context.WithTimeout(ctx, m.cfg.RequestTimeout)
	sess, err := m.cfg.Broadcast.Relay(nctx, p.webinar, m.exchange(up.URL, p.webinar, &loc))
	cancel()
	if errors.Is(err, broadcast.ErrClosed) {
		p.cancel() // the local broadcast is shutting down: nothing to feed any more
		return false
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			m.m.failures.Inc()
			m.log.Warn("edge: pull failed", "webinar", p.webinar, "upstream", up.URL, "err", err)
		}
		m.hangUp(loc, p.webinar)
		return false
	}
	m.sessions.Add(1)
	m.m.sessions.Inc()
	m.log.Info("edge: pulling", "webinar", p.webinar, "upstream", up.URL, "session", sess.ID)
	reason := m.follow(ctx, p, up, sess, idleSince)
	_ = m.cfg.Broadcast.End(p.webinar, sess.ID)
	m.hangUp(loc, p.webinar)
	m.log.Info("edge: pull ended", "webinar", p.webinar, "upstream", up.URL, "reason", reason)
	return true
}

// follow watches a running pull and says why it should end.
func (m *Manager) follow(ctx context.Context, p *pull, up cluster.Node, sess broadcast.Session, idleSince *time.Time) string {
	tick := time.NewTicker(m.cfg.Check)
	defer tick.Stop()
	for {
		select {
		case <-sess.Done:
			return "upstream session ended"
		case <-ctx.Done():
			return "stopped"
		case <-tick.C:
		}
		if m.finished(p, idleSince) {
			return "no viewers"
		}
		if now, ok, err := m.cfg.Upstream(ctx, p.webinar); err == nil && ok && now.URL != up.URL {
			return "origin moved to " + now.URL
		}
	}
}

// finished decides, under the lock Ensure takes, whether the pull has been without local
// viewers for Linger; if so it is forgotten at once, so a viewer arriving now starts a new one.
func (m *Manager) finished(p *pull, idleSince *time.Time) bool {
	now := time.Now()
	if m.cfg.Broadcast.Viewers(p.webinar) > 0 {
		*idleSince = time.Time{}
		return false
	}
	if idleSince.IsZero() {
		*idleSince = now
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	since := *idleSince
	if p.wanted.After(since) {
		since = p.wanted
	}
	if now.Sub(since) < m.cfg.Linger {
		return false
	}
	if m.pulls[p.webinar] == p {
		delete(m.pulls, p.webinar)
	}
	return true
}

// forget drops p from the running pulls if it is still the webinar's (a loop that ended).
func (m *Manager) forget(p *pull) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pulls[p.webinar] == p {
		delete(m.pulls, p.webinar)
	}
}

func (m *Manager) isSelf(n cluster.Node) bool {
	self := m.cfg.Directory.Self()
	return n.ID == self.ID && n.URL == self.URL
}
