package whisper

import (
	"bytes"
	"compress/zlib"
	"math"
	"strings"
	"time"
	"unicode"

	"lectern/transcribe"
)

// Whisper was trained on subtitles, so on silence, music or noise it writes what subtitlers
// wrote there. The guard removes the known failure shapes; why each segment went is
// returned for logs and tests.

// maxCompressionRatio is Whisper's own threshold for a degenerate, repetitive decode.
const maxCompressionRatio = 2.4

// stockPhrases are texts Whisper produces on near-silence (normalised: lower case, letters
// and spaces only).
var stockPhrases = map[string]bool{
	"thank you": true, "thanks": true, "thank you very much": true, "thanks for watching": true,
	"thank you for watching": true, "thank you so much for watching": true,
	"please subscribe": true, "subscribe": true, "like and subscribe": true,
	"bye": true, "bye bye": true, "you": true, "so": true, "okay": true, "oh": true,
	"subtitles by the amara org community": true, "transcribed by https otter ai": true,
	"i'll see you next time": true, "see you next time": true,
}

// loudestFrameRMS is the RMS of the loudest 20 ms frame of pcm.
func loudestFrameRMS(pcm []float32) float64 {
	const frame = transcribe.SampleRate / 50
	var best float64
	for i := 0; i < len(pcm); i += frame {
		var sum float64
		end := min(i+frame, len(pcm))
		for _, x := range pcm[i:end] {
			sum += float64(x) * float64(x)
		}
		if r := math.Sqrt(sum / float64(end-i)); r > best {
			best = r
		}
	}
	return best
}

// window returns the samples of pcm between two times.
func window(pcm []float32, start, end time.Duration) []float32 {
	i := min(int(start.Seconds()*transcribe.SampleRate), len(pcm))
	j := min(int(end.Seconds()*transcribe.SampleRate), len(pcm))
	if j <= i {
		return nil
	}
	return pcm[i:j]
}

// normalise keeps letters, digits and apostrophes, lower-cased, single-spaced.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' {
			return unicode.ToLower(r)
		}
		return ' '
	}, s)), " ")
}

// annotation reports text that is wholly a non-speech annotation: [BLANK_AUDIO], (music),
// ♪♪, *applause*.
func annotation(text string) bool {
	t := strings.TrimSpace(text)
	if t == "" {
		return true
	}
	if strings.Trim(t, "♪♫ .-") == "" {
		return true
	}
	for _, p := range []string{"[]", "()", "**"} {
		if len(t) >= 2 && t[0] == p[0] && t[len(t)-1] == p[1] && !strings.ContainsAny(t[1:len(t)-1], p) {
			return true
		}
	}
	return false
}

// compressionRatio is len(text) / len(zlib(text)), as Whisper computes it.
func compressionRatio(text string) float64 {
	if text == "" {
		return 0
	}
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(text))
	w.Close()
	return float64(len(text)) / float64(b.Len())
}

// repeatLoop reports an n-gram repeated back to back at least 3 times and covering at
// least 6 words ("the the the the the the", "I'm sorry. I'm sorry. I'm sorry."); a single
// word said three times ("no, no, no") is speech, not a loop.
func repeatLoop(text string) bool {
	words := strings.Fields(normalise(text))
	for n := 1; n <= 8 && 3*n <= len(words); n++ {
		for i := 0; i+2*n <= len(words); i++ {
			reps := 1
			for j := i + n; j+n <= len(words) && equalWords(words[i:i+n], words[j:j+n]); j += n {
				reps++
			}
			if reps >= 3 && reps*n >= 6 {
				return true
			}
		}
	}
	return false
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dropReason says why a segment is a hallucination, or "" to keep it.
func (e *Engine) dropReason(s verboseSegment, seg transcribe.Segment, pcm []float32) string {
	switch {
	case annotation(seg.Text):
		return "annotation"
	case s.NoSpeechProb > e.cfg.NoSpeechThreshold:
		return "no_speech_prob"
	case s.CompressionRatio > maxCompressionRatio || compressionRatio(seg.Text) > maxCompressionRatio:
		return "compression_ratio"
	case repeatLoop(seg.Text):
		return "repetition"
	case stockPhrases[normalise(seg.Text)] && loudestFrameRMS(window(pcm, seg.Start, seg.End)) < e.cfg.QuietRMS:
		return "stock_phrase_on_quiet_audio"
	}
	return ""
}
