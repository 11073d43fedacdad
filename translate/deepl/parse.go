package deepl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"lectern/translate/internal/httpjson"
)

// parseTranslations reads {"translations":[{"detected_source_language","text"}]} and checks
// that there is one translation per text sent.
func parseTranslations(b []byte, want int) ([]string, error) {
	var r struct {
		Translations []struct {
			DetectedSourceLanguage string `json:"detected_source_language"`
			Text                   string `json:"text"`
		} `json:"translations"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding translations: %w", err)
	}
	if len(r.Translations) != want {
		return nil, fmt.Errorf("got %d translations for %d texts", len(r.Translations), want)
	}
	out := make([]string, want)
	for i, t := range r.Translations {
		out[i] = t.Text
	}
	return out, nil
}

// parseLanguages reads [{"language":"EN-GB","name":…}] into lower-case base codes, deduped.
func parseLanguages(b []byte) ([]string, error) {
	var r []struct {
		Language string `json:"language"`
		Name     string `json:"name"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding languages: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range r {
		code, _, _ := strings.Cut(strings.ToLower(l.Language), "-")
		if code == "" || seen[code] {
			continue
		}
		seen[code] = true
		out = append(out, code)
	}
	if len(out) == 0 {
		return nil, errors.New("no languages listed")
	}
	return out, nil
}

// errorMessage reads DeepL's {"message": "...", "detail": "..."} error body.
func errorMessage(b []byte) string {
	var r struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}
	if json.Unmarshal(b, &r) != nil || r.Message == "" {
		return httpjson.Text(b)
	}
	if r.Detail != "" {
		return r.Message + ": " + r.Detail
	}
	return r.Message
}
