package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/cluster"
	"lectern/room"
)

// ClusterConfig makes a server one node of several (issue 12). Without --nats or
// --nats-listen it is a lone server, as always, and starts no NATS.
type ClusterConfig struct {
	NodeURL      string        // base URL other nodes and redirected viewers use
	NodeID       string        // default: a stable hash of NodeURL
	Region       string        // this node's region
	NATS         string        // nats://host:port of an external NATS (with JetStream)
	NATSListen   string        // host:port: run NATS in this process for the other nodes
	Lease        time.Duration // origin leases and heartbeats expire after this
	Capacity     int           // viewers this node serves at full load
	DrainTimeout time.Duration // on SIGTERM, how long viewers may finish before shutdown
}

func bindClusterFlags(fs *flag.FlagSet, c *ClusterConfig) {
	fs.StringVar(&c.NodeURL, "node-url", c.NodeURL, "this node's base URL for other nodes and redirected viewers, e.g. http://10.0.0.1:8080")
	fs.StringVar(&c.NodeID, "node-id", c.NodeID, "this node's id (default: a hash of --node-url)")
	fs.StringVar(&c.Region, "region", c.Region, "this node's region; webinars restricted to regions are served only by nodes in them")
	fs.StringVar(&c.NATS, "nats", c.NATS, "join a cluster through this NATS server (nats://host:port, JetStream on)")
	fs.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, "run NATS in this process on host:port for the other nodes (small setups)")
	fs.DurationVar(&c.Lease, "cluster-lease", c.Lease, "how long a dead node keeps its webinars and stays listed")
	fs.IntVar(&c.Capacity, "node-capacity", c.Capacity, "viewers this node serves at full load (its reported load is viewers / capacity)")
	fs.DurationVar(&c.DrainTimeout, "drain-timeout", c.DrainTimeout, "on SIGTERM, drain this long (or until no viewer is left) before stopping")
}

func (c ClusterConfig) validate() error {
	switch {
	case c.NATS != "" && c.NATSListen != "":
		return fmt.Errorf("--nats and --nats-listen are alternatives: join a NATS server or run one")
	case c.NATS != "" && !strings.HasPrefix(c.NATS, "nats://") && !strings.HasPrefix(c.NATS, "tls://"):
		return fmt.Errorf("--nats wants nats://host:port, got %q", c.NATS)
	case c.Lease < time.Second:
		return fmt.Errorf("--cluster-lease must be at least 1s, got %s", c.Lease)
	case c.Capacity <= 0:
		return fmt.Errorf("--node-capacity must be positive, got %d", c.Capacity)
	case c.DrainTimeout < 0:
		return fmt.Errorf("--drain-timeout must not be negative, got %s", c.DrainTimeout)
	}
	if c.NATSListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			return fmt.Errorf("--nats-listen wants host:port: %w", err)
		}
	}
	if (c.NATS != "" || c.NATSListen != "") && c.NodeURL == "" {
		return fmt.Errorf("--node-url is needed with --nats or --nats-listen: other nodes and redirected viewers reach this node there")
	}
	return nil
}

// clustered reports whether the server joins other nodes.
func (c ClusterConfig) clustered() bool { return c.NATS != "" || c.NATSListen != "" }

// self is this node as the cluster sees it.
func (c ClusterConfig) self(addr string) cluster.Node {
	url := strings.TrimSuffix(c.NodeURL, "/") // one node, however its URL is written
	if url == "" {
		url = "http://" + addr
	}
	id := c.NodeID
	if id == "" {
		id = cluster.NodeID(url)
	}
	return cluster.Node{ID: id, URL: url, Region: c.Region}
}

// openCluster connects to NATS when asked; a lone server gets cluster.Single and no bus.
// relays lists the webinars this node pulls as an edge.
func openCluster(ctx context.Context, cfg Config, rm *room.Manager, reg *prometheus.Registry, relays func() []string, log *slog.Logger) (cluster.Directory, *cluster.Bus, error) {
	c := cfg.Cluster
	self := c.self(cfg.Addr)
	if !c.clustered() {
		return cluster.Single{Node: self}, nil, nil
	}
	viewers := viewerGauge(reg)
	bus, err := cluster.Open(ctx, cluster.Config{
		Self: self, URL: c.NATS, Listen: c.NATSListen, StoreDir: filepath.Join(cfg.Data, "nats"),
		Lease: c.Lease, Registerer: reg, Logger: log,
		Report: func() cluster.Report {
			n := viewers()
			return cluster.Report{Viewers: n, Load: float64(n) / float64(c.Capacity), Relays: relays()}
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if _, err := bus.RelayRoom(rm); err != nil {
		bus.Close()
		return nil, nil, fmt.Errorf("live channel relay: %w", err)
	}
	log.Info("cluster node", "id", self.ID, "url", self.URL, "region", self.Region, "nats", c.NATS, "nats_listen", c.NATSListen)
	return bus, bus, nil
}

// viewerGauge reads the open WHEP sessions (lectern_broadcast_viewers) from the registry.
func viewerGauge(g prometheus.Gatherer) func() int {
	return func() int {
		mfs, err := g.Gather()
		if err != nil {
			return 0
		}
		for _, mf := range mfs {
			if mf.GetName() == "lectern_broadcast_viewers" && len(mf.GetMetric()) > 0 {
				return int(mf.GetMetric()[0].GetGauge().GetValue())
			}
		}
		return 0
	}
}

// drain marks the node draining on SIGTERM and waits, at most timeout, for its viewers to
// leave; new ones go to other nodes meanwhile.
func drain(a *app, timeout time.Duration, viewers func() int, log *slog.Logger) {
	a.api.Drain()
	if timeout <= 0 {
		return
	}
	log.Info("draining", "timeout", timeout, "viewers", viewers())
	deadline := time.Now().Add(timeout)
	for viewers() > 0 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
}
