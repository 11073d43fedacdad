// Package wer scores recognised text against what was said: the word error rate used by
// the caption tests and benchmarks.
package wer

import (
	"strings"
	"unicode"
)

// Words normalises text for scoring: lower case, punctuation dropped (apostrophes kept).
func Words(s string) []string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			return unicode.ToLower(r)
		}
		return ' '
	}, s)
	return strings.Fields(s)
}

// Rate is the word error rate of hyp against ref: (substitutions + deletions + insertions) /
// reference words.
func Rate(ref, hyp string) float64 {
	r, h := Words(ref), Words(hyp)
	if len(r) == 0 {
		if len(h) == 0 {
			return 0
		}
		return 1
	}
	return float64(Errors(r, h)) / float64(len(r))
}

// Errors is the word-level Levenshtein distance: what a corpus score sums over clips.
func Errors(r, h []string) int {
	prev := make([]int, len(h)+1)
	cur := make([]int, len(h)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(r); i++ {
		cur[0] = i
		for j := 1; j <= len(h); j++ {
			cost := 1
			if r[i-1] == h[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(h)]
}
