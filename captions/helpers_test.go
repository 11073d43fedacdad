package captions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// metricValue reads one sample from a registry: the sum over series whose labels include
// the given name=value pairs.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
	}
	return sum
}

// sseEvent is one event as an EventSource would see it.
type sseEvent struct {
	id    string
	hasID bool
	data  string
}

// parseSSE parses a byte stream of SSE frames the way the WHATWG algorithm does (the subset
// we emit: id, event, data fields; blank line dispatches). It fails on anything else, so an
// encoding change that a browser would misread breaks the tests.
func parseSSE(t testing.TB, stream []byte) []sseEvent {
	t.Helper()
	if len(stream) > 0 && !bytes.HasSuffix(stream, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", stream)
	}
	var out []sseEvent
	var cur sseEvent
	var dataLines []string
	for _, line := range strings.Split(strings.TrimSuffix(string(stream), "\n"), "\n") {
		if line == "" {
			cur.data = strings.Join(dataLines, "\n")
			out = append(out, cur)
			cur, dataLines = sseEvent{}, nil
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			cur.id, cur.hasID = value, true
		case "data":
			dataLines = append(dataLines, value)
		default:
			t.Fatalf("unexpected SSE field %q in %q", field, line)
		}
	}
	return out
}

// decodeFrame checks a frame's two encodings against each other and returns the caption.
func decodeFrame(t testing.TB, f Frame) Caption {
	t.Helper()
	evs := parseSSE(t, f.SSE)
	if len(evs) != 1 {
		t.Fatalf("frame holds %d events: %q", len(evs), f.SSE)
	}
	ev := evs[0]
	if ev.data != string(f.JSON) {
		t.Fatalf("SSE data %q != JSON %q", ev.data, f.JSON)
	}
	var c Caption
	if err := json.Unmarshal(f.JSON, &c); err != nil {
		t.Fatalf("frame JSON: %v: %q", err, f.JSON)
	}
	if c.Final != ev.hasID || (ev.hasID && ev.id != strconv.FormatInt(c.Seq, 10)) {
		t.Fatalf("final=%v seq=%d but SSE id %q (present %v)", c.Final, c.Seq, ev.id, ev.hasID)
	}
	if f.Seq != c.Seq || f.Final != c.Final {
		t.Fatalf("frame header seq=%d final=%v, JSON seq=%d final=%v", f.Seq, f.Final, c.Seq, c.Final)
	}
	return c
}

// memStore is the part of the real store's contract Resume depends on: finals are stored
// (in Seq order) before they are published.
type memStore struct {
	mu     sync.Mutex
	finals []Caption
}

func (s *memStore) put(c Caption) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finals = append(s.finals, c)
}

func (s *memStore) after(lang string, after int64) ([]Caption, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Caption
	for _, c := range s.finals {
		if c.Lang == lang && c.Seq > after {
			out = append(out, c)
		}
	}
	return out, nil
}

// final stores then publishes a final, as the pipeline does.
func final(h *Hub, st *memStore, lang string) Caption {
	seq := h.NextSeq()
	c := Caption{ID: fmt.Sprintf("u%d", seq), Seq: seq, Final: true, StartMS: seq * 1000,
		EndMS: seq*1000 + 900, Text: fmt.Sprintf("final number %d", seq), Lang: lang}
	st.put(c)
	h.Publish(c)
	return c
}
