package translate

import (
	"fmt"
	"strings"
)

// InBatches translates texts through call, at most size non-empty texts per call, and puts
// the answers back in place; empty texts stay empty and cost nothing. HTTP translators use it
// so a long export becomes a few requests, never one per line and never one too large.
func InBatches(texts []string, size int, call func(batch []string) ([]string, error)) ([]string, error) {
	out := make([]string, len(texts))
	var idx []int
	for i, s := range texts {
		if strings.TrimSpace(s) != "" {
			idx = append(idx, i)
		}
	}
	for start := 0; start < len(idx); start += size {
		batch := idx[start:min(start+size, len(idx))]
		in := make([]string, len(batch))
		for j, i := range batch {
			in[j] = texts[i]
		}
		res, err := call(in)
		if err != nil {
			return nil, err
		}
		if len(res) != len(in) {
			return nil, fmt.Errorf("%d translations for %d texts", len(res), len(in))
		}
		for j, i := range batch {
			out[i] = res[j]
		}
	}
	return out, nil
}
