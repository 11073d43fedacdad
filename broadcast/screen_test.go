package broadcast

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The presenter's second video m-line is the screen share; a viewer with two
// video m-lines receives camera on the first and screen on the second.
func TestScreenShareTrack(t *testing.T) {
	s := newTestServer(t, Config{})
	api := clientAPI(t)

	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var tracks []*webrtc.TrackLocalStaticRTP
	for _, id := range []string{"camera", "screen"} {
		tr, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, id, id)
		if _, err := pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		tracks = append(tracks, tr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	sess, err := s.Publish(ctx, "sc", offerFor(t, pub))
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, pub, sess.Answer)

	view, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer view.Close()
	var recv [2]*webrtc.RTPReceiver
	for i := range recv {
		x, err := view.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			t.Fatal(err)
		}
		recv[i] = x.Receiver()
	}
	var mu sync.Mutex
	got := map[int]map[uint32]bool{0: {}, 1: {}} // m-line -> source tag seen
	view.OnTrack(func(tr *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		line := 0
		if r == recv[1] {
			line = 1
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if len(p.Payload) >= 8 {
				mu.Lock()
				got[line][binary.BigEndian.Uint32(p.Payload[4:8])] = true
				mu.Unlock()
			}
		}
	})
	vs, err := s.Subscribe(ctx, "sc", offerFor(t, view))
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, view, vs.Answer)

	seq := uint16(0)
	waitFor(t, 10*time.Second, "camera and screen to arrive on their own m-lines", func() bool {
		seq++
		for tag, tr := range tracks { // tag 0 = camera, 1 = screen; every packet a keyframe
			payload := []byte{0x10, 0x00, 0, 0, 0, 0, 0, 0, 9, 9}
			binary.BigEndian.PutUint32(payload[4:8], uint32(tag))
			_ = tr.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true}, Payload: payload})
		}
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return got[0][0] && got[1][1]
	})
	mu.Lock()
	defer mu.Unlock()
	if got[0][1] || got[1][0] {
		t.Errorf("camera and screen crossed: %v", got)
	}
}
