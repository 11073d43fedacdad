package transcribe

import (
	"math"
	"slices"
	"time"
)

// FrameSamples is the VAD frame: 20 ms at 16 kHz, one Opus packet's worth.
const FrameSamples = SampleRate / 50

const frameDur = 20 * time.Millisecond

// VADConfig holds the voice-activity thresholds. Levels are in dB (full scale for MinLevelDB,
// above the adaptive noise floor for the SNRs).
type VADConfig struct {
	OnsetSNR    float64       // a frame can start speech this far above the noise floor
	ContinueSNR float64       // within speech, a frame this far above the floor keeps it open
	MaxFlatness float64       // onset frames must be less noise-like than this (0 tone … ~0.6 noise)
	MinLevelDB  float64       // frames quieter than this (dBFS) are never speech
	OnsetFrames int           // consecutive speech-like frames needed to start speech
	NoiseWindow time.Duration // history the noise floor is estimated over
	NoiseQuant  float64       // quantile of frame levels in NoiseWindow taken as the floor
}

// DefaultVADConfig returns thresholds tuned on the real clips in /work/shared/speech and on
// generated white and pink noise.
func DefaultVADConfig() VADConfig {
	return VADConfig{
		OnsetSNR:    10,
		ContinueSNR: 6,
		MaxFlatness: 0.30,
		MinLevelDB:  -65,
		OnsetFrames: 3,
		NoiseWindow: 4 * time.Second,
		NoiseQuant:  0.10,
	}
}

func (c VADConfig) withDefaults() VADConfig {
	d := DefaultVADConfig()
	if c.OnsetSNR == 0 {
		c.OnsetSNR = d.OnsetSNR
	}
	if c.ContinueSNR == 0 {
		c.ContinueSNR = d.ContinueSNR
	}
	if c.MaxFlatness == 0 {
		c.MaxFlatness = d.MaxFlatness
	}
	if c.MinLevelDB == 0 {
		c.MinLevelDB = d.MinLevelDB
	}
	if c.OnsetFrames <= 0 {
		c.OnsetFrames = d.OnsetFrames
	}
	if c.NoiseWindow <= 0 {
		c.NoiseWindow = d.NoiseWindow
	}
	if c.NoiseQuant <= 0 || c.NoiseQuant >= 1 {
		c.NoiseQuant = d.NoiseQuant
	}
	return c
}

// frameInfo is the VAD's verdict on one frame.
type frameInfo struct {
	Level    float64 // dBFS
	SNR      float64 // dB above the noise floor
	Flatness float64 // spectral flatness of the frame whitened by the noise spectrum
	Onset    bool    // loud and structured enough to start speech
	Active   bool    // loud enough to keep speech going (fricatives, soft word ends)
}

// vad classifies 20 ms frames. Energy alone is fooled by any loud noise, so a frame must also
// have spectral structure above the noise: its power spectrum divided by the running noise
// spectrum is flat (flatness ≈ 0.5) for stationary noise of any colour and peaky (harmonics,
// formants) for voiced speech. The noise floor is a low quantile of recent frame levels, so it
// follows a changing room and absorbs a steady hum or tone within NoiseWindow.
type vad struct {
	cfg    VADConfig
	fft    *fft
	window []float64 // Hann
	frame  []float64
	power  []float64
	noise  []float64 // per-bin noise power estimate
	levels []float64 // ring of recent frame levels (dBFS)
	next   int
	filled int
	sorted []float64
	lo, hi int // bins of the 250–4000 Hz band the flatness is measured in
}

func newVAD(cfg VADConfig) *vad {
	cfg = cfg.withDefaults()
	n := int(cfg.NoiseWindow / frameDur)
	if n < 10 {
		n = 10
	}
	v := &vad{
		cfg:    cfg,
		fft:    newFFT(512),
		window: make([]float64, FrameSamples),
		frame:  make([]float64, FrameSamples),
		power:  make([]float64, 257),
		levels: make([]float64, n),
		sorted: make([]float64, 0, n),
		lo:     250 * 512 / SampleRate,
		hi:     4000 * 512 / SampleRate,
	}
	for i := range v.window {
		v.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(FrameSamples-1))
	}
	return v
}

// reset forgets the noise history (a new session may come from another microphone).
func (v *vad) reset() {
	v.noise = nil
	v.next, v.filled = 0, 0
}

// classify judges one frame of FrameSamples samples.
func (v *vad) classify(x []float32) frameInfo {
	var sum float64
	for i, s := range x {
		f := float64(s)
		sum += f * f
		v.frame[i] = f * v.window[i]
	}
	level := 10 * math.Log10(sum/float64(len(x))+1e-12)
	v.fft.power(v.frame, v.power)

	v.levels[v.next] = level
	v.next = (v.next + 1) % len(v.levels)
	if v.filled < len(v.levels) {
		v.filled++
	}
	v.sorted = append(v.sorted[:0], v.levels[:v.filled]...)
	slices.Sort(v.sorted)
	floor := v.sorted[int(v.cfg.NoiseQuant*float64(v.filled-1))]

	info := frameInfo{Level: level, SNR: level - floor}
	if v.noise == nil {
		v.noise = make([]float64, len(v.power))
		copy(v.noise, v.power)
	}
	info.Flatness = v.flatness()

	// Learn the noise spectrum from frames near the floor; slowly from everything else so a
	// persistent sound (a fan that starts mid-session) stops looking like speech.
	rate := 0.002
	if level <= floor+3 {
		rate = 0.15
	}
	for k, p := range v.power {
		v.noise[k] += rate * (p - v.noise[k])
	}

	audible := level >= v.cfg.MinLevelDB
	info.Onset = audible && info.SNR >= v.cfg.OnsetSNR && info.Flatness <= v.cfg.MaxFlatness
	info.Active = audible && info.SNR >= v.cfg.ContinueSNR
	return info
}

// flatness is the geometric over the arithmetic mean of the noise-whitened power spectrum.
func (v *vad) flatness() float64 {
	var logSum, sum float64
	n := 0
	for k := v.lo; k <= v.hi; k++ {
		r := (v.power[k] + 1e-14) / (v.noise[k] + 1e-14)
		logSum += math.Log(r)
		sum += r
		n++
	}
	return math.Exp(logSum/float64(n)) / (sum / float64(n))
}
