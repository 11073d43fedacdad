package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultLease is how long an origin claim and a node's heartbeat live without renewal: a
// dead node's webinars can be taken over this long after it stopped.
const DefaultLease = 5 * time.Second

// Config is one node's view of the bus. Either URL (an external NATS, --nats) or Listen (an
// embedded server other nodes connect to, --nats-listen) must be set.
type Config struct {
	Self     Node          // ID (NodeID(URL) when empty), URL and Region; the rest is reported
	URL      string        // nats://host:port of an external server
	Listen   string        // host:port for the embedded server
	StoreDir string        // the embedded server's JetStream files
	Lease    time.Duration // DefaultLease when 0
	// Report samples this node's load for its heartbeat, once a beat; nil reports nothing.
	Report     func() Report
	Registerer prometheus.Registerer // nil: metrics unregistered
	Logger     *slog.Logger
}

// Report is what a node's owner tells the heartbeat: its audience and the webinars it pulls.
type Report struct {
	Viewers int
	Load    float64
	Relays  []string
}

// NodeID is a node's stable id when --node-id is not given: a hash of its URL, so a
// restarted node is the same node to the others.
func NodeID(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:6])
}

// Bus is a node's connection to the cluster over NATS: the Directory (origin leases in a
// JetStream KV bucket, heartbeats on a subject), the relays of live events, counts summed
// over nodes, and draining.
type Bus struct {
	cfg     Config
	log     *slog.Logger
	m       *Metrics
	srv     *server.Server // the embedded server, or nil
	nc      *nats.Conn
	js      jetstream.JetStream
	origins jetstream.KeyValue

	draining atomic.Bool
	report   atomic.Pointer[Report] // the latest sample of cfg.Report, taken each beat

	mu     sync.Mutex
	claims map[string]uint64 // webinar → revision of this node's origin entry
	// releasing is held (read) while a release talks to NATS, so Close hangs up only after
	// every release under way has deleted its entry.
	releasing sync.RWMutex
	peers     map[string]peer           // other nodes by id, from their heartbeats
	counts    map[string]map[string]int // kind → webinar → this node's number, as set
	onChange  []func(kind, webinar string)
	onLink    []linkWatch
	linkSeq   int
	// demandOut is this node's readers per webinar and language, repeated each beat.
	demandOut map[string]map[string]int

	stop chan struct{}
	wg   sync.WaitGroup
}

type peer struct {
	node   Node
	counts map[string]map[string]int
	got    time.Time // local receive time: clocks of nodes need not agree
}

// Subjects and bucket of the bus.
const (
	originsBucket = "lectern_origins"
	subjHeartbeat = "lectern.node.heartbeat"
	subjDrain     = "lectern.node.drain." // + node id
)

// Open connects a node to the cluster, starting the embedded server first when cfg.Listen is
// set. It returns once the origin bucket is usable.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Self.ID == "" {
		cfg.Self.ID = NodeID(cfg.Self.URL)
	}
	b := &Bus{cfg: cfg, log: cfg.Logger.With("node", cfg.Self.ID), m: NewMetrics(cfg.Registerer),
		claims: map[string]uint64{}, peers: map[string]peer{}, counts: map[string]map[string]int{},
		demandOut: map[string]map[string]int{}, stop: make(chan struct{})}
	url := cfg.URL
	if cfg.Listen != "" {
		srv, err := StartServer(cfg.Listen, cfg.StoreDir)
		if err != nil {
			return nil, err
		}
		b.srv, url = srv, srv.ClientURL()
	}
	if err := b.connect(ctx, url); err != nil {
		b.shutdownServer()
		return nil, err
	}
	b.wg.Add(1)
	go b.run()
	return b, nil
}

// StartServer runs an embedded NATS server with JetStream on listen (host:port), its files in
// storeDir. Nothing but Lectern nodes should reach it: bind it to a private address.
func StartServer(listen, storeDir string) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: port: %w", listen, err)
	}
	srv, err := server.NewServer(&server.Options{Host: host, Port: port, JetStream: true, StoreDir: storeDir,
		NoSigs: true, NoLog: true, ServerName: "lectern-" + portStr})
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server on %s: not ready within 10s", listen)
	}
	return srv, nil
}

func (b *Bus) connect(ctx context.Context, url string) error {
	nc, err := nats.Connect(url,
		nats.Name("lectern "+b.cfg.Self.ID),
		nats.NoEcho(), // a node's own events are already in its hubs and channels
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { b.link(false, err) }),
		nats.ReconnectHandler(func(*nats.Conn) { b.link(true, nil) }),
	)
	if err != nil {
		return fmt.Errorf("nats connect %s: %w", url, err)
	}
	b.nc = nc
	if b.js, err = jetstream.New(nc); err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: %w", err)
	}
	b.origins, err = b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: originsBucket, TTL: b.cfg.Lease, History: 1, Storage: jetstream.FileStorage,
		Description: "Lectern webinar origins: node holding each webinar's presenter, leased",
	})
	if err != nil {
		nc.Close()
		return fmt.Errorf("origin bucket: %w", err)
	}
	if _, err := nc.Subscribe(subjHeartbeat, b.onHeartbeat); err != nil {
		nc.Close()
		return fmt.Errorf("nats subscribe heartbeats: %w", err)
	}
	if _, err := nc.Subscribe(subjDrain+b.cfg.Self.ID, b.onDrainRequest); err != nil {
		nc.Close()
		return fmt.Errorf("nats subscribe drain: %w", err)
	}
	b.m.connected.Set(1)
	return nil
}

// link records a lost or regained connection and tells the relays, which resynchronise.
func (b *Bus) link(up bool, err error) {
	select {
	case <-b.stop:
		return // closing: not a lost link
	default:
	}
	if up {
		b.m.connected.Set(1)
		b.log.Info("nats reconnected")
	} else {
		b.m.connected.Set(0)
		b.log.Warn("nats disconnected: live relays paused, media unaffected", "err", err)
	}
	b.mu.Lock()
	ws := append([]linkWatch(nil), b.onLink...)
	b.mu.Unlock()
	for _, w := range ws {
		if up {
			w.up()
		} else {
			w.down()
		}
	}
}

type linkWatch struct {
	id       int
	down, up func()
}

// Connected reports whether the node is connected to NATS now.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// run renews this node's leases and announces it, every third of a lease.
func (b *Bus) run() {
	defer b.wg.Done()
	every := b.cfg.Lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	b.sample()
	b.heartbeat()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.renew()
			b.sample()
			b.heartbeat()
			b.repeatDemand()
			b.expirePeers()
		}
	}
}

// sample takes the owner's report for the heartbeat and Self, once a beat: Self is asked on
// every viewer's request, the report may be costly.
func (b *Bus) sample() {
	if b.cfg.Report != nil {
		r := b.cfg.Report()
		b.report.Store(&r)
	}
}

// Close stops the heartbeat, gives up this node's origin claims (so another node can take
// them at once, not after the lease), and closes the connection and the embedded server.
func (b *Bus) Close() {
	select {
	case <-b.stop:
		return
	default:
	}
	close(b.stop)
	b.wg.Wait()
	b.mu.Lock()
	webinars := make([]string, 0, len(b.claims))
	for w := range b.claims {
		webinars = append(webinars, w)
	}
	b.mu.Unlock()
	for _, w := range webinars {
		b.ReleaseOrigin(w)
	}
	b.releasing.Lock() // a release that took its claim before the loop above ends first
	defer b.releasing.Unlock()
	b.nc.Drain() //nolint:errcheck // best effort: pending publishes go out before the close
	b.nc.Close()
	b.shutdownServer()
}

func (b *Bus) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}
