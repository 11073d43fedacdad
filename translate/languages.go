package translate

import (
	"context"
	"sort"
	"time"
)

// Languages lists what the configured translators can produce from a spoken language,
// pivots included, for the watch page's caption-language picker. A translator that cannot list
// its directions right now is left out (its failure shows in Status).
func (s *Stage) Languages(from string) []string {
	return s.WebinarLanguages("", from)
}

// WebinarLanguages is Languages limited to the translators a webinar's regions allow.
func (s *Stage) WebinarLanguages(webinarID, from string) []string {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	seen := map[string]bool{}
	for _, be := range s.allowed(webinarID) {
		for k := range be.directions(ctx, s.cfg.Now(), s.cfg.LanguagesTTL, s.backoff) {
			if k[0] == from && k[1] != from {
				seen[k[1]] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
