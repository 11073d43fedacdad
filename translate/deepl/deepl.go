// Package deepl translates with the DeepL API v2 (https://developers.deepl.com).
package deepl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"lectern/translate"
	"lectern/translate/internal/httpjson"
)

// MaxBatch is DeepL's limit of texts per request.
const MaxBatch = 50

// StatusQuotaExceeded is DeepL's own status for a used-up character quota.
const StatusQuotaExceeded = 456

// Config of a DeepL translator.
type Config struct {
	// Key is the DeepL authentication key. Required.
	Key string
	// URL of the API, "https://api.deepl.com". Default: the free host for keys ending in
	// ":fx", else the pro host. Tests point it at an httptest server.
	URL string
	// Region label, default "eu" (DeepL processes in the EU).
	Region string
	// Targets maps a bare language to the variant DeepL wants as a target ("en" → "EN-US":
	// plain "EN" and "PT" are deprecated targets). Default {"en": "EN-US", "pt": "PT-BR"}.
	Targets map[string]string
	// BatchSize texts per request, at most MaxBatch (default).
	BatchSize int
	// Client, default http.DefaultClient; deadlines come from the context.
	Client *http.Client
}

// Translator calls DeepL.
type Translator struct {
	cfg    Config
	header http.Header
}

var _ translate.Translator = (*Translator)(nil)

// New checks the configuration; it does not call DeepL.
func New(cfg Config) (*Translator, error) {
	if cfg.Key == "" {
		return nil, errors.New("deepl: no authentication key")
	}
	if cfg.URL == "" {
		cfg.URL = "https://api.deepl.com"
		if strings.HasSuffix(cfg.Key, ":fx") {
			cfg.URL = "https://api-free.deepl.com"
		}
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.Region == "" {
		cfg.Region = "eu"
	}
	if cfg.Targets == nil {
		cfg.Targets = map[string]string{"en": "EN-US", "pt": "PT-BR"}
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > MaxBatch {
		cfg.BatchSize = MaxBatch
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	h := http.Header{}
	h.Set("Authorization", "DeepL-Auth-Key "+cfg.Key)
	return &Translator{cfg: cfg, header: h}, nil
}

func (t *Translator) Name() string   { return "deepl" }
func (t *Translator) Region() string { return t.cfg.Region }

// URL is the API base in use (the free or pro host).
func (t *Translator) URL() string { return t.cfg.URL }

// Languages combines DeepL's source and target lists; variants ("EN-GB") are reported by
// their base language.
func (t *Translator) Languages(ctx context.Context) ([]translate.Pair, error) {
	var lists [2][]string
	for i, typ := range []string{"source", "target"} {
		b, err := httpjson.Do(ctx, t.cfg.Client, http.MethodGet, t.cfg.URL+"/v2/languages?type="+url.QueryEscape(typ), t.header, nil)
		if err != nil {
			return nil, t.wrap(err)
		}
		langs, err := parseLanguages(b)
		if err != nil {
			return nil, fmt.Errorf("deepl: languages: %w", err)
		}
		lists[i] = langs
	}
	var out []translate.Pair
	for _, from := range lists[0] {
		for _, to := range lists[1] {
			if from != to {
				out = append(out, translate.Pair{From: from, To: to})
			}
		}
	}
	return out, nil
}

type translateRequest struct {
	Text       []string `json:"text"`
	SourceLang string   `json:"source_lang,omitempty"`
	TargetLang string   `json:"target_lang"`
}

// Translate sends the non-empty texts in requests of at most BatchSize.
func (t *Translator) Translate(ctx context.Context, texts []string, from, to string) ([]string, error) {
	target := t.cfg.Targets[to]
	if target == "" {
		target = strings.ToUpper(to)
	}
	return translate.InBatches(texts, t.cfg.BatchSize, func(batch []string) ([]string, error) {
		req := translateRequest{Text: batch, SourceLang: strings.ToUpper(from), TargetLang: target}
		b, err := httpjson.Do(ctx, t.cfg.Client, http.MethodPost, t.cfg.URL+"/v2/translate", t.header, req)
		if err != nil {
			return nil, t.wrap(err)
		}
		res, err := parseTranslations(b, len(batch))
		if err != nil {
			return nil, fmt.Errorf("deepl: %w", err)
		}
		return res, nil
	})
}

func (t *Translator) wrap(err error) error {
	return httpjson.Wrap("deepl", err, errorMessage, classify)
}

// classify: 456 is DeepL's quota status (distinct from 429, backs off for long).
func classify(code int) error {
	if code == StatusQuotaExceeded {
		return translate.ErrQuota
	}
	return httpjson.Classify(code)
}
