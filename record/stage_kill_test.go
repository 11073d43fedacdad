package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"lectern/broadcast"
)

// recordStageForever records two stage presenters' audio and a camera in real time until
// killed; the second presenter joins after a second, once the file has started.
func recordStageForever(path string) {
	r, err := Create(path, Options{StageAudio: true})
	if err != nil {
		os.Exit(2)
	}
	ada := r.Join(broadcast.StageMember{Publisher: broadcast.Publisher{Key: "a", Name: "Ada Lovelace"}, Session: "a", Slot: 0})
	var grace broadcast.Tap
	cam, voice := &synth{}, &synth{}
	for n := 0; ; n++ {
		if n == 10 {
			grace = r.Join(broadcast.StageMember{Publisher: broadcast.Publisher{Key: "g", Name: "Grace Hopper"}, Session: "g", Slot: 1})
		}
		for t := 0; t < 100; t += 20 {
			pkt := cam.audio()
			ada.WriteAudio("a", pkt)
			r.WriteAudio("a", pkt) // the active speaker
			if grace != nil {
				grace.WriteAudio("g", voice.audio())
			}
			if t%100 < 60 {
				for _, p := range cam.videoFrame() {
					r.WriteVideo("a", "video/VP8", p)
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A stage recording killed mid-way lists exactly the tracks in use before the kill, named,
// and each holds its audio up to the last cluster.
func TestStageRecordingSurvivesSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LECTERN_RECORD_HELPER="+path, "LECTERN_RECORD_STAGE=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	p := readWebM(t, path, true)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8", "A_OPUS", "A_OPUS"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	if p.clusters < 2 || p.blocks[audioTrack] < 100 || p.blocks[laneTrack(0)] < 50 || p.blocks[laneTrack(1)] < 50 || p.blocks[videoTrack] < 60 {
		t.Fatalf("killed recording kept %d clusters, blocks %v", p.clusters, p.blocks)
	}
	var titles []string
	for _, st := range probeStreams(t, path) {
		if st.CodecType == "audio" {
			if st.Packets() == 0 {
				t.Errorf("audio stream %q is empty", st.Tags.Title)
			}
			titles = append(titles, st.Tags.Title)
		}
	}
	if !slices.Equal(titles, []string{"Active speaker", "Ada Lovelace", "Grace Hopper"}) {
		t.Errorf("ffprobe audio streams %q", titles)
	}
	t.Logf("after SIGKILL at 5 s: %d clusters, blocks %v", p.clusters, p.blocks)
}
