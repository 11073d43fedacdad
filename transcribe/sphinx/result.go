package sphinx

import (
	"strings"

	"lectern/transcribe"
)

// resultOf makes one segment of the recognised words: PocketSphinx decodes an utterance as a
// whole and has no sentence boundaries of its own.
func resultOf(words []transcribe.Word) transcribe.Result {
	if len(words) == 0 {
		return transcribe.Result{Language: "en"}
	}
	texts := make([]string, len(words))
	for i, w := range words {
		texts[i] = w.Text
	}
	text := strings.Join(texts, " ")
	return transcribe.Result{
		Text:     text,
		Language: "en",
		Segments: []transcribe.Segment{{
			Text:  text,
			Start: words[0].Start,
			End:   words[len(words)-1].End,
			Words: words,
		}},
	}
}
