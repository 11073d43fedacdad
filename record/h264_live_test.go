package record

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
)

// publishH264 connects a real pion presenter offering only H.264 (as OBS and
// GStreamer do) and Opus.
// wantKey is set when the server asks for a keyframe (PLI).
func publishH264(t *testing.T, s *broadcast.Server, room string, wantKey *atomic.Bool) (video *webrtc.TrackLocalStaticSample, audio *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	m := &webrtc.MediaEngine{}
	h264 := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}
	opus := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264, PayloadType: 102}, webrtc.RTPCodecTypeVideo); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opus, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	audio, _ = webrtc.NewTrackLocalStaticRTP(opus, "audio", "pub")
	video, _ = webrtc.NewTrackLocalStaticSample(h264, "camera", "pub")
	for _, tr := range []webrtc.TrackLocal{audio, video} {
		x, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				pkts, _, err := x.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok {
						wantKey.Store(true)
					}
				}
			}
		}()
	}
	connectPublisher(t, s, room, pc)
	return video, audio
}

// A real pion presenter sends an x264 stream (pion's h264reader, one sample
// per access unit) and Opus for 6 s: the recording is a Matroska file that
// ffprobe reads as h264 with the duration sent, and ffmpeg decodes cleanly.
func TestRecordRealH264Publisher(t *testing.T) {
	aus := accessUnits(t, h264File(t, 3))
	s, err := broadcast.New(broadcast.Config{IncludeLoopback: true, PLIInterval: 100 * time.Millisecond}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rec, err := Create(filepath.Join(t.TempDir(), "r.webm"), Options{NeedKeyframe: func(bool) { s.RequestKeyframe("w1") }})
	if err != nil {
		t.Fatal(err)
	}
	remove := s.AddTap("w1", rec)
	var wantKey atomic.Bool
	video, audio := publishH264(t, s, "w1", &wantKey)

	sent := 6 * time.Second
	start := time.Now()
	audioTick, videoTick := time.NewTicker(20*time.Millisecond), time.NewTicker(time.Second/30)
	defer audioTick.Stop()
	defer videoTick.Stop()
	var aseq uint16
	for next := 0; time.Since(start) < sent; {
		select {
		case now := <-audioTick.C:
			aseq++
			ts := uint32(now.Sub(start).Milliseconds() * 48)
			if err := audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: ts}, Payload: make([]byte, 80)}); err != nil {
				t.Fatal(err)
			}
		case <-videoTick.C:
			// The file loops; it has an IDR every 30 access units, and a
			// keyframe request skips to the next one, as an encoder would
			// answer it.
			if wantKey.Swap(false) && next%30 != 0 {
				next += 30 - next%30
			}
			if err := video.WriteSample(media.Sample{Data: annexB(aus[next%len(aus)]), Duration: time.Second / 30}); err != nil {
				t.Fatal(err)
			}
			next++
		}
	}
	time.Sleep(200 * time.Millisecond) // the last packets cross loopback
	remove()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	path := rec.Path()
	if filepath.Ext(path) != ".mkv" {
		t.Fatalf("recording at %s, want .mkv", path)
	}
	p := readDoc(t, path, false, "matroska")
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_MPEG4/ISO/AVC", "V_MPEG4/ISO/AVC"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	codecs, packets, d := probe(t, path)
	// Generous: a loaded machine loses packets and waits for the next keyframe.
	if !slices.Equal(codecs, []string{"opus", "h264", "h264"}) || packets[0] == 0 || packets[1] < 60 {
		t.Errorf("ffprobe streams %v packets %v", codecs, packets)
	}
	if math.Abs(d-sent.Seconds()) > 1 {
		t.Errorf("ffprobe duration %.2f s, sent %v", d, sent)
	}
	decodes(t, path)
	t.Logf("blocks %v, ffprobe packets %v, duration %.2f s", p.blocks, packets, d)
}

// recordH264Forever records audio and H.264 read from an Annex-B file, in
// real time, until killed (the SIGKILL test's child).
func recordH264Forever(path, in string) {
	r, err := Create(path, Options{})
	if err != nil {
		os.Exit(2)
	}
	aus := accessUnits(&testing.T{}, in)
	s, pk, next := &synth{}, &h264Packetizer{}, 0
	for {
		feedH264(r, s, pk, aus, &next, 100)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestH264RecordingSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LECTERN_RECORD_HELPER="+filepath.Join(dir, "r.webm"), "LECTERN_RECORD_H264="+h264File(t, 2))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // past two cluster boundaries
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	path := filepath.Join(dir, "r.mkv")
	p := readDoc(t, path, true, "matroska")
	if p.clusters < 2 || p.blocks[audioTrack] < 100 || p.blocks[videoTrack] < 60 {
		t.Fatalf("killed recording kept %d clusters, blocks %v", p.clusters, p.blocks)
	}
	codecs, packets, _ := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "h264", "h264"}) || packets[1] < 60 {
		t.Errorf("ffprobe streams %v packets %v", codecs, packets)
	}
	out, _ := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:1", "-f", "null", "-").CombinedOutput()
	if n := strings.Count(string(out), "\n"); n > 2 {
		t.Errorf("ffmpeg reports %d errors decoding the killed recording: %s", n, out)
	}
	t.Logf("after SIGKILL at 5 s: %d clusters, blocks %v", p.clusters, p.blocks)
}
