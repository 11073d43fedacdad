package transcribe

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// punctuator is implemented by engines whose output already has casing and punctuation
// (Whisper); text from the others (PocketSphinx: lower case, no punctuation) is tidied.
type punctuator interface{ Punctuates() bool }

func enginePunctuates(e Engine) bool {
	p, ok := e.(punctuator)
	return ok && p.Punctuates()
}

// Punctuate tidies recogniser output for reading: collapses spaces, capitalises the first
// word, words after a sentence end and the pronoun "I" (and its contractions), and ends the
// text with a full stop when final is set and it has no closing punctuation.
func Punctuate(text string, final bool) string {
	words := strings.Fields(text)
	if len(words) == 0 {
		return ""
	}
	start := true
	for i, w := range words {
		lw := strings.ToLower(w)
		if lw == "i" || strings.HasPrefix(lw, "i'") {
			w = "I" + w[1:]
		}
		if start {
			w = capitalise(w)
		}
		words[i] = w
		last, _ := utf8.DecodeLastRuneInString(w)
		start = last == '.' || last == '?' || last == '!'
	}
	out := strings.Join(words, " ")
	if final {
		last, _ := utf8.DecodeLastRuneInString(out)
		switch {
		case last == '.' || last == '?' || last == '!' || last == '…':
		case last == ',' || last == ';' || last == ':':
			out = out[:len(out)-1] + "."
		default:
			out += "."
		}
	}
	return out
}

func capitalise(w string) string {
	r, n := utf8.DecodeRuneInString(w)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return w
	}
	return string(unicode.ToUpper(r)) + w[n:]
}
