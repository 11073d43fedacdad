package translate

import (
	"strings"

	"lectern/captions"
)

// partialState follows the utterance a webinar is speaking now.
type partialState struct {
	id       string   // caption ID of the utterance
	words    []string // words of the previous partial
	sent     int      // words of the stable prefix last translated
	lastSent int64    // clock (unix nanos) of that translation
	done     bool     // its final was submitted: no more partials
}

// SubmitPartial may translate the stable prefix of a long partial. It never blocks.
//
// Why only the stable prefix, only when long, and only every PartialInterval: a recogniser
// revises the last words of a partial, and machine translation reorders words, so translating
// every partial makes the translated line flicker more than it informs. Words that two
// successive partials agree on rarely change, and a prefix of PartialMinWords or more is
// worth showing to a reader who would otherwise wait for the whole cue (up to 7 s). Each one
// costs a translator call, which is nothing for Apertium (a few ms) but is billed per
// character by DeepL and OpenAI: hence off by default, and at most one per interval.
//
// Translated partials are published with the utterance's ID and Final false, so viewers
// replace them in place; they are not cached or stored, and a failure publishes nothing (the
// final will carry the status). A partial is never queued after its final.
func (s *Stage) SubmitPartial(webinarID string, partial captions.Caption) {
	if s.cfg.PartialInterval <= 0 || partial.Final || s.ctx.Err() != nil {
		return
	}
	langs := s.demand.in(webinarID, partial.Lang)
	if len(langs) == 0 {
		return
	}
	words := strings.Fields(partial.Text)
	s.pmu.Lock()
	defer s.pmu.Unlock()
	st := s.partials[webinarID]
	if st == nil || st.id != partial.ID {
		st = &partialState{id: partial.ID}
		s.partials[webinarID] = st
	}
	if st.done {
		return
	}
	stable := 0
	for stable < len(words) && stable < len(st.words) && words[stable] == st.words[stable] {
		stable++
	}
	st.words = words
	now := s.cfg.Now().UnixNano()
	if stable < s.cfg.PartialMinWords || stable <= st.sent || (st.sent > 0 && now-st.lastSent < int64(s.cfg.PartialInterval)) {
		return
	}
	st.sent, st.lastSent = stable, now
	p := partial
	p.Text = strings.Join(words[:stable], " ")
	select {
	case s.queues[shard(webinarID, len(s.queues))] <- job{webinarID: webinarID, final: p, partial: true, langs: langs}:
	default: // partials are disposable; the final follows
	}
}

func (s *Stage) translatePartial(webinarID string, src captions.Caption, lang string) {
	out, pivot, err := s.translate(s.ctx, webinarID, []string{src.Text}, src.Lang, lang, s.cfg.Timeout)
	if err != nil {
		return
	}
	s.m.captions.WithLabelValues("partial").Inc()
	s.cfg.Publish(webinarID, translated(src, lang, out[0], pivot))
}
