package subtitle

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/asticode/go-astisub"

	"lectern/captions"
)

// writeAstisub writes the subtitle formats go-astisub knows. astisub refuses to write an
// empty document, so those are written here (emptyDocument).
func writeAstisub(buf *bytes.Buffer, format string, finals []captions.Caption, opts Options) error {
	lang := cleanLang(opts.Lang)
	wrap, title := opts.Wrap, opts.Title
	switch format {
	case "stl":
		finals, wrap = stlPrepare(finals, wrap)
		title = stlTitle(title)
	case "srt", "ttml":
		wrap.LabelSpeakers = true // no other place for a speaker's name
	}
	cues := Wrap(finals, wrap)
	if len(cues) == 0 {
		return emptyDocument(buf, format, lang, title)
	}
	s := newSubtitles(cues, lang, title)
	switch format {
	case "srt":
		mapText(s, noArrow) // "-->" in a cue's text would read as a timing line
		return s.WriteToSRT(buf)
	case "vtt":
		mapText(s, noArrow)
		setVoices(s, cues, vttVoice)
		return s.WriteToWebVTT(buf)
	case "ttml":
		var b bytes.Buffer
		if err := s.WriteToTTML(&b); err != nil {
			return err
		}
		buf.Write(ttmlWithLang(b.Bytes(), lang))
		return nil
	case "ssa":
		// Braces open override blocks in SSA: text in them would vanish.
		mapText(s, strings.NewReplacer("{", "(", "}", ")").Replace)
		setVoices(s, cues, ssaName)
		var b bytes.Buffer
		if err := s.WriteToSSA(&b); err != nil {
			return err
		}
		buf.Write(ssaHardBreaks(b.Bytes()))
		return nil
	case "stl":
		var b bytes.Buffer
		if err := s.WriteToSTL(&b); err != nil {
			return err
		}
		out := b.Bytes()
		if len(out) < stlGSISize {
			return fmt.Errorf("stl: short GSI block (%d bytes)", len(out))
		}
		patchGSI(out[:stlGSISize], lang, len(s.Items))
		buf.Write(out)
		return nil
	}
	return fmt.Errorf("%w %q", ErrUnknownFormat, format)
}

func newSubtitles(cues []Cue, lang, title string) *astisub.Subtitles {
	s := astisub.NewSubtitles()
	s.Metadata = &astisub.Metadata{
		Language:      astisubLanguage(lang),
		Title:         cleanText(title),
		Framerate:     25,       // STL; astisub divides by it
		SSAScriptType: "v4.00+", // ASS, what players expect today
		// Open subtitling: astisub reads teletext-coded STL text only between start-box
		// codes it does not write, so teletext STL would not read back.
		STLDisplayStandardCode:                              "0",
		STLMaximumNumberOfDisplayableCharactersInAnyTextRow: ptr(stlMaxRow),
		STLMaximumNumberOfDisplayableRows:                   ptr(23),
	}
	for _, c := range cues {
		it := &astisub.Item{StartAt: ms(c.StartMS), EndAt: ms(c.EndMS)}
		for _, l := range c.Lines {
			it.Lines = append(it.Lines, astisub.Line{Items: []astisub.LineItem{{Text: l}}})
		}
		s.Items = append(s.Items, it)
	}
	return s
}

// mapText applies f to the text of every line of s.
func mapText(s *astisub.Subtitles, f func(string) string) {
	for _, it := range s.Items {
		for i := range it.Lines {
			for j := range it.Lines[i].Items {
				it.Lines[i].Items[j].Text = f(it.Lines[i].Items[j].Text)
			}
		}
	}
}

// setVoices names each cue's speaker, where known, in the format's own place for it: a
// WebVTT voice span (<v Name>), SSA's Name field. astisub writes a line's VoiceName.
func setVoices(s *astisub.Subtitles, cues []Cue, clean func(string) string) {
	for i, it := range s.Items {
		name := clean(cues[i].Speaker)
		if name == "" {
			continue
		}
		for j := range it.Lines {
			it.Lines[j].VoiceName = name
		}
	}
}

// vttVoice makes a name safe as a WebVTT voice annotation, which ends at '>' and takes
// character references: the name keeps its words, not those characters.
func vttVoice(name string) string {
	return cleanText(strings.NewReplacer("<", " ", ">", " ", "&", " and ").Replace(noArrow(name)))
}

// ssaName makes a name safe as SSA's Name field: fields are comma-separated and braces open
// override blocks.
func ssaName(name string) string {
	return cleanText(strings.NewReplacer(",", " ", "{", "(", "}", ")").Replace(name))
}

// ssaHardBreaks turns the `\n` line breaks astisub writes in Dialogue lines into `\N`:
// players honour `\n` only under WrapStyle 2 and `\N` always; astisub reads both.
func ssaHardBreaks(doc []byte) []byte {
	lines := bytes.SplitAfter(doc, []byte("\n"))
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("Dialogue:")) {
			lines[i] = bytes.ReplaceAll(l, []byte(`\n`), []byte(`\N`))
		}
	}
	return bytes.Join(lines, nil)
}

func ptr[T any](v T) *T { return &v }

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

func noArrow(s string) string {
	for strings.Contains(s, "-->") {
		s = strings.ReplaceAll(s, "-->", "->")
	}
	return s
}

var langRE = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// cleanLang keeps a well-formed BCP-47 tag and drops anything else (it goes into XML
// attributes and fixed-width fields).
func cleanLang(l string) string {
	if len(l) > 35 || !langRE.MatchString(l) {
		return ""
	}
	return l
}

func primary(lang string) string {
	p, _, _ := strings.Cut(strings.ToLower(lang), "-")
	return p
}

// astisubLanguage maps a language tag to astisub's few named languages ("" if not one).
func astisubLanguage(lang string) string {
	switch primary(lang) {
	case "en":
		return astisub.LanguageEnglish
	case "fr":
		return astisub.LanguageFrench
	case "zh":
		return astisub.LanguageChinese
	case "ja":
		return astisub.LanguageJapanese
	case "no", "nb", "nn":
		return astisub.LanguageNorwegian
	}
	return ""
}

// ttmlWithLang adds xml:lang to the tt element when astisub did not (it knows five
// languages); TTML requires the attribute ("" means undetermined).
func ttmlWithLang(doc []byte, lang string) []byte {
	i := bytes.Index(doc, []byte("<tt"))
	if i < 0 || bytes.Contains(doc[i:], []byte("xml:lang=")) && bytes.Index(doc[i:], []byte("xml:lang=")) < bytes.IndexByte(doc[i:], '>') {
		return doc
	}
	attr := fmt.Sprintf(` xml:lang="%s"`, lang) // lang passed cleanLang: no quoting needed
	return append(doc[:i+3:i+3], append([]byte(attr), doc[i+3:]...)...)
}

// emptyDocument writes a valid document with no cues, for a webinar with no speech.
func emptyDocument(buf *bytes.Buffer, format, lang, title string) error {
	title = cleanText(title)
	switch format {
	case "srt":
		// An SRT file is a list of cues; the empty list is the empty file.
	case "vtt":
		buf.WriteString("WEBVTT\n\nNOTE No captions were recorded.\n")
	case "ttml":
		var t bytes.Buffer
		if title != "" {
			t.WriteString("    <head>\n        <metadata>\n            <ttm:title>")
			xmlEscape(&t, title)
			t.WriteString("</ttm:title>\n        </metadata>\n    </head>\n")
		}
		fmt.Fprintf(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
			"<tt xmlns=\"http://www.w3.org/ns/ttml\" xmlns:ttm=\"http://www.w3.org/ns/ttml#metadata\" "+
			"xmlns:tts=\"http://www.w3.org/ns/ttml#styling\" xml:lang=\"%s\">\n%s    <body>\n        <div></div>\n    </body>\n</tt>\n",
			lang, t.String())
	case "ssa":
		buf.WriteString("[Script Info]\n; No captions were recorded.\n")
		if title != "" {
			buf.WriteString("Title: " + title + "\n")
		}
		buf.WriteString("ScriptType: v4.00+\n\n[Events]\n" +
			"Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n")
	case "stl":
		return emptySTL(buf, lang, title)
	default:
		return fmt.Errorf("%w %q", ErrUnknownFormat, format)
	}
	return nil
}

func xmlEscape(b *bytes.Buffer, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	b.WriteString(r.Replace(s))
}
