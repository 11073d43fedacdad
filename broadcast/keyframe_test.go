package broadcast

import (
	"sync"
	"testing"
	"time"
)

func TestIsKeyframeStart(t *testing.T) {
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key", "video/VP8", []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 delta", "video/VP8", []byte{0x10, 0x01}, false},
		{"vp8 not start", "video/VP8", []byte{0x00, 0x00}, false},
		{"vp8 pid 1", "video/VP8", []byte{0x11, 0x00}, false},
		{"vp8 ext picture id 15 bit key", "video/VP8", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 ext picture id 7 bit delta", "video/VP8", []byte{0x90, 0x80, 0x05, 0x01}, false},
		{"vp8 ext all fields key", "video/VP8", []byte{0x90, 0xf0, 0x05, 0x01, 0x02, 0x00}, true},
		{"vp8 truncated", "video/VP8", []byte{0x90}, false},
		{"h264 idr", "video/H264", []byte{0x65, 0x88}, true},
		{"h264 sps", "video/H264", []byte{0x67, 0x42}, true},
		{"h264 slice", "video/H264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", "video/H264", []byte{0x78, 0x00, 0x02, 0x09, 0x10, 0x00, 0x02, 0x67, 0x42}, true},
		{"h264 stap-a without", "video/H264", []byte{0x78, 0x00, 0x02, 0x09, 0x10}, false},
		{"h264 fu-a idr start", "video/H264", []byte{0x7c, 0x85, 0x00}, true},
		{"h264 fu-a idr middle", "video/H264", []byte{0x7c, 0x05, 0x00}, false},
		{"vp9 key", "video/VP9", []byte{0x88}, true},
		{"vp9 inter", "video/VP9", []byte{0xc8}, false},
		{"av1 new sequence", "video/AV1", []byte{0x08}, true},
		{"empty", "video/VP8", nil, false},
		{"audio", "audio/opus", []byte{0x10, 0x00}, false},
	}
	for _, tt := range tests {
		if got := isKeyframeStart(tt.mime, tt.payload); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPacketCacheWraps(t *testing.T) {
	c := newPacketCache(8)
	for seq := uint16(65530); seq != 10; seq++ {
		p := &packet{}
		p.SequenceNumber = seq
		c.put(p)
	}
	for seq := uint16(2); seq != 10; seq++ {
		if p := c.get(seq); p == nil || p.SequenceNumber != seq {
			t.Errorf("get(%d) = %v", seq, p)
		}
	}
	if p := c.get(65530); p != nil {
		t.Errorf("get(65530) = %d, want evicted", p.SequenceNumber)
	}
	if !seqNewer(2, 65534) || seqNewer(65534, 2) || seqNewer(5, 5) {
		t.Error("seqNewer does not wrap")
	}
}

// A viewer who joins after the only keyframe gets it from the cache, and a crowd
// joining without any cached keyframe costs the presenter a throttled few PLIs.
func TestJoinKeyframeAndPLIThrottle(t *testing.T) {
	s := newTestServer(t, Config{PLIInterval: 300 * time.Millisecond})
	st := &stream{log: newSentLog()}
	pub := newPublisher(t, s, "k")
	first := newTestViewer(t, true)
	first.start(t, s, "k", st.log)
	st.warmUp(t, pub, []*testViewer{first}) // frame 0 is the only keyframe
	for i := 0; i < 5; i++ {
		pub.sendFrame(t, st.log, &st.vnext, 3, false)
		time.Sleep(3 * time.Millisecond)
	}
	late := newTestViewer(t, true)
	late.start(t, s, "k", st.log)
	waitFor(t, 10*time.Second, "the late viewer to get the cached keyframe", func() bool {
		pub.sendFrame(t, st.log, &st.vnext, 3, false)
		late.mu.Lock()
		defer late.mu.Unlock()
		return late.keyframes > 0
	})

	// A room whose presenter sent no keyframe yet: 30 joiners cost a few PLIs,
	// and each starts its video at a keyframe (the presenter answers PLIs).
	pub2 := newPublisher(t, s, "nokey")
	begin := time.Now()
	var wg sync.WaitGroup
	crowd := make([]*testViewer, 30)
	for i := range crowd {
		crowd[i] = newTestViewer(t, true)
	}
	for _, v := range crowd {
		wg.Go(func() { v.start(t, s, "nokey", st.log) })
	}
	wg.Wait()
	answered := 0
	waitFor(t, 10*time.Second, "the crowd to receive video", func() bool {
		n := pub2.pliCount()
		pub2.sendFrame(t, st.log, &st.vnext, 3, n > answered)
		answered = n
		pub2.sendAudio(t, st.log, &st.anext)
		time.Sleep(3 * time.Millisecond)
		for _, v := range crowd {
			if vc, _, _ := v.counts(); vc == 0 {
				return false
			}
		}
		return true
	})
	for i, v := range crowd {
		v.mu.Lock()
		first := v.firstVideo
		v.mu.Unlock()
		if first[0] != 0x10 || first[1]&1 != 0 {
			t.Errorf("viewer %d: first video packet is not a keyframe start", i)
		}
	}
	time.Sleep(100 * time.Millisecond) // let the last PLI reach the publisher
	elapsed := time.Since(begin)
	plis := pub2.pliCount()
	limit := 1 + int(elapsed/(300*time.Millisecond))
	if plis == 0 || plis > limit {
		t.Errorf("presenter got %d PLIs for 30 joins in %v, want 1..%d", plis, elapsed, limit)
	}
}
