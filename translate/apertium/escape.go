package apertium

import "strings"

// special are the characters Apertium's stream format reserves (superblanks, lexical units,
// tags, word-bound blanks) plus '~', which post-generation would otherwise eat. We escape
// them ourselves instead of running apertium-destxt, which does not flush on NUL.
const special = `\[]^$@/<>{}~`

// escape turns a caption line into Apertium stream input. NUL would end the request early,
// so it becomes a space. A trailing blank lets the analyser see the sentence end: without it
// a final "." is held back waiting for more input and lost.
func escape(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == 0:
			b.WriteByte(' ')
		case strings.ContainsRune(special, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(' ')
	return b.String()
}

// unescape undoes the stream format on the way out, as apertium-retxt would: "\x" becomes
// "x", a superblank "[...]" becomes its content, and runs of spaces left by removed tokens
// collapse to one.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	esc, space := false, false
	for _, r := range s {
		if esc {
			esc = false
			b.WriteRune(r)
			space = false
			continue
		}
		switch r {
		case '\\':
			esc = true
			continue
		case '[', ']':
			continue
		case ' ', '\t':
			if space {
				continue
			}
			space = true
			b.WriteByte(' ')
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
