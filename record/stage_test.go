package record

import (
	"path/filepath"
	"slices"
	"testing"

	"lectern/broadcast"
)

func member(key, name string, slot int, session string) broadcast.StageMember {
	return broadcast.StageMember{Publisher: broadcast.Publisher{Key: key, Name: name}, Session: session, Slot: slot}
}

// One presenter on a stage recording gives the same tracks as before stage audio existed:
// Opus, then the two video tracks, the Opus one named after the speaker.
func TestStageOnePresenterKeepsTheLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	r, err := Create(path, Options{StageAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	tap := r.Join(member("a", "Ada Lovelace", 2, "s1"))
	cam := &synth{}
	for i := range 100 { // 2 s
		pkt := cam.audio()
		tap.WriteAudio("s1", pkt) // alone on stage: not recorded twice
		r.WriteAudio("s1", pkt)
		if i%5 < 3 {
			for _, p := range cam.videoFrame() {
				r.WriteVideo("s1", "video/VP8", p)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	p := readWebM(t, path, false)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8"}) || p.blocks[audioTrack] != 100 {
		t.Fatalf("tracks %v blocks %v", p.codecs, p.blocks)
	}
	codecs, _, _ := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "vp8", "vp8"}) {
		t.Errorf("ffprobe streams %v", codecs)
	}
	if st := probeStreams(t, path); st[0].Tags.Title != "Ada Lovelace" {
		t.Errorf("audio track named %q", st[0].Tags.Title)
	}
}

// Presenters' own tracks start when a second slot is heard; a slot keeps its track when
// its presenter reconnects or another takes the slot (both named); a nameless presenter is
// named after the slot; slots never heard are not listed.
func TestStageSlotsAndNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	r, err := Create(path, Options{StageAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	voices := map[string]*synth{}
	say := func(m broadcast.StageMember, n int) {
		tap := r.Join(m)
		if voices[m.Session] == nil {
			voices[m.Session] = &synth{}
		}
		for range n {
			tap.WriteAudio(m.Session, voices[m.Session].audio())
		}
	}
	cam := &synth{}
	for _, p := range cam.videoFrame() { // starts the file
		r.WriteVideo("v", "video/VP8", p)
	}
	say(member("a", "Ada", 0, "a1"), 10) // recorded on Ada's track only if handled after b joined
	say(member("b", "", 3, "b1"), 10)
	say(member("a", "Ada", 0, "a2"), 10) // reconnect: same slot, same name
	say(member("c", "Charles", 3, "c1"), 10)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	p := readWebM(t, path, false)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8", "A_OPUS", "A_OPUS"}) ||
		!slices.Contains([]int{10, 20}, p.blocks[laneTrack(0)]) || p.blocks[laneTrack(1)] != 20 {
		t.Fatalf("tracks %v blocks %v", p.codecs, p.blocks)
	}
	var titles []string
	for _, st := range probeStreams(t, path) {
		if st.CodecType == "audio" {
			titles = append(titles, st.Tags.Title)
		}
	}
	if !slices.Equal(titles, []string{"Active speaker", "Ada", "Speaker 4 / Charles"}) {
		t.Errorf("audio tracks named %q", titles)
	}
}

// A presenter whose audio clock runs slow falls behind the others on the timeline; the
// muxer would drop their blocks once they lag by its window, so the track moves up
// instead: every packet is recorded.
func TestStageSlowClockLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	r, err := Create(path, Options{StageAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	fast := r.Join(member("a", "Ada", 0, "a"))
	slow := r.Join(member("b", "Bob", 1, "b"))
	cam, a := &synth{}, &synth{}
	var bts uint32
	for i := range 500 { // 10 s, Bob's clock 20 % slow
		fast.WriteAudio("a", a.audio())
		bts += 768
		pkt := a.audio()
		pkt.Timestamp = bts
		slow.WriteAudio("b", pkt)
		if i%5 < 3 {
			for _, p := range cam.videoFrame() {
				r.WriteVideo("a", "video/VP8", p)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	p := readWebM(t, path, false)
	if p.blocks[laneTrack(0)] != 500 || p.blocks[laneTrack(1)] != 500 {
		t.Fatalf("blocks %v, want 500 of each speaker", p.blocks)
	}
}
