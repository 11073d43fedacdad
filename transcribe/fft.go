package transcribe

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fft is an in-place iterative radix-2 FFT with precomputed twiddles, enough for the VAD's
// 512-point power spectra (50 a second per webinar), so no dependency is needed.
type fft struct {
	n       int
	twiddle []complex128
	rev     []int
	buf     []complex128
}

func newFFT(n int) *fft {
	if n&(n-1) != 0 {
		panic("fft size must be a power of two")
	}
	f := &fft{n: n, twiddle: make([]complex128, n/2), rev: make([]int, n), buf: make([]complex128, n)}
	for i := range f.twiddle {
		f.twiddle[i] = cmplx.Exp(complex(0, -2*math.Pi*float64(i)/float64(n)))
	}
	shift := 64 - bits.Len(uint(n-1))
	for i := range f.rev {
		f.rev[i] = int(bits.Reverse64(uint64(i)) >> shift)
	}
	return f
}

// power writes |X[k]|² for k in [0, n/2] of the real input x (zero-padded to n) into out.
func (f *fft) power(x []float64, out []float64) {
	for i := range f.buf {
		f.buf[i] = 0
	}
	for i, v := range x {
		if i >= f.n {
			break
		}
		f.buf[f.rev[i]] = complex(v, 0)
	}
	for size := 2; size <= f.n; size <<= 1 {
		half, step := size/2, f.n/size
		for start := 0; start < f.n; start += size {
			for k := 0; k < half; k++ {
				t := f.twiddle[k*step] * f.buf[start+k+half]
				u := f.buf[start+k]
				f.buf[start+k] = u + t
				f.buf[start+k+half] = u - t
			}
		}
	}
	for k := 0; k <= f.n/2 && k < len(out); k++ {
		c := f.buf[k]
		out[k] = real(c)*real(c) + imag(c)*imag(c)
	}
}
