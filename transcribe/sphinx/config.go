// Package sphinx is the embedded speech-to-text engine: PocketSphinx (Debian's
// libpocketsphinx-dev 0.8+5prealpha) through cgo, with the stock en-us model.
//
// A PocketSphinx decoder is not safe for concurrent use and costs a model load (about a
// second and tens of MB), so the Engine keeps a free list of decoders, created lazily up to
// Config.Decoders, and lends one to each Transcribe call or Stream.
package sphinx

import (
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
)

// Debian's pocketsphinx-en-us package installs the model here.
const (
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict     = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	DefaultLM       = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
)

// ErrNotCompiled is returned by New in a binary built without cgo.
var ErrNotCompiled = errors.New("sphinx: no embedded speech engine compiled in (built without cgo; rebuild with CGO_ENABLED=1 and libpocketsphinx-dev)")

// ErrBusy is returned by NewStream when every decoder is lent out and no more may be created.
var ErrBusy = errors.New("sphinx: all decoders busy")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("sphinx: engine closed")

// Config selects the model and the decoder pool size. Zero values take the defaults.
type Config struct {
	ModelDir string // acoustic model directory (-hmm)
	Dict     string // pronunciation dictionary (-dict)
	LM       string // n-gram language model (-lm)
	Decoders int    // decoders created at most (batch calls and streams together); default: cores + 6
	Region   string // processing-region label; default "local"
	// Args are extra PocketSphinx arguments as name/value pairs ("-beam", "1e-60"). The
	// defaults are PocketSphinx's own, which are what the corpus reference (WER 0.400) used.
	Args []string
	// LiveFinals makes Stream.Final return the incremental decode as is. By default Final
	// decodes the whole utterance again with its own cepstral mean, as Transcribe does:
	// corpus WER 0.29 instead of 0.40, for one more decode of the utterance (RTF ≈ 0.3).
	LiveFinals bool
	Logger     *slog.Logger // receives PocketSphinx's warnings and errors; default slog.Default()
}

func (c Config) withDefaults() Config {
	if c.ModelDir == "" {
		c.ModelDir = DefaultModelDir
	}
	if c.Dict == "" {
		c.Dict = DefaultDict
		if c.ModelDir != DefaultModelDir {
			// A custom model directory usually sits next to its own dictionary.
			c.Dict = filepath.Join(filepath.Dir(c.ModelDir), "cmudict-en-us.dict")
		}
	}
	if c.LM == "" {
		c.LM = DefaultLM
		if c.ModelDir != DefaultModelDir {
			c.LM = filepath.Join(filepath.Dir(c.ModelDir), "en-us.lm.bin")
		}
	}
	if c.Decoders <= 0 {
		// A decoder per core for the pool's batch calls, and one per stream: each presenter
		// of a full stage (6) speaking at once streams their partials. Decoders load only
		// when needed, so a single presenter costs what it did.
		c.Decoders = runtime.NumCPU() + 6
	}
	if c.Region == "" {
		c.Region = "local"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
