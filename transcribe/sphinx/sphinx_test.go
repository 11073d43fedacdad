//go:build cgo

package sphinx

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"lectern/transcribe"

	"lectern/internal/wer"
)

var (
	sharedOnce sync.Once
	shared     *Engine
	sharedErr  error
)

// engine is shared by the tests: loading a decoder costs about a second.
func engine(t testing.TB) *Engine {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(Config{Decoders: 4}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

const sentence = "the quick brown fox jumps over the lazy dog"

func TestTranscribeFlite(t *testing.T) {
	e := engine(t)
	for _, c := range []struct{ voice, text string }{
		{"slt", sentence},
		{"rms", "please call me tomorrow morning at the office"},
	} {
		pcm := speak(t, c.voice, c.text)
		res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{Language: "en"})
		if err != nil {
			t.Fatal(err)
		}
		w := wer.Rate(c.text, res.Text)
		t.Logf("%s: %q → %q (WER %.2f)", c.voice, c.text, res.Text, w)
		if w > 0.3 {
			t.Errorf("%s: WER %.2f > 0.3: got %q", c.voice, w, res.Text)
		}
		checkTimings(t, res, len(pcm))
	}
}

// checkTimings: words in order, inside the audio, and the segment text is the words.
func checkTimings(t *testing.T, res transcribe.Result, samples int) {
	t.Helper()
	dur := time.Duration(samples) * time.Second / transcribe.SampleRate
	var texts []string
	var last time.Duration
	for _, s := range res.Segments {
		for _, w := range s.Words {
			if w.Start < last || w.End <= w.Start || w.End > dur+20*time.Millisecond {
				t.Errorf("word %q at %v–%v out of order or outside 0–%v", w.Text, w.Start, w.End, dur)
			}
			last = w.End
			texts = append(texts, w.Text)
		}
	}
	if got := strings.Join(texts, " "); got != res.Text {
		t.Errorf("words %q differ from text %q", got, res.Text)
	}
}

func TestStreamPartialsThenFinal(t *testing.T) {
	pcm := speak(t, "slt", sentence)
	batch, err := engine(t).Transcribe(context.Background(), pcm, transcribe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := New(Config{Decoders: 1, LiveFinals: true})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	for _, c := range []struct {
		name string
		e    *Engine
	}{{"whole-utterance final", engine(t)}, {"live final", live}} {
		t.Run(c.name, func(t *testing.T) {
			st, err := c.e.NewStream(transcribe.Options{Language: "en"})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var partials []string
			const chunk = transcribe.SampleRate / 5 // 200 ms, as the pipeline would feed it
			for i := 0; i < len(pcm); i += chunk {
				if err := st.Write(pcm[i:min(i+chunk, len(pcm))]); err != nil {
					t.Fatal(err)
				}
				p, err := st.Partial()
				if err != nil {
					t.Fatal(err)
				}
				if len(partials) == 0 || p != partials[len(partials)-1] {
					partials = append(partials, p)
				}
			}
			final, err := st.Final()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("partials %q; final %q; batch %q", partials, final.Text, batch.Text)
			if len(partials) < 3 {
				t.Errorf("want a growing partial, got %d distinct partials: %q", len(partials), partials)
			}
			if last := partials[len(partials)-1]; len(strings.Fields(last)) < len(strings.Fields(partials[1])) || wer.Rate(sentence, last) > 0.5 {
				t.Errorf("partials did not grow towards the sentence: %q", partials)
			}
			if w := wer.Rate(sentence, final.Text); w > 0.3 {
				t.Errorf("stream final WER %.2f: %q", w, final.Text)
			}
			if c.e == engine(t) && final.Text != batch.Text {
				t.Errorf("whole-utterance final %q differs from Transcribe's %q", final.Text, batch.Text)
			}
			checkTimings(t, final, len(pcm))
			if err := st.Write(pcm[:100]); err == nil {
				t.Error("Write after Final succeeded")
			}
			if err := st.Close(); err != nil {
				t.Errorf("Close after Final: %v", err)
			}
		})
	}
}

func TestNoWordsOnSilenceAndNoise(t *testing.T) {
	e := engine(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3 * transcribe.SampleRate
	silence := make([]float32, n)
	hiss := make([]float32, n)
	noise := make([]float32, n)
	for i := range noise {
		hiss[i] = float32(rng.NormFloat64() * 0.003) // a quiet room through a cheap microphone
		noise[i] = float32(rng.NormFloat64() * 0.05) // loud white noise
	}
	for name, pcm := range map[string][]float32{"silence": silence, "hiss": hiss, "white noise": noise} {
		res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != "" || len(res.Segments) != 0 {
			t.Errorf("%s: got words %q", name, res.Text)
		}
	}
}

func TestConcurrentDecoders(t *testing.T) {
	e := engine(t)
	pcm := speak(t, "slt", sentence)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	texts := make([]string, 4)
	for g := range 4 {
		wg.Go(func() {
			res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{})
			if err != nil {
				errs <- err
				return
			}
			texts[g] = res.Text
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for g, s := range texts {
		if s != texts[0] {
			t.Errorf("goroutine %d got %q, goroutine 0 got %q", g, s, texts[0])
		}
		if w := wer.Rate(sentence, s); w > 0.3 {
			t.Errorf("goroutine %d: WER %.2f: %q", g, w, s)
		}
	}
}

func TestBusyAndCancel(t *testing.T) {
	e, err := New(Config{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	st, err := e.NewStream(transcribe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewStream(transcribe.Options{}); err != ErrBusy {
		t.Errorf("second stream with one decoder: err %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.Transcribe(ctx, make([]float32, 1600), transcribe.Options{}); err != context.DeadlineExceeded {
		t.Errorf("Transcribe with all decoders lent: err %v, want deadline exceeded", err)
	}
	st.Close()
	if _, err := e.Transcribe(context.Background(), make([]float32, 1600), transcribe.Options{}); err != nil {
		t.Errorf("after the stream closed: %v", err)
	}
	if _, err := e.Transcribe(context.Background(), nil, transcribe.Options{Language: "fr"}); err == nil {
		t.Error("French accepted by the en-us model")
	}
	e.Close()
	if _, err := e.Transcribe(context.Background(), nil, transcribe.Options{}); err != ErrClosed {
		t.Errorf("after Close: %v", err)
	}
}

func TestBadModelPath(t *testing.T) {
	_, err := New(Config{ModelDir: "/nonexistent/en-us"})
	if err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("err = %v", err)
	}
}
