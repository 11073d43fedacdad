//go:build !cgo

package sphinx

import (
	"context"

	"lectern/transcribe"
)

// Engine stands in for the PocketSphinx engine in a binary built without cgo; New always
// fails with ErrNotCompiled, so callers learn at start-up that there is no embedded engine.
type Engine struct{}

// Stream is the incremental decoder; without cgo none can be created.
type Stream struct{}

// New returns ErrNotCompiled.
func New(cfg Config) (*Engine, error) { return nil, ErrNotCompiled }

func (e *Engine) Name() string     { return "sphinx" }
func (e *Engine) Region() string   { return "local" }
func (e *Engine) Punctuates() bool { return false }
func (e *Engine) Close() error     { return nil }
func (e *Engine) Decoders() int    { return 0 }

// Languages: the stock model is en-us.
func (e *Engine) Languages() []string { return []string{"en"} }

func (e *Engine) Transcribe(ctx context.Context, pcm []float32, opts transcribe.Options) (transcribe.Result, error) {
	return transcribe.Result{}, ErrNotCompiled
}

func (e *Engine) NewStream(opts transcribe.Options) (transcribe.Stream, error) {
	return nil, ErrNotCompiled
}

func (s *Stream) Write(pcm []float32) error         { return ErrNotCompiled }
func (s *Stream) Partial() (string, error)          { return "", ErrNotCompiled }
func (s *Stream) Final() (transcribe.Result, error) { return transcribe.Result{}, ErrNotCompiled }
func (s *Stream) Close() error                      { return nil }

func (e *Engine) Warm(ctx context.Context, n int) error  { return ErrNotCompiled }
func (e *Engine) Loaded() int                            { return 0 }
func (s *Stream) QuickFinal() (transcribe.Result, error) { return transcribe.Result{}, ErrNotCompiled }
