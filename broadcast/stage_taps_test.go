package broadcast

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// stageLog is a StageTap recording joins, leaves and, per joined session, the tags of the
// audio it got.
type stageLog struct {
	mu     sync.Mutex
	events []string            // "join Speaker a" / "leave Speaker a"
	tags   map[string][]byte   // session → payload[0] of each packet
	names  map[string]string   // session → speaker name
	after  map[string]struct{} // sessions that got a packet after their Leave
	left   map[string]bool     // keys that left
	keyOf  map[string]string   // session → key
}

func newStageLog() *stageLog {
	return &stageLog{tags: map[string][]byte{}, names: map[string]string{}, after: map[string]struct{}{},
		left: map[string]bool{}, keyOf: map[string]string{}}
}

type sessionTap struct {
	l   *stageLog
	key string
}

func (t sessionTap) WriteAudio(session string, pkt *rtp.Packet) {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	if t.l.left[t.key] {
		t.l.after[session] = struct{}{}
	}
	t.l.tags[session] = append(t.l.tags[session], pkt.Payload[0])
}

func (l *stageLog) Join(m StageMember) Tap {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, "join "+m.Name)
	l.names[m.Session], l.keyOf[m.Session] = m.Name, m.Key
	l.left[m.Key] = false
	return sessionTap{l, m.Key}
}

func (l *stageLog) Leave(m StageMember) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, "leave "+m.Name)
	l.left[m.Key] = true
}

func (l *stageLog) snapshot() (events []string, tags map[string][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tags = map[string][]byte{}
	for k, v := range l.tags {
		tags[k] = append([]byte(nil), v...)
	}
	return append([]string(nil), l.events...), tags
}

// Every presenter's audio reaches a stage tap through its own Tap, whoever is the active
// speaker; a reconnect under the same credential joins again without leaving; ending the
// session leaves once, and no packet follows the leave.
func TestStageTapGetsEveryPresentersAudio(t *testing.T) {
	s := newTestServer(t, Config{})
	st := newStageLog()
	remove := s.AddStageTap("r", st)
	defer remove()
	a, err := newStagePub(t, s, "r", "a", 0xa0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newStagePub(t, s, "r", "b", 0xb0)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 { // a is loud (the active speaker), b quiet: b is tapped all the same
		a.say(t, 10)
		b.say(t, 120)
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, "both presenters' audio at the stage tap", func() bool {
		_, tags := st.snapshot()
		return len(tags[a.session.ID]) >= 25 && len(tags[b.session.ID]) >= 25
	})
	_, tags := st.snapshot()
	for _, p := range []*stagePub{a, b} {
		for _, tag := range tags[p.session.ID] {
			if tag != p.tag {
				t.Fatalf("session %s's tap got a packet tagged %#x, want only %#x", p.session.ID, tag, p.tag)
			}
		}
	}
	st.mu.Lock()
	names := fmt.Sprint(st.names[a.session.ID], "|", st.names[b.session.ID])
	st.mu.Unlock()
	if names != "Speaker a|Speaker b" {
		t.Fatalf("joined names %s", names)
	}

	// b reconnects: same credential, new session.
	b2, err := newStagePub(t, s, "r", "b", 0xb1)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		b2.say(t, 120)
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, 10*time.Second, "the reconnected session's audio", func() bool {
		_, tags := st.snapshot()
		return len(tags[b2.session.ID]) >= 5
	})
	if ev, _ := st.snapshot(); len(ev) != 3 || ev[2] != "join Speaker b" || slices.Contains(ev, "leave Speaker b") {
		t.Fatalf("events %v, want a reconnect to join again without a leave", ev)
	}

	if err := s.End("r", b2.session.ID); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		a.say(t, 10)
		b2.say(t, 120) // may still be in flight; it must not reach the tap
	}
	waitFor(t, 5*time.Second, "b's leave", func() bool {
		ev, _ := st.snapshot()
		return len(ev) == 4
	})
	time.Sleep(100 * time.Millisecond)
	ev, _ := st.snapshot()
	if fmt.Sprint(ev[2:]) != "[join Speaker b leave Speaker b]" {
		t.Fatalf("events %v, want one leave of b", ev)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.after) > 0 {
		t.Fatalf("sessions %v got audio after their leave", st.after)
	}
}
