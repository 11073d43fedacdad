package subtitle

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/asticode/go-astisub"
	"golang.org/x/text/unicode/norm"

	"lectern/captions"
)

// EBU STL (Tech 3264) as go-astisub writes it: a 1024-byte GSI header, then one 128-byte TTI
// block per cue whose text field holds 112 bytes in the ISO 6937 Latin table. astisub only
// has that table, encodes a rune outside it as its low byte, and cuts text past 112 bytes.
// So text is first reduced to what survives the trip (other scripts become '?'), and lines
// are measured in encoded bytes (an accented letter is a base byte plus a diacritic byte).
const (
	stlGSISize  = 1024
	stlTextSize = 112
	stlMaxRow   = 40 // teletext rows are 40 wide; open subtitles are laid out the same way
)

// stlPrepare reduces the finals' text to STL's repertoire and narrows the wrap to what fits
// a TTI block.
func stlPrepare(finals []captions.Caption, w WrapOptions) ([]captions.Caption, WrapOptions) {
	out := make([]captions.Caption, len(finals))
	for i, c := range finals {
		c.Text = stlText(c.Text)
		out[i] = c
	}
	w = w.withDefaults()
	w.MaxLineChars = min(w.MaxLineChars, stlMaxRow)
	if w.MaxLines*(w.MaxLineChars+1)-1 > stlTextSize {
		w.MaxLineChars = (stlTextSize+1)/w.MaxLines - 1
	}
	w.Measure = stlWidth
	return out, w
}

var stlRepertoire = sync.OnceValues(probeSTL)

// stlText keeps the runes astisub's STL writer and reader carry intact, and letters made of
// an ASCII base and one diacritic it carries (é, ñ, ç); anything else becomes '?'.
func stlText(s string) string {
	runes, marks := stlRepertoire()
	var b strings.Builder
	for _, r := range norm.NFC.String(s) {
		switch {
		case runes[r]:
			b.WriteRune(r)
		case stlComposed(r, runes, marks):
			b.WriteRune(r)
		case r == ' ' || r == '\u00a0':
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	return cleanText(b.String())
}

func stlComposed(r rune, runes, marks map[rune]bool) bool {
	d := []rune(norm.NFD.String(string(r)))
	return len(d) == 2 && d[0] < utf8.RuneSelf && runes[d[0]] && marks[d[1]]
}

// stlWidth is the encoded size of text from stlText: one byte a rune, two for a letter with
// a diacritic.
func stlWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= utf8.RuneSelf && len([]rune(norm.NFD.String(string(r)))) == 2 {
			n++
		}
	}
	return n
}

// Candidates for the STL repertoire: ASCII and the non-ASCII characters of the ISO 6937
// table astisub decodes, and its diacritics.
const (
	stlCandidates = "¡¢£¥§‘“«←↑→↓°±²³×µ¶·÷’”»¼½¾¿―¹®©™♪¬¦⅛⅜⅝⅞ΩÆĐªĦĲĿŁØŒºÞŦŊŉĸæđðħıĳŀłøœßþŧŋ"
	stlDiacritics = "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u0327\u030b\u0328\u030c"
)

// probeSTL finds, once, which characters survive a write and read through astisub, rather
// than trusting a table that could drift from the library ('$' does not survive, for one).
func probeSTL() (runes, marks map[rune]bool) {
	runes, marks = map[rune]bool{}, map[rune]bool{}
	var cands []rune
	for r := rune(0x21); r < 0x7f; r++ {
		cands = append(cands, r)
	}
	cands = append(cands, []rune(stlCandidates)...)
	var texts []string
	for _, r := range cands {
		texts = append(texts, "a"+string(r)+"a")
	}
	for _, m := range stlDiacritics {
		texts = append(texts, norm.NFC.String("ae"+string(m)+"a"))
	}
	got, err := stlRoundTrip(texts)
	if err != nil {
		// Cannot happen with a working astisub; fall back to letters and digits only.
		for _, r := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,?!'-" {
			runes[r] = true
		}
		runes[' '] = true
		return runes, marks
	}
	runes[' '] = true
	for i, r := range cands {
		if got[i] == texts[i] {
			runes[r] = true
		}
	}
	for i, m := range []rune(stlDiacritics) {
		if got[len(cands)+i] == texts[len(cands)+i] {
			marks[m] = true
		}
	}
	return runes, marks
}

func stlRoundTrip(texts []string) ([]string, error) {
	s := astisub.NewSubtitles()
	s.Metadata = &astisub.Metadata{Framerate: 25, STLDisplayStandardCode: "0"}
	for i, t := range texts {
		s.Items = append(s.Items, &astisub.Item{StartAt: time.Duration(i) * time.Second,
			EndAt: time.Duration(i)*time.Second + 500*time.Millisecond,
			Lines: []astisub.Line{{Items: []astisub.LineItem{{Text: t}}}}})
	}
	var b bytes.Buffer
	if err := s.WriteToSTL(&b); err != nil {
		return nil, err
	}
	r, err := astisub.ReadFromSTL(bytes.NewReader(b.Bytes()), astisub.STLOptions{})
	if err != nil {
		return nil, err
	}
	if len(r.Items) != len(texts) {
		return nil, fmt.Errorf("stl probe: %d items back, want %d", len(r.Items), len(texts))
	}
	out := make([]string, len(texts))
	for i, it := range r.Items {
		for _, l := range it.Lines {
			out[i] += l.String()
		}
	}
	return out, nil
}

// GSI fields astisub cannot set: offsets from EBU Tech 3264.
const (
	gsiLanguageCode = 14  // LC, 2 bytes
	gsiTNB          = 238 // total number of TTI blocks, 5 digits
	gsiTNS          = 243 // total number of subtitles, 5 digits
)

// ebuLanguage are the EBU Tech 3264 language codes (appendix 3) for ISO 639-1 codes.
var ebuLanguage = map[string]string{
	"sq": "01", "br": "02", "ca": "03", "hr": "04", "cy": "05", "cs": "06", "da": "07", "de": "08",
	"en": "09", "es": "0A", "eo": "0B", "et": "0C", "eu": "0D", "fo": "0E", "fr": "0F", "fy": "10",
	"ga": "11", "gd": "12", "gl": "13", "is": "14", "it": "15", "se": "16", "la": "17", "lv": "18",
	"lb": "19", "lt": "1A", "hu": "1B", "mt": "1C", "nl": "1D", "no": "1E", "nb": "1E", "nn": "1E",
	"oc": "1F", "pl": "20", "pt": "21", "ro": "22", "rm": "23", "sr": "24", "sk": "25", "sl": "26",
	"fi": "27", "sv": "28", "tr": "29",
	"ar": "7F", "zh": "75", "ja": "69", "ko": "62", "ru": "56", "el": "55", "he": "52", "hi": "51",
}

// patchGSI sets the language code (astisub writes French for languages it does not know) and
// the block counts.
func patchGSI(g []byte, lang string, items int) {
	lc, ok := ebuLanguage[primary(lang)]
	if !ok {
		lc = "00" // unknown / not applicable
	}
	copy(g[gsiLanguageCode:], lc)
	n := []byte(fmt.Sprintf("%05d", min(items, 99999)))
	copy(g[gsiTNB:], n)
	copy(g[gsiTNS:], n)
}

// emptySTL writes a GSI block with zero subtitles. astisub will not write one, so it is cut
// from a one-cue file and its counts set to zero.
func emptySTL(buf *bytes.Buffer, lang, title string) error {
	s := newSubtitles([]Cue{{StartMS: 0, EndMS: 1000, Lines: []string{"-"}}}, lang, stlTitle(title))
	var b bytes.Buffer
	if err := s.WriteToSTL(&b); err != nil {
		return err
	}
	if b.Len() < stlGSISize {
		return fmt.Errorf("stl: short GSI block (%d bytes)", b.Len())
	}
	g := b.Bytes()[:stlGSISize]
	patchGSI(g, lang, 0)
	buf.Write(g)
	return nil
}

// stlTitle keeps a title to printable ASCII: GSI text fields are in a code page (850) that
// astisub does not encode to.
func stlTitle(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '$' {
			return '?'
		}
		return r
	}, cleanText(s))
}
