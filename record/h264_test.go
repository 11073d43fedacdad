package record

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
)

// h264File encodes seconds of ffmpeg's test pattern with libx264 (constrained
// baseline, as browsers send, a keyframe every second) to an Annex-B file.
func h264File(t testing.TB, seconds int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is needed (Debian package ffmpeg)")
	}
	path := filepath.Join(t.TempDir(), "in.h264")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
		"-t", strconv.Itoa(seconds), "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
		"-g", "30", "-bsf:v", "h264_mp4toannexb", "-f", "h264", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

// accessUnits reads an Annex-B file into access units, each a list of NAL
// units ending with its (single) slice.
func accessUnits(t testing.TB, path string) [][][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var aus [][][]byte
	var cur [][]byte
	for {
		nal, err := rd.NextNAL()
		if errors.Is(err, io.EOF) {
			return aus
		}
		if err != nil {
			t.Fatal(err)
		}
		cur = append(cur, append([]byte(nil), nal.Data...))
		if nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr {
			aus, cur = append(aus, cur), nil
		}
	}
}

// annexB joins NAL units with start codes, as a sample for pion.
func annexB(au [][]byte) []byte {
	var b []byte
	for _, n := range au {
		b = append(append(b, 0, 0, 0, 1), n...)
	}
	return b
}

// h264Packetizer turns access units into RTP packets as pion sends them.
type h264Packetizer struct {
	seq uint16
	ts  uint32
	pay codecs.H264Payloader
}

func (p *h264Packetizer) packets(au [][]byte) []*rtp.Packet {
	p.ts += 3000
	payloads := p.pay.Payload(1200, annexB(au))
	out := make([]*rtp.Packet, 0, len(payloads))
	for i, pl := range payloads {
		p.seq++
		out = append(out, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.seq, Timestamp: p.ts, Marker: i == len(payloads)-1}, Payload: pl})
	}
	return out
}

// Every access unit of a real x264 stream comes out whole, in Matroska's
// length-prefixed form, keyframes on IDRs, each keyframe with SPS and PPS
// (x264 sends them only before the first).
func TestH264AssemblerRoundTrip(t *testing.T) {
	aus := accessUnits(t, h264File(t, 3))
	if len(aus) != 90 {
		t.Fatalf("%d access units in 3 s at 30 fps", len(aus))
	}
	var asm h264Assembler
	pk := &h264Packetizer{}
	var sps, pps []byte
	fragmented := false
	for i, au := range aus {
		var want []byte
		idr, params := false, false
		for _, n := range au {
			switch n[0] & 0x1f {
			case nalSPS:
				sps, params = n, true
			case nalPPS:
				pps, params = n, true
			case nalIDR:
				idr = true
			}
			want = appendNAL(want, n)
		}
		if idr && !params {
			want = append(appendNAL(appendNAL(nil, sps), pps), want...)
		}
		pkts := pk.packets(au)
		fragmented = fragmented || len(pkts) > 1
		var got []byte
		var key bool
		for _, p := range pkts {
			if f, k, _ := asm.push(p); f != nil {
				got, key = f, k
			}
		}
		if !bytes.Equal(got, want) || key != idr {
			t.Fatalf("access unit %d: got %d bytes key %v, want %d bytes key %v", i, len(got), key, len(want), idr)
		}
	}
	if !fragmented {
		t.Error("no access unit needed FU-A: the test does not cover fragmentation")
	}
}

// A loss mid-stream drops everything up to the next IDR and asks for one.
func TestH264AssemblerWaitsForIDRAfterLoss(t *testing.T) {
	aus := accessUnits(t, h264File(t, 2))
	var asm h264Assembler
	pk := &h264Packetizer{}
	var keys []int
	emitted := 0
	asked := false
	for i, au := range aus {
		for j, p := range pk.packets(au) {
			if i == 10 && j == 0 {
				continue // lost
			}
			if f, k, _ := asm.push(p); f != nil {
				emitted++
				if k {
					keys = append(keys, i)
				} else if i >= 10 && i < 30 {
					t.Fatalf("access unit %d emitted between the loss and the next IDR", i)
				}
			}
		}
		asked = asked || asm.takeNeedKey()
	}
	if !slices.Equal(keys, []int{0, 30}) || emitted != len(aus)-20 || !asked {
		t.Errorf("keyframes at %v, %d of %d emitted, keyframe asked %v", keys, emitted, len(aus), asked)
	}
}

// feedH264 sends ms of audio and H.264 camera video (access units in a loop).
func feedH264(r *Recorder, s *synth, pk *h264Packetizer, aus [][][]byte, next *int, ms int) {
	for t := 0; t < ms; t += 20 {
		r.WriteAudio("a", s.audio())
		if t%100 < 60 {
			for _, p := range pk.packets(aus[*next%len(aus)]) {
				r.WriteVideo("a", "video/h264", p)
			}
			*next++
		}
	}
}

// An H.264 session is written to Matroska ({id}.mkv, not .webm), with the
// avcC in the header, and ffmpeg decodes every frame without an error.
func TestRecorderWritesH264Matroska(t *testing.T) {
	dir := t.TempDir()
	r, err := Create(filepath.Join(dir, "r.webm"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	aus := accessUnits(t, h264File(t, 2))
	s, pk, next := &synth{}, &h264Packetizer{ts: 4000000000}, 0 // RTP time wraps
	for i := 0; i < 5; i++ {
		feedH264(r, s, pk, aus, &next, 1000)
		waitDrained(t, r)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	path := r.Path()
	if filepath.Base(path) != "r.mkv" || ContentType(path) != "video/x-matroska" {
		t.Fatalf("recording at %s (%s), want r.mkv", path, ContentType(path))
	}
	if _, err := os.Stat(filepath.Join(dir, "r.webm")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("r.webm left beside r.mkv: %v", err)
	}
	p := readDoc(t, path, false, "matroska")
	if !slices.Equal(p.codecs, []string{"A_OPUS", "V_MPEG4/ISO/AVC", "V_MPEG4/ISO/AVC"}) {
		t.Fatalf("tracks %v", p.codecs)
	}
	if p.blocks[videoTrack] != 150 {
		t.Errorf("%d video blocks, want 150", p.blocks[videoTrack])
	}
	codecs, packets, d := probe(t, path)
	if !slices.Equal(codecs, []string{"opus", "h264", "h264"}) || packets[1] != 150 {
		t.Errorf("ffprobe streams %v packets %v", codecs, packets)
	}
	if d < 4.8 || d > 5.2 {
		t.Errorf("ffprobe duration %.2f s, want ~5", d)
	}
	decodes(t, path)
}

// decodes runs ffmpeg over the main video track and fails on any decoding error.
func decodes(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:1", "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("ffmpeg decoding %s: %v %s", path, err, out)
	}
}
