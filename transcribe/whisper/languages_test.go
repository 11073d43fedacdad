package whisper

import (
	"regexp"
	"testing"

	"lectern/transcribe"
)

func TestWhisperLanguagesAreISO6391(t *testing.T) {
	e, err := New(Config{URLs: []string{"http://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	langs := transcribe.Languages(e)
	iso := regexp.MustCompile(`^[a-z]{2}$`)
	seen := map[string]bool{}
	for _, l := range langs {
		if !iso.MatchString(l) || seen[l] {
			t.Errorf("%q is not a distinct ISO 639-1 code", l)
		}
		seen[l] = true
	}
	for _, l := range []string{"en", "es", "de", "fr", "zh", "ja", "pt"} {
		if !seen[l] {
			t.Errorf("%s missing from Whisper's languages", l)
		}
	}
	langs[0] = "xx"
	if transcribe.Languages(e)[0] == "xx" {
		t.Error("the caller can change the engine's list")
	}
}
