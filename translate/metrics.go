package translate

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests    *prometheus.CounterVec   // translator calls by result
	latency     *prometheus.HistogramVec // translator call duration
	cacheHits   prometheus.Counter
	captions    *prometheus.CounterVec // translated captions produced, by result
	dropped     prometheus.Counter
	storeErrors prometheus.Counter
	demand      *prometheus.GaugeVec // webinars in which a language is in demand
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_translate_requests_total",
			Help: "Calls to a translator (one per batch), by result: ok, error, timeout, rate_limited, quota, auth.",
		}, []string{"translator", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_translate_request_duration_seconds",
			Help:    "Duration of one translator call.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"translator"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_translate_cache_hits_total",
			Help: "Translations served from the cache or the store instead of a translator.",
		}),
		captions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_translate_captions_total",
			Help: "Translated captions published, by result: translated, cached, unavailable, dropped (finals), partial.",
		}, []string{"result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_translate_queue_dropped_total",
			Help: "Finals not queued for translation because the queue was full (published untranslated, marked unavailable).",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_translate_store_errors_total",
			Help: "Translated finals that could not be stored (they were still published).",
		}),
		demand: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lectern_translate_languages_in_demand",
			Help: "Webinars in which a language is in demand (read by a viewer or pre-selected).",
		}, []string{"lang"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.cacheHits, m.captions, m.dropped, m.storeErrors, m.demand)
	}
	return m
}
