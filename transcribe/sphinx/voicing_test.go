package sphinx

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestVoicing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(seconds float64, f func(i int) float64) []float32 {
		pcm := make([]float32, int(seconds*16000))
		for i := range pcm {
			pcm[i] = float32(f(i))
		}
		return pcm
	}
	vowel := func(amp float64) func(int) float64 { // 150 Hz voice with two formant-ish partials
		return func(i int) float64 {
			x := 2 * math.Pi * float64(i) / 16000
			return amp * (math.Sin(150*x) + 0.5*math.Sin(700*x) + 0.3*math.Sin(1200*x)) / 1.8
		}
	}
	for _, c := range []struct {
		name string
		pcm  []float32
		want bool
	}{
		{"silence", make([]float32, 16000), false},
		{"white noise", gen(1, func(int) float64 { return rng.NormFloat64() * 0.1 }), false},
		{"quiet vowel", gen(1, vowel(0.002)), false},
		{"vowel", gen(1, vowel(0.2)), true},
		{"vowel in noise", gen(1, func(i int) float64 { return vowel(0.2)(i) + rng.NormFloat64()*0.02 }), true},
		{"50 ms vowel", gen(0.05, vowel(0.2)), false},
	} {
		// Odd write sizes: frames must be assembled across writes.
		var v voicing
		for i := 0; i < len(c.pcm); i += 777 {
			v.write(c.pcm[i:min(i+777, len(c.pcm))])
		}
		if got := v.speech(); got != c.want {
			t.Errorf("%s: speech() = %v (%d voiced frames), want %v", c.name, got, v.voiced, c.want)
		}
	}
}
