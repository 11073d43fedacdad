package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Span is where one spoken sentence lies in generated speech: from its first to its last
// clearly voiced sample.
type Span struct {
	Text       string
	Start, End time.Duration
}

// SpeechConfig says what to synthesise.
type SpeechConfig struct {
	Sentences []string
	Voice     string        // flite voice: slt (default), rms, awb, kal16
	Gap       time.Duration // silence between sentences (default 1.5 s)
	Lead      time.Duration // silence before the first sentence (default 0.5 s)
	Dir       string        // where the files go (required)
}

// MakeSpeech speaks the sentences with flite into one 16-bit mono WAV separated by silence,
// encodes it to Ogg/Opus with opusenc (20 ms frames, as browsers send), and returns both
// paths and where each sentence lies. Tests check captions against these known sentences.
func MakeSpeech(ctx context.Context, cfg SpeechConfig) (wav, ogg string, spans []Span, err error) {
	if cfg.Voice == "" {
		cfg.Voice = "slt"
	}
	if cfg.Gap == 0 {
		cfg.Gap = 1500 * time.Millisecond
	}
	if cfg.Lead == 0 {
		cfg.Lead = 500 * time.Millisecond
	}
	if len(cfg.Sentences) == 0 || cfg.Dir == "" {
		return "", "", nil, errors.New("speech: sentences and a directory are needed")
	}
	var all []int16
	rate := 0
	for i, s := range cfg.Sentences {
		part := filepath.Join(cfg.Dir, fmt.Sprintf("sentence-%d.wav", i))
		if out, err := exec.CommandContext(ctx, "flite", "-voice", cfg.Voice, "-t", s, "-o", part).CombinedOutput(); err != nil {
			return "", "", nil, fmt.Errorf("flite (install Debian's flite): %v: %s", err, out)
		}
		pcm, r, err := readPCM16(part)
		if err != nil {
			return "", "", nil, err
		}
		if rate == 0 {
			rate = r
			all = make([]int16, samplesFor(cfg.Lead, rate))
		} else {
			all = append(all, make([]int16, samplesFor(cfg.Gap, rate))...)
		}
		first, last := voiced(pcm)
		spans = append(spans, Span{Text: s,
			Start: durationOf(len(all)+first, rate), End: durationOf(len(all)+last, rate)})
		all = append(all, pcm...)
	}
	all = append(all, make([]int16, samplesFor(cfg.Gap, rate))...)
	wav = filepath.Join(cfg.Dir, "speech.wav")
	if err := writePCM16(wav, all, rate); err != nil {
		return "", "", nil, err
	}
	ogg = filepath.Join(cfg.Dir, "speech.opus")
	if out, err := exec.CommandContext(ctx, "opusenc", "--quiet", "--bitrate", "32", "--framesize", "20", wav, ogg).CombinedOutput(); err != nil {
		return "", "", nil, fmt.Errorf("opusenc (install Debian's opus-tools): %v: %s", err, out)
	}
	return wav, ogg, spans, nil
}

func samplesFor(d time.Duration, rate int) int { return int(d.Seconds() * float64(rate)) }
func durationOf(n, rate int) time.Duration {
	return time.Duration(float64(n) / float64(rate) * float64(time.Second))
}

// voiced finds the first and last sample louder than 2% of full scale: flite pads its output
// with near-silence that is not part of the sentence.
func voiced(pcm []int16) (first, last int) {
	const floor = 0.02 * math.MaxInt16
	first, last = 0, len(pcm)
	for i, s := range pcm {
		if math.Abs(float64(s)) > floor {
			first = i
			break
		}
	}
	for i := len(pcm) - 1; i >= 0; i-- {
		if math.Abs(float64(pcm[i])) > floor {
			last = i
			break
		}
	}
	return first, last
}

// readPCM16 reads a canonical 16-bit mono PCM WAV as flite writes it.
func readPCM16(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%s: not a WAV file", path)
	}
	var rate int
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+size, len(b))]
		switch id {
		case "fmt ":
			if binary.LittleEndian.Uint16(body[0:]) != 1 || binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, 0, fmt.Errorf("%s: want 16-bit mono PCM", path)
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			pcm := make([]int16, len(body)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, rate, nil
		}
		off += 8 + size + size%2
	}
	return nil, 0, fmt.Errorf("%s: no data chunk", path)
}

func writePCM16(path string, pcm []int16, rate int) error {
	b := make([]byte, 44+2*len(pcm))
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+2*len(pcm)))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*rate))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(2*len(pcm)))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return os.WriteFile(path, b, 0o644)
}
