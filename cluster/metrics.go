package cluster

import "github.com/prometheus/client_golang/prometheus"

// Metrics are a node's view of the cluster bus.
type Metrics struct {
	nodes        prometheus.Gauge
	connected    prometheus.Gauge
	originClaims prometheus.Counter
	sent         *prometheus.CounterVec
	received     *prometheus.CounterVec
}

// NewMetrics registers the bus's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lectern_cluster_nodes",
			Help: "Live nodes this node hears from, itself included."}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "lectern_cluster_nats_connected",
			Help: "1 while this node is connected to NATS."}),
		originClaims: prometheus.NewCounter(prometheus.CounterOpts{Name: "lectern_cluster_origin_claims_total",
			Help: "Webinar origins this node claimed."}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lectern_cluster_sent_events_total",
			Help: "Events this node published on the bus, by kind."}, []string{"kind"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lectern_cluster_relayed_events_total",
			Help: "Events from other nodes this node received and applied, by kind."}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.nodes, m.connected, m.originClaims, m.sent, m.received)
	}
	return m
}
