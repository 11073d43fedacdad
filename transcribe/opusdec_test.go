package transcribe

import (
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Opus in each of its modes decodes straight to 16 kHz with the waveform intact: the
// correlation with the original, at the best small lag, stays near 1.
func TestOggOpusModes(t *testing.T) {
	if _, err := exec.LookPath("sox"); err != nil {
		t.Skip("sox not installed")
	}
	dir := t.TempDir()
	src := flite(t, dir, "a", "The quick brown fox jumps over the lazy dog.")
	ref := readWAV(t, src)
	wav48 := filepath.Join(dir, "a48.wav")
	if out, err := exec.Command("sox", src, "-r", "48000", wav48).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	tests := []struct {
		mode string
		args []string
	}{
		{"silk", []string{"--bitrate", "12"}},
		{"hybrid", []string{"--bitrate", "40"}},
		{"celt", []string{"--bitrate", "128", "--music"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			ogg := filepath.Join(dir, tt.mode+".opus")
			args := append(append([]string{"--quiet"}, tt.args...), wav48, ogg)
			if out, err := exec.Command("opusenc", args...).CombinedOutput(); err != nil {
				t.Fatalf("opusenc: %v: %s", err, out)
			}
			// The encoder picks the mode; check it used the one this case is about.
			modes := map[string]int{}
			for _, p := range oggPackets(t, ogg) {
				switch c := p[0] >> 3; {
				case c < 12:
					modes["silk"]++
				case c < 16:
					modes["hybrid"]++
				default:
					modes["celt"]++
				}
			}
			if modes[tt.mode] == 0 {
				t.Fatalf("no %s packets: %v", tt.mode, modes)
			}
			f, err := os.Open(ogg)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := newOggSource(f, f)
			if err != nil {
				t.Fatal(err)
			}
			var pcm []float32
			for {
				pcm, err = s.next(pcm)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if c := bestCorrelation(ref, pcm, 100); c < 0.95 {
				t.Errorf("correlation with the source %.3f", c)
			}
		})
	}
}

func bestCorrelation(a, b []float32, maxLag int) float64 {
	best := 0.0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var xy, xx, yy float64
		for i := range a {
			j := i + lag
			if j < 0 || j >= len(b) {
				continue
			}
			x, y := float64(a[i]), float64(b[j])
			xy += x * y
			xx += x * x
			yy += y * y
		}
		if c := xy / (math.Sqrt(xx*yy) + 1e-12); c > best {
			best = c
		}
	}
	return best
}

// Lost packets are concealed and long pauses jumped so audio stays at its RTP time.
func TestOpusTimelineGaps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.wav")
	writeWAV16(t, path, tone(2*time.Second, 440, 0.3, SampleRate))
	pkts := opusPackets(t, path)[:20]
	const frame = 320 // samples per 20 ms packet at 16 kHz
	tests := []struct {
		name     string
		tsSteps  []uint32 // timestamp of each packet, in 20 ms units from a base near the wrap
		wantFed  int64    // samples fed to the pipeline
		wantJump int64    // position of the last jump, -1 for none
	}{
		{"contiguous", []uint32{0, 1, 2, 3}, 4 * frame, -1},
		{"one lost", []uint32{0, 1, 3, 4}, 5 * frame, -1},
		{"three lost", []uint32{0, 4, 5}, 6 * frame, -1},
		{"dtx pause of 5 s", []uint32{0, 1, 252, 253}, 4*frame + 100*frame, 252 * frame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOpusTimeline(5)
			var fed int64
			jumped := int64(-1)
			base := uint32(1<<32 - 2*960)
			for i, step := range tt.tsSteps {
				o.add(tapPacket{ts: base + step*960, payload: pkts[i]},
					func(pcm []float32) { fed += int64(len(pcm)) },
					func(pos int64) { jumped = pos })
			}
			if fed != tt.wantFed || jumped != tt.wantJump {
				t.Errorf("fed %d samples, jumped to %d; want %d, %d", fed, jumped, tt.wantFed, tt.wantJump)
			}
			if want := int64(tt.tsSteps[len(tt.tsSteps)-1]+1) * frame; o.pos != want {
				t.Errorf("timeline at %d, want %d", o.pos, want)
			}
		})
	}
}
