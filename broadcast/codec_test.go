package broadcast

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// A viewer who arrived before the presenter negotiated the room's default (VP8).
// When the presenter sends H.264 instead, that session ends so the page can
// reconnect; a viewer arriving now gets H.264 and plays.
func TestCodecChangeEndsEarlyViewers(t *testing.T) {
	s := newTestServer(t, Config{})
	log := newSentLog()
	early := newTestViewer(t, true)
	early.start(t, s, "h", log)
	if s.Viewers("h") != 1 {
		t.Fatal("early viewer not counted")
	}
	pub := newPublisherCodec(t, s, "h", webrtc.MimeTypeH264)
	var next uint32
	send := func(key bool) {
		payload := make([]byte, 200)
		payload[0] = 0x41 // non-IDR slice
		if key {
			payload[0] = 0x65 // IDR slice
		}
		binary.BigEndian.PutUint32(payload[4:8], next)
		log.mu.Lock()
		log.video[next] = payload
		log.mu.Unlock()
		next++
		pub.vseq++
		pub.vts += 3000
		if err := pub.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: pub.vseq, Timestamp: pub.vts, Marker: true}, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	frame := 0
	waitFor(t, 10*time.Second, "the VP8 viewer's session to end", func() bool {
		send(frame%10 == 0)
		frame++
		time.Sleep(5 * time.Millisecond)
		return s.Viewers("h") == 0
	})
	if vc, _, _ := early.counts(); vc != 0 {
		t.Errorf("VP8 viewer received %d H.264 packets", vc)
	}
	late := newTestViewer(t, true)
	late.start(t, s, "h", log)
	waitFor(t, 10*time.Second, "the new viewer to receive H.264", func() bool {
		send(frame%10 == 0)
		frame++
		time.Sleep(5 * time.Millisecond)
		vc, _, _ := late.counts()
		return vc > 5
	})
	if _, _, mism := late.counts(); mism != 0 {
		t.Errorf("%d H.264 payloads differ from what was sent", mism)
	}
	late.mu.Lock()
	first := late.firstVideo
	late.mu.Unlock()
	if first[0] != 0x65 {
		t.Errorf("new viewer's first H.264 packet has NAL type %d, want an IDR (5)", first[0]&0x1f)
	}
}
