package apertium

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lectern/translate"
)

func newTranslator(t testing.TB) *Translator {
	t.Helper()
	tr, err := New(Config{})
	if err != nil {
		t.Fatalf("New: %v (is Debian's apertium with apertium-eng-spa, -eng-cat, -fr-es installed?)", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLanguages(t *testing.T) {
	tr := newTranslator(t)
	pairs, err := tr.Languages(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[translate.Pair]bool{}
	for _, p := range pairs {
		got[p] = true
	}
	for _, want := range []translate.Pair{
		{From: "en", To: "es"}, {From: "es", To: "en"}, {From: "en", To: "ca"}, {From: "ca", To: "en"},
		{From: "es", To: "fr"}, {From: "fr", To: "es"},
		{From: "en", To: "fr", Pivot: "es"}, {From: "fr", To: "en", Pivot: "es"},
	} {
		if !got[want] {
			t.Errorf("missing %+v in %+v", want, pairs)
		}
	}
	for _, p := range pairs {
		if strings.Contains(p.To, "_") || p.From == "eco" || len(p.From) != 2 {
			t.Errorf("variant leaked into pairs: %+v", p)
		}
	}
}

func TestTranslateKnownSentences(t *testing.T) {
	tr := newTranslator(t)
	cases := []struct {
		from, to, in string
		want         []string
	}{
		{"en", "es", "The house is red.", []string{"casa", "roja"}},
		{"es", "en", "El perro es negro.", []string{"dog", "black"}},
		{"en", "ca", "The house is red.", []string{"casa", "vermell"}},
		{"fr", "es", "La maison est rouge.", []string{"casa", "roja"}},
		{"es", "fr", "La casa es roja.", []string{"maison", "rouge"}},
		// Pivot: en → es → fr.
		{"en", "fr", "The house is red.", []string{"maison", "rouge"}},
	}
	for _, c := range cases {
		t.Run(c.from+"-"+c.to, func(t *testing.T) {
			out, err := tr.Translate(ctxT(t), []string{c.in, "", "The end"[:0]}, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 3 || out[1] != "" || out[2] != "" {
				t.Fatalf("got %q, want 3 results with empty lines kept empty", out)
			}
			for _, w := range c.want {
				if !strings.Contains(strings.ToLower(out[0]), w) {
					t.Errorf("%q → %q, want it to contain %q", c.in, out[0], w)
				}
			}
			if !strings.HasSuffix(out[0], ".") {
				t.Errorf("%q → %q lost the final period", c.in, out[0])
			}
		})
	}
}

func TestUnsupportedPair(t *testing.T) {
	tr := newTranslator(t)
	_, err := tr.Translate(ctxT(t), []string{"hola"}, "es", "ja")
	if !errors.Is(err, translate.ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

// Special characters must not desynchronise the stream: the following request still gets its
// own answer, and the characters come back.
func TestSpecialCharacters(t *testing.T) {
	tr := newTranslator(t)
	in := `The house [1] costs $5 ^ @home /a <b> {c} \ ~ end.`
	out, err := tr.Translate(ctxT(t), []string{in, "The dog."}, "en", "es")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"[1]", "$5", "@", "<b>", "{c}", `\`, "casa"} {
		if !strings.Contains(out[0], s) {
			t.Errorf("%q → %q, missing %q", in, out[0], s)
		}
	}
	if !strings.Contains(out[1], "perro") {
		t.Errorf("next line out of sync: %q", out[1])
	}
	// A NUL in a caption would end the request early.
	out, err = tr.Translate(ctxT(t), []string{"The cat\x00 is black.", "The book."}, "en", "es")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out[0], "gato") || !strings.Contains(out[1], "libro") {
		t.Errorf("NUL desynchronised the stream: %q", out)
	}
}

func TestConcurrent(t *testing.T) {
	tr := newTranslator(t)
	words := map[string]string{"dog": "perro", "cat": "gato", "house": "casa", "book": "libro"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				for en, es := range words {
					out, err := tr.Translate(context.Background(), []string{"The " + en + " is here."}, "en", "es")
					if err != nil {
						errs <- err
						return
					}
					if !strings.Contains(out[0], es) {
						errs <- fmt.Errorf("%s → %q, want %q", en, out[0], es)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKilledPipelineRecovers(t *testing.T) {
	tr := newTranslator(t)
	ctx := ctxT(t)
	if _, err := tr.Translate(ctx, []string{"The house."}, "en", "es"); err != nil {
		t.Fatal(err)
	}
	p := tr.procs["eng-spa"]
	pid := p.pid()
	if pid == 0 {
		t.Fatal("no running pipeline")
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	out, err := tr.Translate(ctx, []string{"The house is red."}, "en", "es")
	if err != nil {
		t.Fatalf("after kill: %v", err)
	}
	if !strings.Contains(out[0], "casa") {
		t.Errorf("after kill: %q", out[0])
	}
	if p.pid() == pid || p.pid() == 0 {
		t.Errorf("pipeline not restarted: pid %d → %d", pid, p.pid())
	}
}

func TestTimeoutRestarts(t *testing.T) {
	tr := newTranslator(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Translate(ctx, []string{"The house."}, "en", "es"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	out, err := tr.Translate(ctxT(t), []string{"The cat."}, "en", "es")
	if err != nil || !strings.Contains(out[0], "gato") {
		t.Fatalf("after timeout: %q, %v", out, err)
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	for _, s := range []string{`a[b]c`, `\`, `^$@/<>{}~`, "two  spaces", "é ñ 漢字"} {
		got := unescape(escape(s))
		want := strings.Join(strings.Fields(s), " ")
		if got != want {
			t.Errorf("unescape(escape(%q)) = %q, want %q", s, got, want)
		}
	}
}

func BenchmarkWarmSentence(b *testing.B) {
	tr := newTranslator(b)
	ctx := context.Background()
	if err := tr.Warm(ctx, "en", "es"); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := tr.Translate(ctx, []string{"The teacher explains how the heart pumps blood through the body."}, "en", "es"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportPercentiles(b, lat)
}

// BenchmarkBatch compares 20 lines sent one by one (what Translate does) with the same lines
// joined by newlines in one request.
func BenchmarkBatch(b *testing.B) {
	tr := newTranslator(b)
	ctx := context.Background()
	if err := tr.Warm(ctx, "en", "es"); err != nil {
		b.Fatal(err)
	}
	lines := make([]string, 20)
	for i := range lines {
		lines[i] = fmt.Sprintf("Line %d: the students read the book in the library.", i)
	}
	b.Run("one-by-one", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := tr.Translate(ctx, lines, "en", "es"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("joined", func(b *testing.B) {
		p := tr.procs["eng-spa"]
		for i := 0; i < b.N; i++ {
			out, err := p.translate(ctx, escape(strings.Join(lines, "\n")))
			if err != nil {
				b.Fatal(err)
			}
			if n := strings.Count(out, "\n") + 1; n != len(lines) {
				b.Fatalf("joined batch came back with %d lines, want %d", n, len(lines))
			}
		}
	})
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	b.ReportMetric(float64(sorted[len(sorted)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(sorted[len(sorted)*99/100].Microseconds())/1000, "p99-ms")
}

// Caption text reaches the pipeline: whatever it holds, the request must stay one request
// (no NUL) and end with the blank that lets a final period through.
func FuzzEscape(f *testing.F) {
	f.Add("The house is red.")
	f.Add("a\x00b [c] ^d$ \\")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		e := escape(s)
		if strings.ContainsRune(e, 0) || !strings.HasSuffix(e, " ") {
			t.Fatalf("escape(%q) = %q", s, e)
		}
		_ = unescape(e)
	})
}
