// Package bench is Lectern's load generator: a synthetic WHIP presenter and N
// WHEP viewers (pion) against a running server, measuring delivery, latency,
// join time and the server's own CPU and memory from its /metrics.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// FanoutConfig describes one fan-out run.
type FanoutConfig struct {
	URL string // server base URL, e.g. http://127.0.0.1:8080
	// ViewURL is where the viewers connect and whose /metrics is read, when not URL: an
	// edge node pulling from the presenter's origin at URL (issue 12).
	ViewURL   string
	Room      string // webinar id used in /whip/{room} and /whep/{room}
	StreamKey string // bearer token for WHIP
	Viewers   int
	Duration  time.Duration // measured steady-state window, after every viewer joined
	VideoKbps int           // default 2500
	// JoinConcurrency is how many viewers negotiate at once (default 32): 1 measures a
	// viewer arriving in a running webinar, a large value an audience arriving together.
	JoinConcurrency int
	// Publishers on stage (issue 10, default 1, at most 6): the first publishes with
	// StreamKey, publisher k+2 with PanelistTokens[k] (a bearer WHIP accepts: a panelist's
	// API token or publish token), each in its own stage slot, with video and audio.
	// With more than one, viewers offer the watch page's slot m-lines (viewerOffer).
	Publishers     int
	PanelistTokens []string
	// PanelistVideoKbps is the bitrate of publishers 2..N's cameras (default 500: a strip
	// tile's picture; VideoKbps sends them like the main camera).
	PanelistVideoKbps int
	Logger            *slog.Logger
}

// maxPublishers is the stage's size (broadcast.MaxStage).
const maxPublishers = 6

// PublisherFigures is one publisher's share of a run's window.
type PublisherFigures struct {
	Sent      uint64 // packets sent in the window (video + audio)
	Delivered uint64 // of those, unique packets received, summed over viewers
	// ViewersWithAudio is how many viewers received some of this publisher's audio
	// sent in the window: on a stage every viewer must hear every voice.
	ViewersWithAudio int
}

// FanoutReport is the outcome of a run. Delivery and CPU are measured over the
// steady window (all viewers connected); join times cover the join burst.
type FanoutReport struct {
	Viewers, Connected int
	Window             time.Duration
	VideoKbps          int
	Publishers         int
	PerPublisher       []PublisherFigures

	Expected, Delivered uint64 // unique packets, summed over viewers, sent in the window
	LossPercent         float64
	LatencyP50          time.Duration
	LatencyP95          time.Duration
	LatencyP99          time.Duration

	JoinSamples         int // viewers that saw a keyframe
	JoinP50, JoinP95    time.Duration
	JoinMax             time.Duration
	AnswerP50           time.Duration // WHEP POST round trip (server negotiation + ICE gathering)
	ConnectP50          time.Duration // WHEP POST to ICE+DTLS connected
	FirstPacketP50      time.Duration // WHEP POST to the first media packet of any kind
	PresenterPLIs       int64         // keyframe requests that reached the presenters during the whole run
	ServerScraped       bool          // /metrics had process_cpu_seconds_total
	ServerCPUSeconds    float64
	CPUPerPacketMicros  float64 // server CPU seconds / packets delivered, in µs
	CPUPerForwardMicros float64 // server CPU seconds / packets the server says it forwarded, in µs
	RSSBeforeMB         float64 // before viewers joined
	RSSAfterMB          float64 // at the end of the window
	MBPerViewer         float64
	ServerForwarded     float64 // lectern_broadcast_forwarded_packets_total delta over the window
	ServerDropped       float64 // lectern_broadcast_dropped_packets_total delta over the run
	Sent                uint64  // packets the presenter sent in the window
	ServerReceived      float64 // lectern_broadcast_received_packets_total delta over the window
}

// String renders the report for a terminal.
func (r FanoutReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fan-out: %d publisher(s), %d/%d viewers connected, %d kbit/s video + Opus, window %s\n", max(r.Publishers, 1), r.Connected, r.Viewers, r.VideoKbps, r.Window.Round(time.Millisecond))
	fmt.Fprintf(&b, "  delivered %d / %d packets, loss %.3f %%\n", r.Delivered, r.Expected, r.LossPercent)
	if r.Publishers > 1 {
		for i, p := range r.PerPublisher {
			fmt.Fprintf(&b, "    publisher %d: sent %d, delivered %d, its audio reached %d/%d viewers\n", i+1, p.Sent, p.Delivered, p.ViewersWithAudio, r.Viewers)
		}
	}
	fmt.Fprintf(&b, "  latency p50 %s  p95 %s  p99 %s\n", r.LatencyP50, r.LatencyP95, r.LatencyP99)
	fmt.Fprintf(&b, "  join (WHEP POST) -> first keyframe: p50 %s  p95 %s  max %s  (%d viewers)\n",
		r.JoinP50.Round(100*time.Microsecond), r.JoinP95.Round(100*time.Microsecond), r.JoinMax.Round(100*time.Microsecond), r.JoinSamples)
	fmt.Fprintf(&b, "    POST->answer p50 %s, POST->connected p50 %s, POST->first packet p50 %s\n",
		r.AnswerP50.Round(100*time.Microsecond), r.ConnectP50.Round(100*time.Microsecond), r.FirstPacketP50.Round(100*time.Microsecond))
	fmt.Fprintf(&b, "  PLIs at presenter: %d\n", r.PresenterPLIs)
	if r.ServerScraped {
		fmt.Fprintf(&b, "  server CPU %.2f s in window = %.2f µs per delivered packet, %.2f µs per forwarded (server: %.0f forwarded, %.0f dropped)\n",
			r.ServerCPUSeconds, r.CPUPerPacketMicros, r.CPUPerForwardMicros, r.ServerForwarded, r.ServerDropped)
		fmt.Fprintf(&b, "  presenters sent %d packets in the window, server received %.0f\n", r.Sent, r.ServerReceived)
		fmt.Fprintf(&b, "  server RSS %.1f MB -> %.1f MB = %.3f MB per viewer\n", r.RSSBeforeMB, r.RSSAfterMB, r.MBPerViewer)
	} else {
		b.WriteString("  server /metrics not available: no CPU or memory figures\n")
	}
	return b.String()
}

// Fanout runs one load test and returns its report. The presenter and viewers
// are deleted (WHIP/WHEP DELETE) and closed before it returns.
func Fanout(ctx context.Context, cfg FanoutConfig) (FanoutReport, error) {
	if cfg.VideoKbps <= 0 {
		cfg.VideoKbps = 2500
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JoinConcurrency <= 0 {
		cfg.JoinConcurrency = 32 // all still land within a second or so
	}
	if cfg.Publishers == 0 {
		cfg.Publishers = 1
	}
	if cfg.PanelistVideoKbps <= 0 {
		cfg.PanelistVideoKbps = 500
	}
	if cfg.Viewers <= 0 || cfg.Duration <= 0 || cfg.URL == "" || cfg.Room == "" {
		return FanoutReport{}, errors.New("bench: URL, Room, Viewers > 0 and Duration > 0 are required")
	}
	if cfg.Publishers < 1 || cfg.Publishers > maxPublishers || len(cfg.PanelistTokens) < cfg.Publishers-1 {
		return FanoutReport{}, fmt.Errorf("bench: 1..%d publishers, each after the first with a panelist token (%d publishers, %d tokens)",
			maxPublishers, cfg.Publishers, len(cfg.PanelistTokens))
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.ViewURL == "" {
		cfg.ViewURL = cfg.URL
	}
	cfg.ViewURL = strings.TrimRight(cfg.ViewURL, "/")
	log := cfg.Logger
	rep := FanoutReport{Viewers: cfg.Viewers, VideoKbps: cfg.VideoKbps, Publishers: cfg.Publishers}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	api, pcConf, err := newAPI(isLoopback(cfg.URL))
	if err != nil {
		return rep, err
	}
	metricsURL := cfg.ViewURL + "/metrics"

	sendCtx, stopSending := context.WithCancel(ctx)
	var sending sync.WaitGroup
	var pres []*presenter
	var viewers []*viewer
	defer func() {
		stopSending()
		sending.Wait()
		cleanup(client, pres, viewers)
	}()
	// One after another, so the stream key's presenter holds slot 0 and the active speaker's
	// turn (the others' audio is no louder, so the turn stays).
	for i := range cfg.Publishers {
		bearer, kbps := cfg.StreamKey, cfg.VideoKbps
		if i > 0 {
			bearer, kbps = cfg.PanelistTokens[i-1], cfg.PanelistVideoKbps
		}
		p, err := startPresenter(ctx, api, pcConf, client, cfg, i, bearer)
		if err != nil {
			return rep, err
		}
		pres = append(pres, p)
		sending.Go(func() { p.run(sendCtx, kbps) })
	}
	sleep(ctx, time.Second) // the server reaches its presenter-only steady state
	base, _ := scrape(ctx, client, metricsURL)

	rec := &recorder{hist: &latencyHist{}}
	rec.windowStart.Store(math.MaxInt64)
	log.Info("joining viewers", "viewers", cfg.Viewers)
	var mu sync.Mutex
	var joinErrs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, cfg.JoinConcurrency)
	for range cfg.Viewers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			v, err := startViewer(ctx, api, pcConf, client, cfg, rec)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				joinErrs = append(joinErrs, err)
				return
			}
			viewers = append(viewers, v)
		})
	}
	wg.Wait()
	if len(joinErrs) > 0 {
		log.Warn("some viewers failed to join", "failed", len(joinErrs), "first", joinErrs[0])
	}
	if len(viewers) == 0 {
		return rep, fmt.Errorf("bench: no viewer could join: %w", errors.Join(joinErrs...))
	}
	// Wait for first pictures (or give up after 10 s), then let things settle.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if countKey(viewers) == len(viewers) {
			break
		}
		sleep(ctx, 20*time.Millisecond)
	}
	sleep(ctx, 500*time.Millisecond)

	// Steady window.
	start, err := scrape(ctx, client, metricsURL)
	rep.ServerScraped = err == nil && start.ok && base.ok
	v0, a0 := seqs(pres)
	rec.windowStart.Store(time.Now().UnixNano())
	t0 := time.Now()
	sleep(ctx, cfg.Duration)
	end, err := scrape(ctx, client, metricsURL)
	rep.ServerScraped = rep.ServerScraped && err == nil && end.ok
	v1, a1 := seqs(pres)
	rep.Window = time.Since(t0)
	rep.PerPublisher = make([]PublisherFigures, len(pres))
	for i := range pres {
		rep.PerPublisher[i].Sent = uint64(v1[i]-v0[i]) + uint64(a1[i]-a0[i])
		rep.Sent += rep.PerPublisher[i].Sent
	}
	sleep(ctx, 2*time.Second) // late is not lost: let the window's last packets arrive
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}

	rep.Connected = len(viewers)
	var joins, answers, connects, firsts []time.Duration
	for _, v := range viewers {
		if f := v.firstPkt.Load(); f != 0 {
			firsts = append(firsts, time.Duration(f-v.posted.UnixNano()))
		}
		answers = append(answers, v.answered.Sub(v.posted))
		if c := v.connected.Load(); c != 0 {
			connects = append(connects, time.Duration(c-v.posted.UnixNano()))
		}
		v.mu.Lock()
		for i := range pres {
			f := &rep.PerPublisher[i]
			audio := v.audio[i].countRange(a0[i], a1[i])
			f.Delivered += v.video[i].countRange(v0[i], v1[i]) + audio
			if audio > 0 {
				f.ViewersWithAudio++
			}
		}
		v.mu.Unlock()
		rep.Expected += rep.Sent
		if k := v.firstKey.Load(); k != 0 {
			joins = append(joins, time.Duration(k-v.posted.UnixNano()))
		}
	}
	rep.Expected += uint64(cfg.Viewers-len(viewers)) * rep.Sent // viewers that never joined lose everything
	for _, f := range rep.PerPublisher {
		rep.Delivered += f.Delivered
	}
	if rep.Expected > 0 {
		rep.LossPercent = 100 * (1 - float64(rep.Delivered)/float64(rep.Expected))
	}
	rep.LatencyP50, rep.LatencyP95, rep.LatencyP99 = rec.hist.quantile(0.50), rec.hist.quantile(0.95), rec.hist.quantile(0.99)
	slices.Sort(joins)
	slices.Sort(answers)
	slices.Sort(connects)
	slices.Sort(firsts)
	if len(firsts) > 0 {
		rep.FirstPacketP50 = pct(firsts, 0.5)
	}
	if len(answers) > 0 {
		rep.AnswerP50 = pct(answers, 0.5)
	}
	if len(connects) > 0 {
		rep.ConnectP50 = pct(connects, 0.5)
	}
	rep.JoinSamples = len(joins)
	if len(joins) > 0 {
		rep.JoinP50, rep.JoinP95, rep.JoinMax = pct(joins, 0.50), pct(joins, 0.95), joins[len(joins)-1]
	}
	for _, p := range pres {
		rep.PresenterPLIs += p.plis.Load()
	}
	if rep.ServerScraped {
		rep.ServerCPUSeconds = end.cpu - start.cpu
		if rep.Delivered > 0 {
			rep.CPUPerPacketMicros = rep.ServerCPUSeconds / float64(rep.Delivered) * 1e6
		}
		rep.RSSBeforeMB, rep.RSSAfterMB = base.rss/1e6, end.rss/1e6
		rep.MBPerViewer = (end.rss - base.rss) / 1e6 / float64(len(viewers))
		rep.ServerForwarded = end.forwarded - start.forwarded
		if rep.ServerForwarded > 0 {
			rep.CPUPerForwardMicros = rep.ServerCPUSeconds / rep.ServerForwarded * 1e6
		}
		rep.ServerDropped = end.dropped - base.dropped
		rep.ServerReceived = end.received - start.received
	}
	log.Info("fan-out done", "loss_percent", rep.LossPercent, "cpu_us_per_packet", rep.CPUPerPacketMicros)
	return rep, nil
}

// seqs returns each presenter's next video and audio stamp sequence numbers.
func seqs(pres []*presenter) (video, audio []uint32) {
	for _, p := range pres {
		video, audio = append(video, p.vseq.Load()), append(audio, p.aseq.Load())
	}
	return video, audio
}

func countKey(vs []*viewer) int {
	n := 0
	for _, v := range vs {
		if v.firstKey.Load() != 0 {
			n++
		}
	}
	return n
}

func pct(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// cleanup DELETEs every session (viewers first) and closes every PeerConnection.
func cleanup(client *http.Client, pres []*presenter, viewers []*viewer) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, v := range viewers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_ = hangUp(ctx, client, v.location, "")
			_ = v.pc.Close()
		})
	}
	wg.Wait()
	for _, p := range pres {
		_ = hangUp(ctx, client, p.location, p.bearer)
		_ = p.pc.Close()
	}
}
