package transcribe

import "testing"

type englishEngine struct{ *spanEngine }

func (englishEngine) Languages() []string { return []string{"en"} }

func TestEngineLanguages(t *testing.T) {
	if got := Languages(&spanEngine{}); got != nil {
		t.Errorf("an engine that does not say lists %v", got)
	}
	langs := Languages(englishEngine{&spanEngine{}})
	for tag, want := range map[string]bool{"en": true, "en-GB": true, "EN": true, "es": false, "pt-BR": false, "": false} {
		if got := SupportsLanguage(langs, tag); got != want {
			t.Errorf("SupportsLanguage(%v, %q) = %v, want %v", langs, tag, got, want)
		}
	}
	if !SupportsLanguage(nil, "xx") {
		t.Error("an unknown list refused a language")
	}
}
