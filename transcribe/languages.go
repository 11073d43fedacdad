package transcribe

import (
	"slices"
	"strings"
)

// languager is offered by engines that know which spoken languages they transcribe.
type languager interface{ Languages() []string }

// Languages lists the spoken languages (ISO 639-1 codes) engine e transcribes, or nil when the
// engine does not say.
func Languages(e Engine) []string {
	if l, ok := e.(languager); ok {
		return l.Languages()
	}
	return nil
}

// SupportsLanguage reports whether the spoken language tag ("en", "pt-BR") is one of langs,
// by its primary subtag. A nil list supports every language (the engine did not say).
func SupportsLanguage(langs []string, tag string) bool {
	if langs == nil {
		return true
	}
	primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return slices.Contains(langs, primary)
}
