package captions

import (
	"encoding/json"
	"testing"
)

func TestEncode(t *testing.T) {
	cases := []struct {
		name string
		c    Caption
		sse  string
	}{
		{"final", Caption{ID: "a1", Seq: 7, Final: true, StartMS: 10, EndMS: 900, Text: "Hello.", Lang: "en", Speaker: "Ada"},
			"id: 7\ndata: {\"id\":\"a1\",\"seq\":7,\"final\":true,\"start_ms\":10,\"end_ms\":900,\"text\":\"Hello.\",\"lang\":\"en\",\"speaker\":\"Ada\"}\n\n"},
		{"partial has no id line", Caption{ID: "a2", Seq: 8, StartMS: 1000, EndMS: 1500, Text: "hel", Lang: "en"},
			"data: {\"id\":\"a2\",\"seq\":8,\"final\":false,\"start_ms\":1000,\"end_ms\":1500,\"text\":\"hel\",\"lang\":\"en\"}\n\n"},
		{"newlines stay inside the data line", Caption{ID: "x", Seq: 1, Final: true, Text: "one\ntwo\r\n\nthree", Lang: "es", Status: "translation unavailable"},
			"id: 1\ndata: {\"id\":\"x\",\"seq\":1,\"final\":true,\"start_ms\":0,\"end_ms\":0,\"text\":\"one\\ntwo\\r\\n\\nthree\",\"lang\":\"es\",\"status\":\"translation unavailable\"}\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Encode(tc.c)
			if string(f.SSE) != tc.sse {
				t.Errorf("SSE\n got %q\nwant %q", f.SSE, tc.sse)
			}
			want, _ := json.Marshal(tc.c)
			if string(f.JSON) != string(want) {
				t.Errorf("JSON got %s want %s", f.JSON, want)
			}
			if got := decodeFrame(t, f); got != tc.c {
				t.Errorf("round trip got %+v want %+v", got, tc.c)
			}
		})
	}
}

func TestFramesForMatchesLive(t *testing.T) {
	cs := []Caption{{ID: "a", Seq: 1, Final: true, Text: "uno", Lang: "es"}, {ID: "b", Seq: 2, Final: true, Text: "dos", Lang: "es"}}
	got := FramesFor(cs)
	if len(got) != 2 {
		t.Fatalf("got %d frames", len(got))
	}
	for i, c := range cs {
		if string(got[i]) != string(Encode(c).SSE) {
			t.Errorf("frame %d: %q != live %q", i, got[i], Encode(c).SSE)
		}
	}
}

func TestParseLastEventID(t *testing.T) {
	cases := []struct {
		in   string
		seq  int64
		okay bool
	}{
		{"", 0, false}, {"0", 0, true}, {"42", 42, true}, {"-1", 0, false}, {"4x", 0, false},
		{" 4", 0, false}, {"9223372036854775807", 9223372036854775807, true}, {"99999999999999999999", 0, false},
	}
	for _, tc := range cases {
		seq, ok := ParseLastEventID(tc.in)
		if seq != tc.seq || ok != tc.okay {
			t.Errorf("ParseLastEventID(%q) = %d, %v; want %d, %v", tc.in, seq, ok, tc.seq, tc.okay)
		}
	}
}

// FuzzEncode: caption text comes from speech engines and translators (remote services); no
// text may break the SSE framing or the JSON.
func FuzzEncode(f *testing.F) {
	f.Add("hello", int64(1), true, "en")
	f.Add("a\n\ndata: x\n\n", int64(2), false, "es")
	f.Add("\xff\xfe bad utf8 \u2028", int64(-3), true, "")
	f.Add("中文 ñ é", int64(9), true, "zh")
	f.Fuzz(func(t *testing.T, text string, seq int64, fin bool, lang string) {
		c := Caption{ID: "id", Seq: seq, Final: fin, Text: text, Lang: lang, Speaker: text}
		fr := Encode(c)
		got := decodeFrame(t, fr)
		if string([]rune(text)) != got.Text || got.Seq != seq || got.Final != fin {
			t.Fatalf("round trip %+v -> %+v", c, got)
		}
	})
}

// FuzzParseLastEventID: the header comes straight from the client.
func FuzzParseLastEventID(f *testing.F) {
	for _, s := range []string{"", "1", "-1", "18446744073709551616", "0x10", "12 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, ok := ParseLastEventID(s)
		if !ok && seq != 0 {
			t.Fatalf("not ok but seq %d", seq)
		}
		if ok && (seq < 0 || Encode(Caption{Seq: seq, Final: true}).Seq != seq) {
			t.Fatalf("bad seq %d", seq)
		}
	})
}
