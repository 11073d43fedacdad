package captions

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the caption hubs' collectors. Create them once per process with NewMetrics and
// hand the same value to every Hub: collectors can be registered only once, and per-webinar
// labels would grow without bound.
type Metrics struct {
	subscribers      prometheus.Gauge
	publishedPartial prometheus.Counter
	publishedFinal   prometheus.Counter
	delivered        prometheus.Counter
	droppedSlow      prometheus.Counter
}

// NewMetrics creates the collectors and registers them on reg (nil: not registered, for tests
// and tools).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	subscribers := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "lectern_captions_subscribers",
		Help: "Live caption subscribers (SSE/WebSocket viewers) across all webinars.",
	})
	published := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lectern_captions_published_total",
		Help: "Caption events published to hubs, by type (partial or final).",
	}, []string{"type"})
	delivered := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lectern_captions_frames_delivered_total",
		Help: "Caption frames queued to subscribers.",
	})
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lectern_captions_subscribers_dropped_total",
		Help: "Subscribers a hub dropped, by reason (queue_full: the client did not keep up).",
	}, []string{"reason"})
	if reg != nil {
		reg.MustRegister(subscribers, published, delivered, dropped)
	}
	// Children are resolved once so the publish path does no label lookups.
	return &Metrics{
		subscribers:      subscribers,
		publishedPartial: published.WithLabelValues("partial"),
		publishedFinal:   published.WithLabelValues("final"),
		delivered:        delivered,
		droppedSlow:      dropped.WithLabelValues("queue_full"),
	}
}
