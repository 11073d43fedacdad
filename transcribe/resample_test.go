package transcribe

import (
	"math"
	"testing"
	"time"
)

// goertzel is the amplitude of frequency f in x (sampled at rate).
func goertzel(x []float32, f float64, rate int) float64 {
	w := 2 * math.Pi * f / float64(rate)
	var re, im float64
	for i, v := range x {
		re += float64(v) * math.Cos(w*float64(i))
		im -= float64(v) * math.Sin(w*float64(i))
	}
	return 2 * math.Hypot(re, im) / float64(len(x))
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

func TestResampleSine(t *testing.T) {
	tests := []struct {
		in, out int
		freq    float64
	}{
		{44100, 16000, 1000},
		{48000, 16000, 1000},
		{22050, 16000, 3000},
		{8000, 16000, 1000},
		{11025, 16000, 440},
		{96000, 16000, 6500},
	}
	for _, tt := range tests {
		in := tone(2*time.Second, tt.freq, 0.5, tt.in)
		out := Resample(in, tt.in, tt.out)
		if want := len(in) * tt.out / tt.in; abs(len(out)-want) > 1 {
			t.Errorf("%d→%d: %d samples, want %d", tt.in, tt.out, len(out), want)
		}
		mid := out[len(out)/4 : 3*len(out)/4] // away from the edges' zero padding
		if a := goertzel(mid, tt.freq, tt.out); math.Abs(a-0.5) > 0.01 {
			t.Errorf("%d→%d: %g Hz amplitude %.4f, want 0.5", tt.in, tt.out, tt.freq, a)
		}
		if r := rms(mid); math.Abs(r-0.5/math.Sqrt2) > 0.005 {
			t.Errorf("%d→%d: rms %.4f, want %.4f (energy elsewhere means a wrong frequency)", tt.in, tt.out, r, 0.5/math.Sqrt2)
		}
	}
}

// Content above the new Nyquist frequency is filtered out, not folded back as an alias.
func TestResampleAntiAlias(t *testing.T) {
	in := tone(time.Second, 12000, 0.5, 44100) // would alias to 4 kHz at 16 kHz
	out := Resample(in, 44100, 16000)
	mid := out[len(out)/4 : 3*len(out)/4]
	if r := rms(mid); r > 0.5*math.Pow(10, -60.0/20) {
		t.Errorf("12 kHz leaks through at %.1f dB", 20*math.Log10(r/0.35))
	}
}

// Feeding the resampler in odd chunks gives the same output as one call.
func TestResampleStreaming(t *testing.T) {
	in := whiteNoise(time.Second, 0.2, 7)
	in = Resample(in, 16000, 44100)
	want := Resample(in, 44100, 16000)
	r := newResampler(44100, 16000)
	var got []float32
	for i := 0; i < len(in); i += 777 {
		got = r.process(in[i:min(i+777, len(in))], got)
	}
	got = r.flush(got)
	if len(got) != len(want) {
		t.Fatalf("streamed %d samples, one call %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("sample %d: %g vs %g", i, got[i], want[i])
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func BenchmarkResample44k(b *testing.B) {
	in := tone(10*time.Second, 1000, 0.5, 44100)
	b.SetBytes(int64(len(in) * 4))
	for b.Loop() {
		Resample(in, 44100, 16000)
	}
}

// The polyphase bank and the interpolated kernel agree.
func TestResampleBankMatchesKernel(t *testing.T) {
	in := whiteNoise(200*time.Millisecond, 0.2, 3)
	for _, rates := range [][2]int{{16000, 44100}, {16000, 8000}, {16000, 22050}} {
		a := newResampler(rates[0], rates[1])
		b := newResampler(rates[0], rates[1])
		if a.bank == nil {
			t.Fatalf("%v: no bank", rates)
		}
		b.bank = nil
		x, y := a.flush(a.process(in, nil)), b.flush(b.process(in, nil))
		for i := range x {
			if math.Abs(float64(x[i]-y[i])) > 1e-4 {
				t.Fatalf("%v sample %d: bank %g, kernel %g", rates, i, x[i], y[i])
			}
		}
	}
}
