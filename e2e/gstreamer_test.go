package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// gstPublisher is GStreamer's webrtcbin driven as a WHIP client (see the script's header for
// why it is not whipsink or simple-whip-client on Debian 12).
const gstPublisher = "testdata/gst-whip-publish.py"

// requireGStreamer skips when the Debian GStreamer packages are missing, except under CI,
// where `scripts/debian-deps.sh test` installs them and a skip would hide the interop test.
func requireGStreamer(t *testing.T) {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", gstPublisher, "--check").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("GStreamer WHIP publisher unavailable (%v: %s); install with scripts/debian-deps.sh test", err, bytes.TrimSpace(out))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// TestGStreamerPublisher: a real GStreamer webrtcbin publishes VP8 + Opus over WHIP with its
// usual SDP (max-bundle: every m-line after the first is port 0 + a=bundle-only, no header
// extensions, msid only in a=ssrc lines), and a pion WHEP viewer receives both media. Both
// m-line orders are tried: audio first is the shape that lost its video.
func TestGStreamerPublisher(t *testing.T) {
	requireGStreamer(t)
	dir := t.TempDir()
	w := createWebinar(t, dir, "Published from GStreamer")
	s := startServer(t, dir)
	for _, order := range []string{"audio-first", "video-first"} {
		t.Run(order, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			v := startWHEPViewer(t, ctx, s.URL+"/whep/"+w.ID)
			args := []string{gstPublisher, s.URL + "/whip/" + w.ID, w.StreamKey, "--seconds", "8", "--local-address", "127.0.0.1"}
			if order == "audio-first" {
				args = append(args, "--audio-first")
			}
			pub := startGStreamer(t, ctx, args)
			// The publisher sends for 8 s; a medium still missing when it has gone is lost.
			for !(v.vp8.Load() >= 30 && v.opus.Load() >= 30) && !pub.ended() && ctx.Err() == nil {
				time.Sleep(50 * time.Millisecond)
			}
			pub.stop(t)
			t.Logf("viewer received %d VP8 (%d keyframe starts) and %d Opus packets", v.vp8.Load(), v.keyframes.Load(), v.opus.Load())
			if v.vp8.Load() < 30 || v.opus.Load() < 30 {
				t.Fatalf("the viewer did not get both media from GStreamer (want 30+ packets of each)")
			}
			if v.keyframes.Load() == 0 {
				t.Error("no VP8 keyframe reached the viewer")
			}
			if n := v.other.Load(); n > 0 {
				t.Errorf("%d packets of another codec", n)
			}
		})
	}
}

type gstProcess struct {
	cmd  *exec.Cmd
	done chan error
	out  *lockedBuffer
}

func startGStreamer(t *testing.T, ctx context.Context, args []string) *gstProcess {
	t.Helper()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &gstProcess{cmd: cmd, done: make(chan error, 1), out: out}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	return p
}

// stop waits for the publisher's own end (it sends for --seconds, then DELETEs its session),
// and kills it by PID if it outstays that.
func (p *gstProcess) stop(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("GStreamer publisher: %v\n%s", err, p.out.String())
		}
	case <-time.After(45 * time.Second):
		p.kill()
		t.Errorf("GStreamer publisher did not end by itself\n%s", p.out.String())
	}
}

func (p *gstProcess) ended() bool {
	select {
	case err := <-p.done:
		p.done <- err
		return true
	default:
		return false
	}
}

func (p *gstProcess) kill() {
	if !p.ended() {
		_ = p.cmd.Process.Kill()
		err := <-p.done
		p.done <- err
	}
}

// lockedBuffer collects the publisher's output, written by exec's copying goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mediaViewer counts what a pion WHEP viewer receives, by codec.
type mediaViewer struct {
	pc                          *webrtc.PeerConnection
	vp8, keyframes, opus, other atomic.Int64
}

func startWHEPViewer(t *testing.T, ctx context.Context, endpoint string) *mediaViewer {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
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
	v := &mediaViewer{pc: pc}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { v.read(tr) })
	if err := negotiateWHEP(ctx, pc, endpoint); err != nil {
		t.Fatal(err)
	}
	return v
}

// read runs on pion's OnTrack goroutine until the PeerConnection closes.
func (v *mediaViewer) read(tr *webrtc.TrackRemote) {
	mime := strings.ToLower(tr.Codec().MimeType)
	var pkt rtp.Packet
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) == 0 {
			continue
		}
		switch mime {
		case "video/vp8":
			v.vp8.Add(1)
			if vp8KeyframeStart(pkt.Payload) {
				v.keyframes.Add(1)
			}
		case "audio/opus":
			v.opus.Add(1)
		default:
			v.other.Add(1)
		}
	}
}

// vp8KeyframeStart reports the first packet of a VP8 key frame (RFC 7741 payload descriptor,
// then the frame tag's inverted key-frame bit).
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 || p[0]&0x10 == 0 || p[0]&0x07 != 0 { // S bit, partition 0
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: extension byte, then optional fields
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i = 2
		if x&0x80 != 0 { // I: picture ID, 1 or 2 bytes
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if x&0x30 != 0 { // T or K: TID/KEYIDX byte
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}
