package record

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// synth produces presenter-shaped RTP: 30 fps VP8 frames of three packets
// (keyframe every 2 s) and 20 ms Opus packets.
type synth struct {
	vseq, aseq uint16
	vts, ats   uint32
	frames     int
	size       int // bytes per video packet (default 200)
}

func (s *synth) videoFrame() []*rtp.Packet {
	key := s.frames%60 == 0
	s.frames++
	s.vts += 3000
	var pkts []*rtp.Packet
	for i := 0; i < 3; i++ {
		n := s.size
		if n == 0 {
			n = 200
		}
		payload := make([]byte, n)
		if i == 0 {
			payload[0] = 0x10 // S=1, PID=0
			payload[1] = 0x01 // P=1: inter frame
			if key {
				payload[1] = 0x00
			}
		}
		s.vseq++
		pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: s.vseq, Timestamp: s.vts, Marker: i == 2}, Payload: payload})
	}
	return pkts
}

func (s *synth) audio() *rtp.Packet {
	s.aseq++
	s.ats += 960
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: s.aseq, Timestamp: s.ats}, Payload: []byte{0x78, 1, 2, 3}}
}

// feed sends ms of media in arrival order (three audio packets per two frames).
func feed(r *Recorder, s *synth, session string, ms int) {
	for t := 0; t < ms; t += 20 {
		r.WriteAudio(session, s.audio())
		if t%100 < 60 { // three frames per 100 ms: 30 fps
			for _, p := range s.videoFrame() {
				r.WriteVideo(session, "video/VP8", p)
			}
		}
	}
}

func TestRecorderWritesPlayableWebM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	r, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &synth{ats: 123456, vts: 4000000000} // video RTP time wraps during the test
	for i := 0; i < 10; i++ {
		feed(r, s, "a", 1000)
		waitDrained(t, r)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	p := readWebM(t, path, false)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	if p.blocks[audioTrack] != 500 {
		t.Errorf("audio blocks %d, want 500", p.blocks[audioTrack])
	}
	if p.blocks[videoTrack] < 290 {
		t.Errorf("video blocks %d, want ~300", p.blocks[videoTrack])
	}
	if p.clusters < 5 {
		t.Errorf("%d clusters, want one at least every 2 s", p.clusters)
	}
	if math.Abs(p.duration-10000) > 100 {
		t.Errorf("duration %.0f ms, want ~10000", p.duration)
	}
	codecs, packets, d := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "vp8", "vp8"}) {
		t.Errorf("ffprobe streams %v", codecs)
	}
	if len(packets) < 2 || packets[0] == 0 || packets[1] == 0 {
		t.Errorf("ffprobe read packets %v: audio and the main video must have some", packets)
	}
	if math.Abs(d-10) > 0.2 {
		t.Errorf("ffprobe duration %.2f s, want ~10", d)
	}
}

// A reconnecting presenter (new session, new RTP bases) continues the same
// file with monotonic time; video waits for the new session's keyframe.
func TestRecorderContinuesAcrossReconnect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.webm")
	needKey := 0
	r, err := Create(path, Options{NeedKeyframe: func(bool) { needKey++ }})
	if err != nil {
		t.Fatal(err)
	}
	s := &synth{}
	feed(r, s, "a", 2000)
	waitDrained(t, r)
	s2 := &synth{ats: 99999, vts: 7777, frames: 5} // starts with inter frames
	feed(r, s2, "b", 3000)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if needKey == 0 {
		t.Error("no keyframe requested when video restarted on inter frames")
	}
	p := readWebM(t, path, false)
	if p.blocks[audioTrack] != 250 {
		t.Errorf("audio blocks %d, want 250", p.blocks[audioTrack])
	}
	if got := p.lastMs[audioTrack]; got < 4900 || got > 5100 {
		t.Errorf("last audio at %d ms, want ~5000 (timeline continued)", got)
	}
	if math.Abs(p.duration-5000) > 150 {
		t.Errorf("duration %.0f ms, want ~5000", p.duration)
	}
}

// A full queue drops and counts instead of blocking the caller.
func TestRecorderDropsWhenQueueFull(t *testing.T) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "lectern_record_dropped_packets_total"})
	// No writer goroutine: the queue never drains, as with a stuck disk.
	r := &Recorder{opts: Options{Dropped: dropped}, q: make(chan item, 2), stop: make(chan struct{})}
	s := &synth{}
	for i := 0; i < 5; i++ {
		r.WriteAudio("a", s.audio())
	}
	if got := testutil.ToFloat64(dropped); got != 3 {
		t.Errorf("%v packets counted as dropped, want 3", got)
	}
}

func waitDrained(t testing.TB, r *Recorder) {
	t.Helper()
	for len(r.q) > 0 {
		time.Sleep(time.Millisecond)
	}
}
