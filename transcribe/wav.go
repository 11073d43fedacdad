package transcribe

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// wavReader streams mono float32 samples from a RIFF WAVE file: integer PCM of 8, 16, 24 or
// 32 bits and IEEE float of 32 or 64 bits (plain or WAVE_FORMAT_EXTENSIBLE), any number of
// channels (averaged to mono), any rate. A data size of 0 or 0xFFFFFFFF (a WAV written to a
// pipe, as ffmpeg does) means "until the end of the stream".
type wavReader struct {
	r        *bufio.Reader
	float    bool
	channels int
	rate     int
	bits     int
	left     int64 // data bytes left, -1 when unknown
	frame    []byte
}

var errNotWAV = errors.New("not a RIFF/WAVE file")

const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatExtensible = 0xFFFE
)

func newWAVReader(r io.Reader) (*wavReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, errNotWAV
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, errNotWAV
	}
	w := &wavReader{r: br}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("wav: no data chunk: %w", err)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return nil, fmt.Errorf("wav: fmt chunk of %d bytes", size)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, fmt.Errorf("wav: fmt chunk: %w", err)
			}
			if err := w.parseFmt(b[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, errors.New("wav: data chunk before fmt chunk")
			}
			w.left = size
			if size == 0 || size == 0xFFFFFFFF {
				w.left = -1
			}
			return w, nil
		default:
			if _, err := io.CopyN(io.Discard, br, size+size&1); err != nil {
				return nil, fmt.Errorf("wav: chunk %q: %w", id, err)
			}
		}
	}
}

func (w *wavReader) parseFmt(b []byte) error {
	format := binary.LittleEndian.Uint16(b[0:2])
	w.channels = int(binary.LittleEndian.Uint16(b[2:4]))
	w.rate = int(binary.LittleEndian.Uint32(b[4:8]))
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	w.bits = int(binary.LittleEndian.Uint16(b[14:16]))
	if format == wavFormatExtensible {
		if len(b) < 40 {
			return errors.New("wav: short WAVE_FORMAT_EXTENSIBLE header")
		}
		format = binary.LittleEndian.Uint16(b[24:26]) // first two bytes of the sub-format GUID
	}
	switch {
	case format == wavFormatPCM && (w.bits == 8 || w.bits == 16 || w.bits == 24 || w.bits == 32):
	case format == wavFormatFloat && (w.bits == 32 || w.bits == 64):
		w.float = true
	default:
		return fmt.Errorf("wav: unsupported encoding (format %d, %d bits)", format, w.bits)
	}
	if w.channels < 1 || w.channels > 16 {
		return fmt.Errorf("wav: %d channels", w.channels)
	}
	if w.rate < 1000 || w.rate > 768000 {
		return fmt.Errorf("wav: sample rate %d", w.rate)
	}
	if blockAlign != w.channels*w.bits/8 {
		return fmt.Errorf("wav: block align %d for %d channels of %d bits", blockAlign, w.channels, w.bits)
	}
	w.frame = make([]byte, blockAlign)
	return nil
}

// duration is the audio length, 0 when the data size is unknown.
func (w *wavReader) duration() int64 {
	if w.left < 0 {
		return 0
	}
	return w.left / int64(len(w.frame)) * int64(SampleRate) / int64(w.rate)
}

// read appends up to max mono samples to out; io.EOF at the end of the data.
func (w *wavReader) read(out []float32, maxN int) ([]float32, error) {
	bps := w.bits / 8
	for n := 0; n < maxN; n++ {
		if w.left >= 0 && w.left < int64(len(w.frame)) {
			return out, io.EOF
		}
		if _, err := io.ReadFull(w.r, w.frame); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a truncated last frame: keep what came before
			}
			return out, err
		}
		if w.left >= 0 {
			w.left -= int64(len(w.frame))
		}
		var sum float64
		for c := range w.channels {
			sum += w.sample(w.frame[c*bps : (c+1)*bps])
		}
		out = append(out, float32(sum/float64(w.channels)))
	}
	return out, nil
}

func (w *wavReader) sample(b []byte) float64 {
	switch {
	case w.float && w.bits == 32:
		return clampSample(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
	case w.float:
		return clampSample(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case w.bits == 8:
		return (float64(b[0]) - 128) / 128
	case w.bits == 16:
		return float64(int16(binary.LittleEndian.Uint16(b))) / (1 << 15)
	case w.bits == 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / (1 << 23)
	default:
		return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
	}
}

// clampSample keeps float WAVs (which may hold NaN or values past full scale) in [-1, 1].
func clampSample(v float64) float64 {
	switch {
	case v != v:
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return v
}

// DecodeWAV reads a whole WAV file as mono float32 at its own rate.
func DecodeWAV(r io.Reader) (pcm []float32, rate int, err error) {
	w, err := newWAVReader(r)
	if err != nil {
		return nil, 0, err
	}
	for {
		pcm, err = w.read(pcm, 1<<16)
		if errors.Is(err, io.EOF) {
			return pcm, w.rate, nil
		}
		if err != nil {
			return nil, 0, fmt.Errorf("wav: %w", err)
		}
	}
}
