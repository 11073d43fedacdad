package webhook

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	dropped     prometheus.Counter
	droppedN    atomic.Uint64 // the same count, for the log line
	result      *prometheus.CounterVec
	lastDropLog atomic.Int64 // unix ns of the last "dropped" log line
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "lectern_webhook_dropped_total",
			Help: "Webhook events and retries dropped because a queue was full (the request path never waits for a delivery)."}),
		result: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lectern_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result: ok (2xx), retry (failed, another attempt scheduled), failed (failed, no attempt left)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.dropped, m.result)
	}
	return m
}

func (m *metrics) countDrop() uint64 {
	m.dropped.Inc()
	return m.droppedN.Add(1)
}
