package edge

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics say how this node's pulls fare: a failures counter that climbs while pulls stays up
// means the origin refuses or cannot be reached.
type metrics struct {
	pulls    prometheus.Gauge   // pull loops running (webinars this node relays)
	sessions prometheus.Counter // relay sessions established (reconnects count again)
	failures prometheus.Counter // attempts that did not establish a session
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		pulls: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lectern_edge_pulls",
			Help: "Webinars this node pulls from another node (edge pull loops running)."}),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{Name: "lectern_edge_pull_sessions_total",
			Help: "Edge pull sessions established, reconnects included."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "lectern_edge_pull_failures_total",
			Help: "Edge pull attempts that failed (upstream refused, unreachable or negotiation failed)."}),
	}
	if reg == nil {
		return m
	}
	m.pulls = register(reg, m.pulls)
	m.sessions = register(reg, m.sessions)
	m.failures = register(reg, m.failures)
	return m
}

// register registers c, or returns the collector already registered under its name (a second
// API server on the same registry, as tests build).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	return c
}
