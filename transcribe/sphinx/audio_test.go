package sphinx

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// readWAV reads a 16-bit PCM WAV (mono, or the first channel) and resamples it to 16 kHz.
func readWAV(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s: not a WAV file", path)
	}
	var rate, channels, bits int
	var data []byte
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(p+8+n, len(b))]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			data = body
		}
		p += 8 + n + n%2
	}
	if bits != 16 || channels < 1 || rate == 0 {
		t.Fatalf("%s: want 16-bit PCM, got %d bits %d channels %d Hz", path, bits, channels, rate)
	}
	n := len(data) / 2 / channels
	pcm := make([]float32, n)
	for i := range pcm {
		pcm[i] = float32(int16(binary.LittleEndian.Uint16(data[2*channels*i:]))) / 32768
	}
	return resample(pcm, rate, 16000)
}

// resample converts by linear interpolation; enough for speech tests.
func resample(pcm []float32, from, to int) []float32 {
	if from == to || len(pcm) == 0 {
		return pcm
	}
	n := int(int64(len(pcm)) * int64(to) / int64(from))
	out := make([]float32, n)
	for i := range out {
		x := float64(i) * float64(from) / float64(to)
		j := int(x)
		f := float32(x - float64(j))
		a := pcm[min(j, len(pcm)-1)]
		b := pcm[min(j+1, len(pcm)-1)]
		out[i] = a + (b-a)*f
	}
	return out
}

// speak synthesises text with flite and returns 16 kHz PCM.
func speak(t testing.TB, voice, text string) []float32 {
	t.Helper()
	if _, err := exec.LookPath("flite"); err != nil {
		t.Skip("flite not installed")
	}
	out := filepath.Join(t.TempDir(), voice+".wav")
	if b, err := exec.Command("flite", "-voice", voice, "-t", text, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("flite: %v: %s", err, b)
	}
	return readWAV(t, out)
}

func TestCleanWord(t *testing.T) {
	for in, want := range map[string]string{
		"<s>": "", "</s>": "", "<sil>": "", "[NOISE]": "", "[SPEECH]": "", "++UM++": "", "NULL": "",
		"read(2)": "read", "hello": "hello", "don't": "don't", "(2)": "(2)",
	} {
		if got := cleanWord(in); got != want {
			t.Errorf("cleanWord(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cleanHyp("<s> the(2) [NOISE] cat </s>"); got != "the cat" {
		t.Errorf("cleanHyp = %q", got)
	}
}

func TestToInt16Clips(t *testing.T) {
	got := toInt16(nil, []float32{0, 1, -1, 2, -2, 0.5})
	want := []int16{0, 32767, -32767, 32767, -32768, 16383}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("toInt16 = %v, want %v", got, want)
	}
}
