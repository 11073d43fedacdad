package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/models"
	"lectern/transcribe"
)

// slowEngine takes three times the audio's duration, on a clock scale times faster than
// real time.
type slowEngine struct{ scale float64 }

func (e slowEngine) Name() string                    { return "slow" }
func (e slowEngine) Region() string                  { return "local" }
func (e slowEngine) Warm(context.Context, int) error { return nil }
func (e slowEngine) Transcribe(ctx context.Context, pcm []float32, _ transcribe.Options) (transcribe.Result, error) {
	d := time.Duration(3 / e.scale * float64(len(pcm)) / transcribe.SampleRate * float64(time.Second))
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return transcribe.Result{}, ctx.Err()
	}
	return transcribe.Result{Text: fmt.Sprintf("words of %d samples", len(pcm))}, nil
}

// opusRTP encodes real speech clips, with pauses, as 20 ms Opus RTP packets.
func opusRTP(t *testing.T, clips ...string) []*rtp.Packet {
	t.Helper()
	for _, tool := range []string{"sox", "opusenc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	dir := t.TempDir()
	args := []string{}
	for i, c := range clips {
		pad := filepath.Join(dir, fmt.Sprintf("%d.wav", i))
		if out, err := exec.Command("sox", "/work/shared/speech/real/"+c+".wav", "-r", "48000", "-c", "1", pad, "pad", "0.8", "0").CombinedOutput(); err != nil {
			t.Fatalf("sox: %v: %s", err, out)
		}
		args = append(args, pad)
	}
	talk := filepath.Join(dir, "talk.wav")
	if out, err := exec.Command("sox", append(args, talk, "pad", "0", "1.5")...).CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	ogg := talk + ".opus"
	if out, err := exec.Command("opusenc", "--quiet", "--framesize", "20", talk, ogg).CombinedOutput(); err != nil {
		t.Fatalf("opusenc: %v: %s", err, out)
	}
	b, err := os.ReadFile(ogg)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var pkts []*rtp.Packet
	for i := 0; ; {
		p, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) {
			return pkts
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(p, []byte("OpusTags")) {
			continue
		}
		pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111,
			SequenceNumber: uint16(i), Timestamp: uint32(960 * i), SSRC: 7}, Payload: p})
		i++
	}
}

// Overload through a webinar's room: with an engine three times slower than real time,
// viewers are told captions are delayed, then paused; gaps are recorded in the real SQLite
// store and, once the pool is idle, filled, so the transcript holds every utterance a viewer
// heard about.
func TestOverloadViewersToldAndTranscriptComplete(t *testing.T) {
	const k = 3
	pkts := opusRTP(t, "real_ldc93s1", "real_harvard_sb_spk1_snt1", "real_harvard_sb_spk1_snt3")
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	tc := transcribe.DefaultConfig()
	tc.Workers = 1
	tc.MaxLag, tc.ShedPartialsAt, tc.FastFinalsAt, tc.FillAfter = tc.MaxLag/k, tc.ShedPartialsAt/k, tc.FastFinalsAt/k, tc.FillAfter/k
	pool, err := transcribe.NewPool(slowEngine{scale: k}, tc, reg)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := New(Config{Store: store, Broadcast: bc, Pool: pool, Transcribe: tc, Metrics: captions.NewMetrics(reg), Logger: log})
	t.Cleanup(func() { m.Close(); pool.Close(); bc.Close(); store.Close() })
	<-pool.Warmed()
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "T", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Room(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	sub := r.Hub().Subscribe("en")
	defer sub.Close()

	var mu sync.Mutex
	states := []string{}
	ids := map[string]bool{}
	go func() {
		for f := range sub.Frames() {
			mu.Lock()
			if bytes.HasPrefix(f.SSE, []byte("event: status\n")) {
				var st captions.Status
				if err := json.Unmarshal(f.JSON, &st); err != nil {
					t.Errorf("status frame %s: %v", f.JSON, err)
				}
				if len(states) == 0 || states[len(states)-1] != st.State {
					states = append(states, st.State)
				}
			} else {
				var c captions.Caption
				if err := json.Unmarshal(f.JSON, &c); err != nil {
					t.Errorf("caption frame %s: %v", f.JSON, err)
				}
				ids[c.ID] = true
			}
			mu.Unlock()
		}
	}()

	tap := joinSpeaker(r, "k", "s", "Ada")
	start := time.Now()
	for i, p := range pkts {
		time.Sleep(time.Until(start.Add(time.Duration(i) * 20 * time.Millisecond / k)))
		tap.WriteAudio("s", p)
	}

	// Every utterance is out, every gap filled, and the viewers are told captions are ok.
	deadline := time.Now().Add(60 * time.Second)
	var finals []captions.Caption
	for {
		finals, err = store.Finals(ctx, w.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		failed, _ := store.FailedSegments(ctx, w.ID)
		mu.Lock()
		done := failed == 0 && len(finals) >= 3 && len(finals) == len(ids) && len(states) > 0 && states[len(states)-1] == "ok"
		got := fmt.Sprint(states, len(ids))
		mu.Unlock()
		if done && pool.Status().Gaps == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transcript %d finals, %d failed, viewers saw states/ids %s", len(finals), failed, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) < 3 || states[0] != "delayed" || states[1] != "paused" {
		t.Errorf("viewers were told %v, want delayed, paused, ..., ok", states)
	}
	for _, c := range finals {
		if !ids[c.ID] || c.Text == "" {
			t.Errorf("stored final %+v was not announced live or has no text", c)
		}
	}
}
