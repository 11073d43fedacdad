package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/bench"
)

// transcriptDoc is the JSON transcript: sessions with their start, and the finals.
type transcriptDoc struct {
	Sessions []struct {
		ID      string `json:"id"`
		StartMS int64  `json:"start_ms"`
	} `json:"sessions"`
	Captions []struct {
		ID      string `json:"id"`
		StartMS int64  `json:"start_ms"`
		EndMS   int64  `json:"end_ms"`
		Text    string `json:"text"`
	} `json:"captions"`
}

// TestPresenterReconnectKeepsOneTimeline: a real pion presenter speaks (flite, Opus over
// WHIP), hangs up, comes back 2 s later and speaks again; then the server restarts and a third
// session speaks. The transcript has one timeline: sessions start in order at their wall-clock
// distance, and the exported cues are monotonic, never overlap, last at least 0.7 s, and each
// session's cues follow the previous session's.
func TestPresenterReconnectKeepsOneTimeline(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Reconnecting class")
	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	parts := [][]string{
		{"Good morning everyone and welcome to the class."},
		{"Please open your books at page twenty."},
		{"Write down three questions for the next lesson."},
	}
	var durations []time.Duration
	stored := 0
	speak := func(url string, sentences []string) {
		t.Helper()
		_, ogg, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: sentences, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := bench.PublishOgg(ctx, url, w.ID, w.StreamKey, ogg)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Send(ctx); err != nil {
			t.Fatal(err)
		}
		durations = append(durations, pub.Duration())
		stored = waitFinals(t, url, w.ID, stored+1) // this session's final is in before it leaves
		pub.Close(ctx)
	}
	speak(s.URL, parts[0])
	time.Sleep(2 * time.Second)
	speak(s.URL, parts[1])
	s.stop(t)
	s = startServer(t, dir)
	speak(s.URL, parts[2])

	var doc transcriptDoc
	if err := json.Unmarshal(get(t, s.URL+"/api/webinars/"+w.ID+"/transcript.json"), &doc); err != nil {
		t.Fatal(err)
	}
	t.Logf("sessions %+v", doc.Sessions)
	if len(doc.Sessions) != 3 {
		t.Fatalf("%d sessions in the transcript, want 3: %+v", len(doc.Sessions), doc.Sessions)
	}
	// Each session starts after the previous one's audio, its gap kept.
	for i := 1; i < len(doc.Sessions); i++ {
		if gap := doc.Sessions[i].StartMS - doc.Sessions[i-1].StartMS; gap < durations[i-1].Milliseconds() {
			t.Errorf("session %d starts %d ms after session %d, whose audio lasted %v", i, gap, i-1, durations[i-1])
		}
	}
	session := map[string]int{}
	for i, p := range doc.Sessions {
		session[p.ID] = i
	}
	// Every final lies within its session's stretch of the timeline.
	for _, c := range doc.Captions {
		i, ok := session[c.ID[:strings.LastIndex(c.ID, "-")]]
		if !ok {
			t.Fatalf("final %s of no listed session", c.ID)
		}
		if c.StartMS < doc.Sessions[i].StartMS || (i+1 < len(doc.Sessions) && c.EndMS > doc.Sessions[i+1].StartMS) {
			t.Errorf("final %s %d–%d outside session %d (%+v)", c.ID, c.StartMS, c.EndMS, i, doc.Sessions)
		}
	}

	subs, err := astisub.ReadFromSRT(bytes.NewReader(get(t, s.URL+"/api/webinars/"+w.ID+"/transcript.srt")))
	if err != nil {
		t.Fatal(err)
	}
	prevSession := 0
	for i, it := range subs.Items {
		t.Logf("cue %v–%v %q", it.StartAt, it.EndAt, it.String())
		if d := it.EndAt - it.StartAt; d < 700*time.Millisecond {
			t.Errorf("cue %d lasts %v, under 0.7 s", i, d)
		}
		if i > 0 && it.StartAt < subs.Items[i-1].EndAt {
			t.Errorf("cue %d starts at %v, before the previous ends (%v)", i, it.StartAt, subs.Items[i-1].EndAt)
		}
		// The session a cue belongs to: the last one started by the cue's start.
		k := 0
		for j, p := range doc.Sessions {
			if it.StartAt >= time.Duration(p.StartMS)*time.Millisecond {
				k = j
			}
		}
		if k < prevSession {
			t.Errorf("cue %d of session %d comes after a cue of session %d", i, k, prevSession)
		}
		prevSession = k
	}
	if prevSession != 2 {
		t.Errorf("the last cue is in session %d, want the third", prevSession)
	}
}

// waitFinals waits until the stored transcript holds at least n finals and returns how many.
func waitFinals(t *testing.T, url, id string, n int) int {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var doc transcriptDoc
		if err := json.Unmarshal(get(t, url+"/api/webinars/"+id+"/transcript.json"), &doc); err == nil && len(doc.Captions) >= n {
			return len(doc.Captions)
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d finals stored after 60 s", n)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
