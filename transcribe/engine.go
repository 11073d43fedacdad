package transcribe

import (
	"context"
	"time"
)

// SampleRate is the rate of every PCM buffer handed to an Engine: 16 kHz mono float32 in [-1, 1].
const SampleRate = 16000

// Options tune one transcription request. Zero values mean "engine default".
type Options struct {
	Language string // BCP-47 primary tag of the spoken language, e.g. "en"
	Prompt   string // text said just before this audio (context for engines that accept it)
}

// Word is one recognised word with its timing relative to the start of the PCM buffer.
type Word struct {
	Text       string
	Start, End time.Duration
}

// Segment is a stretch of recognised text with timing relative to the start of the PCM buffer.
// NoSpeechProb is the engine's probability that the segment is not speech (0 when unknown).
type Segment struct {
	Text         string
	Start, End   time.Duration
	NoSpeechProb float64
	Words        []Word
}

// Result is what an engine recognised in one PCM buffer.
type Result struct {
	Text     string
	Language string
	Segments []Segment
}

// Engine turns 16 kHz mono PCM into text. Implementations must be safe for concurrent use
// by the pool's workers (an engine that is not keeps its own per-call state or a free list).
type Engine interface {
	Name() string
	// Region is the processing-region label of where the audio goes ("local", "eu", "us", ...).
	Region() string
	Transcribe(ctx context.Context, pcm []float32, opts Options) (Result, error)
}

// Streamer is offered by engines that can decode incrementally (PocketSphinx can): a session
// accepts audio as it arrives and gives a cheap running hypothesis, so partial captions do not
// re-decode the whole utterance.
type Streamer interface {
	NewStream(opts Options) (Stream, error)
}

// Stream is one utterance being decoded incrementally. It is used by one goroutine at a time.
type Stream interface {
	// Write feeds more audio of the utterance.
	Write(pcm []float32) error
	// Partial is the current best hypothesis of everything written so far.
	Partial() (string, error)
	// Final ends the utterance and returns its result; the stream cannot be written after.
	Final() (Result, error)
	// Close releases the stream's resources; safe after Final and safe to call twice.
	Close() error
}

// QuickFinaler is offered by streams whose Final decodes the utterance again for accuracy:
// QuickFinal ends the utterance with the incremental decode's own result instead, which costs
// only the audio not yet written. The pool uses it when it is behind.
type QuickFinaler interface {
	QuickFinal() (Result, error)
}

// DecoderLimiter is offered by engines whose streams and batch calls share a fixed number of
// decoders (PocketSphinx): the pool keeps its open streams below that number, so idle streams
// can never hold every decoder and a batch call always gets one in turn.
type DecoderLimiter interface {
	Decoders() int
}

// Warmer is offered by engines that load resources on first use (PocketSphinx loads a model
// per decoder): Warm loads what n concurrent calls need, so the first utterances of a fresh
// server do not pay for it.
type Warmer interface {
	Warm(ctx context.Context, n int) error
}
