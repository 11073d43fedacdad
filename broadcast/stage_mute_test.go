package broadcast

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestHostMuteStopsAtViewers: real pion publishers and a slot viewer. A host's mute of one
// presenter's audio and video stops that presenter's packets at the viewer within 100 ms
// (counted by the metric), leaves the other presenter alone, survives a reconnect of the
// same credential, and unmuting brings both media back (video from a keyframe).
func TestHostMuteStopsAtViewers(t *testing.T) {
	s := newTestServer(t, Config{})
	a, err := newStagePub(t, s, "r", "a", 0xa0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newStagePub(t, s, "r", "b", 0xa1)
	if err != nil {
		t.Fatal(err)
	}
	v := newStageViewer(t, s, "r", 2, 4) // slot audio 0, 1; main camera, screen, slot cameras 0, 1
	stop := make(chan struct{})
	wg := pump(t, []*stagePub{a, b}, func(int) uint8 { return 30 }, stop)
	defer wg.Wait()
	defer close(stop)

	count := func(track string, pub byte, after time.Time) int {
		n := 0
		for _, g := range v.received() {
			if g.track == track && g.publisher == pub && g.at.After(after) {
				n++
			}
		}
		return n
	}
	waitFor(t, 10*time.Second, "b's audio and camera on its slots", func() bool {
		return count("audio-slot1", 0xa1, time.Time{}) >= 20 && count("camera-slot1", 0xa1, time.Time{}) >= 5
	})

	s.SetMute("r", "b", Mute{Audio: true, Video: true})
	muted := time.Now()
	time.Sleep(600 * time.Millisecond)
	// In flight when the mute took effect: at most what 100 ms carry.
	late := muted.Add(100 * time.Millisecond)
	if n := count("audio-slot1", 0xa1, late) + count("camera-slot1", 0xa1, late); n != 0 {
		t.Fatalf("%d packets of the muted presenter reached the viewer more than 100 ms after the mute", n)
	}
	if n := count("audio-slot0", 0xa0, late); n < 10 {
		t.Fatalf("the other presenter's audio stopped too (%d packets)", n)
	}
	if got := testutil.ToFloat64(s.m.mutedPackets); got < 20 {
		t.Fatalf("muted packets counted: %v, want the dropped ones", got)
	}
	for _, m := range s.Stage("r") {
		if m.Key == "b" && m.Mute != (Mute{Audio: true, Video: true}) {
			t.Fatalf("stage lists b as %+v", m.Mute)
		}
	}

	s.SetMute("r", "b", Mute{})
	unmuted := time.Now()
	waitFor(t, 5*time.Second, "b's audio and a keyframe back on its slots", func() bool {
		if count("audio-slot1", 0xa1, unmuted) < 10 {
			return false
		}
		for _, g := range v.received() {
			if g.track == "camera-slot1" && g.at.After(unmuted) {
				return g.keyframe // the first video packet after the unmute starts a picture
			}
		}
		return false
	})
	// Sequence numbers continue across the mute: no gap for the viewer to NACK.
	var last uint16
	seen := false
	for _, g := range v.received() {
		if g.track != "audio-slot1" {
			continue
		}
		if seen && g.seq != last+1 {
			t.Fatalf("audio slot sequence jumps %d -> %d across the mute", last, g.seq)
		}
		last, seen = g.seq, true
	}
}

// TestMuteKeptAcrossReconnect: a muted credential publishing again stays muted; EndStage frees
// its slot.
func TestMuteKeptAcrossReconnect(t *testing.T) {
	s := newTestServer(t, Config{})
	if _, err := newStagePub(t, s, "r", "a", 0xa0); err != nil {
		t.Fatal(err)
	}
	if !s.SetMute("r", "a", Mute{Audio: true}) || s.SetMute("r", "a", Mute{Audio: true}) {
		t.Fatal("SetMute reports a change only when something changed")
	}
	again, err := newStagePub(t, s, "r", "a", 0xa0)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stage("r")
	if len(st) != 1 || st[0].Session != again.session.ID || !st[0].Mute.Audio || st[0].Mute.Video {
		t.Fatalf("after a reconnect: %+v, want the new session, audio still muted", st)
	}
	if !s.EndStage("r", "a") || len(s.Stage("r")) != 0 || s.EndStage("r", "a") {
		t.Fatalf("EndStage left %+v", s.Stage("r"))
	}
}

// TestActiveCameraSentOnce: the active speaker's camera reaches a slot viewer once, on the
// main camera m-line, not again on its slot; when another presenter takes the large tile its
// slot carries it again, starting at a keyframe.
func TestActiveCameraSentOnce(t *testing.T) {
	s := newTestServer(t, Config{})
	var pubs []*stagePub
	for i, key := range []string{"a", "b"} {
		p, err := newStagePub(t, s, "r", key, byte(0xa0+i))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	v := newStageViewer(t, s, "r", 2, 4)
	stop := make(chan struct{})
	wg := pump(t, pubs, func(int) uint8 { return 30 }, stop)
	defer wg.Wait()
	defer close(stop)
	count := func(track string, pub byte, after time.Time) (n int, firstKey bool) {
		for _, g := range v.received() {
			if g.track == track && g.publisher == pub && g.at.After(after) {
				if n == 0 {
					firstKey = g.keyframe
				}
				n++
			}
		}
		return n, firstKey
	}
	waitFor(t, 10*time.Second, "a's camera on the large tile, b's on its slot", func() bool {
		main, _ := count("camera", 0xa0, time.Time{})
		slot, _ := count("camera-slot1", 0xa1, time.Time{})
		return main >= 10 && slot >= 10
	})
	if n, _ := count("camera-slot0", 0xa0, time.Time{}); n != 0 {
		t.Fatalf("the active speaker's camera also went to its slot: %d packets", n)
	}
	s.SetSpotlight("r", "b")
	moved := time.Now()
	waitFor(t, 5*time.Second, "a's camera back on its slot", func() bool {
		n, _ := count("camera-slot0", 0xa0, moved)
		return n >= 5
	})
	if _, key := count("camera-slot0", 0xa0, moved); !key {
		t.Fatal("a's slot restarted without a keyframe")
	}
}
