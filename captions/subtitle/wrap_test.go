package subtitle

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"lectern/captions"
)

func fin(start, end int64, text string) captions.Caption {
	return captions.Caption{Final: true, StartMS: start, EndMS: end, Text: text, Lang: "en"}
}

func TestWrap(t *testing.T) {
	long := "Today we will look at integrals, derivatives, and why the fundamental theorem of calculus connects them."
	cases := []struct {
		name   string
		finals []captions.Caption
		want   []Cue
	}{
		{"short final extended to the minimum into the gap",
			[]captions.Caption{fin(1000, 1300, "Yes."), fin(5000, 6000, "Next one.")},
			[]Cue{{1000, 2000, []string{"Yes."}, 0, ""}, {5000, 6000, []string{"Next one."}, 1, ""}}},
		{"extension stops at the next final",
			[]captions.Caption{fin(1000, 1300, "Yes."), fin(1600, 2600, "Next one.")},
			[]Cue{{1000, 1600, []string{"Yes."}, 0, ""}, {1600, 2600, []string{"Next one."}, 1, ""}}},
		{"fast speech is given reading time (38 chars: 1.9 s)",
			[]captions.Caption{fin(0, 1000, "This sentence was said much too fast.")},
			[]Cue{{0, 1850, []string{"This sentence was said much too fast."}, 0, ""}}},
		{"two lines balanced, one cue",
			[]captions.Caption{fin(0, 5000, "The quick brown fox jumps over the lazy dog and then runs away")},
			[]Cue{{0, 5000, []string{"The quick brown fox jumps over", "the lazy dog and then runs away"}, 0, ""}}},
		{"long final split in two cues, time by characters",
			[]captions.Caption{fin(0, 9000, long)},
			[]Cue{{0, 4632, []string{"Today we will look at", "integrals, derivatives, and why"}, 0, ""},
				{4632, 9000, []string{"the fundamental theorem", "of calculus connects them."}, 0, ""}}},
		{"slow speech: cues at most 7 s",
			[]captions.Caption{fin(0, 20000, "well um so yes")},
			[]Cue{{0, 7000, []string{"well"}, 0, ""}, {7000, 14000, []string{"um so"}, 0, ""}, {14000, 20000, []string{"yes"}, 0, ""}}},
		{"word longer than a line is cut",
			[]captions.Caption{fin(0, 3000, "see https://example.org/a/very/long/path/that/never/ends/at/all")},
			[]Cue{{0, 2300, []string{"see", "https://example.org/a/very/long/path/that/"}, 0, ""},
				{2300, 3300, []string{"never/ends/at/all"}, 0, ""}}},
		{"CJK without spaces",
			[]captions.Caption{fin(0, 4000, strings.Repeat("中文字幕", 12))},
			[]Cue{{0, 4000, []string{strings.Repeat("中文字幕", 12)[:42*3], strings.Repeat("中文字幕", 12)[42*3:]}, 0, ""}}},
		{"partials and empty text skipped",
			[]captions.Caption{{StartMS: 0, EndMS: 500, Text: "partial"}, fin(0, 1000, "  \t "), fin(2000, 3500, "Real text.")},
			[]Cue{{2000, 3500, []string{"Real text."}, 2, ""}}},
		{"overlapping input: earlier final cut at the next start",
			[]captions.Caption{fin(0, 3000, "First."), fin(2000, 4000, "Second.")},
			[]Cue{{0, 2000, []string{"First."}, 0, ""}, {2000, 4000, []string{"Second."}, 1, ""}}},
		{"same start: first final gets no time, times stay monotonic",
			[]captions.Caption{fin(1000, 2000, "A"), fin(1000, 2000, "B")},
			[]Cue{{1000, 1000, []string{"A"}, 0, ""}, {1000, 2000, []string{"B"}, 1, ""}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Wrap(tc.finals, WrapOptions{})
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Errorf("\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

var vocabulary = strings.Fields(`the a of and to in is that it for on with as was at by an be this
	which from or have are not but we can they all there their one more when some so what about
	integral derivative function theorem calculus continuous discontinuity approximately
	señor café mañana naïve façade 中文 字幕 characteristically interdisciplinary
	electroencephalography https://lectern.example/slides/week-3/lecture.pdf`)

func randomSentence(rng *rand.Rand) string {
	n := 1 + rng.IntN(60)
	w := make([]string, n)
	for i := range w {
		w[i] = vocabulary[rng.IntN(len(vocabulary))]
	}
	return strings.Join(w, " ") + "."
}

// The wrap rules, checked over many random finals and timings.
func TestWrapProperties(t *testing.T) {
	o := DefaultWrap
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 42))
		var finals []captions.Caption
		t0 := int64(rng.IntN(5000))
		for range 1 + rng.IntN(6) {
			text := randomSentence(rng)
			cps := 5 + rng.Float64()*25 // from slow to much too fast
			d := int64(float64(utf8.RuneCountInString(text)) / cps * 1000)
			finals = append(finals, fin(t0, t0+d, text))
			t0 += d + int64(rng.IntN(3000)) - 300 // small gaps, sometimes a little overlap
			t0 = max(t0, finals[len(finals)-1].StartMS+1)
		}
		cues := Wrap(finals, WrapOptions{})
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: %s\nfinals %+v\ncues %v", seed, fmt.Sprintf(format, args...), finals, cues)
		}
		byFinal := map[int][]Cue{}
		var prevEnd int64
		for k, c := range cues {
			if len(c.Lines) < 1 || len(c.Lines) > o.MaxLines {
				fail("cue %d has %d lines", k, len(c.Lines))
			}
			for _, l := range c.Lines {
				if n := utf8.RuneCountInString(l); n == 0 || n > o.MaxLineChars || l != strings.TrimSpace(l) {
					fail("cue %d line %q: %d chars", k, l, n)
				}
			}
			if c.StartMS < prevEnd || c.EndMS < c.StartMS {
				fail("cue %d [%d,%d] overlaps or runs backwards (previous end %d)", k, c.StartMS, c.EndMS, prevEnd)
			}
			if c.EndMS-c.StartMS > o.MaxCueMS {
				fail("cue %d lasts %d ms", k, c.EndMS-c.StartMS)
			}
			f := finals[c.Final]
			if c.StartMS < f.StartMS || (c.Final+1 < len(finals) && c.EndMS > finals[c.Final+1].StartMS) {
				fail("cue %d [%d,%d] outside its window", k, c.StartMS, c.EndMS)
			}
			prevEnd = c.EndMS
			byFinal[c.Final] = append(byFinal[c.Final], c)
		}
		for i, f := range finals {
			cs := byFinal[i]
			var words []string
			chars := 0
			for _, c := range cs {
				text := strings.Join(c.Lines, " ")
				words = append(words, text)
				chars += utf8.RuneCountInString(text)
			}
			if strings.Join(words, " ") != strings.Join(strings.Fields(f.Text), " ") && !strings.Contains(f.Text, "https://") {
				fail("final %d text changed: %q", i, strings.Join(words, " "))
			}
			window := int64(maxTimeMS)
			if i+1 < len(finals) {
				window = finals[i+1].StartMS - f.StartMS
			}
			// When the window leaves room for every cue's minimum and reading time, both hold.
			if window >= int64(len(cs))*o.MinCueMS+int64(chars)*50 {
				for _, c := range cs {
					d := c.EndMS - c.StartMS
					n := utf8.RuneCountInString(strings.Join(c.Lines, " "))
					if d < o.MinCueMS || float64(n)*1000/float64(d) > o.MaxCPS {
						fail("final %d cue %q: %d chars in %d ms", i, c.Lines, n, d)
					}
				}
			}
		}
	}
}
