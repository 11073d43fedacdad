package translate

import (
	"context"
	"fmt"

	"lectern/captions"
)

// TranslateAll returns cues translated into to, for an export. Translations stored while the
// webinar was live (or by an earlier export) are reused; the rest are translated in batches of
// BatchSize and stored, so the next export is free. Timings, IDs and Seq are the source's. It
// fails with ErrUnavailable when no allowed translator could do it: an export is not worth
// producing half-translated.
func (s *Stage) TranslateAll(ctx context.Context, webinarID, from, to string, cues []captions.Caption) ([]captions.Caption, error) {
	out := make([]captions.Caption, len(cues))
	if from == to {
		copy(out, cues)
		return out, nil
	}
	ids := make([]string, len(cues))
	for i, c := range cues {
		ids[i] = c.ID
	}
	stored, err := s.cfg.Store.Translations(ctx, webinarID, to, ids)
	if err != nil {
		return nil, fmt.Errorf("translate export %s→%s: %w", from, to, err)
	}
	var missing []int
	for i, c := range cues {
		if t, ok := stored[c.ID]; ok && t.Status == "" {
			out[i] = keepTimings(c, t, to)
			s.m.cacheHits.Inc()
			continue
		}
		if t, ok := s.cache.get(cacheKey{webinarID, c.ID, to}); ok {
			out[i] = keepTimings(c, t, to)
			s.m.cacheHits.Inc()
			continue
		}
		missing = append(missing, i)
	}
	for start := 0; start < len(missing); start += s.cfg.BatchSize {
		batch := missing[start:min(start+s.cfg.BatchSize, len(missing))]
		texts := make([]string, len(batch))
		for j, i := range batch {
			texts[j] = cues[i].Text
		}
		res, pivot, err := s.translate(ctx, webinarID, texts, from, to, s.cfg.ExportTimeout)
		if err != nil {
			return nil, fmt.Errorf("translate export: %w", err)
		}
		for j, i := range batch {
			c := translated(cues[i], to, res[j], pivot)
			c.Final = true
			if err := s.cfg.Store.SaveTranslation(ctx, webinarID, c); err != nil {
				return nil, fmt.Errorf("translate export: store %s: %w", c.ID, err)
			}
			s.cache.put(cacheKey{webinarID, c.ID, to}, c)
			out[i] = c
		}
	}
	return out, nil
}

// keepTimings takes the text of a stored translation and everything else from the source cue,
// so an export in any language has the source timings.
func keepTimings(src, t captions.Caption, lang string) captions.Caption {
	return translated(src, lang, t.Text, t.Pivot)
}
