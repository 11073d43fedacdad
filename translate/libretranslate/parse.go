package libretranslate

import (
	"encoding/json"
	"errors"
	"fmt"

	"lectern/translate"
	"lectern/translate/internal/httpjson"
)

// parseTranslation reads {"translatedText": "…"} or {"translatedText": ["…", …]} and checks
// there is one text per input.
func parseTranslation(b []byte, want int) ([]string, error) {
	var r struct {
		TranslatedText json.RawMessage `json:"translatedText"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding translation: %w", err)
	}
	if len(r.TranslatedText) == 0 {
		return nil, errors.New("answer has no translatedText")
	}
	var list []string
	if r.TranslatedText[0] == '"' {
		var s string
		if err := json.Unmarshal(r.TranslatedText, &s); err != nil {
			return nil, fmt.Errorf("decoding translatedText: %w", err)
		}
		list = []string{s}
	} else if err := json.Unmarshal(r.TranslatedText, &list); err != nil {
		return nil, fmt.Errorf("decoding translatedText: %w", err)
	}
	if len(list) != want {
		return nil, fmt.Errorf("got %d translations for %d texts", len(list), want)
	}
	return list, nil
}

// parseLanguages reads [{"code":"en","name":"English","targets":["es",…]}].
func parseLanguages(b []byte) ([]translate.Pair, error) {
	var r []struct {
		Code    string   `json:"code"`
		Name    string   `json:"name"`
		Targets []string `json:"targets"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding languages: %w", err)
	}
	var out []translate.Pair
	for _, l := range r {
		for _, to := range l.Targets {
			if l.Code != "" && to != "" && to != l.Code {
				out = append(out, translate.Pair{From: l.Code, To: to})
			}
		}
	}
	return out, nil
}

// errorMessage reads LibreTranslate's {"error": "…"} body.
func errorMessage(b []byte) string {
	var r struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &r) != nil || r.Error == "" {
		return httpjson.Text(b)
	}
	return r.Error
}
