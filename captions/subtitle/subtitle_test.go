package subtitle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/captions"
)

// readable are the formats astisub reads back, with the time resolution each stores.
var readable = map[string]time.Duration{
	"srt":  time.Millisecond,
	"vtt":  time.Millisecond,
	"ttml": time.Millisecond,
	"ssa":  10 * time.Millisecond, // centiseconds
	"stl":  40 * time.Millisecond, // frames at 25 fps
}

func read(format string, b []byte) (*astisub.Subtitles, error) {
	r := bytes.NewReader(b)
	switch format {
	case "srt":
		return astisub.ReadFromSRT(r)
	case "vtt":
		return astisub.ReadFromWebVTT(r)
	case "ttml":
		return astisub.ReadFromTTML(r)
	case "ssa":
		quiet := astisub.SSAOptions{OnUnknownSectionName: func(string) {}, OnInvalidLine: func(string) {}}
		return astisub.ReadFromSSAWithOptions(r, quiet)
	case "stl":
		return astisub.ReadFromSTL(r, astisub.STLOptions{})
	}
	return nil, fmt.Errorf("not readable: %s", format)
}

func itemLines(it *astisub.Item) []string {
	var out []string
	for _, l := range it.Lines {
		var parts []string
		for _, li := range l.Items {
			parts = append(parts, strings.TrimSpace(li.Text))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func lecture() []captions.Caption {
	return []captions.Caption{
		{ID: "a", Seq: 1, Final: true, StartMS: 480, EndMS: 2330, Text: "Good morning, everyone.", Lang: "en", Speaker: "Ada"},
		{ID: "b", Seq: 2, StartMS: 2500, EndMS: 3000, Text: "today we", Lang: "en"}, // a partial: not exported
		{ID: "b", Seq: 3, Final: true, StartMS: 2500, EndMS: 11900, Text: "Today we will look at integrals, derivatives, and why the fundamental theorem of calculus connects the two of them so neatly.", Lang: "en", Speaker: "Ada"},
		{ID: "c", Seq: 4, Final: true, StartMS: 12000, EndMS: 12300, Text: "Questions?", Lang: "en", Speaker: "Ada"},
		{ID: "d", Seq: 5, Final: true, StartMS: 15020, EndMS: 18990, Text: "Let's start with the definition of the derivative, as a limit.", Lang: "en", Speaker: "Ada"},
	}
}

// checkRoundTrip writes cs in format, reads it back with astisub and compares with the cues
// the wrapper made: same lines, same times within the format's resolution, monotonic.
func checkRoundTrip(t *testing.T, format string, cs []captions.Caption, want []Cue) *astisub.Subtitles {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, format, cs, Options{Title: "Calculus 1"}); err != nil {
		t.Fatalf("Write %s: %v", format, err)
	}
	s, err := read(format, b.Bytes())
	if err != nil {
		t.Fatalf("read %s back: %v\n%s", format, err, b.Bytes())
	}
	if len(s.Items) != len(want) {
		t.Fatalf("%s: %d items back, want %d\n%s", format, len(s.Items), len(want), b.Bytes())
	}
	res := readable[format]
	var prevEnd time.Duration
	for i, it := range s.Items {
		if got := itemLines(it); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want[i].Lines) {
			t.Errorf("%s item %d: lines %q, want %q", format, i, got, want[i].Lines)
		}
		ws, we := ms(want[i].StartMS), ms(want[i].EndMS)
		if d := ws - it.StartAt; d < 0 || d >= res {
			t.Errorf("%s item %d: start %v, want %v", format, i, it.StartAt, ws)
		}
		if d := we - it.EndAt; d < 0 || d >= res {
			t.Errorf("%s item %d: end %v, want %v", format, i, it.EndAt, we)
		}
		if it.StartAt < prevEnd || it.EndAt < it.StartAt {
			t.Errorf("%s item %d: [%v, %v] after previous end %v", format, i, it.StartAt, it.EndAt, prevEnd)
		}
		prevEnd = it.EndAt
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	cs := lecture()
	want := Wrap(timeline(cs), WrapOptions{})
	if len(want) < 5 {
		t.Fatalf("expected the long final to be split: %v", want)
	}
	for format := range readable {
		t.Run(format, func(t *testing.T) {
			w := want
			switch format {
			case "stl": // 40-character rows
				w = Wrap(timeline(cs), WrapOptions{MaxLineChars: 40, Measure: stlWidth})
			case "srt", "ttml": // the speaker's name begins their turn
				w = Wrap(timeline(cs), WrapOptions{LabelSpeakers: true})
			}
			checkRoundTrip(t, format, cs, w)
		})
	}
}

func TestUnicodeSurvives(t *testing.T) {
	cs := []captions.Caption{
		{Final: true, StartMS: 0, EndMS: 2000, Text: "Él dijo: «mañana, señor».", Lang: "es"},
		{Final: true, StartMS: 2000, EndMS: 4000, Text: "中文字幕 测试", Lang: "zh"},
		{Final: true, StartMS: 4000, EndMS: 6000, Text: "Ça va très bien — naïve façade, ß & <i>", Lang: "fr"},
	}
	want := Wrap(timeline(cs), WrapOptions{})
	for _, format := range []string{"srt", "vtt", "ttml", "ssa"} {
		t.Run(format, func(t *testing.T) { checkRoundTrip(t, format, cs, want) })
	}
	// STL carries Latin only: accents survive, other scripts become '?'.
	t.Run("stl", func(t *testing.T) {
		var b bytes.Buffer
		if err := Write(&b, "stl", cs, Options{}); err != nil {
			t.Fatal(err)
		}
		s, err := read("stl", b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range s.Items {
			got = append(got, strings.Join(itemLines(it), " "))
		}
		want := []string{"Él dijo: «mañana, señor».", "???? ??", "Ça va très bien ? naïve façade, ß & <i>"}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("stl text %q, want %q", got, want)
		}
	})
	for _, format := range []string{"txt", "json"} {
		var b bytes.Buffer
		if err := Write(&b, format, cs, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			text := c.Text
			if format == "json" {
				j, _ := json.Marshal(c.Text)
				text = strings.Trim(string(j), `"`)
			}
			if !strings.Contains(b.String(), text) {
				t.Errorf("%s lacks %q:\n%s", format, text, b.String())
			}
		}
	}
}

func TestEmpty(t *testing.T) {
	inputs := map[string][]captions.Caption{
		"nil":           nil,
		"partials only": {{ID: "p", Seq: 1, Text: "hel", Lang: "en"}},
		"blank finals":  {{ID: "f", Seq: 2, Final: true, Text: " \n\t", Lang: "en"}},
	}
	for name, cs := range inputs {
		for _, format := range Formats {
			t.Run(name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := Write(&b, format, cs, Options{Lang: "en", Title: "Empty class"}); err != nil {
					t.Fatalf("Write: %v", err)
				}
				out := b.String()
				switch format {
				case "vtt":
					if !strings.HasPrefix(out, "WEBVTT\n") {
						t.Errorf("no WEBVTT header: %q", out)
					}
				case "ttml":
					if !strings.Contains(out, `<tt xmlns="http://www.w3.org/ns/ttml"`) || !strings.Contains(out, `xml:lang="en"`) {
						t.Errorf("not a TTML document: %q", out)
					}
				case "stl":
					if len(out) != 1024 || out[3:11] != "STL25.01" || out[238:248] != "0000000000" {
						t.Errorf("not an empty STL GSI block: %q", out)
					}
				case "json":
					if out != "{\n\"sessions\": [],\n\"captions\": []\n}\n" {
						t.Errorf("json %q", out)
					}
				case "txt", "srt":
					if out != "" {
						t.Errorf("%s %q, want empty", format, out)
					}
				case "ssa":
					if !strings.HasPrefix(out, "[Script Info]\n") || !strings.Contains(out, "[Events]\nFormat:") {
						t.Errorf("not an SSA script: %q", out)
					}
				}
				if _, ok := readable[format]; ok {
					s, err := read(format, b.Bytes())
					if err != nil {
						t.Fatalf("read back: %v", err)
					}
					if len(s.Items) != 0 {
						t.Errorf("%d items in an empty file", len(s.Items))
					}
				}
			})
		}
	}
}

func TestTextAndJSON(t *testing.T) {
	cs := lecture()
	var b bytes.Buffer
	if err := Write(&b, "txt", cs, Options{}); err != nil {
		t.Fatal(err)
	}
	paras := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n\n")
	if len(paras) != 4 || paras[0] != "Ada: Good morning, everyone." || paras[3] != cs[4].Text {
		t.Errorf("txt paragraphs %q", paras)
	}
	b.Reset()
	sessions := []Session{{ID: "s1", StartMS: 0}, {ID: "s2", StartMS: 15000}}
	if err := Write(&b, "json", cs, Options{Sessions: sessions}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sessions []Session `json:"sessions"`
		Captions []struct {
			ID      string `json:"id"`
			Seq     int64  `json:"seq"`
			StartMS int64  `json:"start_ms"`
			EndMS   int64  `json:"end_ms"`
			Text    string `json:"text"`
			Lang    string `json:"lang"`
			Speaker string `json:"speaker"`
		} `json:"captions"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, b.Bytes())
	}
	if fmt.Sprint(doc.Sessions) != fmt.Sprint(sessions) {
		t.Errorf("json sessions %+v, want %+v", doc.Sessions, sessions)
	}
	got := doc.Captions
	if len(got) != 4 {
		t.Fatalf("%d captions in json, want 4 finals", len(got))
	}
	g, c := got[1], cs[2]
	if g.ID != c.ID || g.Seq != c.Seq || g.StartMS != c.StartMS || g.EndMS != c.EndMS || g.Text != c.Text || g.Lang != "en" || g.Speaker != "Ada" {
		t.Errorf("json caption %+v, from %+v", g, c)
	}
}

func TestTimelineSessions(t *testing.T) {
	cs := []captions.Caption{
		fin(1000, 3000, "first session"),
		fin(4000, 6000, "still first"),
		fin(0, 1500, "second session starts the clock again"), // new presenter session
		fin(2000, 2500, "and goes on"),
		fin(-50, -10, "negative times"), // starts before the previous: another session
		fin(9000, 8000, "end before start"),
	}
	got := timeline(cs)
	want := [][2]int64{{1000, 3000}, {4000, 6000}, {6000, 7500}, {8000, 8500}, {8500, 8500}, {17500, 17500}}
	for i, c := range got {
		if [2]int64{c.StartMS, c.EndMS} != want[i] {
			t.Errorf("caption %d: [%d, %d], want %v", i, c.StartMS, c.EndMS, want[i])
		}
	}
	huge := timeline([]captions.Caption{fin(1<<60, 1<<61, "late")})
	if huge[0].StartMS != maxTimeMS || huge[0].EndMS != maxTimeMS {
		t.Errorf("huge times not capped: %+v", huge[0])
	}
}

func TestSTLHeader(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "stl", lecture(), Options{Lang: "es", Title: "Cálculo $1"}); err != nil {
		t.Fatal(err)
	}
	g := b.Bytes()
	n := (len(g) - 1024) / 128
	if (len(g)-1024)%128 != 0 || n < 5 {
		t.Fatalf("stl size %d", len(g))
	}
	if lc := string(g[14:16]); lc != "0A" {
		t.Errorf("language code %q, want 0A (Spanish)", lc)
	}
	if tnb, tns := string(g[238:243]), string(g[243:248]); tnb != fmt.Sprintf("%05d", n) || tns != tnb {
		t.Errorf("TNB %q TNS %q, want %05d", tnb, tns, n)
	}
	if title := strings.TrimSpace(string(g[16:48])); title != "C?lculo ?1" {
		t.Errorf("title %q", title)
	}
}

func TestFormatsAndErrors(t *testing.T) {
	for _, f := range Formats {
		if ContentType(f) == "" {
			t.Errorf("no content type for %s", f)
		}
	}
	if ContentType("docx") != "" {
		t.Error("content type for an unknown format")
	}
	var b bytes.Buffer
	if err := Write(&b, "docx", lecture(), Options{}); !errors.Is(err, ErrUnknownFormat) || b.Len() != 0 {
		t.Errorf("unknown format: %v, %d bytes", err, b.Len())
	}
	boom := errors.New("disk full")
	if err := Write(failWriter{boom}, "srt", lecture(), Options{}); !errors.Is(err, boom) {
		t.Errorf("writer error: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// Text a speech engine or translator could send that means something to a subtitle format.
func TestHostileText(t *testing.T) {
	cs := []captions.Caption{
		fin(0, 2000, "1"),
		fin(2000, 4000, "00:00:01,000 --> 00:00:02,000"),
		fin(4000, 6000, "WEBVTT NOTE {\\an8} </tt> ]]> &amp;"),
		fin(6000, 8000, "Dialogue: 0,0:00:00.00,0:00:01.00,,,0,0,0,,x"),
	}
	for format := range readable {
		var b bytes.Buffer
		if err := Write(&b, format, cs, Options{}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		s, err := read(format, b.Bytes())
		if err != nil {
			t.Fatalf("%s: read back: %v\n%s", format, err, b.Bytes())
		}
		if len(s.Items) != len(cs) {
			t.Errorf("%s: %d items back, want %d\n%s", format, len(s.Items), len(cs), b.Bytes())
		}
	}
}
