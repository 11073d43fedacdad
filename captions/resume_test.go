package captions

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// collect reads the replay and then live frames until it has seen the final with seq last,
// returning the final seqs in order. Duplicates and gaps show up as a wrong list. It returns
// errors instead of failing so it can run on any goroutine.
func collect(s *Subscriber, replay [][]byte, last int64) ([]int64, error) {
	var seqs []int64
	for _, b := range replay {
		var c Caption
		id, data, ok := splitFrame(b)
		if !ok {
			return seqs, fmt.Errorf("malformed replay frame %q", b)
		}
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return seqs, err
		}
		if !c.Final || id != strconv.FormatInt(c.Seq, 10) {
			return seqs, fmt.Errorf("replayed frame id %q for %+v", id, c)
		}
		seqs = append(seqs, c.Seq)
	}
	for len(seqs) == 0 || seqs[len(seqs)-1] < last {
		f, ok := <-s.Frames()
		if !ok {
			return seqs, fmt.Errorf("frames closed early: %v (err %v)", seqs, s.Err())
		}
		var c Caption
		if err := json.Unmarshal(f.JSON, &c); err != nil {
			return seqs, err
		}
		if c.Final {
			seqs = append(seqs, c.Seq)
		}
	}
	return seqs, nil
}

// splitFrame takes apart one final's SSE frame: "id: N\ndata: JSON\n\n".
func splitFrame(b []byte) (id, data string, ok bool) {
	s, ok := strings.CutSuffix(string(b), "\n\n")
	if !ok {
		return "", "", false
	}
	idLine, dataLine, ok := strings.Cut(s, "\n")
	if !ok || !strings.HasPrefix(idLine, "id: ") || !strings.HasPrefix(dataLine, "data: ") {
		return "", "", false
	}
	return idLine[4:], dataLine[6:], true
}

func span(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// The switch-over: finals published while history is being read are in both the history
// and the live queue (dropped from live), or only live; either way each arrives once.
func TestResumeSwitchOver(t *testing.T) {
	h, _ := newTestHub(t, HubConfig{StartSeq: 100})
	st := &memStore{}
	for range 10 {
		final(h, st, "en") // 101..110
	}
	final(h, st, "es") // 111: another language, must not appear
	history := func(lang string, after int64) ([]Caption, error) {
		final(h, st, "en") // 112, 113: stored and published after Subscribe, before the read
		final(h, st, "en")
		h.Publish(Caption{ID: "p", Seq: h.NextSeq(), Lang: "en", Text: "stale partial"}) // 114
		out, err := st.after(lang, after)
		final(h, st, "en")                                                               // 115: stored after the read: live only
		h.Publish(Caption{ID: "q", Seq: h.NextSeq(), Lang: "en", Text: "fresh partial"}) // 116
		return out, err
	}
	s, replay, err := h.Resume("en", 103, history)
	if err != nil {
		t.Fatal(err)
	}
	final(h, st, "en") // 117
	want := []int64{104, 105, 106, 107, 108, 109, 110, 112, 113, 115, 117}
	if got, err := collect(s, replay, 117); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("resumed finals %v (%v), want %v", got, err, want)
	}
	if len(replay) != 9 {
		t.Errorf("replayed %d finals, want 9 (104..113 less 111)", len(replay))
	}
	// The partial published while history was read is older than the last replayed final
	// and was dropped; the one after it was kept.
	h2, _ := newTestHub(t, HubConfig{})
	st2 := &memStore{}
	final(h2, st2, "en")
	s2, _, err := h2.Resume("en", 0, func(lang string, after int64) ([]Caption, error) {
		h2.Publish(Caption{ID: "old", Seq: 1, Lang: "en"}) // seq <= replayed: stale
		h2.Publish(Caption{ID: "zero", Lang: "en"})        // seq 0: always delivered
		return st2.after(lang, after)
	})
	if err != nil {
		t.Fatal(err)
	}
	h2.Publish(Caption{ID: "new", Seq: 2, Lang: "en"})
	for _, id := range []string{"zero", "new"} {
		if c := decodeFrame(t, <-s2.Frames()); c.ID != id {
			t.Errorf("live frame %q, want %q", c.ID, id)
		}
	}
}

func TestResumeHistoryError(t *testing.T) {
	h, _ := newTestHub(t, HubConfig{})
	boom := errors.New("disk on fire")
	s, replay, err := h.Resume("en", 5, func(string, int64) ([]Caption, error) { return nil, boom })
	if !errors.Is(err, boom) || s != nil || replay != nil {
		t.Fatalf("Resume = %v, %v, %v", s, replay, err)
	}
	if len(h.Languages()) != 0 {
		t.Errorf("failed resume left a subscriber: %v", h.Languages())
	}
}

// A client ahead of the store (or replaying nothing) must still skip live finals it has.
func TestResumeAfterBeyondHistory(t *testing.T) {
	h, _ := newTestHub(t, HubConfig{StartSeq: 10})
	st := &memStore{}
	s, replay, err := h.Resume("en", 12, st.after)
	if err != nil || len(replay) != 0 {
		t.Fatalf("Resume: %d frames, %v", len(replay), err)
	}
	for range 4 {
		final(h, st, "en") // 11..14
	}
	if got, err := collect(s, nil, 14); err != nil || fmt.Sprint(got) != "[13 14]" {
		t.Fatalf("got %v (%v), want [13 14]", got, err)
	}
}

// Many clients resume at random points while a publisher runs: each sees every final after
// its Last-Event-ID exactly once, in order.
func TestResumeConcurrent(t *testing.T) {
	const total = 300
	h, _ := newTestHub(t, HubConfig{ClientQueue: total + 1})
	st := &memStore{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for range total {
			final(h, st, "en")
		}
	})
	for i := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for range 5 {
				after := rng.Int64N(total)
				s, replay, err := h.Resume("en", after, st.after)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := collect(s, replay, total)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(span(after+1, total)) {
					t.Errorf("after %d: got %d finals %v (%v)", after, len(got), got, err)
				}
				s.Close()
			}
		})
	}
	wg.Wait()
}
