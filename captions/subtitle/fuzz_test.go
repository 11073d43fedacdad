package subtitle

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"lectern/captions"
)

// FuzzWrite: caption text comes from speech engines and translators (remote services) and
// times from the network path; export parameters come from a URL. No input may make Write
// fail or panic, and readable formats must parse back with one item per cue, in time order.
func FuzzWrite(f *testing.F) {
	f.Add("Hello, world.", "Second line here.", int64(0), int64(1500), int64(1500), int64(4000), uint8(0), true)
	f.Add("00:00:01,000 --> 00:00:02,000", "", int64(-5), int64(-1), int64(1<<62), int64(0), uint8(1), true)
	f.Add("中文字幕 ñ é {\\an8} <b>x</b> & ]]>", "\n\n\r\x00WEBVTT", int64(100), int64(90), int64(0), int64(100000), uint8(4), false)
	f.Add("a\u0301\u0302 ‐-> $€ \u2028", "Dialogue: 0,x", int64(3600000), int64(3600001), int64(1), int64(2), uint8(3), true)
	f.Fuzz(func(t *testing.T, text1, text2 string, s1, e1, s2, e2 int64, fi uint8, final2 bool) {
		format := Formats[int(fi)%len(Formats)]
		cs := []captions.Caption{
			{ID: "a", Seq: 1, Final: true, StartMS: s1, EndMS: e1, Text: text1, Lang: "en"},
			{ID: "b", Seq: 2, Final: final2, StartMS: s2, EndMS: e2, Text: text2, Lang: "en"},
			{ID: "c", Seq: 3, Final: true, StartMS: e2, EndMS: e2 + 500, Text: text1 + " " + text2, Lang: "en", Speaker: text2},
		}
		var b bytes.Buffer
		if err := Write(&b, format, cs, Options{Title: text2, Lang: text1}); err != nil {
			t.Fatalf("Write %s: %v", format, err)
		}
		finals := timeline(cs)
		switch format {
		case "json":
			var doc struct{ Captions []map[string]any }
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil || len(doc.Captions) != len(finals) {
				t.Fatalf("json: %v, %d entries for %d finals\n%s", err, len(doc.Captions), len(finals), b.Bytes())
			}
			return
		case "txt":
			return
		}
		w := WrapOptions{}
		switch format {
		case "stl":
			finals, w = stlPrepare(finals, w)
		case "srt", "ttml":
			w.LabelSpeakers = true
		}
		cues := Wrap(finals, w)
		s, err := read(format, b.Bytes())
		if err != nil {
			t.Fatalf("%s does not read back: %v\n%q", format, err, b.Bytes())
		}
		if len(s.Items) != len(cues) {
			t.Fatalf("%s: %d items back for %d cues\n%q", format, len(s.Items), len(cues), b.Bytes())
		}
		// In order of start; one speaker's never overlap (two speakers' may: they talked at once).
		prevEnd := map[string]time.Duration{}
		for i, it := range s.Items {
			who := cues[i].Speaker
			if it.EndAt < it.StartAt || (i > 0 && it.StartAt < s.Items[i-1].StartAt) || it.StartAt < prevEnd[who] {
				t.Fatalf("%s item %d: [%v, %v] not in order", format, i, it.StartAt, it.EndAt)
			}
			prevEnd[who] = it.EndAt
		}
	})
}
