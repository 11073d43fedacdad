package record

import (
	"path/filepath"
	"sync/atomic"
	"testing"
)

// A recording stopped before any video is a WebM file with its audio.
func TestRecorderAudioOnlyIsWebM(t *testing.T) {
	r, err := Create(filepath.Join(t.TempDir(), "r.webm"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &synth{}
	for i := 0; i < 100; i++ {
		r.WriteAudio("a", s.audio())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if filepath.Base(r.Path()) != "r.webm" {
		t.Fatalf("recording at %s", r.Path())
	}
	if p := readWebM(t, r.Path(), false); p.blocks[audioTrack] != 100 {
		t.Errorf("%d audio blocks held and written, want 100", p.blocks[audioTrack])
	}
}

// H.264 joined mid-stream (no parameter sets yet) holds the audio, asks for a
// keyframe, and starts the Matroska file with it: nothing held is lost.
func TestRecorderHoldsUntilH264ParameterSets(t *testing.T) {
	var camera, screen atomic.Int32
	r, err := Create(filepath.Join(t.TempDir(), "r.webm"), Options{NeedKeyframe: func(s bool) {
		if s {
			screen.Add(1)
		} else {
			camera.Add(1)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	aus := accessUnits(t, h264File(t, 1))
	s, pk, next := &synth{}, &h264Packetizer{}, 10 // mid-GOP: inter frames first
	feedH264(r, s, pk, aus, &next, 600)            // to the IDR at 30 (the file loops)
	feedH264(r, s, pk, aus, &next, 1000)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if camera.Load() == 0 || screen.Load() != 0 {
		t.Errorf("keyframes asked: %d camera, %d screen; want the camera's", camera.Load(), screen.Load())
	}
	p := readDoc(t, r.Path(), false, "matroska")
	if p.blocks[audioTrack] != 80 || p.blocks[videoTrack] == 0 {
		t.Errorf("blocks %v: want all 80 audio packets and the video from the IDR", p.blocks)
	}
	decodes(t, r.Path())
}
