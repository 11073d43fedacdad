package subtitle

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"lectern/captions"
)

// A panel: Ada and Bob talk at once, finals stored in the order they were decoded (Ada's
// first, although Bob started earlier), then Ada alone. Exports show both lines over the
// stretch they both spoke, each under its speaker's name, in order of start, and the
// transcript after the overlap keeps its times (no drift from the simultaneous speech).
func TestOverlappingSpeakersInExports(t *testing.T) {
	cs := []captions.Caption{
		{ID: "a-1", Seq: 1, Final: true, StartMS: 560, EndMS: 3260, Text: "Good morning everyone.", Speaker: "Ada"},
		{ID: "b-1", Seq: 2, Final: true, StartMS: 460, EndMS: 3980, Text: "Today we talk about the weather.", Speaker: "Bob"},
		{ID: "a-2", Seq: 3, Final: true, StartMS: 4660, EndMS: 7220, Text: "Please open your books.", Speaker: "Ada"},
	}
	if got := timeline(cs); got[1].StartMS != 460 || got[2].StartMS != 4660 {
		t.Fatalf("timeline moved simultaneous speech: %+v", got)
	}
	export := func(format string) []byte {
		var b bytes.Buffer
		if err := Write(&b, format, cs, Options{}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	type want struct {
		start, end time.Duration
		text       string
	}
	srt := []want{
		{460 * time.Millisecond, 3980 * time.Millisecond, "Bob: Today we talk about the weather."},
		{560 * time.Millisecond, 3260 * time.Millisecond, "Ada: Good morning everyone."},
		{4660 * time.Millisecond, 7220 * time.Millisecond, "Ada: Please open your books."},
	}
	s, err := read("srt", export("srt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Items) != len(srt) {
		t.Fatalf("srt: %d cues, want %d", len(s.Items), len(srt))
	}
	for i, it := range s.Items {
		w := srt[i]
		if got := strings.Join(itemLines(it), " "); got != w.text || it.StartAt != w.start || it.EndAt != w.end {
			t.Errorf("srt cue %d [%v, %v] %q, want [%v, %v] %q", i, it.StartAt, it.EndAt, got, w.start, w.end, w.text)
		}
	}
	vtt := string(export("vtt"))
	for _, span := range []string{"<v Bob>Today we talk about the weather.", "<v Ada>Good morning everyone."} {
		if !strings.Contains(vtt, span) {
			t.Errorf("WebVTT lacks %q:\n%s", span, vtt)
		}
	}
	ssa, err := read("ssa", export("ssa"))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Bob", "Ada", "Ada"} {
		if got := ssa.Items[i].Lines[0].VoiceName; got != name {
			t.Errorf("ssa cue %d name %q, want %q", i, got, name)
		}
	}
	ttml, err := read("ttml", export("ttml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(itemLines(ttml.Items[0]), " "); !strings.HasPrefix(got, "Bob: ") {
		t.Errorf("ttml first cue %q, want Bob's", got)
	}
	if txt := string(export("txt")); !strings.Contains(txt, "Ada: Good morning everyone.") || !strings.Contains(txt, "Bob: Today we talk") {
		t.Errorf("txt lacks a speaker:\n%s", txt)
	}
}
