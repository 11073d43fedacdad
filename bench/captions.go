package bench

import (
	"context"
	"fmt"
	"lectern/internal/wer"
	"os"
	"slices"
	"strings"
	"time"
)

// CaptionsConfig drives one caption-latency run against a live server.
type CaptionsConfig struct {
	URL, Room, StreamKey string
	Speech               SpeechConfig  // Dir defaults to a temporary directory
	Settle               time.Duration // how long to wait for the last final after the audio ends (default 5 s)
}

// CaptionsReport is what a viewer saw while the presenter spoke known sentences.
type CaptionsReport struct {
	Sentences      []Span
	Events         []Received
	Finals         []Received
	Partials       int
	WER            float64         // finals against the sentences
	FinalLatency   []time.Duration // per sentence: last final covering it − its voiced end
	PartialLatency []time.Duration // per sentence: first event covering it − its voiced start
	Missing        int             // sentences no final covered
}

// String is a human summary with percentiles.
func (r CaptionsReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sentences %d, finals %d, partials %d, uncaptioned sentences %d\n", len(r.Sentences), len(r.Finals), r.Partials, r.Missing)
	fmt.Fprintf(&b, "WER of finals: %.3f\n", r.WER)
	fmt.Fprintf(&b, "final after end of utterance: p50 %v  p95 %v  max %v\n", pctOf(r.FinalLatency, 0.5), pctOf(r.FinalLatency, 0.95), pctOf(r.FinalLatency, 1))
	fmt.Fprintf(&b, "first caption after start of speech: p50 %v  p95 %v  max %v\n", pctOf(r.PartialLatency, 0.5), pctOf(r.PartialLatency, 0.95), pctOf(r.PartialLatency, 1))
	for _, f := range r.Finals {
		fmt.Fprintf(&b, "  [%6d–%6d ms] %s\n", f.StartMS, f.EndMS, f.Text)
	}
	return b.String()
}

func pctOf(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond)
}

// Summary is one line: accuracy, latency, and whether latency grew from the first quarter of
// the sentences to the last (a pipeline falling behind real time shows as growth).
func (r CaptionsReport) Summary() string {
	q := max(1, len(r.FinalLatency)/4)
	var first, last []time.Duration
	if len(r.FinalLatency) > 0 {
		first, last = r.FinalLatency[:q], r.FinalLatency[len(r.FinalLatency)-q:]
	}
	return fmt.Sprintf("WER %.3f, finals %d/%d sentences, final latency p50 %v p95 %v; first quarter p50 %v, last quarter p50 %v\n",
		r.WER, len(r.Sentences)-r.Missing, len(r.Sentences), pctOf(r.FinalLatency, 0.5), pctOf(r.FinalLatency, 0.95), pctOf(first, 0.5), pctOf(last, 0.5))
}

// Captions speaks the sentences into a webinar over WHIP in real time while an SSE client
// reads its captions, and reports accuracy and latency as a viewer experiences them.
func Captions(ctx context.Context, cfg CaptionsConfig) (CaptionsReport, error) {
	if cfg.Settle == 0 {
		cfg.Settle = 5 * time.Second
	}
	if cfg.Speech.Dir == "" {
		dir, err := os.MkdirTemp("", "lectern-bench-captions-")
		if err != nil {
			return CaptionsReport{}, err
		}
		defer os.RemoveAll(dir)
		cfg.Speech.Dir = dir
	}
	_, ogg, spans, err := MakeSpeech(ctx, cfg.Speech)
	if err != nil {
		return CaptionsReport{}, err
	}
	reader, err := ReadCaptions(ctx, cfg.URL, cfg.Room, "", "")
	if err != nil {
		return CaptionsReport{}, err
	}
	defer reader.Close()
	pub, err := PublishOgg(ctx, cfg.URL, cfg.Room, cfg.StreamKey, ogg)
	if err != nil {
		return CaptionsReport{}, err
	}
	defer pub.Close(context.Background())

	var events []Received
	sent := make(chan error, 1)
	go func() { sent <- pub.Send(ctx) }()
	var settle <-chan time.Time // nil, so never ready, until the audio has been sent
	for {
		select {
		case err := <-sent:
			if err != nil {
				return CaptionsReport{}, err
			}
			sent, settle = nil, time.After(cfg.Settle)
		case ev, ok := <-reader.Events():
			if !ok {
				return CaptionsReport{}, fmt.Errorf("caption stream ended early: %v", reader.err)
			}
			events = append(events, ev)
		case <-settle:
			return Score(spans, pub.Started, events), nil
		case <-ctx.Done():
			return CaptionsReport{}, ctx.Err()
		}
	}
}

// Score matches caption events to the sentences they cover (by audio time) and measures
// accuracy and latency. started is the wall time of audio time 0.
func Score(spans []Span, started time.Time, events []Received) CaptionsReport {
	r := CaptionsReport{Sentences: spans, Events: events}
	var refs, hyps []string
	for _, ev := range events {
		if ev.Final {
			r.Finals = append(r.Finals, ev)
			hyps = append(hyps, ev.Text)
		} else if ev.Text != "" {
			r.Partials++
		}
	}
	for _, s := range spans {
		refs = append(refs, s.Text)
		var first, last time.Time
		for _, ev := range events {
			if ev.Text == "" || !overlaps(ev, s) {
				continue
			}
			if first.IsZero() {
				first = ev.At
			}
			if ev.Final {
				last = ev.At
			}
		}
		if last.IsZero() {
			r.Missing++
			continue
		}
		r.FinalLatency = append(r.FinalLatency, last.Sub(started.Add(s.End)))
		r.PartialLatency = append(r.PartialLatency, first.Sub(started.Add(s.Start)))
	}
	r.WER = wer.Rate(strings.Join(refs, " "), strings.Join(hyps, " "))
	return r
}

func overlaps(ev Received, s Span) bool {
	return ev.StartMS < s.End.Milliseconds() && ev.EndMS > s.Start.Milliseconds()
}
