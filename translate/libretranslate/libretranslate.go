// Package libretranslate translates with a LibreTranslate server
// (https://github.com/LibreTranslate/LibreTranslate), usually self-hosted.
package libretranslate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"lectern/translate"
	"lectern/translate/internal/httpjson"
)

// Config of a LibreTranslate translator.
type Config struct {
	// URL of the server, "http://libretranslate:5000". Required.
	URL string
	// APIKey, when the server requires one.
	APIKey string
	// Region label. Default "local": LibreTranslate is meant to run next to Lectern; set the
	// real region when it does not.
	Region string
	// BatchSize texts per request (servers may set LT_BATCH_LIMIT). Default 25.
	BatchSize int
	// Client, default http.DefaultClient; deadlines come from the context.
	Client *http.Client
}

// Translator calls LibreTranslate.
type Translator struct{ cfg Config }

var _ translate.Translator = (*Translator)(nil)

// New checks the configuration; it does not call the server.
func New(cfg Config) (*Translator, error) {
	if cfg.URL == "" {
		return nil, errors.New("libretranslate: no URL")
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.Region == "" {
		cfg.Region = "local"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 25
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	return &Translator{cfg: cfg}, nil
}

func (t *Translator) Name() string   { return "libretranslate" }
func (t *Translator) Region() string { return t.cfg.Region }

// Languages reads GET /languages: each language with the targets it translates to.
func (t *Translator) Languages(ctx context.Context) ([]translate.Pair, error) {
	b, err := httpjson.Do(ctx, t.cfg.Client, http.MethodGet, t.cfg.URL+"/languages", nil, nil)
	if err != nil {
		return nil, t.wrap(err)
	}
	pairs, err := parseLanguages(b)
	if err != nil {
		return nil, fmt.Errorf("libretranslate: languages: %w", err)
	}
	return pairs, nil
}

type translateRequest struct {
	Q      []string `json:"q"`
	Source string   `json:"source"`
	Target string   `json:"target"`
	Format string   `json:"format"`
	APIKey string   `json:"api_key,omitempty"`
}

// Translate sends the non-empty texts as q arrays of at most BatchSize.
func (t *Translator) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	return translate.InBatches(texts, t.cfg.BatchSize, func(batch []string) ([]string, error) {
		req := translateRequest{Q: batch, Source: from, Target: to, Format: "text", APIKey: t.cfg.APIKey}
		b, err := httpjson.Do(ctx, t.cfg.Client, http.MethodPost, t.cfg.URL+"/translate", nil, req)
		if err != nil {
			return nil, t.wrap(err)
		}
		res, err := parseTranslation(b, len(batch))
		if err != nil {
			return nil, fmt.Errorf("libretranslate: %w", err)
		}
		return res, nil
	})
}

func (t *Translator) wrap(err error) error {
	return httpjson.Wrap("libretranslate", err, errorMessage, httpjson.Classify)
}
