package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"lectern/broadcast"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// shim is a minimal WHIP/WHEP front for broadcast.Server, for this test only;
// the real endpoints live in package api.
func shim(s *broadcast.Server, reg *prometheus.Registry, key string) http.Handler {
	mux := http.NewServeMux()
	offer := func(w http.ResponseWriter, r *http.Request, kind string, start func(context.Context, string, string) (broadcast.Session, error)) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		room := r.PathValue("room")
		sess, err := start(r.Context(), room, string(body))
		if errors.Is(err, broadcast.ErrBadOffer) {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/sdp")
		w.Header().Set("Location", "/"+kind+"/"+room+"/"+sess.ID)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, sess.Answer)
	}
	mux.HandleFunc("POST /whip/{room}", func(w http.ResponseWriter, r *http.Request) {
		bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if panelist, ok := strings.CutPrefix(bearer, "panelist-"); ok { // a stage slot of its own (issue 10)
			offer(w, r, "whip", func(ctx context.Context, room, sdp string) (broadcast.Session, error) {
				return s.PublishAs(ctx, room, sdp, broadcast.Publisher{Key: "member:" + panelist, Name: panelist})
			})
			return
		}
		if bearer != key {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		offer(w, r, "whip", s.Publish)
	})
	mux.HandleFunc("POST /whep/{room}", func(w http.ResponseWriter, r *http.Request) { offer(w, r, "whep", s.Subscribe) })
	end := func(w http.ResponseWriter, r *http.Request) {
		if err := s.End(r.PathValue("room"), r.PathValue("id")); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
	mux.HandleFunc("DELETE /whip/{room}/{id}", end)
	mux.HandleFunc("DELETE /whep/{room}/{id}", end)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile) // for CPU profiles of measurements
	return mux
}

func newShimServer() (*broadcast.Server, http.Handler, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}, Logger: log}, reg)
	if err != nil {
		return nil, nil, err
	}
	return s, shim(s, reg, "secret"), nil
}

func TestFanoutAgainstShim(t *testing.T) {
	s, h, err := newShimServer()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	if _, err := Fanout(ctx, FanoutConfig{URL: srv.URL, Room: "r", StreamKey: "wrong", Viewers: 1, Duration: time.Second}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong stream key: err = %v, want a 401", err)
	}
	rep, err := Fanout(ctx, FanoutConfig{URL: srv.URL + "/", Room: "r", StreamKey: "secret", Viewers: 5, Duration: 2 * time.Second, VideoKbps: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.String())
	if rep.Connected != 5 || rep.JoinSamples != 5 {
		t.Errorf("connected %d, saw a keyframe %d, want 5 and 5", rep.Connected, rep.JoinSamples)
	}
	// 500 kbit/s at 30 fps is 2 packets per frame: ~60 video + 50 audio packets per second per viewer.
	if rep.Expected < 5*2*100 || rep.Delivered == 0 {
		t.Errorf("expected %d delivered %d: the presenter did not send", rep.Expected, rep.Delivered)
	}
	if rep.LossPercent > 5 {
		t.Errorf("loss %.2f %% on loopback", rep.LossPercent)
	}
	if !rep.ServerScraped || rep.ServerForwarded == 0 {
		t.Errorf("server metrics not read: %+v", rep)
	}
	if rep.LatencyP50 <= 0 || rep.LatencyP99 < rep.LatencyP50 {
		t.Errorf("latency p50 %s p99 %s", rep.LatencyP50, rep.LatencyP99)
	}
	// Every session was DELETEd.
	waitUntil(t, 10*time.Second, func() bool { return s.Viewers("r") == 0 && !s.Live("r") })
}

func TestStampAndHistogram(t *testing.T) {
	p := make([]byte, 40)
	want := stamp{kind: kindVideo, flags: flagKeyframe, pub: 5, seq: 123456, sent: 1700000000123456789}
	putStamp(p, want)
	if got, ok := readStamp(p); !ok || got != want {
		t.Errorf("readStamp = %+v %v, want %+v", got, ok, want)
	}
	if _, ok := readStamp(p[:10]); ok {
		t.Error("short payload accepted")
	}
	h := &latencyHist{}
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	if q := h.quantile(0.5); q < 50*time.Millisecond || q > 50*time.Millisecond+histBucket {
		t.Errorf("p50 = %s, want 50ms", q)
	}
	var s seqSet
	for _, q := range []uint32{0, 1, 63, 64, 200, 200} {
		s.add(q)
	}
	if n := s.countRange(0, 201); n != 5 {
		t.Errorf("countRange = %d, want 5", n)
	}
}

func FuzzReadStamp(f *testing.F) {
	p := make([]byte, 20)
	putStamp(p, stamp{kind: kindAudio, seq: 7, sent: 9})
	f.Add(p)
	f.Add([]byte("LB"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, ok := readStamp(b); ok && st.kind > kindVideo {
			t.Fatalf("accepted kind %d", st.kind)
		}
	})
}

func waitUntil(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Measurements with the server in its own process, so /metrics reports only
// the server's CPU and memory:
//
//	LECTERN_BENCH_VIEWERS=100 LECTERN_BENCH_SECONDS=20 go test -run TestMeasureFanout -v ./bench/
func TestMeasureFanout(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LECTERN_BENCH_VIEWERS"))
	if n == 0 {
		t.Skip("set LECTERN_BENCH_VIEWERS to measure")
	}
	secs, _ := strconv.Atoi(os.Getenv("LECTERN_BENCH_SECONDS"))
	if secs == 0 {
		secs = 20
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if a := os.Getenv("LECTERN_BENCH_ADDR"); a != "" {
		addr = a // fixed, e.g. to fetch /debug/pprof/profile during the run
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LECTERN_BENCH_SHIM_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	waitUntil(t, 10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(secs+120)*time.Second)
	defer cancel()
	rep, err := Fanout(ctx, FanoutConfig{URL: "http://" + addr, Room: "bench", StreamKey: "secret", Viewers: n, Duration: time.Duration(secs) * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(rep.String())
}

// TestMain doubles as the shim server process for TestMeasureFanout.
func TestMain(m *testing.M) {
	if addr := os.Getenv("LECTERN_BENCH_SHIM_ADDR"); addr != "" {
		s, h, err := newShimServer()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		srv := &http.Server{Addr: addr, Handler: h}
		go func() {
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
			<-sig
			_ = srv.Close()
		}()
		_ = srv.ListenAndServe()
		_ = s.Close()
		return
	}
	if serveEdgeShim() { // TestMeasureEdge's edge node
		return
	}
	os.Exit(m.Run())
}
