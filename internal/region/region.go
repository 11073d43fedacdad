// Package region decides which processing regions may receive a webinar's audio and text.
// A region is a label an operator gives each back end ("local", "eu", "us", ...); the account
// policy and each webinar may narrow the set, and a back end outside it is never called.
package region

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Set is a set of allowed regions, or "any region". The zero Set allows any region.
type Set struct {
	limited bool
	labels  []string // sorted, unique; meaningful only when limited
}

// Of is the set of the given labels; no labels means any region (the policy's and the
// webinar's "empty = any").
func Of(labels []string) Set {
	if len(labels) == 0 {
		return Set{}
	}
	l := slices.Clone(labels)
	slices.Sort(l)
	return Set{limited: true, labels: slices.Compact(l)}
}

// None allows no region at all.
func None() Set { return Set{limited: true, labels: []string{}} }

// Intersect is what both sets allow. Two limited sets that share nothing allow nothing.
func (s Set) Intersect(o Set) Set {
	switch {
	case !s.limited:
		return o
	case !o.limited:
		return s
	}
	out := []string{}
	for _, l := range s.labels {
		if slices.Contains(o.labels, l) {
			out = append(out, l)
		}
	}
	return Set{limited: true, labels: out}
}

// Allows reports whether a back end labelled region may be called.
func (s Set) Allows(region string) bool {
	return !s.limited || slices.Contains(s.labels, region)
}

// Labels lists the allowed regions; nil means any.
func (s Set) Labels() []string {
	if !s.limited {
		return nil
	}
	return slices.Clone(s.labels)
}

// String is "any" or the labels, for messages and logs.
func (s Set) String() string {
	switch {
	case !s.limited:
		return "any"
	case len(s.labels) == 0:
		return "none"
	}
	return strings.Join(s.labels, ", ")
}

// MaxLabels bounds a list a client sends.
const MaxLabels = 16

// label is what a region may be called: compared with back ends' flags and shown in messages
// without escaping.
var label = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks labels a client sent: at most MaxLabels, each a letter or digit followed by
// up to 63 letters, digits, '.', '_' or '-'.
func Validate(labels []string) error {
	if len(labels) > MaxLabels {
		return fmt.Errorf("at most %d regions", MaxLabels)
	}
	for _, l := range labels {
		if !label.MatchString(l) {
			return fmt.Errorf("%q is not a region label (letters, digits, '.', '_', '-'; at most 64)", l)
		}
	}
	return nil
}
