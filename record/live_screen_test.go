package record

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
)

// A real pion presenter with camera and a screen share from 2 s to 4 s of 9 s:
// the recording parses back with audio and two video tracks, the main picture
// shows camera, then screen, then camera again, the camera track holds the
// camera during the share, and ffprobe reads both video streams.
func TestRecordRealPublisherScreenShare(t *testing.T) {
	s, err := broadcast.New(broadcast.Config{IncludeLoopback: true, PLIInterval: 100 * time.Millisecond}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	path := filepath.Join(t.TempDir(), "r.webm")
	rec, err := Create(path, Options{NeedKeyframe: func(screen bool) {
		if screen {
			s.RequestScreenKeyframe("w1")
		} else {
			s.RequestKeyframe("w1")
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	remove := s.AddTap("w1", rec)
	pub := publishLiveWith(t, s, "w1", true)
	sent := 9 * time.Second
	pub.runSharing(t, sent, 2*time.Second, 4*time.Second)
	time.Sleep(200 * time.Millisecond) // the last packets cross loopback
	remove()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	p := readWebM(t, path, false)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	const camFrame, scrFrame = 3*400 - 3, 5*300 - 5 // less the VP8 payload descriptors
	var order []int
	screenFrames := 0
	for _, b := range readBlocks(t, path, false)[videoTrack] {
		if b.size != camFrame && b.size != scrFrame {
			t.Fatalf("main picture block of %d bytes", b.size)
		}
		if b.size == scrFrame {
			screenFrames++
		}
		if len(order) == 0 || order[len(order)-1] != b.size {
			order = append(order, b.size)
		}
	}
	if !slices.Equal(order, []int{camFrame, scrFrame, camFrame}) {
		t.Errorf("main picture sources by frame size %v, want camera, screen, camera", order)
	}
	// Generous: on a loaded machine packets are lost and each loss waits for a keyframe.
	if screenFrames < 15 {
		t.Errorf("%d screen frames in the main picture for a 2 s share at 30 fps", screenFrames)
	}
	if p.blocks[cameraTrack] < 15 {
		t.Errorf("%d frames on the camera track during a 2 s share", p.blocks[cameraTrack])
	}
	if d := p.duration / 1000; math.Abs(d-sent.Seconds()) > 1 {
		t.Errorf("WebM duration %.2f s, sent %v", d, sent)
	}
	codecs, packets, d := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "vp8", "vp8"}) || slices.Contains(packets, 0) {
		t.Errorf("ffprobe streams %v packets %v, want opus and two VP8 streams, none empty", codecs, packets)
	}
	if math.Abs(d-sent.Seconds()) > 1 {
		t.Errorf("ffprobe duration %.2f s, sent %v", d, sent)
	}
	t.Logf("blocks %v, %d screen frames in the main picture, ffprobe packets %v, duration %.2f s", p.blocks, screenFrames, packets, d)
}
