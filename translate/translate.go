// Package translate turns final captions into captions in the languages viewers are reading.
//
// The Stage translates each final once per language in demand (a viewer reads it or the host
// pre-selected it), caches and stores the result and publishes it on that language's stream.
// Translators are pluggable, one sub-package each (apertium, libretranslate, deepl, openai);
// this package knows none of them, only the Translator interface.
package translate

import (
	"context"
	"errors"
)

// Translator translates batches of plain-text lines. Implementations must be safe for
// concurrent use. Translate returns exactly len(texts) results, in order, or an error.
type Translator interface {
	// Name identifies the translator in metrics, logs and the status endpoint ("apertium").
	Name() string
	// Region is the processing region label (local, eu, us, …) checked against a webinar's
	// allowed regions before any text is sent.
	Region() string
	// Languages lists the directions offered. It may call the back end.
	Languages(ctx context.Context) ([]Pair, error)
	// Translate translates texts from one ISO 639-1 language to another. Batching matters
	// for HTTP back ends: one request for many lines.
	Translate(ctx context.Context, texts []string, from, to string) ([]string, error)
}

// Pair is one direction a translator offers. Pivot names the intermediate language when the
// translator goes through one (Apertium en→fr through es), empty for a direct pair.
type Pair struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Pivot string `json:"pivot,omitempty"`
}

// Errors translators wrap so the stage can decide how long to back off.
var (
	// ErrQuota: the account's quota is used up (DeepL 456). Retrying soon is pointless.
	ErrQuota = errors.New("translation quota exceeded")
	// ErrAuth: the back end refused the credentials (401/403). Needs an operator.
	ErrAuth = errors.New("translator refused credentials")
	// ErrRateLimited: too many requests (429); a short back-off helps.
	ErrRateLimited = errors.New("translator rate limited")
	// ErrUnsupported: the translator does not offer the requested direction.
	ErrUnsupported = errors.New("language pair not supported")
	// ErrUnavailable: no allowed, healthy translator could produce the translation.
	ErrUnavailable = errors.New("translation unavailable")
)

// StatusUnavailable is the Caption.Status of a line published in the source language because
// its translation could not be produced.
const StatusUnavailable = "translation unavailable"
