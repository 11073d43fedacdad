package sphinx

import "strings"

// cleanWord maps a decoder token to the word a reader should see, or "" for tokens that are
// not words: sentence markers (<s>, </s>), silence (<sil>), fillers ([NOISE], ++UH++) and
// the "(2)" suffix PocketSphinx puts on alternate pronunciations ("read(2)" → "read").
func cleanWord(w string) string {
	if w == "" || w == "NULL" {
		return ""
	}
	switch w[0] {
	case '<', '[', '+':
		return ""
	}
	if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
		w = w[:i]
	}
	return w
}

// cleanHyp applies cleanWord to every token of a hypothesis string.
func cleanHyp(h string) string {
	f := strings.Fields(h)
	out := f[:0]
	for _, w := range f {
		if w = cleanWord(w); w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// toInt16 converts float PCM in [-1, 1] to the 16-bit samples PocketSphinx reads, clipping.
func toInt16(dst []int16, pcm []float32) []int16 {
	dst = dst[:0]
	for _, v := range pcm {
		s := v * 32767
		switch {
		case s > 32767:
			s = 32767
		case s < -32768:
			s = -32768
		}
		dst = append(dst, int16(s))
	}
	return dst
}
