package transcribe

import (
	"log/slog"
	"runtime"
	"time"
)

// Config tunes the caption pipeline. DefaultConfig is the one place defaults live; flags and
// environment fill a copy of it.
type Config struct {
	Options Options // passed to the engine on every request (language, prompt)

	// Tap and jitter buffer.
	TapQueue     int // packets buffered between the tap and the decoder; more are dropped and counted
	JitterDepth  int // packets held to reorder before a missing one is declared lost
	MaxPLCFrames int // consecutive lost frames concealed before the gap is filled with plain silence

	// Voice activity detection (20 ms frames).
	VAD VADConfig

	// Segmentation.
	MinSilence     time.Duration // silence that closes an utterance
	MaxUtterance   time.Duration // longest utterance; cut at the quietest point of CutSearch
	CutSearch      time.Duration // window before MaxUtterance searched for the quietest frame
	MinUtterance   time.Duration // shorter voiced stretches are clicks or coughs and dropped
	PreRoll        time.Duration // audio kept before the detected onset
	PostRoll       time.Duration // audio kept after the last voiced frame
	EarlyFinal     bool          // decode the final speculatively once PostRoll of silence has passed, if the pool is idle
	PartialEvery   time.Duration // interval between partials of an open utterance; 0 disables partials
	FirstPartialAt time.Duration // audio an utterance needs before its first partial

	// Worker pool.
	Workers      int           // engine calls in parallel
	MaxStreams   int           // utterances decoded incrementally at once (Streamer engines); the pool keeps it below a DecoderLimiter's count
	QueueSize    int           // queued partials beyond which the oldest partial is shed
	Retries      int           // attempts for a final before it is emitted as Failed
	RetryBackoff time.Duration // first backoff between attempts, doubled each time
	Timeout      time.Duration // per engine call
	Logger       *slog.Logger  // nil: slog.Default()

	// Overload. The pool's lag is the wall time since the end of the oldest utterance whose
	// final is not out yet; as it grows the pool degrades in steps, so live captions stay
	// within MaxLag of the words and the stored transcript is completed afterwards.
	ShedPartialsAt time.Duration // lag from which partials are shed (those needing a batch decode, and any that would arrive later than this)
	FastFinalsAt   time.Duration // lag from which finals take the stream's own result instead of decoding the utterance again
	MaxLag         time.Duration // bound on a live final's lag: a final predicted later is skipped (a Gap) and filled when idle; < 0 disables all of this (files)
	FillAfter      time.Duration // idle time the pool waits for before it decodes a skipped utterance
	GapAudio       time.Duration // audio of skipped utterances kept to fill them; past it the oldest is dropped (counted) and its gap stays
}

// DefaultConfig returns the defaults used by `lectern serve` and `lectern transcribe`.
func DefaultConfig() Config {
	return Config{
		Options:        Options{Language: "en"},
		TapQueue:       256, // ≈ 5 s of 20 ms packets
		JitterDepth:    5,   // ≈ 100 ms of reordering
		MaxPLCFrames:   5,
		VAD:            DefaultVADConfig(),
		MinSilence:     500 * time.Millisecond,
		MaxUtterance:   12 * time.Second,
		CutSearch:      4 * time.Second,
		MinUtterance:   200 * time.Millisecond,
		PreRoll:        200 * time.Millisecond,
		PostRoll:       150 * time.Millisecond,
		EarlyFinal:     true,
		PartialEvery:   700 * time.Millisecond,
		FirstPartialAt: 500 * time.Millisecond,
		Workers:        runtime.NumCPU(),
		// One per presenter of a full stage (6) speaking at once: a stream's partial costs only
		// the new audio, a batch partial decodes the whole utterance again, so with several
		// speakers streams are what keeps finals within reach (BENCHMARKS.md, issue 10).
		MaxStreams:     6,
		QueueSize:      64,
		Retries:        3,
		RetryBackoff:   200 * time.Millisecond,
		Timeout:        30 * time.Second,
		ShedPartialsAt: 1500 * time.Millisecond,
		FastFinalsAt:   2500 * time.Millisecond,
		MaxLag:         5 * time.Second,
		FillAfter:      2 * time.Second,
		GapAudio:       5 * time.Minute, // ≈ 19 MB of 16 kHz float32
	}
}

// withDefaults fills zero fields so a partly filled Config still works.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.TapQueue <= 0 {
		c.TapQueue = d.TapQueue
	}
	if c.JitterDepth <= 0 {
		c.JitterDepth = d.JitterDepth
	}
	if c.MaxPLCFrames <= 0 {
		c.MaxPLCFrames = d.MaxPLCFrames
	}
	c.VAD = c.VAD.withDefaults()
	if c.MinSilence <= 0 {
		c.MinSilence = d.MinSilence
	}
	if c.MaxUtterance <= 0 {
		c.MaxUtterance = d.MaxUtterance
	}
	if c.CutSearch <= 0 || c.CutSearch >= c.MaxUtterance {
		c.CutSearch = c.MaxUtterance / 3
	}
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	if c.QueueSize <= 0 {
		c.QueueSize = d.QueueSize
	}
	if c.Retries <= 0 {
		c.Retries = d.Retries
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = d.RetryBackoff
	}
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.MaxLag == 0 {
		c.MaxLag = d.MaxLag
	}
	if c.ShedPartialsAt <= 0 {
		c.ShedPartialsAt = min(d.ShedPartialsAt, c.MaxLag*3/10)
	}
	if c.FastFinalsAt <= 0 {
		c.FastFinalsAt = min(d.FastFinalsAt, c.MaxLag/2)
	}
	if c.FillAfter <= 0 {
		c.FillAfter = d.FillAfter
	}
	if c.GapAudio <= 0 {
		c.GapAudio = d.GapAudio
	}
	return c
}
