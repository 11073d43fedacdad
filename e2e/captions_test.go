package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/bench"
	"lectern/internal/wer"
)

var classSentences = []string{
	"Good morning everyone and welcome to the class.",
	"Today we will talk about the weather and the seasons.",
}

// TestLiveCaptionsEndToEnd: flite speaks known sentences, opusenc encodes them, a WHIP
// presenter sends them in real time, an SSE viewer reads partials then finals, and every
// export then holds the words with monotonic times.
func TestLiveCaptionsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Captioned class")
	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	rep, err := bench.Captions(ctx, bench.CaptionsConfig{URL: s.URL, Room: w.ID, StreamKey: w.StreamKey,
		Speech: bench.SpeechConfig{Sentences: classSentences, Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	finals := texts(rep.Finals)
	if rep.Missing > 0 {
		// A pool that fell behind (a loaded machine) skips utterances live and tells the
		// viewers; the transcript gets their finals once it catches up.
		t.Logf("%d sentences skipped live: scoring the transcript once filled", rep.Missing)
		finals = filledTranscript(t, s.URL, w.ID, len(classSentences))
	} else if rep.Partials == 0 {
		t.Error("no partial captions arrived before the finals")
	}
	if rate := wer.Rate(strings.Join(classSentences, " "), strings.Join(finals, " ")); rate > 0.3 {
		t.Fatalf("WER %.2f > 0.3: %q", rate, finals)
	}
	// Every partial of an utterance comes before its final, and finals carry an SSE id.
	finalAt := map[string]int{}
	for i, ev := range rep.Events {
		if ev.Final {
			finalAt[ev.ID] = i
			if ev.EventID == "" {
				t.Errorf("final %s has no SSE id", ev.ID)
			}
		}
	}
	for i, ev := range rep.Events {
		if at, ok := finalAt[ev.ID]; ok && !ev.Final && i > at {
			t.Errorf("partial of %s arrived after its final", ev.ID)
		}
	}
	checkExports(t, s.URL, w.ID, finals)
}

func texts(finals []bench.Received) []string {
	var out []string
	for _, f := range finals {
		out = append(out, f.Text)
	}
	return out
}

// filledTranscript waits (a minute at most) until the transcript holds want captions, all
// with words, and returns their texts.
func filledTranscript(t *testing.T, base, id string, want int) []string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var doc struct {
			Captions []struct {
				Text string `json:"text"`
			} `json:"captions"`
		}
		if err := json.Unmarshal(get(t, base+"/api/webinars/"+id+"/transcript.json"), &doc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range doc.Captions {
			if c.Text != "" {
				out = append(out, c.Text)
			}
		}
		if len(out) >= want {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("transcript still holds %d of %d captions: %q", len(out), want, out)
		}
	}
}

// checkExports fetches every transcript format and checks it holds the finals' words.
func checkExports(t *testing.T, base, id string, finals []string) {
	t.Helper()
	want := wer.Words(strings.Join(finals, " "))
	readers := map[string]func(io.Reader) (*astisub.Subtitles, error){
		"srt": astisub.ReadFromSRT, "vtt": astisub.ReadFromWebVTT, "ttml": astisub.ReadFromTTML,
		"ssa": astisub.ReadFromSSA, "stl": func(r io.Reader) (*astisub.Subtitles, error) { return astisub.ReadFromSTL(r, astisub.STLOptions{}) },
	}
	for format, read := range readers {
		body := get(t, base+"/api/webinars/"+id+"/transcript."+format)
		subs, err := read(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s does not parse back: %v", format, err)
		}
		var text []string
		for i, it := range subs.Items {
			text = append(text, it.String())
			if it.EndAt <= it.StartAt || (i > 0 && it.StartAt < subs.Items[i-1].EndAt) {
				t.Errorf("%s: cue %d times not monotonic: %v–%v", format, i, it.StartAt, it.EndAt)
			}
		}
		if got := wer.Words(strings.Join(text, " ")); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s words %q, want %q", format, got, want)
		}
	}
	var doc struct {
		Captions []struct {
			Text string `json:"text"`
		} `json:"captions"`
	}
	if err := json.Unmarshal(get(t, base+"/api/webinars/"+id+"/transcript.json"), &doc); err != nil || len(doc.Captions) != len(finals) {
		t.Errorf("json export: %v, %d cues for %d finals", err, len(doc.Captions), len(finals))
	}
	if txt := string(get(t, base+"/api/webinars/"+id+"/transcript.txt")); !strings.Contains(strings.ToLower(txt), want[len(want)-1]) {
		t.Errorf("txt export misses the last word %q: %q", want[len(want)-1], txt)
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return b
}

// TestRestartKeepsEveryFinalShown: SIGKILL the server while the presenter speaks; after a
// restart, every final a viewer received is in the transcript.
func TestRestartKeepsEveryFinalShown(t *testing.T) {
	dir := t.TempDir()
	w := createWebinar(t, dir, "Crash class")
	s := startServer(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sentences := append(append([]string{}, classSentences...), "Please open your books at page twenty.", "Write down three questions for the next lesson.")
	_, ogg, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: sentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := bench.ReadCaptions(ctx, s.URL, w.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bench.PublishOgg(ctx, s.URL, w.ID, w.StreamKey, ogg)
	if err != nil {
		t.Fatal(err)
	}
	go pub.Send(ctx)
	var seen []bench.Received
	for ev := range reader.Events() {
		if ev.Final {
			seen = append(seen, ev)
			if len(seen) == 2 {
				s.kill() // mid-session, right after a final reached the viewer
			}
		}
	}
	pub.Close(ctx)
	if len(seen) < 2 {
		t.Fatalf("only %d finals before the stream ended", len(seen))
	}
	s2 := startServer(t, dir)
	var stored struct {
		Captions []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"captions"`
	}
	if err := json.Unmarshal(get(t, s2.URL+"/api/webinars/"+w.ID+"/transcript.json"), &stored); err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, c := range stored.Captions {
		have[c.ID] = c.Text
	}
	for _, f := range seen {
		if have[f.ID] != f.Text {
			t.Errorf("final %s %q reached a viewer but is not in the transcript after restart (have %q)", f.ID, f.Text, have[f.ID])
		}
	}
	// A viewer resuming from the last final it saw gets nothing twice.
	r2, err := bench.ReadCaptions(ctx, s2.URL, w.ID, "", seen[len(seen)-1].EventID)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	select {
	case ev := <-r2.Events():
		t.Errorf("resume after the last final replayed %+v", ev)
	case <-time.After(500 * time.Millisecond):
	}
}
