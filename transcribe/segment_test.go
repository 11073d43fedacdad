package transcribe

import (
	"testing"
	"time"
)

// firstSound is the position of the first sample louder than -50 dBFS.
func firstSound(pcm []float32) time.Duration {
	for i, s := range pcm {
		if s > 0.003 || s < -0.003 {
			return samplesToDur(int64(i))
		}
	}
	return -1
}

func TestSegmentSentencePair(t *testing.T) {
	dir := t.TempDir()
	a := readWAV(t, flite(t, dir, "a", "The quick brown fox jumps over the lazy dog."))
	b := readWAV(t, flite(t, dir, "b", "Captions appear while the teacher speaks."))
	lead, gap := time.Second, 1500*time.Millisecond
	pcm := concat(silence(lead), a, silence(gap), b, silence(time.Second))
	evs := segment(t, DefaultConfig(), pcm)
	if len(evs) != 2 {
		t.Fatalf("got %d utterances, want 2: %+v", len(evs), evs)
	}
	cfg := DefaultConfig()
	onsetA := lead + firstSound(a)
	onsetB := lead + samplesToDur(int64(len(a))) + gap + firstSound(b)
	for i, want := range []time.Duration{onsetA, onsetB} {
		ev := evs[i]
		// The pre-roll puts the start before the first sound, never more than PreRoll plus
		// the onset frames before it.
		if ev.Start > want || ev.Start < want-cfg.PreRoll-4*frameDur {
			t.Errorf("utterance %d starts at %v, first sound at %v", i+1, ev.Start, want)
		}
		if ev.ID != utteranceID("s", i+1) || !ev.Final || ev.Text == "" {
			t.Errorf("utterance %d: %+v", i+1, ev)
		}
	}
	endA := lead + samplesToDur(int64(len(a)))
	if evs[0].End > endA+cfg.PostRoll || evs[0].End < endA-300*time.Millisecond {
		t.Errorf("first utterance ends at %v, sentence ends at %v", evs[0].End, endA)
	}
	if evs[1].Start < evs[0].End {
		t.Errorf("utterances overlap: %v > %v", evs[0].End, evs[1].Start)
	}
}

func TestSegmentNothingOnNoise(t *testing.T) {
	for name, pcm := range map[string][]float32{
		"silence":           silence(10 * time.Second),
		"white":             whiteNoise(20*time.Second, 0.05, 11),
		"pink":              pinkNoise(20*time.Second, 0.1, 12),
		"silence then pink": concat(silence(3*time.Second), pinkNoise(10*time.Second, 0.05, 13)),
	} {
		if evs := segment(t, DefaultConfig(), pcm); len(evs) != 0 {
			t.Errorf("%s: %d utterances: %+v", name, len(evs), evs)
		}
	}
}

// A speaker who never pauses long enough is cut at MaxUtterance, at a quiet point, and no
// audio is lost or duplicated at the cuts.
func TestSegmentMaxLength(t *testing.T) {
	var parts [][]float32
	for _, f := range []string{"real_jfk", "real_libri_2412-153948-0000", "real_osr_us_0034_part2"} {
		parts = append(parts, readWAV(t, "/work/shared/speech/real/"+f+".wav"))
	}
	pcm := concat(parts...)
	cfg := DefaultConfig()
	cfg.MinSilence = 5 * time.Second // only the length limit cuts
	evs := segment(t, cfg, pcm)
	if len(evs) < 3 {
		t.Fatalf("%d utterances in %v of speech", len(evs), samplesToDur(int64(len(pcm))))
	}
	for i, e := range evs {
		if e.End-e.Start > cfg.MaxUtterance {
			t.Errorf("utterance %d is %v long", i+1, e.End-e.Start)
		}
		if i > 0 && e.Start < evs[i-1].End {
			t.Errorf("utterance %d starts at %v before the previous end %v", i+1, e.Start, evs[i-1].End)
		}
	}
	// Consecutive cuts of continuous speech abut exactly.
	abut := 0
	for i := 1; i < len(evs); i++ {
		if evs[i].Start == evs[i-1].End {
			abut++
		}
	}
	if abut == 0 {
		t.Errorf("no utterance was cut at the length limit: %+v", evs)
	}
}

func TestCutAtQuietestFrame(t *testing.T) {
	// 14 s of loud noise-like "speech" (a chirp stays structured) with one quiet dip at 10 s:
	// the cut must land in the dip.
	cfg := DefaultConfig()
	cfg.MinSilence = 5 * time.Second
	loud := func(d time.Duration) []float32 {
		out := tone(d, 300, 0.3, SampleRate)
		for i := range out { // amplitude modulation keeps the VAD's floor from absorbing it
			if (i/1600)%2 == 0 {
				out[i] *= 0.5
			}
		}
		return out
	}
	pcm := mix(concat(silence(time.Second), loud(9*time.Second), tone(200*time.Millisecond, 300, 0.02, SampleRate), loud(5*time.Second), silence(time.Second)), whiteNoise(16*time.Second, 0.001, 3))
	evs := segment(t, cfg, pcm)
	if len(evs) < 2 {
		t.Fatalf("%d utterances: %+v", len(evs), evs)
	}
	cut := evs[0].End
	if cut < 10*time.Second || cut > 10200*time.Millisecond {
		t.Errorf("cut at %v, the quiet dip is 10.0–10.2 s", cut)
	}
}
