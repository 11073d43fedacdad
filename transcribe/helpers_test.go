package transcribe

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// spanEngine is a test double that reports how much audio it was given, so segmentation can
// be checked without a recogniser. It "hears" a word per 300 ms.
type spanEngine struct {
	mu    sync.Mutex
	calls int
}

func (e *spanEngine) Name() string   { return "span" }
func (e *spanEngine) Region() string { return "local" }
func (e *spanEngine) Transcribe(ctx context.Context, pcm []float32, _ Options) (Result, error) {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	n := len(pcm) / (SampleRate * 3 / 10)
	return Result{Text: strings.TrimSpace(strings.Repeat("word ", n))}, nil
}

func readWAV(t testing.TB, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, rate, err := DecodeWAV(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if rate != SampleRate {
		pcm = Resample(pcm, rate, SampleRate)
	}
	return pcm
}

// flite speaks text into a WAV in dir with the slt voice and returns its path.
func flite(t testing.TB, dir, name, text string) string {
	t.Helper()
	if _, err := exec.LookPath("flite"); err != nil {
		t.Skip("flite not installed")
	}
	p := filepath.Join(dir, name+".wav")
	if out, err := exec.Command("flite", "-voice", "slt", "-t", text, "-o", p).CombinedOutput(); err != nil {
		t.Fatalf("flite: %v: %s", err, out)
	}
	return p
}

func silence(d time.Duration) []float32 { return make([]float32, int(d.Seconds()*SampleRate)) }

func whiteNoise(d time.Duration, amp float64, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float32, int(d.Seconds()*SampleRate))
	for i := range out {
		out[i] = float32(amp * r.NormFloat64())
	}
	return out
}

// pinkNoise uses Paul Kellet's filter on white noise.
func pinkNoise(d time.Duration, amp float64, seed uint64) []float32 {
	w := whiteNoise(d, 1, seed)
	var b0, b1, b2, b3, b4, b5, b6 float64
	out := make([]float32, len(w))
	for i, x := range w {
		v := float64(x)
		b0 = 0.99886*b0 + v*0.0555179
		b1 = 0.99332*b1 + v*0.0750759
		b2 = 0.96900*b2 + v*0.1538520
		b3 = 0.86650*b3 + v*0.3104856
		b4 = 0.55000*b4 + v*0.5329522
		b5 = -0.7616*b5 - v*0.0168980
		out[i] = float32(amp * (b0 + b1 + b2 + b3 + b4 + b5 + b6 + v*0.5362) / 5)
		b6 = v * 0.115926
	}
	return out
}

func tone(d time.Duration, freq, amp float64, rate int) []float32 {
	out := make([]float32, int(d.Seconds()*float64(rate)))
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func concat(parts ...[]float32) []float32 {
	var out []float32
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func mix(a, b []float32) []float32 {
	out := append([]float32(nil), a...)
	for i := range out {
		if i < len(b) {
			out[i] += b[i]
		}
	}
	return out
}

// segment runs pcm through a pipeline and pool with the spanEngine and returns the finals.
func segment(t testing.TB, cfg Config, pcm []float32) []Event {
	t.Helper()
	cfg.PartialEvery = 0
	cfg = cfg.withDefaults()
	pool, err := NewPool(&spanEngine{}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var mu sync.Mutex
	var events []Event
	p := newPipeline(cfg, pool, "s", &mu, func(ev Event) { events = append(events, ev) })
	for len(pcm) > 0 {
		n := min(len(pcm), 1000)
		p.feed(pcm[:n], time.Now())
		pcm = pcm[n:]
	}
	p.flush()
	p.pending.Wait()
	mu.Lock()
	defer mu.Unlock()
	return append([]Event(nil), events...)
}
