//go:build cgo

package sphinx

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lectern/transcribe"

	"lectern/internal/wer"
)

// corpusDir holds the real-speech clips, manifest.tsv and wer.py (see its README.md).
const corpusDir = "../../../shared/speech"

// TestCorpusWER measures this engine alone, one Transcribe call per whole clip, on the real
// clips (scored by the corpus's own wer.py) and on flite voices, with the real-time factor.
// It takes about a minute, so it runs only with LECTERN_CORPUS=1:
//
//	LECTERN_CORPUS=1 go test -run TestCorpusWER -v ./transcribe/sphinx/
func TestCorpusWER(t *testing.T) {
	if os.Getenv("LECTERN_CORPUS") == "" {
		t.Skip("set LECTERN_CORPUS=1 to measure WER on ../shared/speech")
	}
	e, err := New(Config{Decoders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	live, err := New(Config{Decoders: 1, LiveFinals: true})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	f, err := os.Open(filepath.Join(corpusDir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hyps strings.Builder
	var audio, cpu, streamCPU time.Duration
	var errs, words, streamErrs int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 5 || col[0] == "id" {
			continue
		}
		pcm := readWAV(t, filepath.Join(corpusDir, col[1]))
		start := time.Now()
		res, err := e.Transcribe(context.Background(), pcm, transcribe.Options{Language: "en"})
		if err != nil {
			t.Fatalf("%s: %v", col[0], err)
		}
		cpu += time.Since(start)
		audio += time.Duration(len(pcm)) * time.Second / transcribe.SampleRate
		ref := wer.Words(col[4])
		errs += wer.Errors(ref, wer.Words(res.Text))
		start = time.Now()
		streamErrs += wer.Errors(ref, wer.Words(streamFinal(t, live, pcm)))
		streamCPU += time.Since(start)
		words += len(ref)
		fmt.Fprintf(&hyps, "%s\t%s\n", col[0], res.Text)
		t.Logf("%-24s WER %.2f  %q", col[0], wer.Rate(col[4], res.Text), res.Text)
	}
	t.Logf("real clips: %d errors / %d words = WER %.3f (own scorer); audio %v, decode %v, RTF %.3f",
		errs, words, float64(errs)/float64(words), audio, cpu.Round(time.Millisecond), cpu.Seconds()/audio.Seconds())
	t.Logf("real clips through a LiveFinals Stream fed 200 ms chunks with a Partial each: WER %.3f, RTF %.3f",
		float64(streamErrs)/float64(words), streamCPU.Seconds()/audio.Seconds())

	out := filepath.Join(t.TempDir(), "hyps.tsv")
	if p := os.Getenv("LECTERN_HYPS"); p != "" {
		out = p
	}
	if err := os.WriteFile(out, []byte(hyps.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("python3", filepath.Join(corpusDir, "wer.py"), filepath.Join(corpusDir, "manifest.tsv"), out).CombinedOutput(); err != nil {
		t.Errorf("wer.py: %v: %s", err, b)
	} else {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		t.Logf("wer.py: %s", lines[len(lines)-1])
	}

	texts := []string{
		"the quick brown fox jumps over the lazy dog",
		"please call stella and ask her to bring these things with her from the store",
		"the birch canoe slid on the smooth planks",
		"we will meet in the library after the lecture on thursday afternoon",
		"glue the sheet to the dark blue background",
	}
	for _, voice := range []string{"slt", "rms", "awb", "kal16"} {
		var errs, words int
		for _, text := range texts {
			res, err := e.Transcribe(context.Background(), speak(t, voice, text), transcribe.Options{})
			if err != nil {
				t.Fatal(err)
			}
			errs += wer.Errors(wer.Words(text), wer.Words(res.Text))
			words += len(wer.Words(text))
		}
		t.Logf("flite %-6s WER %.3f (%d/%d)", voice, float64(errs)/float64(words), errs, words)
	}
}

// streamFinal decodes pcm as the live path would with a Stream: 200 ms writes, a partial
// after each, then Final.
func streamFinal(t *testing.T, e *Engine, pcm []float32) string {
	st, err := e.NewStream(transcribe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const chunk = transcribe.SampleRate / 5
	for i := 0; i < len(pcm); i += chunk {
		if err := st.Write(pcm[i:min(i+chunk, len(pcm))]); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Partial(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Final()
	if err != nil {
		t.Fatal(err)
	}
	return res.Text
}

// BenchmarkTranscribe reports the real-time factor of one decoder on a flite sentence.
func BenchmarkTranscribe(b *testing.B) {
	e, err := New(Config{Decoders: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	pcm := speak(b, "slt", "please call stella and ask her to bring these things with her from the store")
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Transcribe(context.Background(), pcm, transcribe.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	audio := float64(len(pcm)) / transcribe.SampleRate
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/audio, "rtf")
}

// BenchmarkStream reports the real-time factor of live decoding: 200 ms writes with a
// Partial after each, then Final (LiveFinals, so no second decode).
func BenchmarkStream(b *testing.B) {
	e, err := New(Config{Decoders: 1, LiveFinals: true})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	pcm := speak(b, "slt", "please call stella and ask her to bring these things with her from the store")
	b.ResetTimer()
	for b.Loop() {
		st, err := e.NewStream(transcribe.Options{})
		if err != nil {
			b.Fatal(err)
		}
		const chunk = transcribe.SampleRate / 5
		for i := 0; i < len(pcm); i += chunk {
			if err := st.Write(pcm[i:min(i+chunk, len(pcm))]); err != nil {
				b.Fatal(err)
			}
			if _, err := st.Partial(); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.Final(); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
	audio := float64(len(pcm)) / transcribe.SampleRate
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)/audio, "rtf")
}
