package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as a recorder process that the kill test
// ends with SIGKILL mid-recording.
func TestMain(m *testing.M) {
	if path := os.Getenv("LECTERN_RECORD_HELPER"); path != "" {
		if os.Getenv("LECTERN_RECORD_STAGE") != "" {
			recordStageForever(path)
		}
		if in := os.Getenv("LECTERN_RECORD_H264"); in != "" {
			recordH264Forever(path, in)
		}
		recordForever(path)
	}
	os.Exit(m.Run())
}

// recordForever records synthetic media, the screen shared, in real time
// until killed.
func recordForever(path string) {
	r, err := Create(path, Options{})
	if err != nil {
		os.Exit(2)
	}
	cam, scr := &synth{}, &synth{size: 150}
	for {
		feedShare(r, cam, scr, 100)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRecordingSurvivesSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LECTERN_RECORD_HELPER="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Past two cluster boundaries (clusters start at least every 2 s).
	time.Sleep(5 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	p := readWebM(t, path, true)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	if p.clusters < 2 || p.blocks[audioTrack] < 100 || p.blocks[videoTrack] < 60 || p.blocks[cameraTrack] == 0 {
		t.Fatalf("killed recording kept %d clusters, blocks %v", p.clusters, p.blocks)
	}
	codecs, packets, _ := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "vp8", "vp8"}) || slices.Contains(packets, 0) {
		t.Errorf("ffprobe streams %v packets %v, want opus and two VP8 streams, none empty", codecs, packets)
	}
	t.Logf("after SIGKILL at 5 s: %d clusters, blocks %v, last audio at %d ms", p.clusters, p.blocks, p.lastMs[audioTrack])
}
