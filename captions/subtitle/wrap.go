package subtitle

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"lectern/captions"
)

// WrapOptions are the re-wrapping rules. Zero fields take the broadcast defaults
// (DefaultWrap): about 42 characters a line, at most two lines, cues of 1–7 s, at most 20
// characters a second.
type WrapOptions struct {
	MaxLineChars int
	MaxLines     int
	MinCueMS     int64
	MaxCueMS     int64
	MaxCPS       float64 // characters (spaces included) per second of display
	// Measure is a text's width against MaxLineChars; nil counts runes. It must add up: the
	// width of "a b" is width(a) + width(" ") + width(b). (STL measures encoded bytes: its
	// text field is a fixed 112 bytes and an accented letter takes two.)
	Measure func(string) int
	// LabelSpeakers begins each speaker's turn (the first final, and every final whose
	// speaker differs from the one before) with "Name:", for formats with no other place for
	// a speaker. The label is wrapped as part of the text, so lines still fit.
	LabelSpeakers bool
}

// DefaultWrap is broadcast practice for subtitles.
var DefaultWrap = WrapOptions{MaxLineChars: 42, MaxLines: 2, MinCueMS: 1000, MaxCueMS: 7000, MaxCPS: 20}

func (o WrapOptions) withDefaults() WrapOptions {
	d := DefaultWrap
	if o.MaxLineChars > 0 {
		d.MaxLineChars = o.MaxLineChars
	}
	if o.MaxLines > 0 {
		d.MaxLines = o.MaxLines
	}
	if o.MinCueMS > 0 {
		d.MinCueMS = o.MinCueMS
	}
	if o.MaxCueMS > 0 {
		d.MaxCueMS = o.MaxCueMS
	}
	if d.MinCueMS > d.MaxCueMS {
		d.MinCueMS = d.MaxCueMS
	}
	if o.MaxCPS > 0 {
		d.MaxCPS = o.MaxCPS
	}
	d.Measure, d.LabelSpeakers = o.Measure, o.LabelSpeakers
	if d.Measure == nil {
		d.Measure = utf8.RuneCountInString
	}
	return d
}

// Cue is one subtitle on screen: up to MaxLines lines shown from StartMS to EndMS. A cue holds
// the words of one final, so of one speaker.
type Cue struct {
	StartMS, EndMS int64
	Lines          []string
	Final          int    // index, in the input, of the final the cue comes from
	Speaker        string // the final's speaker, cleaned; "" when unknown
}

// Wrap re-cuts finals into subtitle cues. Each speaker's finals must be in time order (see
// timeline); partials and empty texts are skipped. The cues come out in order of start.
//
// Each final is cut at word boundaries into as few cues as fit MaxLines lines of
// MaxLineChars (more if the speech lasted longer than MaxCueMS per cue), balanced by length.
// Its cues are laid end to end from the final's start: each gets the time its text needs to
// be read (MaxCPS, at least MinCueMS), then the rest of the final's spoken time by share of
// characters, never more than MaxCueMS. A final too short to be read is extended into the
// silence after it, but never past the same speaker's next final: a speaker's cues never
// overlap and their times only grow. Two speakers talking at once get overlapping cues, which
// players show together. When even that window is too short the cues share it by reading time
// (the only case where MinCueMS and MaxCPS give way).
func Wrap(finals []captions.Caption, opts WrapOptions) []Cue {
	o := opts.withDefaults()
	var out []Cue
	next := func(i int) int64 { // the start of the speaker's next final with text, or no limit
		for j := i + 1; j < len(finals); j++ {
			if finals[j].Final && strings.TrimSpace(finals[j].Text) != "" && cleanText(finals[j].Speaker) == cleanText(finals[i].Speaker) {
				return finals[j].StartMS
			}
		}
		return maxTimeMS
	}
	prevSpeaker := ""
	for i, c := range finals {
		if !c.Final {
			continue
		}
		words := strings.Fields(c.Text)
		if len(words) == 0 {
			continue
		}
		speaker := cleanText(c.Speaker)
		if o.LabelSpeakers && speaker != "" && speaker != prevSpeaker {
			words = append(strings.Fields(speaker+":"), words...)
		}
		prevSpeaker = speaker
		words = splitLongWords(words, o)
		start := c.StartMS
		spoken := max(c.EndMS-start, 0)
		chunks := chunkWords(words, spoken, o)
		durs := allocate(chunks, spoken, max(next(i)-start, 0), o)
		t := start
		for k, ch := range chunks {
			out = append(out, Cue{StartMS: t, EndMS: t + durs[k], Lines: breakLines(ch, o), Final: i, Speaker: speaker})
			t += durs[k]
		}
	}
	// One speaker's cues are in order already; several speakers' interleave.
	slices.SortStableFunc(out, func(a, b Cue) int { return cmp.Compare(a.StartMS, b.StartMS) })
	return out
}

// splitLongWords cuts any word wider than a line (a URL, a run of CJK text with no spaces)
// into line-sized pieces, so every word fits on a line. One pass over the runes: a hostile
// 100 KB "word" costs no more than 100 KB of words.
func splitLongWords(words []string, o WrapOptions) []string {
	var out []string
	for _, w := range words {
		if o.Measure(w) <= o.MaxLineChars {
			out = append(out, w)
			continue
		}
		start, width := 0, 0
		for i, r := range w {
			rw := o.Measure(string(r))
			if width+rw > o.MaxLineChars && i > start {
				out = append(out, w[start:i])
				start, width = i, 0
			}
			width += rw
		}
		out = append(out, w[start:])
	}
	return out
}

func textLen(words []string) int { return utf8.RuneCountInString(strings.Join(words, " ")) }

// lineFiller packs words greedily into lines of at most MaxLineChars, which gives the fewest
// lines; widths add up (see Measure), so each word costs O(1).
type lineFiller struct {
	max, space   int
	lines, width int // lines started; width of the last one
}

func newLineFiller(o WrapOptions) lineFiller {
	return lineFiller{max: o.MaxLineChars, space: o.Measure(" ")}
}

// add places a word of width w and reports the line count after it.
func (f *lineFiller) add(w int) int {
	switch {
	case f.lines == 0:
		f.lines, f.width = 1, w
	case f.width+f.space+w <= f.max:
		f.width += f.space + w
	default:
		f.lines++
		f.width = w
	}
	return f.lines
}

// chunkWords cuts a final's words into cue-sized chunks of about equal length.
func chunkWords(words []string, spokenMS int64, o WrapOptions) [][]string {
	widths := make([]int, len(words))
	runes := make([]int, len(words))
	all := newLineFiller(o)
	total := -1
	for i, w := range words {
		widths[i], runes[i] = o.Measure(w), utf8.RuneCountInString(w)
		all.add(widths[i])
		total += runes[i] + 1
	}
	n := (all.lines + o.MaxLines - 1) / o.MaxLines
	if need := int((spokenMS + o.MaxCueMS - 1) / o.MaxCueMS); need > n {
		n = min(need, len(words)) // long, slow speech: more, shorter cues keep it in sync
	}
	var chunks [][]string
	first, curLen, remaining := 0, 0, total
	lf := newLineFiller(o)
	for i := range words {
		if i > first {
			left := max(n-len(chunks), 1)
			target := (remaining + left - 1) / left
			withWord := curLen + 1 + runes[i]
			probe := lf
			// Close the chunk when the word does not fit, or when the chunk is nearer its
			// share of the text without the word than with it.
			if probe.add(widths[i]) > o.MaxLines ||
				(len(chunks) < n-1 && withWord > target && target-curLen < withWord-target) {
				chunks = append(chunks, words[first:i:i])
				remaining -= curLen + 1
				first, lf = i, newLineFiller(o)
			}
		}
		lf.add(widths[i])
		if i == first {
			curLen = runes[i]
		} else {
			curLen += 1 + runes[i]
		}
	}
	return append(chunks, words[first:])
}

// breakLines lays a chunk out on lines: one line if it fits, else the two-line break with the
// most even lines, else (more lines allowed) greedily.
func breakLines(words []string, o WrapOptions) []string {
	space := o.Measure(" ")
	prefix := make([]int, len(words)+1) // prefix[i]: width of words[:i] joined
	for i, w := range words {
		prefix[i+1] = prefix[i] + o.Measure(w)
		if i > 0 {
			prefix[i+1] += space
		}
	}
	width := func(i, j int) int { // of words[i:j], j > i
		if i == 0 {
			return prefix[j]
		}
		return prefix[j] - prefix[i] - space
	}
	n := len(words)
	if width(0, n) <= o.MaxLineChars {
		return []string{strings.Join(words, " ")}
	}
	if o.MaxLines == 2 {
		best, bestW := -1, 0
		for i := 1; i < n; i++ {
			a, b := width(0, i), width(i, n)
			if a <= o.MaxLineChars && b <= o.MaxLineChars && (best < 0 || max(a, b) < bestW) {
				best, bestW = i, max(a, b)
			}
		}
		if best > 0 {
			return []string{strings.Join(words[:best], " "), strings.Join(words[best:], " ")}
		}
	}
	var out []string
	lf := newLineFiller(o)
	start := 0
	for i := range words {
		if lf.add(width(i, i+1)) > len(out)+1 {
			out = append(out, strings.Join(words[start:i], " "))
			start = i
		}
	}
	return append(out, strings.Join(words[start:], " "))
}

// allocate gives each chunk its display time in ms. The total is the longer of the spoken
// time and the reading time, no more than MaxCueMS per chunk and no more than window (up to
// the next final).
func allocate(chunks [][]string, spokenMS, windowMS int64, o WrapOptions) []int64 {
	n := int64(len(chunks))
	chars := make([]int64, n)
	req := make([]int64, n)
	var reqSum, charSum int64
	for k, ch := range chunks {
		chars[k] = int64(textLen(ch))
		read := int64(float64(chars[k])*1000/o.MaxCPS + 0.999999)
		req[k] = min(max(o.MinCueMS, read), o.MaxCueMS)
		reqSum += req[k]
		charSum += chars[k]
	}
	total := min(max(spokenMS, reqSum), n*o.MaxCueMS, windowMS)
	d := make([]int64, n)
	if total <= 0 {
		return d
	}
	if reqSum >= total { // not enough room to read: share the window by reading time
		var used int64
		for k := range d {
			d[k] = total * req[k] / reqSum
			used += d[k]
		}
		d[n-1] += total - used
		return d
	}
	copy(d, req)
	extra := total - reqSum
	// Spread the rest by characters, topping up at MaxCueMS; total <= n*MaxCueMS, so it fits.
	for extra > 0 {
		var w int64
		for k := range d {
			if d[k] < o.MaxCueMS {
				w += chars[k]
			}
		}
		if w == 0 {
			break
		}
		given := int64(0)
		for k := range d {
			if d[k] < o.MaxCueMS {
				add := min(extra*chars[k]/w, o.MaxCueMS-d[k])
				d[k] += add
				given += add
			}
		}
		extra -= given
		if given == 0 { // rounding left a few ms: hand them out in order
			for k := range d {
				add := min(extra, o.MaxCueMS-d[k])
				d[k] += add
				extra -= add
			}
		}
	}
	return d
}
