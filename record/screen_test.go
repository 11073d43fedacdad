package record

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// block is one SimpleBlock read back from a recording.
type block struct {
	ms   int64
	size int
	key  bool
}

// readBlocks returns every track's blocks in file order (truncated: the file
// may end mid-element).
func readBlocks(t testing.TB, path string, truncated bool) map[uint64][]block {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Segment webm.Segment `ebml:"Segment"`
	}
	err = ebml.Unmarshal(bytes.NewReader(b), &doc)
	if err != nil && !(truncated && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF))) {
		t.Fatalf("parse %s: %v", path, err)
	}
	out := map[uint64][]block{}
	for _, c := range doc.Segment.Cluster {
		for _, blk := range c.SimpleBlock {
			size := 0
			for _, d := range blk.Data {
				size += len(d)
			}
			out[blk.TrackNumber] = append(out[blk.TrackNumber], block{ms: int64(c.Timecode) + int64(blk.Timecode), size: size, key: blk.Keyframe})
		}
	}
	return out
}

// feedShare sends ms of audio, camera and (if scr is not nil) screen share.
func feedShare(r *Recorder, cam, scr *synth, ms int) {
	for t := 0; t < ms; t += 20 {
		r.WriteAudio("a", cam.audio())
		if t%100 < 60 {
			for _, p := range cam.videoFrame() {
				r.WriteVideo("a", "video/VP8", p)
			}
			if scr != nil {
				for _, p := range scr.videoFrame() {
					r.WriteScreen("a", "video/VP8", p)
				}
			}
		}
	}
}

// Camera 2 s, then a 4 s screen share, then camera 6 s: the main picture shows
// the screen while it is shared and the camera before and after, each run
// starting at a keyframe; the camera meanwhile goes to its own track, also
// from a keyframe, and no camera frame is written twice.
func TestScreenShareBecomesMainPicture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	var asked []bool
	r, err := Create(path, Options{NeedKeyframe: func(screen bool) { asked = append(asked, screen) }})
	if err != nil {
		t.Fatal(err)
	}
	cam, scr := &synth{size: 200}, &synth{size: 150, vts: 5555}
	feedShare(r, cam, nil, 2000)
	waitDrained(t, r)
	feedShare(r, cam, scr, 4000)
	waitDrained(t, r)
	feedShare(r, cam, nil, 6000)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	blocks := readBlocks(t, path, false)
	const camFrame, scrFrame = 597, 447 // less the VP8 payload descriptors
	// The main picture as runs of one source.
	type run struct {
		size, n int
		key     bool
		fromMs  int64
	}
	var runs []run
	for _, b := range blocks[videoTrack] {
		if len(runs) == 0 || runs[len(runs)-1].size != b.size {
			runs = append(runs, run{size: b.size, key: b.key, fromMs: b.ms})
		}
		runs[len(runs)-1].n++
	}
	if len(runs) != 3 || runs[0].size != camFrame || runs[1].size != scrFrame || runs[2].size != camFrame {
		t.Fatalf("main picture runs %+v, want camera, screen, camera", runs)
	}
	for _, x := range runs {
		if !x.key {
			t.Errorf("a run of the main picture starts on an inter frame: %+v", runs)
		}
	}
	if runs[1].n < 115 {
		t.Errorf("%d screen frames in the main picture, want all ~120", runs[1].n)
	}
	if d := runs[1].fromMs - 2000; d < -50 || d > 50 {
		t.Errorf("screen share starts at %d ms, want ~2000", runs[1].fromMs)
	}
	// Back to the camera at its first keyframe (every 2 s) after 3 s without
	// screen frames: the share ended at 6 s.
	if runs[2].fromMs != 10000 {
		t.Errorf("camera back in the main picture at %d ms, want at the 10 s keyframe", runs[2].fromMs)
	}

	side := blocks[cameraTrack]
	if len(side) == 0 || !side[0].key || side[0].size != camFrame {
		t.Fatalf("camera track %d blocks, first %+v: want camera frames from a keyframe", len(side), side)
	}
	if last := side[len(side)-1].ms; last >= runs[2].fromMs {
		t.Errorf("camera track runs to %d ms, past the camera's return at %d ms", last, runs[2].fromMs)
	}
	camWritten := runs[0].n + runs[2].n + len(side)
	if camWritten > cam.frames || camWritten < cam.frames-70 {
		t.Errorf("%d camera frames written of %d sent: each once, less at most one wait for a keyframe", camWritten, cam.frames)
	}
	if !slices.Contains(asked, false) {
		t.Error("no camera keyframe asked for when the camera moved to its own track")
	}

	codecs, packets, d := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "vp8", "vp8"}) || slices.Contains(packets, 0) {
		t.Errorf("ffprobe streams %v packets %v, want opus and two VP8 streams, none empty", codecs, packets)
	}
	if d < 11.8 || d > 12.2 {
		t.Errorf("ffprobe duration %.2f s, want ~12", d)
	}
	t.Logf("main picture runs %+v; camera track %d frames; keyframe requests %v", runs, len(side), asked)
}
