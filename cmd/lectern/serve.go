package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"lectern/api"
	"lectern/auth"
	"lectern/broadcast"
	"lectern/captions"
	"lectern/cluster"
	"lectern/internal/region"
	"lectern/live"
	"lectern/models"
	"lectern/record"
	"lectern/retranscribe"
	"lectern/room"
	"lectern/transcribe"
	"lectern/translate"
	"lectern/webhook"
)

func serve(ctx context.Context, args []string, stdout io.Writer) error {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	bindServeFlags(fs, &cfg)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel)
	if err != nil {
		return err
	}
	unlock, err := lockDataDir(cfg.Data)
	if err != nil {
		return err
	}
	defer unlock()
	app, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := newHTTPServer(cfg, app.api)
	log.Info("serving", "addr", ln.Addr().String(), "data", cfg.Data, "store", app.store.Dialect(), "public_url", cfg.PublicURL)
	fmt.Fprintf(stdout, "lectern listening on http://%s\n", ln.Addr())
	if err := advertise(cfg.Data, baseURL(cfg.PublicURL, ln.Addr().String())); err != nil {
		log.Warn("admin commands will not know this server's URL", "err", err)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	drain(app, cfg.Cluster.DrainTimeout, viewerGauge(app.registry), log)
	return shutdown(srv, app, cfg.ShutdownTimeout, log)
}

// newHTTPServer sets the limits every connection lives under. Caption streams set their own
// write deadline per event instead of WriteTimeout (api.pump) and are capped per address.
func newHTTPServer(cfg Config, h http.Handler) *http.Server {
	fresh := &freshConns{m: map[net.Conn]struct{}{}}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ConnState:         fresh.track,
		ConnContext:       api.ConnContext, // streams bound their send buffer
	}
	srv.RegisterOnShutdown(fresh.closeAll)
	return srv
}

// freshConns are the connections that have not sent a request yet. Browsers open them
// ahead of need (preconnect) and HTTP clients dial spares; http.Server.Shutdown counts one
// as busy until it is 5 s old, which made a shutdown wait seconds for nothing. They are
// closed once Shutdown has closed the listeners: the server is going away, and a client
// whose request was about to arrive retries, as it must anyway.
type freshConns struct {
	mu sync.Mutex
	m  map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, st http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st == http.StateNew {
		f.m[c] = struct{}{}
	} else {
		delete(f.m, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.m {
		c.Close()
		delete(f.m, c)
	}
}

// shutdown stops the server in the order that lets it finish quickly: long-lived caption
// streams are told to reconnect later and return, media peers are closed, and only then
// does HTTP drain, with nothing left in it but short requests. http.Server.Shutdown alone
// would wait for the streams, which never end by themselves, until the timeout.
func shutdown(srv *http.Server, a *app, timeout time.Duration, log *slog.Logger) error {
	start := time.Now()
	log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	a.api.BeginShutdown()
	a.api.StopRecordings(ctx) // files finalized before their media stops
	a.api.CloseEdges()        // pulls from other nodes end (and hang up upstream) first
	a.broadcast.Close()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: HTTP did not drain within %s: %w", timeout, err)
	}
	log.Info("http drained", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// app is the wired server: every long-lived part, in the order they are closed.
type app struct {
	store         *models.Store
	broadcast     *broadcast.Server
	pool          *transcribe.Pool
	stage         *translate.Stage
	translators   []translate.Translator // some hold processes (Apertium) to stop
	live          *live.Manager
	bus           *cluster.Bus // nil: a lone server
	registry      *prometheus.Registry
	webhooks      *webhook.Dispatcher
	retranscriber *retranscribe.Runner
	// stopHousekeeping ends the session sweeper and stale-account check.
	stopHousekeeping func()
	api              *api.Server
	// served is api once built: the cluster's heartbeat goroutine reads the edge pulls from it.
	served atomic.Pointer[api.Server]
}

// relays lists the webinars this node pulls as an edge (for the cluster's heartbeat).
func (a *app) relays() []string {
	if s := a.served.Load(); s != nil {
		return s.Edges().Relays()
	}
	return nil
}

func newApp(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store, err := models.OpenURL(ctx, cfg.Store, cfg.Data)
	if err != nil {
		return nil, err
	}
	reg.MustRegister(store.Collector())
	reg.MustRegister(auth.Collectors()...)
	bc, err := broadcast.New(broadcast.Config{
		ViewerQueue:     cfg.ViewerQueue,
		PLIInterval:     cfg.PLIInterval,
		IncludeLoopback: cfg.IncludeLoopback,
		UDPPortMin:      uint16(cfg.UDPPortMin),
		UDPPortMax:      uint16(cfg.UDPPortMax),
		NAT1To1IPs:      splitList(cfg.NAT1To1IPs),
		Interfaces:      splitList(cfg.ICEInterfaces),
		Logger:          log,
	}, reg)
	if err != nil {
		store.Close()
		return nil, err
	}
	a := &app{store: store, broadcast: bc, registry: reg}
	deps := api.Deps{Store: store, Broadcast: bc, Gatherer: reg, Logger: log, StreamsPerAddr: cfg.StreamsPerAddr,
		Room: room.NewManager(log, 0, 0)}
	if deps.Cluster, a.bus, err = openCluster(ctx, cfg, deps.Room, reg, a.relays, log); err != nil {
		bc.Close()
		store.Close()
		return nil, err
	}
	if deps.Recorder, err = record.NewManager(filepath.Join(cfg.Data, "recordings"), bc, reg, log); err != nil {
		a.closeBus()
		bc.Close()
		store.Close()
		return nil, err
	}
	if cfg.StreamsPerAddr == 0 {
		deps.StreamsPerAddr = -1 // the flag's 0 means no cap; the API's zero means its default
	}
	lc := live.Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: log}
	if a.bus != nil { // only the origin transcribes and translates; the others show its captions
		lc.Relay, lc.IsOrigin = a.bus, a.bus.Originates
	}

	// A missing engine or translator degrades the service; it never stops the broadcast.
	eng, err := newEngine(cfg, log)
	switch {
	case err != nil:
		deps.EngineError = err.Error()
		log.Error("live captions are off", "engine", cfg.Engine, "err", err)
	case eng == nil:
		deps.EngineError = "no speech engine configured (--engine none)"
	default:
		if a.pool, lc.Transcribe, err = newPool(cfg, eng, reg, log); err != nil {
			a.Close()
			return nil, err
		}
		lc.Pool, deps.EngineName = a.pool, eng.Name()
		deps.SpokenLanguages = transcribe.Languages(eng)
		log.Info("live captions on", "engine", eng.Name(), "region", eng.Region())
	}
	translators, err := newTranslators(cfg, log)
	if err != nil {
		log.Error("translation is off", "err", err)
	}
	a.translators = translators
	if len(translators) > 0 {
		stage, err := translate.NewStage(translate.StageConfig{
			Translators: translators, Store: store, Registerer: reg, Logger: log,
			Publish: func(webinar string, c captions.Caption) { a.live.PublishTranslation(webinar, c) },
			Regions: func(webinar string) region.Set { return a.live.Regions(webinar) },
		})
		if err != nil {
			a.Close()
			return nil, err
		}
		a.stage, lc.Stage = stage, stage
	}
	a.live = live.New(lc)
	deps.Live = a.live
	policy, err := store.Policy(ctx)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("account policy: %w", err)
	}
	a.live.SetPolicyRegions(region.Of(policy.AllowedRegions))
	if err := wireAuth(ctx, cfg, store, &deps, log); err != nil {
		a.Close()
		return nil, err
	}
	a.stopHousekeeping = startHousekeeping(store, days(cfg.Auth.StaleDays), days(cfg.Auth.AuditRetentionDays), deps.Recorder, log)
	a.webhooks = webhook.New(webhook.Config{Store: store, Registerer: reg, Logger: log, AllowLoopback: cfg.WebhookLoopback})
	deps.Webhooks = a.webhooks
	a.retranscriber, err = newRetranscriber(ctx, cfg, store, log, func(v models.TranscriptVersion) {
		if v.State == models.VersionDone {
			a.webhooks.Emit(webhook.TranscriptReady, v.Webinar, map[string]any{"version": v.ID, "engine": v.Engine, "cues": v.Cues})
		}
	})
	if err != nil {
		log.Error("re-transcription is off", "err", err)
	}
	deps.Retranscriber = a.retranscriber
	a.api = api.New(deps)
	a.served.Store(a.api)
	if err := a.api.ResumeDurationLimits(ctx); err != nil {
		log.Error("resuming duration limits", "err", err)
	}
	return a, nil
}

// Close stops the parts in dependency order: no more media, then no more captions, then
// the pipeline drains its finals into the store, which closes last.
func (a *app) Close() {
	if a.api != nil {
		a.api.CloseEdges()
	}
	a.broadcast.Close()
	if a.live != nil {
		a.live.Close()
	}
	a.closeBus() // after the rooms left it, before the pipeline: nothing is sent any more
	if a.pool != nil {
		a.pool.Close()
	}
	if a.retranscriber != nil {
		a.retranscriber.Close() // its jobs store their end in the store
	}
	if a.stage != nil {
		a.stage.Close()
	}
	for _, t := range a.translators {
		if c, ok := t.(io.Closer); ok {
			c.Close()
		}
	}
	if a.stopHousekeeping != nil {
		a.stopHousekeeping()
	}
	a.webhooks.Close() // before the store: deliveries log their attempts there
	a.store.Close()
}

// closeBus leaves the cluster: origin claims are released so another node can take them.
func (a *app) closeBus() {
	if a.bus != nil {
		a.bus.Close()
	}
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
