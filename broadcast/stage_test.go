package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Stage tests: several real pion publishers on one room, viewers with slot m-lines and
// plain viewers following the active speaker.

// stageAPI is clientAPI plus the RFC 6464 audio level extension, as browsers send it.
func stageAPI(t testing.TB) *webrtc.API { return clientAPIWith(t, sdp.AudioLevelURI) }

// stagePub is a publisher on the stage: tag marks its payloads (byte 0 of audio, byte 2 of
// video), levelID is its negotiated audio level extension.
type stagePub struct {
	*publisher
	tag     byte
	levelID uint8
	log     *sentLog
	next    uint32
	closed  chan struct{}
}

func newStagePub(t testing.TB, s *Server, room, key string, tag byte) (*stagePub, error) {
	t.Helper()
	pc, err := stageAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	p := &stagePub{publisher: &publisher{pc: pc}, tag: tag, log: newSentLog(), closed: make(chan struct{})}
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", key)
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", key)
	var audioSender *webrtc.RTPSender
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		x, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		if tr == p.audio {
			audioSender = x.Sender()
		}
		go func() {
			for {
				pkts, _, err := x.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok {
						p.mu.Lock()
						p.plis++
						p.mu.Unlock()
					}
				}
			}
		}()
	}
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			select {
			case <-p.closed:
			default:
				close(p.closed)
			}
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := s.PublishAs(ctx, room, offerFor(t, pc), Publisher{Key: key, Name: "Speaker " + key})
	if err != nil {
		return nil, err
	}
	p.session = sess
	applyAnswer(t, pc, sess.Answer)
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("publisher did not connect")
	}
	for _, h := range audioSender.GetParameters().HeaderExtensions {
		if h.URI == sdp.AudioLevelURI {
			p.levelID = uint8(h.ID)
		}
	}
	if p.levelID == 0 {
		t.Fatal("the server did not negotiate the audio level extension")
	}
	return p, nil
}

// say sends one 20 ms Opus-shaped packet at RFC 6464 level lvl (0 loudest, 127 silence).
func (p *stagePub) say(t testing.TB, lvl uint8) {
	t.Helper()
	payload := make([]byte, 60)
	_, _ = rand.Read(payload)
	payload[0] = p.tag
	idx := p.next
	p.next++
	binary.BigEndian.PutUint32(payload[4:8], idx)
	p.log.mu.Lock()
	p.log.audio[idx] = payload
	p.log.mu.Unlock()
	p.aseq++
	p.ats += 960
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.aseq, Timestamp: p.ats}, Payload: payload}
	ext, _ := rtp.AudioLevelExtension{Level: lvl, Voice: lvl < 127}.Marshal()
	if err := pkt.Header.SetExtension(p.levelID, ext); err != nil {
		t.Fatal(err)
	}
	if err := p.audio.WriteRTP(pkt); err != nil {
		t.Fatal(err)
	}
}

// frame sends one one-packet VP8 frame tagged with the publisher.
func (p *stagePub) frame(t testing.TB, key bool) {
	t.Helper()
	payload := make([]byte, 200)
	_, _ = rand.Read(payload)
	payload[0], payload[1], payload[2] = 0x10, 0x01, p.tag
	if key {
		payload[1] = 0x00
	}
	p.vseq++
	p.vts += 3000
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: p.vseq, Timestamp: p.vts, Marker: true}, Payload: payload}
	if err := p.video.WriteRTP(pkt); err != nil {
		t.Fatal(err)
	}
}

// got is one packet a stage viewer received.
type got struct {
	track     string
	payload   []byte
	seq       uint16
	ts        uint32
	at        time.Time
	video     bool
	keyframe  bool
	publisher byte
}

// stageViewer is a WHEP client with audio m-lines and video m-lines, recording by track id.
type stageViewer struct {
	pc *webrtc.PeerConnection
	mu sync.Mutex
	in []got
}

func newStageViewer(t testing.TB, s *Server, room string, audio, video int) *stageViewer {
	t.Helper()
	pc, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	v := &stageViewer{pc: pc}
	for i := 0; i < audio+video; i++ {
		k := webrtc.RTPCodecTypeAudio
		if i >= audio {
			k = webrtc.RTPCodecTypeVideo
		}
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		video := tr.Kind() == webrtc.RTPCodecTypeVideo
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			g := got{track: tr.ID(), payload: pkt.Payload, seq: pkt.SequenceNumber, ts: pkt.Timestamp, at: time.Now(), video: video}
			if video && len(pkt.Payload) > 2 {
				g.publisher, g.keyframe = pkt.Payload[2], pkt.Payload[0] == 0x10 && pkt.Payload[1]&1 == 0
			} else if len(pkt.Payload) > 0 {
				g.publisher = pkt.Payload[0]
			}
			v.mu.Lock()
			v.in = append(v.in, g)
			v.mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := s.Subscribe(ctx, room, offerFor(t, pc))
	if err != nil {
		t.Fatal(err)
	}
	applyAnswer(t, pc, sess.Answer)
	return v
}

func (v *stageViewer) received() []got {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]got(nil), v.in...)
}

// counts is how many packets of each publisher came on each track.
func (v *stageViewer) counts() map[string]map[byte]int {
	out := map[string]map[byte]int{}
	for _, g := range v.received() {
		if out[g.track] == nil {
			out[g.track] = map[byte]int{}
		}
		out[g.track][g.publisher]++
	}
	return out
}

// pump sends audio (and a video frame every other tick) from every publisher every 20 ms
// until stop is closed; levels says each publisher's current audio level.
func pump(t *testing.T, pubs []*stagePub, levels func(i int) uint8, stop chan struct{}) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		plis := make([]int, len(pubs))
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for i, p := range pubs {
				p.say(t, levels(i))
				if n%2 == 0 {
					// A keyframe at start and whenever the server asks, like a browser encoder.
					c := p.pliCount()
					p.frame(t, n == 0 || c != plis[i])
					plis[i] = c
				}
			}
		}
	}()
	return &wg
}

func TestStageViewerGetsEverySlotsAudio(t *testing.T) {
	s := newTestServer(t, Config{})
	var pubs []*stagePub
	for i, key := range []string{"a", "b", "c"} {
		p, err := newStagePub(t, s, "r", key, byte(0xa0+i))
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	v := newStageViewer(t, s, "r", 3, 1)
	stop := make(chan struct{})
	// Three different "tones": three constant, different levels.
	wg := pump(t, pubs, func(i int) uint8 { return uint8(10 + 30*i) }, stop)
	defer wg.Wait()
	defer close(stop)

	waitFor(t, 10*time.Second, "50 packets of each publisher's audio on its slot", func() bool {
		c := v.counts()
		return c["audio-slot0"][0xa0] >= 50 && c["audio-slot1"][0xa1] >= 50 && c["audio-slot2"][0xa2] >= 50
	})
	for _, g := range v.received() {
		if g.video {
			continue
		}
		slot := int(g.track[len(g.track)-1] - '0')
		if g.publisher != byte(0xa0+slot) {
			t.Fatalf("slot %d carried publisher %#x's audio", slot, g.publisher)
		}
		want := pubs[slot].log.get(false, binary.BigEndian.Uint32(g.payload[4:8]))
		if string(want) != string(g.payload) {
			t.Fatalf("slot %d: payload differs from what publisher %d sent", slot, slot)
		}
	}
}

func TestPlainViewerFollowsActiveSpeaker(t *testing.T) {
	s := newTestServer(t, Config{PLIInterval: 50 * time.Millisecond})
	a, err := newStagePub(t, s, "r", "a", 0xa0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newStagePub(t, s, "r", "b", 0xb0)
	if err != nil {
		t.Fatal(err)
	}
	v := newStageViewer(t, s, "r", 1, 1)
	var mu sync.Mutex
	loud := 0 // index of the loud publisher
	stop := make(chan struct{})
	wg := pump(t, []*stagePub{a, b}, func(i int) uint8 {
		mu.Lock()
		defer mu.Unlock()
		if i == loud {
			return 10
		}
		return 120
	}, stop)
	defer wg.Wait()
	defer close(stop)

	last := func(video bool) (got, bool) {
		in := v.received()
		for i := len(in) - 1; i >= 0; i-- {
			if in[i].video == video {
				return in[i], true
			}
		}
		return got{}, false
	}
	waitFor(t, 10*time.Second, "A's audio and camera at the plain viewer", func() bool {
		ga, ok1 := last(false)
		gv, ok2 := last(true)
		return ok1 && ok2 && ga.publisher == 0xa0 && gv.publisher == 0xa0
	})
	mu.Lock()
	loud = 1
	changed := time.Now()
	mu.Unlock()
	waitFor(t, 10*time.Second, "B's audio and camera at the plain viewer", func() bool {
		ga, _ := last(false)
		gv, _ := last(true)
		return ga.publisher == 0xb0 && gv.publisher == 0xb0
	})
	in := v.received()
	var lastA, firstB *got
	var firstBVideo *got
	for i := range in {
		g := &in[i]
		switch {
		case !g.video && g.publisher == 0xa0:
			lastA = g
		case !g.video && g.publisher == 0xb0 && firstB == nil:
			firstB = g
		case g.video && g.publisher == 0xb0 && firstBVideo == nil:
			firstBVideo = g
		}
	}
	// Hysteresis: B must lead for 1.5 s; nothing of B's may arrive well before that.
	if early := firstB.at.Sub(changed); early < 1200*time.Millisecond {
		t.Fatalf("switched to B after %s, before the 1.5 s hysteresis", early)
	}
	// Continuity: the plain viewer's audio stream goes on without a jump.
	if d := firstB.seq - lastA.seq; d == 0 || d > 3 {
		t.Fatalf("audio sequence jumped from %d to %d at the switch", lastA.seq, firstB.seq)
	}
	if d := firstB.ts - lastA.ts; d == 0 || d > 48000 {
		t.Fatalf("audio timestamp jumped from %d to %d at the switch", lastA.ts, firstB.ts)
	}
	// The camera switches on a keyframe of B's (asked for with a PLI).
	if !firstBVideo.keyframe {
		t.Fatal("the viewer's first camera packet from B is not a keyframe")
	}
	for _, g := range in {
		if !g.video && g.publisher != 0xa0 && g.publisher != 0xb0 {
			t.Fatalf("unknown audio payload %#x", g.publisher)
		}
	}

	// A host's spotlight wins at once over the louder speaker, and unpinning lets B back.
	s.SetSpotlight("r", "a")
	pinned := time.Now()
	waitFor(t, 5*time.Second, "A's audio after the spotlight", func() bool {
		g, _ := last(false)
		return g.publisher == 0xa0 && g.at.After(pinned)
	})
	if st := s.Stage("r"); len(st) != 2 || !activeIs(st, "a") {
		t.Fatalf("stage %+v: want two presenters, A active", st)
	}
}

func activeIs(st []StageMember, key string) bool {
	for _, m := range st {
		if m.Active {
			return m.Key == key
		}
	}
	return false
}

func TestSeventhPublisherRefusedAndReconnectReplacesItself(t *testing.T) {
	s := newTestServer(t, Config{})
	pubs := map[string]*stagePub{}
	for i, key := range []string{"a", "b", "c", "d", "e", "f"} {
		p, err := newStagePub(t, s, "r", key, byte(i))
		if err != nil {
			t.Fatalf("publisher %d: %v", i+1, err)
		}
		pubs[key] = p
	}
	if _, err := newStagePub(t, s, "r", "g", 7); !errors.Is(err, ErrStageFull) {
		t.Fatalf("7th publisher: err %v, want ErrStageFull", err)
	}
	slotOf := func(key string) (int, string) {
		for _, m := range s.Stage("r") {
			if m.Key == key {
				return m.Slot, m.Session
			}
		}
		return -1, ""
	}
	slot, old := slotOf("c")
	// "c" reconnects: same credential, so it replaces its own session, even on a full stage.
	again, err := newStagePub(t, s, "r", "c", 3)
	if err != nil {
		t.Fatalf("reconnect on a full stage: %v", err)
	}
	if n := len(s.Stage("r")); n != 6 {
		t.Fatalf("%d presenters after a reconnect, want 6", n)
	}
	if s2, sess := slotOf("c"); s2 != slot || sess != again.session.ID || sess == old {
		t.Fatalf("reconnect: slot %d session %s, want slot %d and the new session", s2, sess, slot)
	}
	select {
	case <-pubs["c"].closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the replaced session was not ended")
	}
	if err := s.End("r", old); !errors.Is(err, ErrNoSession) {
		t.Fatalf("ending the replaced session: %v, want ErrNoSession", err)
	}
	// A presenter leaving frees a slot for the next one.
	if err := s.End("r", pubs["a"].session.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := newStagePub(t, s, "r", "g", 7); err != nil {
		t.Fatalf("publisher after one left: %v", err)
	}
	if s2, _ := slotOf("g"); s2 != 0 {
		t.Fatalf("new presenter got slot %d, want the freed slot 0", s2)
	}
}

// FuzzPacketEnergy: the audio level comes from the network; any packet gives an energy in
// [0, 127] and never panics.
func FuzzPacketEnergy(f *testing.F) {
	pk := &rtp.Packet{Header: rtp.Header{Version: 2}, Payload: []byte{1, 2, 3}}
	_ = pk.Header.SetExtension(1, []byte{0x8a})
	raw, _ := pk.Marshal()
	f.Add(raw, uint8(1))
	f.Add([]byte{0x90, 0, 0, 0}, uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, id uint8) {
		var p rtp.Packet
		if p.Unmarshal(b) != nil {
			return
		}
		if e := packetEnergy(&p, id%15); e < 0 || e > 127 {
			t.Fatalf("energy %v outside [0, 127]", e)
		}
	})
}
