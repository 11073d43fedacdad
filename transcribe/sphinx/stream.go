//go:build cgo

package sphinx

import (
	"context"
	"errors"

	"lectern/transcribe"
)

// Stream decodes one utterance incrementally on a decoder it holds until Final or Close.
type Stream struct {
	e     *Engine
	d     *decoder
	audio []float32 // the utterance so far, for the whole-utterance decode at Final
}

var errStreamDone = errors.New("sphinx: stream already finished")

// NewStream lends a decoder to a new utterance. It does not wait: with every decoder busy it
// returns ErrBusy, and the caller can fall back to Transcribe on the buffered audio.
func (e *Engine) NewStream(opts transcribe.Options) (transcribe.Stream, error) {
	if err := checkLanguage(opts.Language); err != nil {
		return nil, err
	}
	d, err := e.acquire(context.Background(), false)
	if err != nil {
		return nil, err
	}
	if err := d.start(); err != nil {
		e.release(d)
		return nil, err
	}
	return &Stream{e: e, d: d}, nil
}

// Write feeds more audio. PocketSphinx searches it at once, so Partial stays cheap.
func (s *Stream) Write(pcm []float32) error {
	if s.d == nil {
		return errStreamDone
	}
	if !s.e.cfg.LiveFinals {
		s.audio = append(s.audio, pcm...)
	}
	return s.d.process(pcm, false)
}

// Partial is the best hypothesis so far.
func (s *Stream) Partial() (string, error) {
	if s.d == nil {
		return "", errStreamDone
	}
	return s.d.hyp(), nil
}

// Final ends the utterance, returns the decoder to the engine and gives the words with
// timings relative to the first sample written. Unless Config.LiveFinals, the words come
// from decoding the whole utterance again: incremental decoding must normalise the
// cepstrum with a running estimate, which costs a quarter of the words on real speech.
func (s *Stream) Final() (transcribe.Result, error) {
	if s.d == nil {
		return transcribe.Result{}, errStreamDone
	}
	d := s.d
	s.d = nil
	defer s.e.release(d)
	if err := d.end(); err != nil {
		return transcribe.Result{}, err
	}
	if s.e.cfg.LiveFinals {
		return d.result(), nil
	}
	audio := s.audio
	s.audio = nil
	return d.decode(audio)
}

// QuickFinal ends the utterance with the incremental decode's result, as Final does with
// Config.LiveFinals: less accurate, but nothing is decoded again. The pool takes it when it
// is behind live audio.
func (s *Stream) QuickFinal() (transcribe.Result, error) {
	if s.d == nil {
		return transcribe.Result{}, errStreamDone
	}
	d := s.d
	s.d, s.audio = nil, nil
	defer s.e.release(d)
	if err := d.end(); err != nil {
		return transcribe.Result{}, err
	}
	return d.result(), nil
}

// Close abandons the utterance if Final was not called.
func (s *Stream) Close() error {
	if s.d == nil {
		return nil
	}
	d := s.d
	s.d = nil
	s.audio = nil
	err := d.end()
	s.e.release(d)
	return err
}
