package wer

import "testing"

func TestWER(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp string
		want     float64
	}{
		{"the cat sat", "the cat sat", 0},
		{"The cat, sat.", "the cat sat", 0},
		{"the cat sat", "the bat sat", 1.0 / 3},
		{"the cat sat", "the cat", 1.0 / 3},
		{"the cat sat", "the cat sat down now", 2.0 / 3},
		{"", "", 0},
		{"", "noise", 1},
		{"one two", "", 1},
	} {
		if got := Rate(tc.ref, tc.hyp); got != tc.want {
			t.Errorf("Rate(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, tc.want)
		}
	}
}
