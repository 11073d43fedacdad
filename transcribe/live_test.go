package transcribe

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/rtp"
)

// opusPackets encodes a WAV with opusenc (20 ms frames) and returns its Opus packets.
func opusPackets(t testing.TB, wav string) [][]byte {
	t.Helper()
	if _, err := exec.LookPath("opusenc"); err != nil {
		t.Skip("opusenc not installed")
	}
	ogg := wav + ".opus"
	if out, err := exec.Command("opusenc", "--quiet", "--framesize", "20", "--bitrate", "32", wav, ogg).CombinedOutput(); err != nil {
		t.Fatalf("opusenc: %v: %s", err, out)
	}
	return oggPackets(t, ogg)
}

// oggPackets reads the Opus audio packets of an Ogg file.
func oggPackets(t testing.TB, ogg string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(ogg)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for {
		p, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(p, []byte("OpusTags")) {
			pkts = append(pkts, p)
		}
	}
}

// writeWAV16 writes 16 kHz mono PCM as a 16-bit WAV.
func writeWAV16(t testing.TB, path string, pcm []float32) {
	t.Helper()
	if err := os.WriteFile(path, encodeWAV(pcm, SampleRate, 1, 16, false, false), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rtpize turns Opus packets into RTP starting near the 16- and 32-bit wraps, then damages
// the stream: lossPct of packets dropped, reorderPct swapped with their successor, dupPct
// sent twice.
func rtpize(pkts [][]byte, seed uint64, lossPct, reorderPct, dupPct int) []*rtp.Packet {
	r := rand.New(rand.NewPCG(seed, 2))
	var out []*rtp.Packet
	seq := uint16(65500)
	ts := uint32(1<<32 - 960*100)
	for _, p := range pkts {
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: ts, SSRC: 1}, Payload: p}
		seq++
		ts += 960
		switch n := r.IntN(100); {
		case n < lossPct && len(out) > 0:
			continue
		case n < lossPct+dupPct:
			out = append(out, pkt, pkt)
			continue
		}
		out = append(out, pkt)
	}
	for i := 1; i+1 < len(out); i++ {
		if r.IntN(100) < reorderPct {
			out[i], out[i+1] = out[i+1], out[i]
			i++
		}
	}
	return out
}

// sentencePair is 1 s silence, a sentence, 1.5 s silence, a sentence, 1 s silence, as a WAV.
func sentencePair(t testing.TB) (path string, pcm []float32) {
	dir := t.TempDir()
	a := readWAV(t, flite(t, dir, "a", "The quick brown fox jumps over the lazy dog."))
	b := readWAV(t, flite(t, dir, "b", "Captions appear while the teacher speaks."))
	pcm = concat(silence(time.Second), a, silence(1500*time.Millisecond), b, silence(time.Second))
	// A little room noise: real microphones are never digitally silent.
	pcm = mix(pcm, whiteNoise(samplesToDur(int64(len(pcm))), 0.0005, 1))
	path = filepath.Join(dir, "pair.wav")
	writeWAV16(t, path, pcm)
	return path, pcm
}

func TestLiveOpusRTP(t *testing.T) {
	path, pcm := sentencePair(t)
	want := segment(t, DefaultConfig(), pcm)
	if len(want) != 2 {
		t.Fatalf("reference segmentation: %d utterances", len(want))
	}
	pkts := opusPackets(t, path)

	tests := []struct {
		name                string
		loss, reorder, dups int
	}{
		{"clean", 0, 0, 0},
		{"damaged", 3, 5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.TapQueue = 4096 // fed faster than real time: nothing may be dropped here
			cfg.PartialEvery = 300 * time.Millisecond
			pool, err := NewPool(&spanEngine{}, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			c := &collector{}
			live := NewLive(pool, cfg, c.sink)
			for _, sess := range []string{"one", "two"} { // the second session restarts the timeline
				for _, p := range rtpize(pkts, 7, tt.loss, tt.reorder, tt.dups) {
					live.WriteAudio(sess, p)
				}
			}
			live.Close()
			if live.Drops() != 0 {
				t.Fatalf("%d drops", live.Drops())
			}
			finals := c.finals()
			for _, f := range finals {
				t.Logf("%s %v–%v %q (lag %v)", f.ID, f.Start, f.End, f.Text, f.Lag)
			}
			t.Logf("want %v–%v, %v–%v", want[0].Start, want[0].End, want[1].Start, want[1].End)
			if len(finals) != 4 {
				t.Fatalf("%d finals, want 2 per session: %+v", len(finals), finals)
			}
			for i, f := range finals {
				sess := []string{"one", "two"}[i/2]
				w := want[i%2]
				if f.Session != sess || f.ID != utteranceID(sess, i%2+1) || f.Text == "" {
					t.Errorf("final %d: %+v", i, f)
				}
				// Codec delay (6.5 ms), concealment and frame alignment move edges a little.
				if d := f.Start - w.Start; d < -150*time.Millisecond || d > 150*time.Millisecond {
					t.Errorf("final %d starts at %v, WAV segmentation says %v", i, f.Start, w.Start)
				}
				if d := f.End - w.End; d < -150*time.Millisecond || d > 150*time.Millisecond {
					t.Errorf("final %d ends at %v, WAV segmentation says %v", i, f.End, w.End)
				}
			}
			partials := 0
			for _, e := range c.events {
				if !e.Final && e.Text != "" {
					partials++
				}
			}
			if partials == 0 {
				t.Error("no partials")
			}
		})
	}
}

// WriteAudio never blocks: with the decoder stalled, packets past the queue are dropped and
// counted.
func TestLiveTapNeverBlocks(t *testing.T) {
	pool, _ := NewPool(&spanEngine{}, DefaultConfig(), nil)
	defer pool.Close()
	l := &Live{in: make(chan tapPacket, 2), pool: pool} // no goroutine: nothing drains it
	for i := range 5 {
		l.WriteAudio("s", &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i)}, Payload: []byte{1, 2}})
	}
	if l.Drops() != 3 {
		t.Errorf("%d drops, want 3", l.Drops())
	}
	p := <-l.in
	if p.payload[0] != 1 {
		t.Error("payload not copied")
	}
}

// A presenter who goes quiet with DTX (no packets) still gets the final of what they said.
func TestLiveIdleClosesUtterance(t *testing.T) {
	path, _ := sentencePair(t)
	pkts := opusPackets(t, path)
	cfg := DefaultConfig()
	cfg.TapQueue = 4096
	pool, _ := NewPool(&spanEngine{}, cfg, nil)
	defer pool.Close()
	c := &collector{}
	live := NewLive(pool, cfg, c.sink)
	defer live.Close()
	// Only up to the middle of the first sentence, then silence on the wire.
	for _, p := range rtpize(pkts[:100], 1, 0, 0, 0) {
		live.WriteAudio("s", p)
	}
	deadline := time.After(10 * time.Second)
	for len(c.finals()) == 0 {
		select {
		case <-deadline:
			t.Fatal("no final after the presenter went quiet")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestLiveCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		pool, _ := NewPool(&spanEngine{}, DefaultConfig(), nil)
		live := NewLive(pool, DefaultConfig(), func(Event) {})
		live.WriteAudio("s", &rtp.Packet{Payload: []byte{0xfc, 0xff, 0xfe}})
		live.Close()
		live.Close() // twice is fine
		pool.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
