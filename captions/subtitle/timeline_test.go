package subtitle

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/captions"
)

// A transcript whose second presenter session restarted its clock at 0 (as stored before one
// timeline per webinar) must not squeeze cues: after a reconnect the old export made
// 35–45 ms cues holding two lines (00:00:06,340 --> 00:00:06,385) and overlapped sessions.
func TestReconnectNeverSqueezesCues(t *testing.T) {
	cs := []captions.Caption{
		{ID: "a-1", Seq: 1, Final: true, StartMS: 500, EndMS: 4000, Text: "Good morning everyone and welcome to the class.", Lang: "en"},
		{ID: "a-2", Seq: 2, Final: true, StartMS: 6340, EndMS: 9000, Text: "Today we will talk about the weather and the seasons.", Lang: "en"},
		// The presenter reconnected; this session's clock began at 0.
		{ID: "b-1", Seq: 3, Final: true, StartMS: 6385, EndMS: 9500, Text: "Please open your books at page twenty.", Lang: "en"},
		{ID: "b-2", Seq: 4, Final: true, StartMS: 5000, EndMS: 7000, Text: "Write down three questions for the next lesson.", Lang: "en"},
	}
	for format := range readable {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, format, cs, Options{}); err != nil {
				t.Fatal(err)
			}
			s, err := read(format, b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			checkCues(t, format, s.Items)
		})
	}
}

// checkCues holds the contract for an exported transcript: cues in order, never
// overlapping, each at least 0.7 s on screen.
func checkCues(t *testing.T, format string, items []*astisub.Item) {
	t.Helper()
	for i, it := range items {
		if d := it.EndAt - it.StartAt; d < 700*time.Millisecond {
			t.Errorf("%s cue %d %v–%v lasts %v, under 0.7 s: %q", format, i, it.StartAt, it.EndAt, d, itemLines(it))
		}
		if i > 0 && it.StartAt < items[i-1].EndAt {
			t.Errorf("%s cue %d starts at %v, before the previous one ends (%v)", format, i, it.StartAt, items[i-1].EndAt)
		}
	}
}

func speakers() []captions.Caption {
	return []captions.Caption{
		{ID: "1", Seq: 1, Final: true, StartMS: 0, EndMS: 1500, Text: "Welcome, everyone.", Lang: "en", Speaker: "Ada Lovelace"},
		{ID: "2", Seq: 2, Final: true, StartMS: 1500, EndMS: 2000, Text: "Yes.", Lang: "en", Speaker: "Ada Lovelace"},
		{ID: "3", Seq: 3, Final: true, StartMS: 2000, EndMS: 2300, Text: "No.", Lang: "en", Speaker: "Bob, <the> {TA}"},
		{ID: "4", Seq: 4, Final: true, StartMS: 4000, EndMS: 6000, Text: "Nobody knows who said this.", Lang: "en"},
	}
}

// Speakers' names reach every format in its own way, only where known; a change of speaker
// starts a new cue, even for words that would fit on one screen.
func TestSpeakerNamesInExports(t *testing.T) {
	cs := speakers()
	export := func(format string) []byte {
		var b bytes.Buffer
		if err := Write(&b, format, cs, Options{}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	texts := []string{"Ada Lovelace: Welcome, everyone.", "Yes.", "Bob, <the> {TA}: No.", "Nobody knows who said this."}
	for _, format := range []string{"srt", "ttml"} {
		s, err := read(format, export(format))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Items) != 4 {
			t.Fatalf("%s: %d cues, want one per final", format, len(s.Items))
		}
		for i, it := range s.Items {
			if got := strings.Join(itemLines(it), " "); got != texts[i] {
				t.Errorf("%s cue %d %q, want %q", format, i, got, texts[i])
			}
		}
	}
	voices := map[string][]string{
		"vtt": {"Ada Lovelace", "Ada Lovelace", "Bob, the {TA}", ""},
		"ssa": {"Ada Lovelace", "Ada Lovelace", "Bob <the> (TA)", ""},
	}
	for format, want := range voices {
		s, err := read(format, export(format))
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Items) != 4 {
			t.Fatalf("%s: %d cues, want one per final", format, len(s.Items))
		}
		for i, it := range s.Items {
			if got := it.Lines[0].VoiceName; got != want[i] {
				t.Errorf("%s cue %d voice %q, want %q", format, i, got, want[i])
			}
			if got := strings.Join(itemLines(it), " "); got != cs[i].Text {
				t.Errorf("%s cue %d text %q, want %q (the name is not in the text)", format, i, got, cs[i].Text)
			}
		}
	}
	if vtt := string(export("vtt")); !strings.Contains(vtt, "<v Ada Lovelace>Welcome, everyone.") {
		t.Errorf("no voice span in WebVTT:\n%s", vtt)
	}
	paras := strings.Split(strings.TrimSuffix(string(export("txt")), "\n"), "\n\n")
	if strings.Join(paras, "|") != strings.Join(texts, "|") {
		t.Errorf("txt paragraphs %q, want %q", paras, texts)
	}
	var doc struct{ Captions []captions.Caption }
	if err := json.Unmarshal(export("json"), &doc); err != nil || len(doc.Captions) != 4 || doc.Captions[2].Speaker != cs[2].Speaker || doc.Captions[3].Speaker != "" {
		t.Errorf("json speakers %+v %v", doc.Captions, err)
	}
}

// A long name still leaves every line within the limit: the label is wrapped with the words.
func TestSpeakerLabelFitsTheLine(t *testing.T) {
	cs := []captions.Caption{{ID: "1", Seq: 1, Final: true, StartMS: 0, EndMS: 6000, Lang: "en",
		Speaker: "Professor Maximiliane Schmidt-Hohenstein", Text: "Today we will look at integrals and derivatives and limits."}}
	for _, c := range Wrap(cs, WrapOptions{LabelSpeakers: true}) {
		for _, l := range c.Lines {
			if len([]rune(l)) > DefaultWrap.MaxLineChars {
				t.Errorf("line %q longer than %d", l, DefaultWrap.MaxLineChars)
			}
		}
	}
}
