package whisper

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"lectern/transcribe"
)

// verboseJSON is the response_format=verbose_json answer. whisper.cpp's server and OpenAI
// share this shape; whisper.cpp adds per-segment words, OpenAI top-level words (only when
// word timestamps are asked for), and either may leave fields out.
type verboseJSON struct {
	Task     string           `json:"task"`
	Language string           `json:"language"`
	Duration float64          `json:"duration"`
	Text     string           `json:"text"`
	Segments []verboseSegment `json:"segments"`
	Words    []verboseWord    `json:"words"`
}

type verboseSegment struct {
	ID               int           `json:"id"`
	Start            float64       `json:"start"` // seconds
	End              float64       `json:"end"`
	Text             string        `json:"text"`
	Temperature      float64       `json:"temperature"`
	AvgLogprob       float64       `json:"avg_logprob"`
	CompressionRatio float64       `json:"compression_ratio"`
	NoSpeechProb     float64       `json:"no_speech_prob"`
	Words            []verboseWord `json:"words"`
}

type verboseWord struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// parseVerboseJSON decodes a verbose_json body. A body with text but no segments (some
// OpenAI-compatible servers) becomes one segment spanning the duration.
func parseVerboseJSON(body []byte) (verboseJSON, error) {
	var v verboseJSON
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("whisper: bad verbose_json response: %w", err)
	}
	if len(v.Segments) == 0 && strings.TrimSpace(v.Text) != "" {
		v.Segments = []verboseSegment{{Start: 0, End: v.Duration, Text: v.Text, Words: v.Words}}
	}
	return v, nil
}

// seconds converts a server time to a Duration, clamped into [0, limit] so a confused
// server cannot produce negative or absurd caption times.
func seconds(s float64, limit time.Duration) time.Duration {
	if math.IsNaN(s) || s <= 0 {
		return 0
	}
	if s >= limit.Seconds() {
		return limit
	}
	return time.Duration(s * float64(time.Second))
}

// segment converts one server segment, its times clamped to the audio's length.
func (s verboseSegment) segment(audio time.Duration) transcribe.Segment {
	seg := transcribe.Segment{
		Text:         strings.TrimSpace(s.Text),
		Start:        seconds(s.Start, audio),
		End:          seconds(s.End, audio),
		NoSpeechProb: s.NoSpeechProb,
	}
	if seg.End < seg.Start {
		seg.End = seg.Start
	}
	for _, w := range s.Words {
		text := strings.TrimSpace(w.Word)
		if text == "" {
			continue
		}
		word := transcribe.Word{Text: text, Start: seconds(w.Start, audio), End: seconds(w.End, audio)}
		if word.End < word.Start {
			word.End = word.Start
		}
		seg.Words = append(seg.Words, word)
	}
	return seg
}

// languageCodes maps the language names Whisper servers report ("english") to the BCP-47
// primary tags the rest of Lectern uses. Codes pass through unchanged.
var languageCodes = map[string]string{
	"english": "en", "spanish": "es", "french": "fr", "german": "de", "italian": "it",
	"portuguese": "pt", "dutch": "nl", "catalan": "ca", "polish": "pl", "russian": "ru",
	"ukrainian": "uk", "chinese": "zh", "japanese": "ja", "korean": "ko", "arabic": "ar",
	"turkish": "tr", "swedish": "sv", "danish": "da", "norwegian": "no", "finnish": "fi",
	"greek": "el", "czech": "cs", "romanian": "ro", "hungarian": "hu", "hindi": "hi",
	"hebrew": "he", "indonesian": "id", "vietnamese": "vi", "thai": "th", "galician": "gl",
	"basque": "eu",
}

func languageCode(name string) string {
	l := strings.ToLower(strings.TrimSpace(name))
	if c, ok := languageCodes[l]; ok {
		return c
	}
	return l
}
