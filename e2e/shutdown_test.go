package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"lectern/bench"
)

// sigterm stops s with SIGTERM and returns how long it took to exit, failing the test if it
// did not exit with status 0 within limit.
func sigterm(t *testing.T, s *server, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		took := time.Since(start)
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v (after %s)", err, took)
		}
		if took > limit {
			t.Fatalf("exit took %s, want under %s", took, limit)
		}
		return took
	case <-time.After(limit + 20*time.Second):
		s.kill()
		t.Fatalf("server still running %s after SIGTERM", limit+20*time.Second)
	}
	return 0
}

// noRaceExitPause: the e2e binary is built with -race, whose runtime sleeps 1 s at exit
// (atexit_sleep_ms) to let reports flush. That second is the test build's, not the server's,
// so the shutdown tests turn it off to measure the server's own time.
func noRaceExitPause(t *testing.T) {
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

// TestShutdownIdle: with nobody connected, SIGTERM ends the server at once and cleanly.
func TestShutdownIdle(t *testing.T) {
	noRaceExitPause(t)
	s := startServer(t, t.TempDir())
	took := sigterm(t, s, time.Second) // "well under a second"; it takes milliseconds
	t.Logf("idle shutdown: %s", took)
}

// TestShutdownWithAudience is issue 8's contract: a presenter speaking, 100 caption (SSE)
// clients and 20 pion WHEP viewers connected; SIGTERM ends the process with status 0 within
// 3 s, every caption client gets the shutdown event telling it to reconnect, and every
// viewer's peer connection is closed by the server.
func TestShutdownWithAudience(t *testing.T) {
	noRaceExitPause(t)
	dir := t.TempDir()
	w := createWebinar(t, dir, "Shutdown with an audience")
	s := startServer(t, dir, "--streams-per-addr", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	pub := startSpeaking(t, ctx, s.URL, w)
	defer pub.Close(context.Background())

	readers := openCaptionClients(t, ctx, s.URL+"/api/webinars/"+w.ID+"/captions", 100)
	viewers := connectViewers(t, ctx, s.URL+"/whep/"+w.ID, 20)
	time.Sleep(time.Second) // media flows to everyone

	took := sigterm(t, s, 3*time.Second)
	t.Logf("shutdown with 100 caption clients and 20 viewers: %s", took)

	for i, r := range readers {
		if got := <-r; !strings.Contains(got, "event: shutdown\nretry: ") {
			t.Errorf("caption client %d: stream ended without a shutdown event: %q", i, tail(got))
		}
	}
	for i, v := range viewers {
		select {
		case <-v.ended:
		case <-time.After(15 * time.Second):
			t.Errorf("viewer %d: peer connection still %s after the server exited", i, v.pc.ConnectionState())
		}
	}
}

// startSpeaking connects a WHIP presenter that speaks a sentence (flite, Opus), so the
// speech pipeline is busy when the signal comes.
func startSpeaking(t *testing.T, ctx context.Context, url string, w webinar) *bench.AudioPublisher {
	t.Helper()
	_, ogg, _, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Dir: t.TempDir(),
		Sentences: []string{"The server is about to restart, so please stay with us."}})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bench.PublishOgg(ctx, url, w.ID, w.StreamKey, ogg)
	if err != nil {
		t.Fatal(err)
	}
	go pub.Send(ctx)
	return pub
}

// openCaptionClients opens n caption streams, each on its own connection, and returns for
// each a channel that yields everything the stream carried once the server ends it.
func openCaptionClients(t *testing.T, ctx context.Context, url string, n int) []chan string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	out := make([]chan string, n)
	for i := range out {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("caption client %d: %v", i, err)
		}
		if res.StatusCode != http.StatusOK {
			res.Body.Close()
			t.Fatalf("caption client %d: %s", i, res.Status)
		}
		r := bufio.NewReader(res.Body)
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
			t.Fatalf("caption client %d: first line %q, %v", i, line, err)
		}
		out[i] = make(chan string, 1)
		go func() {
			defer res.Body.Close()
			b, _ := io.ReadAll(r)
			out[i] <- string(b)
		}()
	}
	return out
}

func tail(s string) string {
	if len(s) > 200 {
		return "…" + s[len(s)-200:]
	}
	return s
}

// whepViewer is a pion viewer; ended closes when its connection is closed or fails.
type whepViewer struct {
	pc    *webrtc.PeerConnection
	ended chan struct{}
}

// connectViewers connects n pion WHEP viewers over loopback and waits until each is
// connected. They are closed when the test ends.
func connectViewers(t *testing.T, ctx context.Context, url string, n int) []*whepViewer {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	viewers := make([]*whepViewer, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range viewers {
		v, err := newViewer(api)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.pc.Close() })
		viewers[i] = v
		wg.Go(func() {
			if err := v.join(ctx, url); err != nil {
				errs <- fmt.Errorf("viewer %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return viewers
}

func newViewer(api *webrtc.API) (*whepViewer, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	v := &whepViewer{pc: pc, ended: make(chan struct{})}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			pc.Close()
			return nil, err
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
		}
	})
	return v, nil
}

// join negotiates with the WHEP endpoint and waits for the connection.
func (v *whepViewer) join(ctx context.Context, url string) error {
	connected := make(chan struct{})
	var once, endOnce sync.Once
	v.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			endOnce.Do(func() { close(v.ended) })
		}
	})
	if err := negotiateWHEP(ctx, v.pc, url); err != nil {
		return err
	}
	select {
	case <-connected:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("not connected: %s", v.pc.ConnectionState())
	}
}
