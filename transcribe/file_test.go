package transcribe

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TranscribeFile gives the same utterances whatever the container, sample format and rate.
func TestTranscribeFileFormats(t *testing.T) {
	path, pcm := sentencePair(t)
	want := segment(t, DefaultConfig(), pcm)
	dir := t.TempDir()

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := map[string]string{
		"wav16 16k":          path,
		"wav24 stereo 44.1k": write("a.wav", encodeWAV(Resample(pcm, SampleRate, 44100), 44100, 2, 24, false, false)),
		"float32 48k":        write("b.wav", encodeWAV(Resample(pcm, SampleRate, 48000), 48000, 1, 32, true, false)),
		"pcm16 8k":           write("c.wav", encodeWAV(Resample(pcm, SampleRate, 8000), 8000, 1, 16, false, false)),
		"pcm8 16k":           write("e.wav", encodeWAV(pcm, SampleRate, 1, 8, false, false)),
	}
	if _, err := exec.LookPath("opusenc"); err == nil {
		opus := filepath.Join(dir, "d.opus")
		if out, err := exec.Command("opusenc", "--quiet", path, opus).CombinedOutput(); err != nil {
			t.Fatalf("opusenc: %v: %s", err, out)
		}
		files["ogg opus"] = opus
	}
	for name, f := range files {
		t.Run(name, func(t *testing.T) {
			var lastDone, lastTotal time.Duration
			evs, err := TranscribeFile(context.Background(), f, &spanEngine{}, DefaultConfig(), func(done, total time.Duration) {
				if done < lastDone {
					t.Errorf("progress went back: %v after %v", done, lastDone)
				}
				lastDone, lastTotal = done, total
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(want) {
				t.Fatalf("%d finals, want %d: %+v", len(evs), len(want), evs)
			}
			for i, e := range evs {
				if !e.Final || e.Text == "" || e.ID != utteranceID("file", i+1) {
					t.Errorf("event %d: %+v", i, e)
				}
				// 8-bit quantisation noise (≈ -50 dBFS) hides the softest onsets and 8 kHz
				// audio has half the noise (so an earlier onset); the rest agrees closely.
				tol := map[string]time.Duration{"pcm8 16k": 300 * time.Millisecond, "pcm16 8k": 150 * time.Millisecond}[name]
				if tol == 0 {
					tol = 100 * time.Millisecond
				}
				if d := e.Start - want[i].Start; d < -tol || d > tol {
					t.Errorf("utterance %d starts at %v, want %v", i, e.Start, want[i].Start)
				}
			}
			if lastTotal > 0 && lastDone != lastTotal {
				t.Errorf("progress ended at %v of %v", lastDone, lastTotal)
			}
		})
	}
}

func TestTranscribeFileErrors(t *testing.T) {
	dir := t.TempDir()
	mp3 := filepath.Join(dir, "x.mp3")
	os.WriteFile(mp3, []byte("ID3\x04\x00 not really an mp3"), 0o644)
	_, err := TranscribeFile(context.Background(), mp3, &spanEngine{}, DefaultConfig(), nil)
	if _, lookErr := exec.LookPath("ffmpeg"); lookErr != nil && !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("unknown format without ffmpeg: %v, want ErrNoFFmpeg", err)
	}
	if err == nil {
		t.Error("garbage transcribed without error")
	}
	if _, err := TranscribeFile(context.Background(), filepath.Join(dir, "missing.wav"), &spanEngine{}, DefaultConfig(), nil); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("RIFF\x00\x00\x00\x00WAVEjunk"), 0o644)
	if _, err := TranscribeFile(context.Background(), bad, &spanEngine{}, DefaultConfig(), nil); err == nil {
		t.Error("broken WAV: no error")
	}
}

func TestTranscribeFileCancel(t *testing.T) {
	path, _ := sentencePair(t)
	ctx, cancel := context.WithCancel(context.Background())
	eng := &slowEngine{delay: time.Hour}
	eng.onCall = cancel // the first engine call cancels the whole job
	_, err := TranscribeFile(ctx, path, eng, DefaultConfig(), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
