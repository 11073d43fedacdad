package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/models"
	"lectern/retranscribe"
	"lectern/transcribe"
	"lectern/transcribe/sphinx"
	"lectern/transcribe/whisper"
	"lectern/translate"
	"lectern/translate/apertium"
	"lectern/translate/deepl"
	"lectern/translate/libretranslate"
	"lectern/translate/openai"
)

// newEngine builds the configured speech engine; nil with no error means captions are off.
func newEngine(cfg Config, log *slog.Logger) (transcribe.Engine, error) {
	switch cfg.Engine {
	case "none", "":
		return nil, nil
	case "sphinx":
		return sphinx.New(sphinx.Config{Decoders: cfg.SpeechWorkers, LiveFinals: cfg.CaptionFinals == "fast", Logger: log})
	case "whisper", "openai":
		api := whisper.APIWhisperCpp
		if cfg.Engine == "openai" {
			api = whisper.APIOpenAI
		}
		return whisper.New(whisper.Config{
			URLs: splitList(cfg.EngineURLs), API: api, APIKey: cfg.EngineKey, Model: cfg.EngineModel, Region: cfg.EngineRegion,
		})
	default:
		return nil, fmt.Errorf("unknown speech engine %q (sphinx, whisper, openai or none)", cfg.Engine)
	}
}

// newPool starts the speech worker pool on eng.
func newPool(cfg Config, eng transcribe.Engine, reg prometheus.Registerer, log *slog.Logger) (*transcribe.Pool, transcribe.Config, error) {
	tc, err := transcribeConfig(cfg)
	if err != nil {
		return nil, tc, err
	}
	tc.Logger = log
	pool, err := transcribe.NewPool(eng, tc, reg)
	return pool, tc, err
}

// transcribeConfig is the pipeline configuration shared by live captions and the CLI, so
// both have the same accuracy.
func transcribeConfig(cfg Config) (transcribe.Config, error) {
	tc := transcribe.DefaultConfig()
	if cfg.SpeechWorkers > 0 {
		tc.Workers = cfg.SpeechWorkers
	}
	switch cfg.CaptionFinals {
	case "accurate":
	case "fast":
		// The streaming result is the final: a speculative early decode would only add work.
		tc.EarlyFinal = false
	default:
		return tc, fmt.Errorf("--caption-finals must be accurate or fast, not %q", cfg.CaptionFinals)
	}
	return tc, nil
}

// newTranslators builds the configured translators in preference order.
func newTranslators(cfg Config, log *slog.Logger) ([]translate.Translator, error) {
	var out []translate.Translator
	for _, name := range splitList(cfg.Translators) {
		var t translate.Translator
		var err error
		switch name {
		case "none":
			return nil, nil
		case "apertium":
			t, err = apertium.New(apertium.Config{Logger: log})
		case "libretranslate":
			t, err = libretranslate.New(libretranslate.Config{URL: cfg.LibreURL, APIKey: cfg.LibreKey, Region: cfg.LibreRegion})
		case "deepl":
			t, err = deepl.New(deepl.Config{Key: cfg.DeepLKey, URL: cfg.DeepLURL})
		case "openai":
			t, err = openai.New(openai.Config{URL: cfg.OpenAIURL, Key: cfg.OpenAIKey, Model: cfg.OpenAIModel, Region: cfg.OpenAIRegion})
		default:
			return nil, fmt.Errorf("unknown translator %q (apertium, libretranslate, deepl, openai or none)", name)
		}
		if err != nil {
			return nil, fmt.Errorf("translator %s: %w", name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// newRetranscriber starts the runner that transcribes recordings again after class, on its
// own engine instance with one worker: live webinars keep the live pool to themselves.
func newRetranscriber(ctx context.Context, cfg Config, store *models.Store, log *slog.Logger, onDone func(models.TranscriptVersion)) (*retranscribe.Runner, error) {
	rc := cfg
	rc.SpeechWorkers = 1
	if cfg.RetranscribeEngine != "" {
		rc.Engine, rc.EngineURLs, rc.EngineRegion = cfg.RetranscribeEngine, cfg.RetranscribeURLs, cfg.RetranscribeRegion
	}
	eng, err := newEngine(rc, log)
	if err != nil || eng == nil {
		return nil, err
	}
	tc, err := transcribeConfig(rc)
	if err != nil {
		return nil, err
	}
	tc.Logger = log
	return retranscribe.New(ctx, store, eng, tc, log, onDone)
}
