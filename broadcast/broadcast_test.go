package broadcast

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// stream drives a publisher: 3-packet VP8-shaped frames (keyframe every 15) and
// one audio packet per frame.
type stream struct {
	log          *sentLog
	vnext, anext uint32
	frame        int
}

func (st *stream) step(t testing.TB, p *publisher) {
	p.sendFrame(t, st.log, &st.vnext, 3, st.frame%15 == 0)
	p.sendAudio(t, st.log, &st.anext)
	st.frame++
}

// warmUp sends frames until every viewer has received video and audio.
func (st *stream) warmUp(t testing.TB, p *publisher, viewers []*testViewer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ready := true
		for _, v := range viewers {
			if vc, ac, _ := v.counts(); vc == 0 || ac == 0 {
				ready = false
			}
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("viewers did not start receiving")
		}
		st.step(t, p)
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFanoutManyViewers(t *testing.T) {
	s := newTestServer(t, Config{})
	st := &stream{log: newSentLog()}
	const room = "webinar-1"

	// Two viewers arrive before the presenter: they get an answer now and media later.
	var viewers []*testViewer
	for i := 0; i < 2; i++ {
		v := newTestViewer(t, true)
		v.start(t, s, room, st.log)
		viewers = append(viewers, v)
	}
	if s.Live(room) {
		t.Fatal("room live before any presenter")
	}
	pub := newPublisher(t, s, room)
	if !s.Live(room) {
		t.Fatal("room not live after Publish")
	}
	for i := 0; i < 20; i++ {
		v := newTestViewer(t, true)
		v.start(t, s, room, st.log)
		viewers = append(viewers, v)
	}
	stuck := newTestViewer(t, false)
	stuck.start(t, s, room, st.log)
	st.warmUp(t, pub, append(viewers, stuck))
	if got := s.Viewers(room); got != 23 {
		t.Fatalf("Viewers = %d, want 23", got)
	}

	// Measured phase: two viewers leave and two join mid-stream.
	startV, startA := st.vnext, st.anext
	leavers := viewers[2:4]
	stay := append(append([]*testViewer{}, viewers[:2]...), viewers[4:]...)
	var late []*testViewer
	var lateV, lateA uint32
	for i := 0; i < 120; i++ {
		if i == 30 {
			for _, v := range leavers {
				if err := s.End(room, v.session.ID); err != nil {
					t.Fatal(err)
				}
				if err := s.End(room, v.session.ID); !errors.Is(err, ErrNoSession) {
					t.Fatalf("second End = %v, want ErrNoSession", err)
				}
			}
		}
		if i == 40 {
			for j := 0; j < 2; j++ {
				v := newTestViewer(t, true)
				v.start(t, s, room, st.log)
				late = append(late, v)
			}
		}
		if i == 90 {
			lateV, lateA = st.vnext, st.anext
			for _, v := range late {
				if vc, _, _ := v.counts(); vc == 0 {
					t.Fatal("late viewer received nothing 50 frames after joining")
				}
			}
		}
		st.step(t, pub)
		time.Sleep(3 * time.Millisecond)
	}
	endV, endA := st.vnext, st.anext

	waitFor(t, 10*time.Second, "every reading viewer to receive every packet", func() bool {
		for _, v := range stay {
			if v.has(true, startV, endV)+v.has(false, startA, endA) > 0 {
				return false
			}
		}
		for _, v := range late {
			if v.has(true, lateV, endV)+v.has(false, lateA, endA) > 0 {
				return false
			}
		}
		return true
	})
	for i, v := range append(stay, late...) {
		if _, _, mism := v.counts(); mism != 0 {
			t.Errorf("viewer %d: %d payloads differ from what was sent", i, mism)
		}
	}
	for _, v := range late {
		v.mu.Lock()
		kf := v.keyframes
		v.mu.Unlock()
		if kf == 0 {
			t.Error("late viewer never received a keyframe")
		}
	}
	if got := s.Viewers(room); got != 23 {
		t.Errorf("Viewers = %d after 2 left and 2 joined, want 23", got)
	}
}

// recordingTap keeps which sessions delivered audio.
type recordingTap struct {
	mu       sync.Mutex
	sessions map[string]int
}

func (r *recordingTap) WriteAudio(session string, pkt *rtp.Packet) {
	r.mu.Lock()
	r.sessions[session]++
	r.mu.Unlock()
}

func (r *recordingTap) count(session string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[session]
}

func TestPresenterReconnect(t *testing.T) {
	s := newTestServer(t, Config{})
	st := &stream{log: newSentLog()}
	const room = "webinar-2"
	tap := &recordingTap{sessions: map[string]int{}}
	remove := s.AddTap(room, tap)
	defer remove()

	pub1 := newPublisher(t, s, room)
	var viewers []*testViewer
	for i := 0; i < 3; i++ {
		v := newTestViewer(t, true)
		v.start(t, s, room, st.log)
		viewers = append(viewers, v)
	}
	st.warmUp(t, pub1, viewers)

	// The same key publishes again: the new session replaces the old one.
	pub2 := newPublisher(t, s, room)
	if err := s.End(room, pub1.session.ID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("End(old presenter) = %v, want ErrNoSession", err)
	}
	st.frame = 0 // the new encoder starts with a keyframe
	startV, startA := st.vnext, st.anext
	for i := 0; i < 60; i++ {
		st.step(t, pub2)
		time.Sleep(3 * time.Millisecond)
	}
	endV, endA := st.vnext, st.anext
	waitFor(t, 10*time.Second, "viewers to receive the new presenter", func() bool {
		for _, v := range viewers {
			if v.has(true, startV, endV)+v.has(false, startA, endA) > 0 {
				return false
			}
		}
		return true
	})
	// Both publishers numbered packets from 1; viewers must still see one
	// continuous sequence (rewritten once per packet on ingest).
	for i, v := range viewers {
		v.mu.Lock()
		seqs := append([]uint16{}, v.audioSeqs...)
		v.mu.Unlock()
		for j := 1; j < len(seqs); j++ {
			if d := seqs[j] - seqs[j-1]; d == 0 || d > 100 {
				t.Fatalf("viewer %d: audio sequence jumps from %d to %d", i, seqs[j-1], seqs[j])
			}
		}
	}
	if tap.count(pub1.session.ID) == 0 || tap.count(pub2.session.ID) == 0 {
		t.Errorf("tap sessions = %v, want audio from both presenter sessions", tap.sessions)
	}
	remove()
	n := tap.count(pub2.session.ID)
	st.step(t, pub2)
	time.Sleep(50 * time.Millisecond)
	if tap.count(pub2.session.ID) != n {
		t.Error("tap still called after remove")
	}
	if err := s.End(room, pub2.session.ID); err != nil {
		t.Fatal(err)
	}
	if s.Live(room) {
		t.Error("room still live after the presenter ended")
	}
}

// settleGoroutines waits for the goroutine count to fall to at most want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want <= %d\n%s", n, want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		s := newTestServer(t, Config{})
		st := &stream{log: newSentLog()}
		pub := newPublisher(t, s, "r")
		var viewers []*testViewer
		for i := 0; i < 3; i++ {
			v := newTestViewer(t, true)
			v.start(t, s, "r", st.log)
			viewers = append(viewers, v)
		}
		st.warmUp(t, pub, viewers)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		extra := newTestViewer(t, true)
		if _, err := s.Subscribe(t.Context(), "r", offerFor(t, extra.pc)); !errors.Is(err, ErrClosed) {
			t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
		}
		extra.close()
		_ = pub.pc.Close()
		for _, v := range viewers {
			v.close()
		}
	}()
	settleGoroutines(t, before)
}

func TestEndRoomEndsEverySession(t *testing.T) {
	s := newTestServer(t, Config{})
	st := &stream{log: newSentLog()}
	pub := newPublisher(t, s, "gone")
	v := newTestViewer(t, true)
	v.start(t, s, "gone", st.log)
	other := newTestViewer(t, true)
	other.start(t, s, "kept", st.log)
	st.warmUp(t, pub, []*testViewer{v})
	if !s.Live("gone") || s.Viewers("gone") != 1 {
		t.Fatalf("before: live %v viewers %d", s.Live("gone"), s.Viewers("gone"))
	}
	s.EndRoom("gone")
	if s.Live("gone") || s.Viewers("gone") != 0 {
		t.Fatalf("after EndRoom: live %v viewers %d", s.Live("gone"), s.Viewers("gone"))
	}
	if s.Viewers("kept") != 1 {
		t.Fatal("EndRoom touched another room")
	}
	s.EndRoom("never-existed") // no room: nothing to do
	v.close()
	other.close()
	_ = pub.pc.Close()
}
