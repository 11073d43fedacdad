package transcribe

import (
	"path/filepath"
	"testing"
	"time"
)

// onsetFrames counts frames the VAD would let start speech.
func onsetFrames(cfg VADConfig, pcm []float32) (onsets, frames int) {
	v := newVAD(cfg)
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		if v.classify(pcm[i : i+FrameSamples]).Onset {
			onsets++
		}
		frames++
	}
	return onsets, frames
}

func TestVADGenerated(t *testing.T) {
	cfg := DefaultVADConfig()
	tests := []struct {
		name      string
		pcm       []float32
		maxOnsets int
		minOnsets int
	}{
		{"digital silence", silence(5 * time.Second), 0, 0},
		{"white noise loud", whiteNoise(10*time.Second, 0.1, 1), 0, 0},
		{"white noise quiet", whiteNoise(10*time.Second, 0.003, 2), 0, 0},
		{"pink noise", pinkNoise(10*time.Second, 0.2, 3), 0, 0},
		{"noise after silence", concat(silence(2*time.Second), pinkNoise(8*time.Second, 0.05, 4)), 10, 0},
		// A tone is loud and structured, so it can start "speech"; the floor then absorbs it.
		{"tone after silence", concat(whiteNoise(time.Second, 0.001, 5), tone(8*time.Second, 1000, 0.3, SampleRate)), 8 * 50, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			on, n := onsetFrames(cfg, tt.pcm)
			if on > tt.maxOnsets || on < tt.minOnsets {
				t.Errorf("%d onset frames of %d, want %d..%d", on, n, tt.minOnsets, tt.maxOnsets)
			}
		})
	}
}

func TestVADToneAbsorbed(t *testing.T) {
	cfg := DefaultVADConfig()
	v := newVAD(cfg)
	pcm := concat(whiteNoise(time.Second, 0.001, 5), tone(10*time.Second, 440, 0.3, SampleRate))
	var last frameInfo
	first := -1
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		last = v.classify(pcm[i : i+FrameSamples])
		if last.Onset && first < 0 {
			first = i / FrameSamples
		}
	}
	if first < 50 || first > 52 {
		t.Errorf("tone onset at frame %d, want 50..52", first)
	}
	if last.Onset || last.Active {
		t.Errorf("a steady tone is still speech after 10 s: %+v", last)
	}
}

func TestVADRealSpeech(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/speech/real/*.wav")
	if len(files) == 0 {
		t.Skip("no real speech clips")
	}
	for _, f := range files {
		pcm := readWAV(t, f)
		on, n := onsetFrames(DefaultVADConfig(), pcm)
		if on < n/10 {
			t.Errorf("%s: only %d onset frames of %d", filepath.Base(f), on, n)
		}
	}
}

// Speech in steady noise at about 15 dB SNR is still found, and the noise alone is not.
func TestVADSpeechInNoise(t *testing.T) {
	speech := readWAV(t, "/work/shared/speech/real/real_jfk.wav")
	noisy := mix(concat(silence(3*time.Second), speech), pinkNoise(14*time.Second, 0.01, 9))
	evs := segment(t, DefaultConfig(), noisy)
	if len(evs) == 0 {
		t.Fatal("no utterance in noisy speech")
	}
	var covered time.Duration
	for _, e := range evs {
		covered += e.End - e.Start
		if e.Start < 2500*time.Millisecond {
			t.Errorf("utterance %v-%v starts in the noise-only lead-in", e.Start, e.End)
		}
	}
	if covered < 8*time.Second {
		t.Errorf("utterances cover %v of 11 s of speech: %+v", covered, evs)
	}
}
