//go:build cgo

package transcribe_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/rtp"

	"lectern/transcribe"
	"lectern/transcribe/sphinx"

	"lectern/internal/wer"
)

// These tests run the pipeline with the real embedded engine (PocketSphinx).

func newSphinx(t testing.TB) *sphinx.Engine { return newSphinxWith(t, sphinx.Config{}) }

func newSphinxWith(t testing.TB, cfg sphinx.Config) *sphinx.Engine {
	t.Helper()
	eng, err := sphinx.New(cfg)
	if err != nil {
		t.Skipf("PocketSphinx unavailable: %v", err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// speechPair makes a WAV of two flite sentences with pauses around them.
func speechPair(t testing.TB, a, b string) string {
	t.Helper()
	for _, tool := range []string{"flite", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	for i, text := range []string{a, b} {
		out := filepath.Join(dir, []string{"a.wav", "b.wav"}[i])
		if b, err := exec.Command("flite", "-voice", "slt", "-t", text, "-o", out).CombinedOutput(); err != nil {
			t.Fatalf("flite: %v: %s", err, b)
		}
	}
	pair := filepath.Join(dir, "pair.wav")
	// Silence of 1 s before, 1.5 s between and 1 s after the sentences. -R: the dither sox
	// adds to generated silence is the same every run, so the words decoded are too.
	sil := func(name string, secs string) string {
		p := filepath.Join(dir, name)
		if b, err := exec.Command("sox", "-R", "-n", "-r", "16000", "-c", "1", "-b", "16", p, "trim", "0", secs).CombinedOutput(); err != nil {
			t.Fatalf("sox: %v: %s", err, b)
		}
		return p
	}
	args := []string{sil("s1.wav", "1"), filepath.Join(dir, "a.wav"), sil("s2.wav", "1.5"), filepath.Join(dir, "b.wav"), sil("s3.wav", "1"), "-r", "16000", "-b", "16", pair}
	if b, err := exec.Command("sox", args...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, b)
	}
	return pair
}

func wavDuration(t testing.TB, path string) time.Duration {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := transcribe.DecodeWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(len(pcm)) * time.Second / time.Duration(rate)
}

const (
	sentenceA = "The quick brown fox jumps over the lazy dog."
	sentenceB = "Please call Stella and ask her to bring these things with her from the store."
)

func TestSphinxTranscribeFile(t *testing.T) {
	eng := newSphinx(t)
	path := speechPair(t, sentenceA, sentenceB)
	evs, err := transcribe.TranscribeFile(context.Background(), path, eng, transcribe.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var hyp []string
	for _, e := range evs {
		t.Logf("%s %v–%v %q", e.ID, e.Start, e.End, e.Text)
		hyp = append(hyp, e.Text)
	}
	if len(evs) != 2 {
		t.Errorf("%d finals, want 2", len(evs))
	}
	if w := wer.Rate(sentenceA+" "+sentenceB, strings.Join(hyp, " ")); w > 0.3 {
		t.Errorf("WER %.2f > 0.3", w)
	}
	for _, e := range evs {
		if e.Text != "" && !strings.HasSuffix(e.Text, ".") {
			t.Errorf("final not punctuated: %q", e.Text)
		}
	}
}

// Opus over RTP, with loss and reordering, into Live: partials, then finals with the right
// words and timeline.
func TestSphinxLiveOpus(t *testing.T) {
	eng := newSphinx(t)
	if _, err := exec.LookPath("opusenc"); err != nil {
		t.Skip("opusenc not installed")
	}
	path := speechPair(t, sentenceA, sentenceB)
	total := wavDuration(t, path)
	ogg := path + ".opus"
	if b, err := exec.Command("opusenc", "--quiet", "--framesize", "20", path, ogg).CombinedOutput(); err != nil {
		t.Fatalf("opusenc: %v: %s", err, b)
	}
	f, err := os.Open(ogg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	var pkts []*rtp.Packet
	seq, ts := uint16(65000), uint32(123456)
	for {
		p, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(p, []byte("OpusTags")) {
			continue
		}
		pkts = append(pkts, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: p})
		seq++
		ts += 960
	}
	// Lose every 40th packet and swap every 17th pair.
	var sent []*rtp.Packet
	for i, p := range pkts {
		if i%40 == 39 {
			continue
		}
		sent = append(sent, p)
	}
	for i := 16; i+1 < len(sent); i += 17 {
		sent[i], sent[i+1] = sent[i+1], sent[i]
	}

	cfg := transcribe.DefaultConfig()
	cfg.TapQueue = 4096
	pool, err := transcribe.NewPool(eng, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var mu sync.Mutex
	var events []transcribe.Event
	live := transcribe.NewLive(pool, cfg, func(e transcribe.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	// Paced at 4× real time so partials have time to appear.
	for _, p := range sent {
		live.WriteAudio("talk", p)
		time.Sleep(5 * time.Millisecond)
	}
	live.Close()
	// On a busy machine the pool may skip an utterance live and fill it when idle: the
	// transcript counts its late final.
	for deadline := time.Now().Add(time.Minute); pool.Status().Gaps > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gaps not filled: %+v", pool.Status())
		}
	}

	mu.Lock()
	defer mu.Unlock()
	var finals []transcribe.Event // in the order said: a fill comes after the finals that followed its gap
	partials := 0
	for _, e := range events {
		t.Logf("final=%v gap=%v fill=%v %s %v–%v %q", e.Final, e.Gap, e.Fill, e.ID, e.Start, e.End, e.Text)
		if e.Final && !e.Gap {
			i, _ := slices.BinarySearchFunc(finals, e.Start, func(f transcribe.Event, at time.Duration) int { return cmp.Compare(f.Start, at) })
			finals = slices.Insert(finals, i, e)
			if e.Start < 500*time.Millisecond || e.End > total-500*time.Millisecond {
				t.Errorf("final %s outside the speech: %v–%v", e.ID, e.Start, e.End)
			}
		} else if e.Text != "" {
			partials++
		}
	}
	var said []string
	for _, f := range finals {
		said = append(said, f.Text)
	}
	if w := wer.Rate(sentenceA+" "+sentenceB, strings.Join(said, " ")); w > 0.3 {
		t.Errorf("WER %.2f > 0.3: %q", w, said)
	}
	if partials == 0 {
		t.Error("no partials")
	}
}

// TestSphinxCorpus scores TranscribeFile on the 26 real clips of ../shared/speech (about a
// minute); LECTERN_CORPUS_HYPS=FILE keeps the hypotheses for wer.py:
//
//	go test -run TestSphinxCorpus -v ./transcribe/
func TestSphinxCorpus(t *testing.T) {
	dir := os.Getenv("LECTERN_SPEECH")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "speech") // the project's shared/ beside the repo
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real speech clips: %v", err)
		}
		t.Skipf("real speech clips not found (set LECTERN_SPEECH): %v", err)
	}
	eng := newSphinx(t)
	var errs, refs int
	var hyps strings.Builder
	for i, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
		cols := strings.Split(line, "\t")
		if i == 0 || len(cols) < 5 {
			continue
		}
		evs, err := transcribe.TranscribeFile(context.Background(), filepath.Join(dir, cols[1]), eng, transcribe.DefaultConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, e := range evs {
			parts = append(parts, e.Text)
		}
		hyp := strings.Join(parts, " ")
		r := wer.Words(cols[4])
		e := wer.Errors(r, wer.Words(hyp))
		errs += e
		refs += len(r)
		hyps.WriteString(cols[0] + "\t" + hyp + "\n")
		t.Logf("%-32s WER %.3f  %q", cols[0], float64(e)/float64(len(r)), hyp)
	}
	if out := os.Getenv("LECTERN_CORPUS_HYPS"); out != "" {
		os.WriteFile(out, []byte(hyps.String()), 0o644)
	}
	rate := float64(errs) / float64(refs)
	t.Logf("corpus WER: %.3f (%d errors / %d words)", rate, errs, refs)
	// PocketSphinx alone scores 0.400 on these clips: the pipeline must cost no accuracy.
	if rate > 0.400 {
		t.Errorf("corpus WER %.3f is worse than PocketSphinx alone (0.400)", rate)
	}
}

// BenchmarkSphinxLiveLatency plays Opus RTP of two sentences into Live in real time with
// PocketSphinx and reports the lag of finals after the end of their audio and of the first
// partial after the first sound of each utterance, with the engine's default finals (the
// utterance decoded again: better words) and with LiveFinals (the stream's own result):
//
//	go test -run XXX -bench SphinxLiveLatency -benchtime 2x ./transcribe/
func BenchmarkSphinxLiveLatency(b *testing.B) {
	for _, early := range []bool{true, false} {
		cfg := transcribe.DefaultConfig()
		cfg.EarlyFinal = early
		b.Run(fmt.Sprintf("redecode/early=%v", early), func(b *testing.B) { benchLiveLatency(b, newSphinx(b), cfg) })
		b.Run(fmt.Sprintf("livefinals/early=%v", early), func(b *testing.B) {
			benchLiveLatency(b, newSphinxWith(b, sphinx.Config{LiveFinals: true}), cfg)
		})
	}
}

func benchLiveLatency(b *testing.B, eng *sphinx.Engine, cfg transcribe.Config) {
	if _, err := exec.LookPath("opusenc"); err != nil {
		b.Skip("opusenc not installed")
	}
	path := speechPair(b, sentenceA, sentenceB)
	ogg := path + ".opus"
	if out, err := exec.Command("opusenc", "--quiet", "--framesize", "20", path, ogg).CombinedOutput(); err != nil {
		b.Fatalf("opusenc: %v: %s", err, out)
	}
	f, _ := os.Open(ogg)
	defer f.Close()
	r, _, err := oggreader.NewWith(bufio.NewReader(f))
	if err != nil {
		b.Fatal(err)
	}
	var payloads [][]byte
	for {
		p, _, err := r.ParseNextPacket()
		if err != nil {
			break
		}
		if !bytes.HasPrefix(p, []byte("OpusTags")) {
			payloads = append(payloads, p)
		}
	}
	var finalLag, firstPartial []time.Duration
	for b.Loop() {
		pool, err := transcribe.NewPool(eng, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[string]bool{}
		var t0 time.Time
		live := transcribe.NewLive(pool, cfg, func(e transcribe.Event) {
			mu.Lock()
			defer mu.Unlock()
			if e.Final {
				finalLag = append(finalLag, e.Lag)
			} else if !seen[e.ID] && e.Text != "" {
				seen[e.ID] = true
				// Start is PreRoll before the onset the VAD confirmed.
				firstPartial = append(firstPartial, time.Since(t0)-(e.Start+cfg.PreRoll))
			}
		})
		t0 = time.Now()
		for i, p := range payloads {
			time.Sleep(time.Until(t0.Add(time.Duration(i) * 20 * time.Millisecond)))
			live.WriteAudio("bench", &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: p})
		}
		live.Close()
		pool.Close()
	}
	median := func(d []time.Duration) float64 {
		if len(d) == 0 {
			return 0
		}
		slices.Sort(d)
		return float64(d[len(d)/2].Milliseconds())
	}
	b.ReportMetric(median(finalLag), "final-lag-p50-ms")
	b.ReportMetric(median(firstPartial), "first-partial-p50-ms")
}

// A warmed pool has one PocketSphinx decoder per worker loaded before any utterance: the
// first final of a fresh server does not load a model.
func TestSphinxPoolWarmsDecoders(t *testing.T) {
	eng := newSphinxWith(t, sphinx.Config{Decoders: 2})
	if n := eng.Loaded(); n != 0 {
		t.Fatalf("%d decoders loaded by New, want none (loading is the pool's background work)", n)
	}
	cfg := transcribe.DefaultConfig()
	cfg.Workers = 2
	pool, err := transcribe.NewPool(eng, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	<-pool.Warmed()
	if st := pool.Status(); !st.Ready {
		t.Fatalf("not ready: %+v", st)
	}
	if n := eng.Loaded(); n != 2 {
		t.Errorf("%d decoders loaded after warming, want 2 (one per worker)", n)
	}
}
