package transcribe

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// encodeWAV writes mono pcm as a WAV with the given sample format, duplicating it into every
// channel; extensible uses WAVE_FORMAT_EXTENSIBLE.
func encodeWAV(pcm []float32, rate, channels, bits int, float, extensible bool) []byte {
	var data bytes.Buffer
	for _, s := range pcm {
		for range channels {
			switch {
			case float && bits == 32:
				binary.Write(&data, binary.LittleEndian, s)
			case float:
				binary.Write(&data, binary.LittleEndian, float64(s))
			case bits == 8:
				data.WriteByte(byte(int(math.Round(float64(s)*127)) + 128))
			case bits == 16:
				binary.Write(&data, binary.LittleEndian, int16(math.Round(float64(s)*32767)))
			case bits == 24:
				v := int32(math.Round(float64(s) * 8388607))
				data.Write([]byte{byte(v), byte(v >> 8), byte(v >> 16)})
			default:
				binary.Write(&data, binary.LittleEndian, int32(math.Round(float64(s)*2147483647)))
			}
		}
	}
	format := uint16(wavFormatPCM)
	if float {
		format = wavFormatFloat
	}
	var fmtc bytes.Buffer
	tag := format
	if extensible {
		tag = wavFormatExtensible
	}
	binary.Write(&fmtc, binary.LittleEndian, tag)
	binary.Write(&fmtc, binary.LittleEndian, uint16(channels))
	binary.Write(&fmtc, binary.LittleEndian, uint32(rate))
	binary.Write(&fmtc, binary.LittleEndian, uint32(rate*channels*bits/8))
	binary.Write(&fmtc, binary.LittleEndian, uint16(channels*bits/8))
	binary.Write(&fmtc, binary.LittleEndian, uint16(bits))
	if extensible {
		binary.Write(&fmtc, binary.LittleEndian, uint16(22))
		binary.Write(&fmtc, binary.LittleEndian, uint16(bits))
		binary.Write(&fmtc, binary.LittleEndian, uint32(0))
		binary.Write(&fmtc, binary.LittleEndian, format)
		fmtc.Write([]byte("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"))
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(4+8+fmtc.Len()+8+3+1+8+data.Len()))
	out.WriteString("WAVE")
	out.WriteString("fmt ")
	binary.Write(&out, binary.LittleEndian, uint32(fmtc.Len()))
	out.Write(fmtc.Bytes())
	out.WriteString("LIST") // an odd-sized chunk to skip, with its pad byte
	binary.Write(&out, binary.LittleEndian, uint32(3))
	out.Write([]byte{1, 2, 3, 0})
	out.WriteString("data")
	binary.Write(&out, binary.LittleEndian, uint32(data.Len()))
	out.Write(data.Bytes())
	return out.Bytes()
}

func TestDecodeWAV(t *testing.T) {
	src := tone(100*time.Millisecond, 440, 0.5, 8000)
	tests := []struct {
		name       string
		channels   int
		bits       int
		float, ext bool
		tol        float64
	}{
		{"pcm8 mono", 1, 8, false, false, 1.0 / 100},
		{"pcm16 mono", 1, 16, false, false, 1.0 / 30000},
		{"pcm16 stereo", 2, 16, false, false, 1.0 / 30000},
		{"pcm24 mono", 1, 24, false, false, 1e-6},
		{"pcm32 stereo", 2, 32, false, false, 1e-6},
		{"float32 mono", 1, 32, true, false, 1e-7},
		{"float64 stereo", 2, 64, true, false, 1e-7},
		{"extensible pcm16 6ch", 6, 16, false, true, 1.0 / 30000},
		{"extensible float32", 1, 32, true, true, 1e-7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encodeWAV(src, 8000, tt.channels, tt.bits, tt.float, tt.ext)
			pcm, rate, err := DecodeWAV(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if rate != 8000 || len(pcm) != len(src) {
				t.Fatalf("rate %d, %d samples; want 8000, %d", rate, len(pcm), len(src))
			}
			for i := range pcm {
				if d := math.Abs(float64(pcm[i] - src[i])); d > tt.tol {
					t.Fatalf("sample %d: %g, want %g", i, pcm[i], src[i])
				}
			}
		})
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	good := encodeWAV(tone(10*time.Millisecond, 440, 0.5, 8000), 8000, 1, 16, false, false)
	bad := func(edit func(b []byte) []byte) []byte { return edit(append([]byte(nil), good...)) }
	tests := map[string][]byte{
		"empty":          nil,
		"not riff":       []byte("ID3\x03 something else entirely"),
		"no data chunk":  good[:36],
		"alaw":           bad(func(b []byte) []byte { b[20] = 6; return b }),
		"12 bit":         bad(func(b []byte) []byte { b[34] = 12; return b }),
		"zero channels":  bad(func(b []byte) []byte { b[22] = 0; return b }),
		"bad alignment":  bad(func(b []byte) []byte { b[32] = 3; return b }),
		"absurd rate":    bad(func(b []byte) []byte { b[24], b[25], b[26] = 0xff, 0xff, 0xff; return b }),
		"huge fmt chunk": bad(func(b []byte) []byte { b[17] = 0xff; b[18] = 0xff; return b }),
	}
	for name, b := range tests {
		if _, _, err := DecodeWAV(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeWAVRealClip(t *testing.T) {
	p := "/work/shared/speech/real/real_jfk.wav"
	st, err := os.Stat(p)
	if err != nil {
		t.Skip(err)
	}
	pcm := readWAV(t, p)
	if want := (st.Size() - 44) / 2; int64(len(pcm)) > want || int64(len(pcm)) < want-100 {
		t.Errorf("%s: %d samples, file size says about %d", filepath.Base(p), len(pcm), want)
	}
}
