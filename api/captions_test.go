package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/captions"
	"lectern/models"
)

// storeFinals saves n finals as the live path would and returns them.
func (ts *testServer) storeFinals(t *testing.T, texts ...string) []captions.Caption {
	t.Helper()
	var out []captions.Caption
	for i, text := range texts {
		c := captions.Caption{ID: fmt.Sprintf("s-%d", i), Seq: int64(i + 1), Final: true, Lang: "en",
			StartMS: int64(i * 3000), EndMS: int64(i*3000 + 2500), Text: text, Speaker: "Ada"}
		if err := ts.store.SaveSegment(context.Background(), models.Segment{Caption: c, Webinar: ts.webinar.ID, Session: "s"}); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func TestTranscriptExports(t *testing.T) {
	ts := newTestServer(t)
	base := "/api/webinars/" + ts.webinar.ID + "/transcript."
	// No speech yet: a clear, valid, empty file.
	res, body := ts.do(t, "GET", base+"vtt", "", "", "")
	if res.StatusCode != 200 || !strings.HasPrefix(body, "WEBVTT") || strings.Contains(body, "-->") {
		t.Fatalf("empty vtt: %d %q", res.StatusCode, body)
	}
	ts.storeFinals(t, "Good morning, class.", "Today we talk about light and lenses, and why a rainbow has the colours it has.")
	parsers := map[string]func([]byte) (*astisub.Subtitles, error){
		"srt":  func(b []byte) (*astisub.Subtitles, error) { return astisub.ReadFromSRT(bytes.NewReader(b)) },
		"vtt":  func(b []byte) (*astisub.Subtitles, error) { return astisub.ReadFromWebVTT(bytes.NewReader(b)) },
		"ttml": func(b []byte) (*astisub.Subtitles, error) { return astisub.ReadFromTTML(bytes.NewReader(b)) },
		"ssa":  func(b []byte) (*astisub.Subtitles, error) { return astisub.ReadFromSSA(bytes.NewReader(b)) },
	}
	for format, parse := range parsers {
		res, body := ts.do(t, "GET", base+format, "", "", "")
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "."+format) {
			t.Fatalf("%s: %d %v", format, res.StatusCode, res.Header)
		}
		subs, err := parse([]byte(body))
		if err != nil || len(subs.Items) < 2 {
			t.Fatalf("%s does not parse back: %v (%d items)", format, err, len(subs.Items))
		}
		var text strings.Builder
		for i, it := range subs.Items {
			text.WriteString(it.String() + " ")
			if i > 0 && it.StartAt < subs.Items[i-1].EndAt {
				t.Fatalf("%s: cue %d overlaps the previous", format, i)
			}
		}
		if !strings.Contains(text.String(), "rainbow") {
			t.Fatalf("%s lost text: %q", format, text.String())
		}
	}
	res, body = ts.do(t, "GET", base+"json", "", "", "")
	var doc struct{ Captions []map[string]any }
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &doc) != nil || len(doc.Captions) != 2 {
		t.Fatalf("json: %d %s", res.StatusCode, body)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{base + "docx", 400},
		{base + "srt?lang=../../etc", 400},
		{base + "srt?lang=es", 400}, // no translator configured in this server
		{"/api/webinars/nosuch/transcript.srt", 404},
		{"/api/webinars/" + ts.webinar.ID + "/notes.srt", 404},
	} {
		if res, body := ts.do(t, "GET", tc.path, "", "", ""); res.StatusCode != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.path, res.StatusCode, body, tc.want)
		}
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id   string
	data captions.Caption
}

func readEvents(t *testing.T, r *bufio.Reader, n int) []sseEvent {
	t.Helper()
	var out []sseEvent
	var ev sseEvent
	for len(out) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
				t.Fatal(err)
			}
		case line == "" && ev.data.ID != "":
			out = append(out, ev)
			ev = sseEvent{}
		}
	}
	return out
}

func TestCaptionStreamLiveAndResume(t *testing.T) {
	ts := newTestServer(t)
	stored := ts.storeFinals(t, "one", "two", "three")
	room, err := ts.live.Room(context.Background(), ts.webinar)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A client that saw seq 1 gets 2 and 3 from the store, then live events.
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/webinars/"+ts.webinar.ID+"/captions", nil)
	req.Header.Set("Last-Event-ID", "1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("captions: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(res.Body)
	got := readEvents(t, r, 2)
	if got[0].data.Text != "two" || got[0].id != "2" || got[1].data.Text != "three" {
		t.Fatalf("resume: %+v", got)
	}
	if room.Hub().NextSeq() <= stored[2].Seq {
		t.Fatal("hub sequence restarted below the stored transcript")
	}
	partial := captions.Caption{ID: "s-9", Seq: room.Hub().NextSeq(), Text: "four and", Lang: "en"}
	room.Hub().Publish(partial)
	final := partial
	final.Final, final.Text, final.Seq = true, "Four and five.", room.Hub().NextSeq()
	room.Hub().Publish(final)
	got = readEvents(t, r, 2)
	if got[0].id != "" || got[0].data.Final || got[1].id == "" || !got[1].data.Final || got[1].data.ID != got[0].data.ID {
		t.Fatalf("live partial then final: %+v", got)
	}
	if res, _ := ts.do(t, "GET", "/api/webinars/"+ts.webinar.ID+"/captions?lang=x!", "", "", ""); res.StatusCode != 400 {
		t.Fatalf("bad lang: %d", res.StatusCode)
	}
	if res, _ := ts.do(t, "GET", "/api/webinars/nosuch/captions", "", "", ""); res.StatusCode != 404 {
		t.Fatalf("unknown webinar: %d", res.StatusCode)
	}
}
