// Package subtitle writes a webinar's final captions as subtitle and transcript files: SRT,
// WebVTT, TTML, SSA and EBU STL through github.com/asticode/go-astisub, plus plain text and
// JSON. Captions are re-wrapped to broadcast practice on the way (see Wrap).
package subtitle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"lectern/captions"
)

// Formats are the export formats, by file extension.
var Formats = []string{"srt", "vtt", "ttml", "ssa", "stl", "txt", "json"}

// ErrUnknownFormat is returned by Write for a format not in Formats.
var ErrUnknownFormat = errors.New("subtitle: unknown format")

var contentTypes = map[string]string{
	"srt":  "application/x-subrip; charset=utf-8",
	"vtt":  "text/vtt; charset=utf-8",
	"ttml": "application/ttml+xml; charset=utf-8",
	"ssa":  "text/x-ssa; charset=utf-8",
	"stl":  "application/octet-stream", // EBU Tech 3264 has no registered media type; binary
	"txt":  "text/plain; charset=utf-8",
	"json": "application/json",
}

// ContentType is the HTTP Content-Type of a format, "" when the format is unknown.
func ContentType(format string) string { return contentTypes[format] }

// maxTimeMS caps every time at 99:59:59.999, the largest SRT/WebVTT readers agree on.
const maxTimeMS = (99*3600+59*60+59)*1000 + 999

// Options tune an export.
type Options struct {
	// Lang is the BCP-47 language of the text ("en", "es"), written where the format has a
	// place for it. Default: the first caption's Lang.
	Lang string
	// Title is the document title, where the format has one (TTML, SSA, STL).
	Title string
	// Wrap overrides the re-wrapping rules; zero fields keep DefaultWrap.
	Wrap WrapOptions
	// Sessions are the presenter sessions the captions come from, listed in the JSON export
	// with where each starts on the timeline.
	Sessions []Session
}

// Session is one presenter session (a connection) of a webinar: its captions' times are on
// the webinar's timeline, which this session joins at StartMS.
type Session struct {
	ID      string `json:"id"`
	StartMS int64  `json:"start_ms"`
}

// Write writes the final captions of cues (partials are ignored) in format to w. cues are
// in Seq order, as stored; see timeline for how times are normalised. No captions give a
// valid empty file, never an error. The output is built in memory and written with one
// Write, so a failed export writes nothing.
func Write(w io.Writer, format string, cues []captions.Caption, opts Options) error {
	if _, ok := contentTypes[format]; !ok {
		return fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, format, strings.Join(Formats, ", "))
	}
	finals := timeline(cues)
	if opts.Lang == "" && len(finals) > 0 {
		opts.Lang = finals[0].Lang
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case "txt":
		writeTXT(&buf, finals)
	case "json":
		err = writeJSON(&buf, finals, opts.Sessions)
	default:
		err = writeAstisub(&buf, format, finals, opts)
	}
	if err != nil {
		return fmt.Errorf("subtitle %s: %w", format, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("subtitle %s: write: %w", format, err)
	}
	return nil
}

// timeline keeps the finals with text, cleans their text to single-spaced words, and makes
// their times usable: negative times become 0, an end before its start becomes the start,
// and times are capped at maxTimeMS. Finals are stored on the webinar's timeline, where one
// speaker's never overlap; a final that starts before the same speaker's previous one ended (a
// transcript stored with each session's clock restarting at 0, or a clock stepped back) is
// moved, with everything after it, to follow that final's end: squeezing it in would leave
// cues too short to read. Two speakers' finals may overlap: they talked at once.
func timeline(cs []captions.Caption) []captions.Caption {
	out := make([]captions.Caption, 0, len(cs))
	var offset int64
	prevEnd := map[string]int64{} // by speaker
	for _, c := range cs {
		if !c.Final {
			continue
		}
		c.Text = cleanText(c.Text)
		if c.Text == "" {
			continue
		}
		start, end := max(c.StartMS, 0), max(c.EndMS, 0)
		end = max(end, start)
		who := cleanText(c.Speaker)
		if prev, ok := prevEnd[who]; ok && start+offset < prev {
			offset = prev - start
		}
		c.StartMS = min(start+offset, maxTimeMS)
		c.EndMS = min(end+offset, maxTimeMS)
		prevEnd[who] = c.EndMS
		out = append(out, c)
	}
	return out
}

// cleanText turns control characters (line breaks, tabs, NULs) into spaces and collapses
// runs of spaces: the wrapper decides where lines break, and no format can carry a stray
// control character safely.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
