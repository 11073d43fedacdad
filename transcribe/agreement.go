package transcribe

import "strings"

// localAgreement stabilises partials of a batch engine that re-decodes the growing utterance
// (LocalAgreement-2, Macháček et al. 2023): a word is committed once two consecutive
// hypotheses agree on it and everything before it. A partial shows the committed words plus
// the tail of the latest hypothesis, so what a viewer has read does not flicker.
type localAgreement struct {
	prev      []string
	committed []string
}

// update takes a new hypothesis and returns the text to show.
func (a *localAgreement) update(text string) string {
	hyp := strings.Fields(text)
	if a.prev != nil {
		n := commonPrefix(a.prev, hyp)
		if n > len(a.committed) && commonPrefix(a.committed, hyp) == len(a.committed) {
			a.committed = append(a.committed[:0:0], hyp[:n]...)
		}
	}
	a.prev = hyp
	shown := append([]string(nil), a.committed...)
	if len(hyp) > len(a.committed) {
		shown = append(shown, hyp[len(a.committed):]...)
	}
	return strings.Join(shown, " ")
}

// commonPrefix is the number of leading words a and b share, ignoring case.
func commonPrefix(a, b []string) int {
	n := 0
	for n < len(a) && n < len(b) && strings.EqualFold(a[n], b[n]) {
		n++
	}
	return n
}
