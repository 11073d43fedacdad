package broadcast

import "github.com/prometheus/client_golang/prometheus"

// metrics are process-wide counters; per-room labels are left out so the
// per-packet path touches a handful of shared counters, not a label lookup.
type metrics struct {
	viewers, presenters                  prometheus.Gauge
	received, receivedBytes              prometheus.Counter
	forwarded, forwardedBytes            prometheus.Counter
	dropped                              prometheus.Counter
	pliSent, pliReceived                 prometheus.Counter
	nackReceived, nackRetransmitted      prometheus.Counter
	nackMissed, nackSuppressed           prometheus.Counter
	keyframeHits, keyframeMisses         prometheus.Counter
	tapPackets, codecMismatch, badOffers prometheus.Counter
	tracksIgnored, speakerSwitches       prometheus.Counter
	mutedPackets                         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "lectern_broadcast_" + name, Help: help})
	}
	m := &metrics{
		viewers:           prometheus.NewGauge(prometheus.GaugeOpts{Name: "lectern_broadcast_viewers", Help: "Viewer sessions (WHEP) currently open."}),
		presenters:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "lectern_broadcast_presenters", Help: "Presenter sessions (WHIP) currently open."}),
		received:          c("received_packets_total", "RTP packets received from presenters."),
		receivedBytes:     c("received_bytes_total", "RTP bytes received from presenters."),
		forwarded:         c("forwarded_packets_total", "RTP packets written to viewers (including retransmissions and keyframe replay)."),
		forwardedBytes:    c("forwarded_bytes_total", "RTP payload bytes written to viewers."),
		dropped:           c("dropped_packets_total", "Packets dropped because a viewer's queue was full."),
		pliSent:           c("pli_sent_total", "Keyframe requests (PLI) sent to presenters after throttling."),
		pliReceived:       c("pli_received_total", "Keyframe requests (PLI/FIR) received from viewers."),
		nackReceived:      c("nack_received_total", "Packets requested by viewers' NACKs."),
		nackRetransmitted: c("nack_retransmitted_packets_total", "NACKed packets resent from the room's packet cache."),
		nackMissed:        c("nack_missed_packets_total", "NACKed packets no longer in the room's packet cache."),
		nackSuppressed:    c("nack_suppressed_packets_total", "NACKed packets not resent: resent moments ago, or the viewer's queue is congested."),
		keyframeHits:      c("keyframe_cache_hits_total", "Joining viewers started from the cached keyframe."),
		keyframeMisses:    c("keyframe_cache_misses_total", "Joining viewers with no cached keyframe (a throttled PLI was requested)."),
		tapPackets:        c("tap_packets_total", "Presenter Opus packets handed to audio taps."),
		codecMismatch:     c("codec_mismatch_sessions_total", "Viewer sessions ended because the presenter's codec differs from theirs."),
		badOffers:         c("bad_offers_total", "Offers refused before a PeerConnection was created."),
		tracksIgnored:     c("presenter_tracks_ignored_total", "Presenter tracks not forwarded: no room track left for their m-line, or a second simulcast layer."),
		speakerSwitches:   c("speaker_switches_total", "Times the main tracks switched to another presenter (active speaker or spotlight)."),
		mutedPackets:      c("stage_muted_packets_total", "Presenter packets not forwarded because a host (or the presenter) muted that medium."),
	}
	for _, col := range []prometheus.Collector{m.viewers, m.presenters, m.received, m.receivedBytes, m.forwarded, m.forwardedBytes,
		m.dropped, m.pliSent, m.pliReceived, m.nackReceived, m.nackRetransmitted, m.nackMissed, m.nackSuppressed, m.keyframeHits,
		m.keyframeMisses, m.tapPackets, m.codecMismatch, m.badOffers, m.tracksIgnored, m.speakerSwitches, m.mutedPackets} {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}
