package api

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asticode/go-astisub"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/bench"
	"lectern/captions"
	"lectern/internal/wer"
	"lectern/live"
	"lectern/models"
	"lectern/transcribe"
	"lectern/transcribe/sphinx"
)

// Per-speaker captions (issue 10, item 3) through the whole server: real pion publishers over
// WHIP with their own credentials, real PocketSphinx, the real SQLite store, an SSE reader.

// stageSpeaker is one panelist speaking known sentences in a flite voice.
type stageSpeaker struct {
	name, voice string
	sentences   []string
}

// stageRun is what happened when the speakers spoke at once.
type stageRun struct {
	s      *authServer
	w      models.Webinar
	host   models.User
	events []bench.Received
	spoken time.Duration // end of the last sentence on the webinar's timeline (all started at once)
	// per speaker (by name): the viewer's report of their captions, scored against their own
	// sentences only
	reports map[string]bench.CaptionsReport
}

// speakAtOnce starts a server with PocketSphinx and the default pool (cores workers), puts
// each speaker on the webinar's stage as a panelist publishing with their own API token, has
// them all speak at the same moment in real time, and reads the captions over SSE until the
// audio is over and no caption came for settle (a loaded machine finishes late, and a
// transcriber that fell behind fills its gap afterwards).
func speakAtOnce(tb testing.TB, speakers []stageSpeaker, settle time.Duration) stageRun {
	tb.Helper()
	eng, err := sphinx.New(sphinx.Config{})
	if err != nil {
		tb.Skipf("PocketSphinx unavailable: %v", err)
	}
	tc := transcribe.DefaultConfig()
	pool, err := transcribe.NewPool(eng, tc, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	var lm *live.Manager
	s := newAuthServer(tb, func(d *Deps) {
		lm = live.New(live.Config{Store: d.Store, Broadcast: d.Broadcast, Pool: pool, Transcribe: tc,
			Metrics: captions.NewMetrics(prometheus.NewRegistry()), Logger: quietLogger()})
		d.Live = lm
	})
	tb.Cleanup(func() { lm.Close(); pool.Close(); eng.Close() })
	<-pool.Warmed()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	host := s.user(tb, "stagehost@school.example", false)
	w := s.webinar(tb, host, models.VisibilityPublic, "")
	type voice struct {
		sp    stageSpeaker
		spans []bench.Span
		pub   *bench.AudioPublisher
	}
	var voices []*voice
	for i, sp := range speakers {
		u := s.user(tb, fmt.Sprintf("panelist%d@school.example", i), false)
		if err := s.store.SetDisplayName(ctx, u.ID, sp.name); err != nil {
			tb.Fatal(err)
		}
		if err := s.store.SetMember(ctx, w.ID, u.ID, models.RolePanelist); err != nil {
			tb.Fatal(err)
		}
		_, token, err := s.store.CreateAPIToken(ctx, u.ID, "studio")
		if err != nil {
			tb.Fatal(err)
		}
		_, ogg, spans, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: sp.sentences, Voice: sp.voice, Dir: tb.TempDir()})
		if err != nil {
			tb.Skipf("no test speech: %v", err)
		}
		pub, err := bench.PublishOgg(ctx, s.URL, w.ID, token, ogg)
		if err != nil {
			tb.Fatalf("%s publishes: %v", sp.name, err)
		}
		tb.Cleanup(func() { pub.Close(context.Background()) })
		voices = append(voices, &voice{sp: sp, spans: spans, pub: pub})
	}
	reader, err := bench.ReadCaptions(ctx, s.URL, w.ID, "", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer reader.Close()

	var wg sync.WaitGroup
	errs := make(chan error, len(voices))
	for _, v := range voices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- v.pub.Send(ctx)
		}()
	}
	sent := make(chan struct{})
	go func() { wg.Wait(); close(sent) }()
	var events []bench.Received
	var settled <-chan time.Time // nil, so never ready, until every voice is sent
read:
	for {
		select {
		case <-sent:
			sent, settled = nil, time.After(settle)
		case ev, ok := <-reader.Events():
			if !ok {
				tb.Fatal("the caption stream ended early")
			}
			events = append(events, ev)
			if sent == nil { // still arriving after the audio ended: wait for quiet
				settled = time.After(settle)
			}
		case <-settled:
			break read
		case <-ctx.Done():
			tb.Fatal(ctx.Err())
		}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	// A pool that fell behind skipped utterances live; their finals reach the transcript when
	// it catches up.
	for pool.Status().Gaps > 0 {
		select {
		case <-ctx.Done():
			tb.Fatalf("caption gaps not filled: %+v", pool.Status())
		case <-time.After(50 * time.Millisecond):
		}
	}
	run := stageRun{s: s, w: w, host: host, events: events, reports: map[string]bench.CaptionsReport{}}
	for _, v := range voices {
		var mine []bench.Received
		for _, ev := range events {
			if ev.Speaker == v.sp.name {
				mine = append(mine, ev)
			}
		}
		run.reports[v.sp.name] = bench.Score(v.spans, v.pub.Started, mine)
		run.spoken = max(run.spoken, v.spans[len(v.spans)-1].End)
	}
	return run
}

var panel = []stageSpeaker{
	{"Ada Lovelace", "slt", []string{"Good morning everyone and welcome to the class.", "Please open your books at page twenty."}},
	{"Bob Stone", "rms", []string{"Today we will talk about the weather and the seasons.", "Write down three questions for the next lesson."}},
}

// Two panelists speak different sentences at the same time: each final carries the name of
// whoever said it, each speaker's words are recognised from their own audio (WER ≤ 0.3 per
// speaker, which a caption mixing both voices or naming the wrong one would not reach), the
// store holds the same names, and the SRT and WebVTT downloads show both.
func TestStageCaptionsPerSpeaker(t *testing.T) {
	run := speakAtOnce(t, panel, 6*time.Second)
	names := map[string]bool{}
	for _, sp := range panel {
		names[sp.name] = true
	}
	// One utterance, one speaker: a partial and its final never change names, and every
	// caption is named.
	speakerOf := map[string]string{}
	for _, ev := range run.events {
		if !names[ev.Speaker] {
			t.Errorf("caption %s %q carries speaker %q, want one of the panel", ev.ID, ev.Text, ev.Speaker)
		}
		if was, ok := speakerOf[ev.ID]; ok && was != ev.Speaker {
			t.Errorf("caption %s went from %q to %q", ev.ID, was, ev.Speaker)
		}
		speakerOf[ev.ID] = ev.Speaker
	}
	// Each speaker reached the viewers live under their name: captions, or at least the
	// notice of an utterance skipped while the pool was behind.
	for _, sp := range panel {
		if !slices.Contains(slices.Collect(maps.Values(speakerOf)), sp.name) {
			t.Errorf("no live caption event names %s", sp.name)
		}
	}
	stored, err := run.s.store.Finals(context.Background(), run.w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(stored, func(a, b captions.Caption) int { return cmp.Compare(a.StartMS, b.StartMS) })
	// Each speaker's words are recognised from their own audio. Scored on the transcript: on a
	// busy machine the pool skips utterances live (viewers see the gap) and fills them later.
	for _, sp := range panel {
		rep := run.reports[sp.name]
		t.Logf("%s (%s), as viewers saw it live:\n%s", sp.name, sp.voice, rep)
		var said []string
		for _, c := range stored {
			if c.Speaker == sp.name {
				said = append(said, c.Text)
			}
		}
		if w := wer.Rate(strings.Join(sp.sentences, " "), strings.Join(said, " ")); w > 0.3 {
			t.Errorf("%s: WER %.2f of their own stored finals > 0.3: %q", sp.name, w, said)
		}
	}
	// Their speech overlapped: both were captioned while the other spoke, so there were two
	// caption lines at once, not one.
	if !overlapping(stored) {
		t.Error("no two speakers' captions overlap in time although they spoke at once")
	}
	// What viewers saw live is what was stored, under the same names.
	byID := map[string]captions.Caption{}
	for _, c := range stored {
		byID[c.ID] = c
	}
	for _, ev := range run.events {
		if !ev.Final {
			continue
		}
		if c, ok := byID[ev.ID]; !ok || c.Speaker != ev.Speaker {
			t.Errorf("final %s %q seen live as said by %q, stored %+v", ev.ID, ev.Text, ev.Speaker, c)
		}
	}

	hc := creds{session: run.s.session(t, run.host)}
	for format, label := range map[string]func(string) string{
		"srt": func(n string) string { return n + ":" },
		"vtt": func(n string) string { return "<v " + n + ">" },
	} {
		r := run.s.call(t, hc, "GET", "/api/webinars/"+run.w.ID+"/transcript."+format, "", "")
		if r.status != 200 {
			t.Fatalf("%s export: %d %s", format, r.status, r.body)
		}
		for _, sp := range panel {
			if !strings.Contains(r.body, label(sp.name)) {
				t.Errorf("%s export does not name %s (%q):\n%s", format, sp.name, label(sp.name), r.body)
			}
		}
		// Simultaneous speech keeps its times: no cue starts after the speech ended.
		subs, err := astisub.ReadFromSRT(strings.NewReader(r.body))
		if format == "vtt" {
			subs, err = astisub.ReadFromWebVTT(strings.NewReader(r.body))
		}
		if err != nil {
			t.Fatalf("%s export does not parse: %v", format, err)
		}
		for _, it := range subs.Items {
			if it.StartAt > run.spoken+time.Second {
				t.Errorf("%s cue at %v, after the speech ended (%v): the overlap shifted the timeline", format, it.StartAt, run.spoken)
			}
		}
	}
}

// overlapping reports whether two finals of different speakers overlap on the timeline.
func overlapping(finals []captions.Caption) bool {
	for i, a := range finals {
		for _, b := range finals[i+1:] {
			if a.Speaker != b.Speaker && a.StartMS < b.EndMS && b.StartMS < a.EndMS {
				return true
			}
		}
	}
	return false
}

// BenchmarkStageCaptions3Speakers measures, as a viewer sees it, each of three speakers'
// final latency (end of their sentence → its final at the SSE reader) while all three speak at
// once (four sentences each), with PocketSphinx and the default pool on this machine. It logs
// numbers; it asserts nothing about time. Run with -benchtime 1x.
func BenchmarkStageCaptions3Speakers(b *testing.B) {
	more := []string{"The sun is hot in the summer and the winter is cold.", "Good morning everyone and welcome to the class.",
		"Today we will talk about the weather and the seasons.", "Write down three questions for the next lesson."}
	three := []stageSpeaker{
		{panel[0].name, panel[0].voice, append(slices.Clone(panel[0].sentences), more[0], more[3])},
		{panel[1].name, panel[1].voice, append(slices.Clone(panel[1].sentences), more[0], more[1])},
		{"Cleo Park", "kal16", more},
	}
	for b.Loop() {
		run := speakAtOnce(b, three, 8*time.Second)
		var all []time.Duration
		for _, sp := range three {
			rep := run.reports[sp.name]
			all = append(all, rep.FinalLatency...)
			b.Logf("%-12s (%s) WER %.3f, %d/%d sentences, final latency p50 %v p99 %v", sp.name, sp.voice, rep.WER,
				len(sp.sentences)-rep.Missing, len(sp.sentences), pct(rep.FinalLatency, 0.5), pct(rep.FinalLatency, 0.99))
		}
		b.Logf("all speakers: %d finals, final latency p50 %v p99 %v", len(all), pct(all, 0.5), pct(all, 0.99))
	}
}

func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond)
}
