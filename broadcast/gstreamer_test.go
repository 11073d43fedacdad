package broadcast

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// testdata/gstreamer-webrtcbin-offer.sdp is the offer Debian 12's GStreamer 1.22 webrtcbin
// (bundle-policy max-bundle) sent as a WHIP publisher, captured once by
// e2e/testdata/gst-whip-publish.py --audio-first --offer-file: the video m-line is
// "m=video 0" with a=bundle-only, there are no a=extmap lines, and msid is only in a=ssrc.

func TestParseGStreamerOffer(t *testing.T) {
	offer, err := os.ReadFile("testdata/gstreamer-webrtcbin-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	info, err := parseOffer(string(offer), true, candidatePolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if info.audio != 1 || info.video != 1 || !info.videoCodecs["vp8"] || !info.opus {
		t.Fatalf("GStreamer's bundle-only video m-line was not taken: %+v", info)
	}
	want := []offerLine{{mid: "audio0", kind: "audio"}, {mid: "video1", kind: "video"}}
	if len(info.lines) != 2 || info.lines[0] != want[0] || info.lines[1] != want[1] {
		t.Errorf("lines = %+v, want %+v", info.lines, want)
	}
	// Port 0 without a=bundle-only still means a rejected m-line (RFC 8843 §6).
	rejected := strings.Replace(string(offer), "a=bundle-only\r\n", "", 1)
	if info, err := parseOffer(rejected, true, candidatePolicy{}); err != nil || info.video != 0 {
		t.Errorf("a port-0 m-line without bundle-only was taken: %+v, %v", info, err)
	}
}

// gstreamerShape rewrites a pion offer into the shape webrtcbin sends: every m-line after the
// first is port 0 + a=bundle-only, no RTP header extensions, no a=msid lines (the stream is
// named in a=ssrc ... msid only).
func gstreamerShape(t *testing.T, offer string) string {
	t.Helper()
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		t.Fatal(err)
	}
	d.Attributes = without(d.Attributes, "extmap-allow-mixed")
	for i, m := range d.MediaDescriptions {
		m.Attributes = without(m.Attributes, "extmap", "extmap-allow-mixed", "msid")
		if i > 0 {
			m.MediaName.Port = sdp.RangedPort{Value: 0}
			m.Attributes = append(m.Attributes, sdp.NewPropertyAttribute("bundle-only"))
			// Its candidates belong to the first m-line's transport.
			m.Attributes = without(m.Attributes, "candidate", "end-of-candidates")
		}
	}
	out, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func without(attrs []sdp.Attribute, keys ...string) []sdp.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if !slices.Contains(keys, a.Key) {
			out = append(out, a)
		}
	}
	return out
}

// A pion presenter speaking GStreamer's SDP dialect (audio first, video bundle-only): viewers
// get the video as well as the audio. Before bundle-only lines were understood, the video
// track was logged as "presenter track ignored" and never forwarded.
func TestGStreamerShapedPublisher(t *testing.T) {
	s := newTestServer(t, Config{})
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p := &publisher{pc: pc}
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "webrtctransceiver0", "user1@host")
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "webrtctransceiver1", "user1@host")
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer := gstreamerShape(t, offerFor(t, pc))
	if !strings.Contains(offer, "m=video 0 ") || strings.Contains(offer, "a=extmap:") {
		t.Fatalf("offer not in GStreamer's shape:\n%s", offer)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sess, err := s.Publish(ctx, "gst", offer)
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, pc, sess.Answer)

	log := newSentLog()
	v := newTestViewer(t, true)
	v.start(t, s, "gst", log)
	var vi, ai uint32
	waitFor(t, 15*time.Second, "video and audio at the viewer", func() bool {
		p.sendFrame(t, log, &vi, 2, true)
		p.sendAudio(t, log, &ai)
		time.Sleep(10 * time.Millisecond)
		video, audio, _ := v.counts()
		return video > 0 && audio > 0
	})
	if _, _, bad := v.counts(); bad > 0 {
		t.Errorf("%d packets arrived altered", bad)
	}
	if n := testutil.ToFloat64(s.m.tracksIgnored); n != 0 {
		t.Errorf("%v presenter tracks ignored", n)
	}
}

// A medium the room has no track for (here a second audio m-line) is not forwarded, and that
// is counted and logged rather than silent.
func TestUnplacedPresenterTrackIsCounted(t *testing.T) {
	s := newTestServer(t, Config{})
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	var tracks []*webrtc.TrackLocalStaticRTP
	for _, id := range []string{"mic", "second-mic"} {
		tr, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, id, id)
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sess, err := s.Publish(ctx, "two-mics", offerFor(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, pc, sess.Answer)
	seq := uint16(0)
	waitFor(t, 15*time.Second, "the second audio track to be counted as ignored", func() bool {
		seq++
		for _, tr := range tracks {
			_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{0xf8, 1, 2, 3}})
		}
		time.Sleep(10 * time.Millisecond)
		return testutil.ToFloat64(s.m.tracksIgnored) == 1
	})
}

// A viewer in webrtcbin's dialect (GStreamer's whepsrc offers the same bundle-only m-lines)
// gets the video too.
func TestGStreamerShapedViewer(t *testing.T) {
	s := newTestServer(t, Config{})
	p := newPublisher(t, s, "gst-view")
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	var got [2]atomic.Int64 // audio, video packets
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		i := 0
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			i = 1
		}
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			got[i].Add(1)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sess, err := s.Subscribe(ctx, "gst-view", gstreamerShape(t, offerFor(t, pc)))
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, pc, sess.Answer)
	log := newSentLog()
	var vi, ai uint32
	waitFor(t, 15*time.Second, "video and audio at the GStreamer-shaped viewer", func() bool {
		p.sendFrame(t, log, &vi, 2, true)
		p.sendAudio(t, log, &ai)
		time.Sleep(10 * time.Millisecond)
		return got[0].Load() > 0 && got[1].Load() > 0
	})
}
