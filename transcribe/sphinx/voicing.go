package sphinx

import "math"

// PocketSphinx hallucinates short words ("if", "a") on broadband noise, because its
// language model always prefers some sentence to none. Speech always has voiced stretches —
// loud frames dominated by low frequencies, so with few zero crossings — and white noise or
// hiss has none. voicing counts such frames; with fewer than minVoiced the decoder's words
// are dropped. It runs before the decoder on the same samples, costing ~1 % of decode time.
const (
	voicingFrame = 320   // 20 ms at 16 kHz
	minVoicedRMS = 0.005 // ≈ -46 dBFS: quieter frames are room tone, whatever their spectrum
	maxVoicedZCR = 0.25  // zero crossings per sample; white noise ≈ 0.5, voiced speech < 0.15
	minVoiced    = 5     // 100 ms of voiced frames make an utterance worth decoding
)

// voicing accumulates frames across writes (a stream's chunks need not be frame-aligned).
type voicing struct {
	n      int     // samples in the current frame
	energy float64 // sum of squares in the current frame
	zc     int     // zero crossings in the current frame
	prev   float32
	voiced int // voiced frames so far
}

func (v *voicing) reset() { *v = voicing{} }

func (v *voicing) write(pcm []float32) {
	for _, x := range pcm {
		v.energy += float64(x) * float64(x)
		if (x >= 0) != (v.prev >= 0) {
			v.zc++
		}
		v.prev = x
		v.n++
		if v.n == voicingFrame {
			rms := math.Sqrt(v.energy / voicingFrame)
			if rms >= minVoicedRMS && float64(v.zc)/voicingFrame <= maxVoicedZCR {
				v.voiced++
			}
			v.n, v.energy, v.zc = 0, 0, 0
		}
	}
}

func (v *voicing) speech() bool { return v.voiced >= minVoiced }
