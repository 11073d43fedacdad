package broadcast

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// waitDone fails unless done is closed within d.
func waitDone(t *testing.T, done <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	start := time.Now()
	select {
	case <-done:
		t.Logf("%s: Done closed after %v", what, time.Since(start).Round(time.Millisecond))
	case <-time.After(d):
		t.Fatalf("%s: Done still open %v later", what, d)
	}
}

// A viewer session's Done closes however the session ends: the viewer closing its peer
// connection without any End (a closed tab sends no DELETE), End, and the room ending. It
// stays open while the session lives.
func TestViewerSessionDone(t *testing.T) {
	s := newTestServer(t, Config{})
	log := newSentLog()
	connected := func(v *testViewer) {
		t.Helper()
		waitFor(t, 10*time.Second, "viewer connected", func() bool { return v.pc.ConnectionState() == webrtc.PeerConnectionStateConnected })
	}

	closer := newTestViewer(t, true)
	closer.start(t, s, "r", log)
	ended := newTestViewer(t, true)
	ended.start(t, s, "r", log)
	roomEnded := newTestViewer(t, true)
	roomEnded.start(t, s, "r", log)
	for _, v := range []*testViewer{closer, ended, roomEnded} {
		if v.session.Done == nil {
			t.Fatal("a viewer session has no Done channel")
		}
		connected(v)
	}
	select {
	case <-closer.session.Done:
		t.Fatal("Done closed while the session lives")
	case <-time.After(200 * time.Millisecond):
	}

	// The pion viewer just closes its peer connection: the server hears DTLS close_notify,
	// or, failing that, ICE fails (pion's default: about 30 s).
	_ = closer.pc.Close()
	waitDone(t, closer.session.Done, 45*time.Second, "viewer closed its peer connection")
	waitFor(t, 5*time.Second, "closed session gone from the room", func() bool { return s.Viewers("r") == 2 })

	if err := s.End("r", ended.session.ID); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ended.session.Done, 5*time.Second, "End")

	s.EndRoom("r")
	waitDone(t, roomEnded.session.Done, 5*time.Second, "EndRoom")
}
