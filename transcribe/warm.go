package transcribe

import (
	"math/rand/v2"
)

// warmAudio is what the pool decodes once at start-up to time the engine: a second of quiet
// noise (no words, but a full decode).
func warmAudio() []float32 {
	r := rand.New(rand.NewPCG(8, 13))
	pcm := make([]float32, SampleRate)
	for i := range pcm {
		pcm[i] = float32(0.003 * r.NormFloat64())
	}
	return pcm
}

// warm prepares the engine in the background, so a fresh server's first captions do not pay
// for loading it and its health endpoint answers at once. An engine that loads on first use
// (Warmer) loads what every worker needs, then one decode times it: the first live finals
// are judged against the bound with a known speed (see overload.go). Engines that need no
// warming are ready at once.
func (p *Pool) warm() {
	defer p.watchWG.Done()
	defer close(p.warmed)
	w, ok := p.engine.(Warmer)
	if !ok {
		return
	}
	if err := w.Warm(p.ctx, p.cfg.Workers); err != nil {
		p.warmErr = err
		p.log.Error("speech engine not warmed: captions will load it on first use", "err", err)
		return
	}
	if _, err := p.call(warmAudio(), "warm"); err != nil {
		p.log.Warn("speech engine warm-up decode failed", "err", err)
	}
	p.log.Info("speech engine warm", "workers", p.cfg.Workers, "rtf", p.over.estimate(SampleRate).Seconds())
}

// Warmed is closed once the engine is warm (or warming failed; see Status).
func (p *Pool) Warmed() <-chan struct{} { return p.warmed }
