//go:build cgo

package sphinx

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"lectern/transcribe"
)

// Engine is the PocketSphinx engine. It is safe for concurrent use: each call borrows a
// decoder from a free list.
type Engine struct {
	cfg  Config
	args []string

	initMu sync.Mutex // ps_init touches process-wide state in sphinxbase; load one at a time

	mu      sync.Mutex
	free    []*decoder
	created int
	closed  bool
	freed   chan struct{} // closed and replaced whenever a decoder comes back
	loading bool          // a background load is running (see loadLater)
	loads   sync.WaitGroup
}

var (
	_ transcribe.Engine       = (*Engine)(nil)
	_ transcribe.Streamer     = (*Engine)(nil)
	_ transcribe.Warmer       = (*Engine)(nil)
	_ transcribe.QuickFinaler = (*Stream)(nil)
)

// New checks the model files, so a bad path fails here rather than on the first utterance.
// It loads no decoder: a load takes a second or more, and a server should answer its health
// checks at once. Warm loads them in the background; otherwise they are loaded as
// concurrent work needs them.
func New(cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	for _, p := range []string{cfg.ModelDir, cfg.Dict, cfg.LM} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("sphinx: model file: %w (install pocketsphinx-en-us or set the model paths)", err)
		}
	}
	if len(cfg.Args)%2 != 0 {
		return nil, fmt.Errorf("sphinx: Args must be name/value pairs, got %d items", len(cfg.Args))
	}
	setupLog(cfg.Logger)
	return &Engine{
		cfg:   cfg,
		args:  append([]string{"-hmm", cfg.ModelDir, "-dict", cfg.Dict, "-lm", cfg.LM}, cfg.Args...),
		freed: make(chan struct{}),
	}, nil
}

// Warm loads decoders until n exist (at most Config.Decoders), so that many concurrent
// calls find one ready. Loads happen one at a time (see load); ctx is checked between them.
func (e *Engine) Warm(ctx context.Context, n int) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return ErrClosed
		}
		if e.created >= min(n, e.cfg.Decoders) {
			e.mu.Unlock()
			return nil
		}
		e.created++
		e.mu.Unlock()
		d, err := e.loadReserved()
		if err != nil {
			return err
		}
		e.release(d)
	}
}

// Loaded is the number of decoders loaded so far.
func (e *Engine) Loaded() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.created
}

func (e *Engine) Name() string   { return "sphinx" }
func (e *Engine) Region() string { return e.cfg.Region }

// Decoders implements transcribe.DecoderLimiter: streams and batch calls share them.
func (e *Engine) Decoders() int    { return e.cfg.Decoders }
func (e *Engine) Punctuates() bool { return false }

// Languages: the stock model is en-us.
func (e *Engine) Languages() []string { return []string{"en"} }

// Transcribe decodes pcm (16 kHz mono) as one utterance. The decode itself runs in C and
// is not interrupted by ctx; ctx bounds the wait for a free decoder.
func (e *Engine) Transcribe(ctx context.Context, pcm []float32, opts transcribe.Options) (transcribe.Result, error) {
	if err := checkLanguage(opts.Language); err != nil {
		return transcribe.Result{}, err
	}
	d, err := e.acquire(ctx, true)
	if err != nil {
		return transcribe.Result{}, err
	}
	defer e.release(d)
	return d.decode(pcm)
}

// Close frees idle decoders now and lent ones when they come back.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	for _, d := range e.free {
		d.free()
	}
	e.free = nil
	close(e.freed)
	e.mu.Unlock()
	e.loads.Wait() // a decoder loaded after Close is freed by release
	e.mu.Lock()
	return nil
}

func (e *Engine) load() (*decoder, error) {
	e.initMu.Lock()
	defer e.initMu.Unlock()
	return newDecoder(e.args)
}

// loadReserved loads a decoder whose place the caller reserved (created++ under mu) and
// gives the place back if loading fails.
func (e *Engine) loadReserved() (*decoder, error) {
	d, err := e.load()
	if err != nil {
		e.mu.Lock()
		e.created--
		e.mu.Unlock()
	}
	return d, err
}

// acquire lends a decoder: an idle one, else (if wait) the next one returned. A decoder
// beyond those loaded is loaded in the background (loadLater), not by the caller: a load
// takes a second or more, while a decoder lent to a call is back within a fraction of that
// (a live caption's partial must not wait for a model load). Only the first is loaded by the
// caller: nothing else could serve it.
func (e *Engine) acquire(ctx context.Context, wait bool) (*decoder, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, ErrClosed
		}
		if n := len(e.free); n > 0 {
			d := e.free[n-1]
			e.free = e.free[:n-1]
			e.mu.Unlock()
			return d, nil
		}
		if e.created == 0 { // the first decoder: nothing else could serve the caller
			e.created++
			e.mu.Unlock()
			return e.loadReserved()
		}
		e.loadLater()
		if !wait {
			e.mu.Unlock()
			return nil, ErrBusy
		}
		freed := e.freed
		e.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-freed:
		}
	}
}

// loadLater starts loading one more decoder in the background while under the limit and no
// other load runs; it joins the free list when loaded. Called with mu held.
func (e *Engine) loadLater() {
	if e.loading || e.created >= e.cfg.Decoders {
		return
	}
	e.created++
	e.loading = true
	e.loads.Add(1)
	go func() {
		defer e.loads.Done()
		d, err := e.loadReserved()
		e.mu.Lock()
		e.loading = false
		e.mu.Unlock()
		if err != nil {
			e.cfg.Logger.Error("sphinx: decoder not loaded", "err", err)
			return
		}
		e.release(d)
	}()
}

func (e *Engine) release(d *decoder) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		d.free()
		return
	}
	e.free = append(e.free, d)
	close(e.freed)
	e.freed = make(chan struct{})
}

// checkLanguage refuses languages the en-us model cannot recognise, rather than returning
// English-sounding nonsense.
func checkLanguage(lang string) error {
	if lang == "" {
		return nil
	}
	primary, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if primary != "en" {
		return fmt.Errorf("sphinx: language %q not supported (the model is en-us)", lang)
	}
	return nil
}
