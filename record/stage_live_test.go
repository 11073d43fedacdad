package record

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
)

// toneOpus encodes secs of a sine tone at hz (sox, opusenc: 20 ms frames) and returns its
// Opus packets.
func toneOpus(t *testing.T, hz, secs int) [][]byte {
	t.Helper()
	for _, tool := range []string{"sox", "opusenc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (Debian packages sox, opus-tools)", tool)
		}
	}
	dir := t.TempDir()
	wav, opus := filepath.Join(dir, "t.wav"), filepath.Join(dir, "t.opus")
	if out, err := exec.Command("sox", "-n", "-r", "48000", "-c", "1", "-b", "16", wav,
		"synth", strconv.Itoa(secs), "sine", strconv.Itoa(hz), "vol", "0.5").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v %s", err, out)
	}
	if out, err := exec.Command("opusenc", "--quiet", "--framesize", "20", wav, opus).CombinedOutput(); err != nil {
		t.Fatalf("opusenc: %v %s", err, out)
	}
	b, err := os.ReadFile(opus)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := oggPackets(b)
	if err != nil {
		t.Fatal(err)
	}
	return pkts[2:] // after OpusHead and OpusTags
}

// oggPackets splits an Ogg stream into its packets (lacing values of each page's segment
// table; a 255 continues the packet).
func oggPackets(b []byte) ([][]byte, error) {
	var out [][]byte
	var cur []byte
	for len(b) > 0 {
		if len(b) < 27 || !bytes.HasPrefix(b, []byte("OggS")) {
			return nil, errors.New("bad ogg page")
		}
		n := int(b[26])
		if len(b) < 27+n {
			return nil, errors.New("short ogg page")
		}
		lacing, data := b[27:27+n], b[27+n:]
		for _, l := range lacing {
			if len(data) < int(l) {
				return nil, errors.New("short ogg segment")
			}
			cur, data = append(cur, data[:l]...), data[l:]
			if l < 255 {
				out, cur = append(out, cur), nil
			}
		}
		b = data
	}
	return out, nil
}

// speak sends the Opus packets at 20 ms each, as a capture clock does (the packets due by
// now, should a tick come late), and VP8-shaped camera frames (a keyframe when asked or
// every 2 s), for as long as the packets last.
func (p *livePublisher) speak(t *testing.T, pkts [][]byte) {
	audioTick, videoTick := time.NewTicker(20*time.Millisecond), time.NewTicker(33*time.Millisecond)
	defer audioTick.Stop()
	defer videoTick.Stop()
	cam := &vp8Sender{tr: p.video, packets: 3, want: &p.wantKey}
	start := time.Now()
	for i := 0; i < len(pkts); {
		select {
		case now := <-audioTick.C:
			for ; i < len(pkts) && time.Duration(i)*20*time.Millisecond <= now.Sub(start); i++ {
				pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: pkts[i]}
				if err := p.audio.WriteRTP(pkt); err != nil {
					t.Error(err)
					return
				}
			}
		case now := <-videoTick.C:
			cam.frame(t, now, uint32(now.Sub(start).Milliseconds()*90))
		}
	}
}

// Two presenters on one stage, the second joining once the file has started, speak at
// once: beside the active speaker's track, the recording holds each one's audio on its own
// track, named after them, where it was said on the recording's timeline.
func TestRecordStageEveryPresentersAudio(t *testing.T) {
	s, err := broadcast.New(broadcast.Config{IncludeLoopback: true, PLIInterval: 100 * time.Millisecond}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	m, err := NewManager(t.TempDir(), s, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const aSecs, bSecs, bLate = 8, 5, 2
	ada, grace := toneOpus(t, 440, aSecs), toneOpus(t, 1000, bSecs)
	if _, _, err := m.Start("w1"); err != nil {
		t.Fatal(err)
	}
	a := publishLiveAs(t, s, "w1", false, broadcast.Publisher{Key: "ada", Name: "Ada Lovelace"})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.speak(t, ada)
	}()
	time.Sleep(bLate * time.Second)
	b := publishLiveAs(t, s, "w1", false, broadcast.Publisher{Key: "grace", Name: "Grace Hopper"})
	b.speak(t, grace)
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the last packets cross loopback
	id, _ := m.Active("w1")
	path := m.Path("w1", id)
	if _, _, err := m.Stop("w1"); err != nil {
		t.Fatal(err)
	}

	p := readWebM(t, path, false)
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_VP8", "V_VP8", "A_OPUS", "A_OPUS"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	var audio []probedStream
	for _, st := range probeStreams(t, path) {
		if st.CodecType == "audio" {
			audio = append(audio, st)
		}
	}
	if len(audio) != 3 || audio[0].Tags.Title != "Active speaker" || audio[1].Tags.Title != "Ada Lovelace" || audio[2].Tags.Title != "Grace Hopper" {
		t.Fatalf("ffprobe audio streams %+v, want the active speaker's, Ada Lovelace's and Grace Hopper's", audio)
	}
	// The active speaker's track sounds all along; each presenter's own track from when
	// the second one came on stage.
	_, loud := decodeTone(t, path, 0)
	if loud < aSecs-1 {
		t.Errorf("the active speaker's track has %.2f s of sound, %v s were said", loud, aSecs)
	}
	for i, want := range []struct {
		hz, secs float64
		from     float64
	}{{440, aSecs - bLate, bLate}, {1000, bSecs, bLate}} {
		st := audio[i+1]
		hz, loud := decodeTone(t, path, i+1)
		if math.Abs(hz-want.hz) > want.hz/10 {
			t.Errorf("audio track %q sounds at %.0f Hz, want %.0f", st.Tags.Title, hz, want.hz)
		}
		if math.Abs(loud-want.secs) > 1 {
			t.Errorf("audio track %q has %.2f s of sound, want ~%v s", st.Tags.Title, loud, want.secs)
		}
		start, _ := strconv.ParseFloat(st.StartTime, 64)
		if math.Abs(start-want.from) > 0.7 {
			t.Errorf("audio track %q starts at %.2f s, the second speaker began at ~%v s", st.Tags.Title, start, want.from)
		}
		t.Logf("track %q: %.0f Hz, %.2f s of sound from %.2f s, %d packets", st.Tags.Title, hz, loud, start, st.Packets())
	}
}

// probedStream is one stream as ffprobe reports it.
type probedStream struct {
	CodecName string `json:"codec_name"`
	CodecType string `json:"codec_type"`
	StartTime string `json:"start_time"`
	NbPackets string `json:"nb_read_packets"`
	Tags      struct {
		Title string `json:"title"`
	} `json:"tags"`
}

func (s probedStream) Packets() int { n, _ := strconv.Atoi(s.NbPackets); return n }

func probeStreams(t *testing.T, path string) []probedStream {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_streams", "-count_packets", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var v struct {
		Streams []probedStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ffprobe output: %v", err)
	}
	return v.Streams
}

// decodeTone decodes the file's audio stream i with ffmpeg and returns its pitch (from zero
// crossings while it sounds) and how many seconds of it are not silent.
func decodeTone(t *testing.T, path string, i int) (hz, loudSecs float64) {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:a:"+strconv.Itoa(i),
		"-ac", "1", "-ar", "48000", "-f", "s16le", "-")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg decode audio %d: %v", i, err)
	}
	r := bytes.NewReader(out)
	var prev int16
	var crossings, loud int
	frame := make([]int16, 480) // 10 ms
	for {
		if err := binary.Read(r, binary.LittleEndian, frame); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			t.Fatal(err)
		}
		var energy float64
		for _, v := range frame {
			energy += float64(v) * float64(v)
		}
		if math.Sqrt(energy/float64(len(frame))) < 1000 {
			continue
		}
		loud++
		for _, v := range frame {
			if (prev < 0) != (v < 0) {
				crossings++
			}
			prev = v
		}
	}
	if loud == 0 {
		return 0, 0
	}
	secs := float64(loud) / 100
	return float64(crossings) / 2 / secs, secs
}
