package transcribe

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queueDepth   *prometheus.GaugeVec
	lag          *prometheus.HistogramVec
	shed         *prometheus.CounterVec
	engineErrors prometheus.Counter
	failed       prometheus.Counter
	latency      *prometheus.HistogramVec
	tapDrops     prometheus.Counter
	lost         prometheus.Counter

	liveLag    prometheus.Gauge // lectern_caption_lag_seconds
	level      prometheus.Gauge
	skipped    prometheus.Counter
	filled     prometheus.Counter
	gapDropped prometheus.Counter
	gapAudio   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	lagBuckets := []float64{0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30}
	m := &metrics{
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lectern_transcribe_queue_depth_jobs",
			Help: "Jobs waiting for a transcription worker, by kind (partial, final).",
		}, []string{"kind"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_transcribe_caption_lag_seconds",
			Help:    "Wall time from the end of a caption's audio to its emission, by kind.",
			Buckets: lagBuckets,
		}, []string{"kind"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lectern_transcribe_partials_shed_total",
			Help: "Partial jobs dropped: superseded by a newer partial of the same utterance, or shed under overload.",
		}, []string{"reason"}),
		engineErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_engine_errors_total",
			Help: "Engine calls that returned an error (each retry counts).",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_finals_failed_total",
			Help: "Finals emitted as failed after every retry.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lectern_transcribe_engine_latency_seconds",
			Help:    "Duration of engine calls, by kind.",
			Buckets: lagBuckets,
		}, []string{"kind"}),
		tapDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_tap_drops_total",
			Help: "RTP packets dropped at the audio tap because the decoder fell behind.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_packets_lost_total",
			Help: "RTP packets missing after reordering, concealed.",
		}),
		liveLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lectern_caption_lag_seconds",
			Help: "How far live captions are behind the words now: wall time since the end of the oldest utterance whose final is not out yet, across all webinars (0 when none waits).",
		}),
		level: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lectern_transcribe_overload_level",
			Help: "How the pool degrades to keep up: 0 normal, 1 partials shed, 2 finals from the stream's own result, 3 audio skipped (gaps filled later).",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_finals_skipped_total",
			Help: "Utterances skipped live because their final would have come later than the lag bound; each is a recorded gap, filled when the pool is idle.",
		}),
		filled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_gaps_filled_total",
			Help: "Skipped utterances decoded later from their retained audio.",
		}),
		gapDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lectern_transcribe_gap_audio_dropped_total",
			Help: "Skipped utterances whose retained audio was dropped (memory bound or shutdown): their gap stays in the transcript.",
		}),
		gapAudio: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lectern_transcribe_gap_audio_seconds",
			Help: "Audio of skipped utterances retained to fill their gaps.",
		}),
	}
	for _, c := range []any{&m.queueDepth, &m.lag, &m.shed, &m.engineErrors, &m.failed, &m.latency, &m.tapDrops, &m.lost,
		&m.liveLag, &m.level, &m.skipped, &m.filled, &m.gapDropped, &m.gapAudio} {
		if err := register(reg, c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// register registers *c, or points it at the collector already registered under the same
// name, so several pools (one per engine) can share a registry.
func register(reg prometheus.Registerer, c any) error {
	var col prometheus.Collector
	switch v := c.(type) {
	case **prometheus.GaugeVec:
		col = *v
	case **prometheus.HistogramVec:
		col = *v
	case **prometheus.CounterVec:
		col = *v
	case *prometheus.Counter:
		col = *v
	case *prometheus.Gauge:
		col = *v
	}
	err := reg.Register(col)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		return err
	}
	switch v := c.(type) {
	case **prometheus.GaugeVec:
		*v = are.ExistingCollector.(*prometheus.GaugeVec)
	case **prometheus.HistogramVec:
		*v = are.ExistingCollector.(*prometheus.HistogramVec)
	case **prometheus.CounterVec:
		*v = are.ExistingCollector.(*prometheus.CounterVec)
	case *prometheus.Counter:
		*v = are.ExistingCollector.(prometheus.Counter)
	case *prometheus.Gauge:
		*v = are.ExistingCollector.(prometheus.Gauge)
	}
	return nil
}
