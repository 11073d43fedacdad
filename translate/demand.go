package translate

import (
	"sort"
	"sync"
)

// demand tracks, per webinar, which languages someone is reading or the host pre-selected.
// It is a set, not a count of viewers: 1,000 Spanish readers cost one translation.
type demand struct {
	mu       sync.Mutex
	webinars map[string]*webinarDemand
	gauge    func(lang string, delta float64)
}

type webinarDemand struct {
	readers   map[string]int
	preselect map[string]bool
}

func newDemand(gauge func(string, float64)) *demand {
	return &demand{webinars: map[string]*webinarDemand{}, gauge: gauge}
}

func (w *webinarDemand) langs() map[string]bool {
	out := map[string]bool{}
	for l, n := range w.readers {
		if n > 0 {
			out[l] = true
		}
	}
	for l := range w.preselect {
		out[l] = true
	}
	return out
}

// update applies f to a webinar's demand and moves the gauge by the difference.
func (d *demand) update(webinarID string, f func(w *webinarDemand)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	w := d.webinars[webinarID]
	if w == nil {
		w = &webinarDemand{readers: map[string]int{}, preselect: map[string]bool{}}
		d.webinars[webinarID] = w
	}
	before := w.langs()
	f(w)
	after := w.langs()
	for l := range before {
		if !after[l] {
			d.gauge(l, -1)
		}
	}
	for l := range after {
		if !before[l] {
			d.gauge(l, +1)
		}
	}
	if len(after) == 0 && len(w.readers) == 0 {
		delete(d.webinars, webinarID)
	}
}

// in returns the languages in demand for a webinar, sorted, without source.
func (d *demand) in(webinarID, source string) []string {
	d.mu.Lock()
	w := d.webinars[webinarID]
	var set map[string]bool
	if w != nil {
		set = w.langs()
	}
	d.mu.Unlock()
	out := make([]string, 0, len(set))
	for l := range set {
		if l != source {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}
