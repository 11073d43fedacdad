package transcribe

import "math"

// resampler converts a sample rate with a Kaiser-windowed sinc (band-limited interpolation,
// as in libsamplerate / resample by J. O. Smith): every output sample is the input convolved
// with a low-pass sinc centred at its exact (rational) input position. The kernel is
// tabulated at resPhases points per input sample and linearly interpolated. It streams: input
// comes in chunks and output is produced once enough right-hand context has arrived.
type resampler struct {
	in, out int64       // rates
	fc      float64     // cutoff as a fraction of the input Nyquist
	half    float64     // kernel half-width in input samples
	table   []float64   // kernel at d = k/resPhases input samples, k ≥ 0
	bank    [][]float32 // polyphase taps when the rate ratio has few phases, else nil
	phaseG  int64       // gcd of the rates: phase index = (m·in mod out) / phaseG
	buf     []float32   // input from absolute index base
	base    int64
	m       int64 // next output sample
	flushed bool
}

const (
	resPhases        = 512
	resZeroCrossings = 24  // per side; sets the transition band width
	resKaiserBeta    = 8.6 // ≈ 85 dB stop band
)

func newResampler(inRate, outRate int) *resampler {
	r := &resampler{in: int64(inRate), out: int64(outRate)}
	r.fc = 0.95
	if outRate < inRate {
		// Centre the transition band just below the output Nyquist frequency.
		r.fc = 0.94 * float64(outRate) / float64(inRate)
	}
	r.half = resZeroCrossings / r.fc
	n := int(math.Ceil(r.half*resPhases)) + 2
	r.table = make([]float64, n)
	i0b := besselI0(resKaiserBeta)
	for k := range r.table {
		d := float64(k) / resPhases
		if d > r.half {
			continue
		}
		x := d / r.half
		w := besselI0(resKaiserBeta*math.Sqrt(1-x*x)) / i0b
		r.table[k] = r.fc * sinc(r.fc*d) * w
	}
	r.buildBank()
	return r
}

// maxBankPhases bounds the polyphase bank (phases × taps floats); odd ratios such as
// 44100→16000 have 160 phases, 48000→16000 has one.
const maxBankPhases = 1024

// buildBank precomputes the kernel at every phase a rational ratio can hit, so each output
// sample is a plain dot product (about 3× faster than interpolating the table).
func (r *resampler) buildBank() {
	g := gcd(r.in, r.out)
	phases := r.out / g
	if phases > maxBankPhases {
		return
	}
	hw := int64(math.Ceil(r.half))
	r.phaseG = g
	r.bank = make([][]float32, phases)
	for k := range r.bank {
		taps := make([]float32, 2*hw+1)
		for j := range taps {
			// Output position minus input index center-hw+j.
			d := float64(hw-int64(j)) + float64(k)/float64(phases)
			taps[j] = float32(r.kernel(d))
		}
		r.bank[k] = taps
	}
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0 (power series).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

func (r *resampler) kernel(d float64) float64 {
	d = math.Abs(d) * resPhases
	k := int(d)
	if k+1 >= len(r.table) {
		return 0
	}
	f := d - float64(k)
	return r.table[k]*(1-f) + r.table[k+1]*f
}

// process consumes in and appends the output now available to out.
func (r *resampler) process(in []float32, out []float32) []float32 {
	if r.in == r.out {
		return append(out, in...)
	}
	r.buf = append(r.buf, in...)
	return r.produce(out, false)
}

// flush appends the output still held back for lack of right-hand context (zeros are assumed
// after the end).
func (r *resampler) flush(out []float32) []float32 {
	if r.in == r.out || r.flushed {
		return out
	}
	r.flushed = true
	return r.produce(out, true)
}

func (r *resampler) produce(out []float32, final bool) []float32 {
	end := r.base + int64(len(r.buf)) // absolute index past the last input sample
	hw := int64(math.Ceil(r.half))
	for {
		num := r.m * r.in // input position of output m is num / r.out
		center := num / r.out
		if final {
			if center >= end {
				break
			}
		} else if center+hw >= end {
			break
		}
		var acc float64
		lo, hi := max(center-hw, r.base), min(center+hw+1, end)
		if r.bank != nil {
			taps := r.bank[(num%r.out)/r.phaseG][lo-(center-hw) : hi-(center-hw)]
			in := r.buf[lo-r.base : hi-r.base]
			for j, t := range taps {
				acc += float64(in[j] * t)
			}
		} else {
			for i := lo; i < hi; i++ {
				d := float64(num-i*r.out) / float64(r.out)
				acc += float64(r.buf[i-r.base]) * r.kernel(d)
			}
		}
		out = append(out, float32(acc))
		r.m++
	}
	// Keep only the left context the next output needs.
	if keep := (r.m*r.in)/r.out - hw; keep > r.base {
		drop := min(keep-r.base, int64(len(r.buf)))
		r.buf = append(r.buf[:0], r.buf[drop:]...)
		r.base += drop
	}
	return out
}

// Resample converts mono PCM from inRate to outRate in one go.
func Resample(pcm []float32, inRate, outRate int) []float32 {
	r := newResampler(inRate, outRate)
	out := r.process(pcm, make([]float32, 0, int64(len(pcm))*int64(outRate)/int64(inRate)+1))
	return r.flush(out)
}
