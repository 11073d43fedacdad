package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"lectern/broadcast"
	"lectern/cluster"
	"lectern/edge"
)

// staticDir is a two-node cluster whose origin never moves: the shim origin of this test.
type staticDir struct{ self, origin cluster.Node }

func (d staticDir) Self() cluster.Node { return d.self }
func (d staticDir) ClaimOrigin(context.Context, string) (cluster.Node, bool, error) {
	return d.origin, false, nil
}
func (staticDir) ReleaseOrigin(string) {}
func (d staticDir) Origin(context.Context, string) (cluster.Node, bool, error) {
	return d.origin, true, nil
}
func (d staticDir) Nodes(context.Context) ([]cluster.Node, error) {
	return []cluster.Node{d.self, d.origin}, nil
}

// edgeShim is the shim server with an edge in front of its WHEP: a viewer's offer starts (or
// joins) the pull from the origin, then subscribes to the local room, as package api does.
func edgeShim(s *broadcast.Server, reg *prometheus.Registry, pulls *edge.Manager) http.Handler {
	inner := shim(s, reg, "secret")
	mux := http.NewServeMux()
	mux.Handle("/", inner)
	mux.HandleFunc("POST /whep/{room}", func(w http.ResponseWriter, r *http.Request) {
		pulls.Ensure(r.PathValue("room"))
		inner.ServeHTTP(w, r)
	})
	return mux
}

// serveEdgeShim runs this test binary as the edge node when LECTERN_BENCH_EDGE_ADDR is set.
func serveEdgeShim() bool {
	addr, origin := os.Getenv("LECTERN_BENCH_EDGE_ADDR"), os.Getenv("LECTERN_BENCH_EDGE_ORIGIN")
	if addr == "" {
		return false
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}, Logger: log}, reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir := staticDir{self: cluster.Node{ID: "edge", URL: "http://" + addr}, origin: cluster.Node{ID: "origin", URL: origin}}
	pulls := edge.New(edge.Config{Broadcast: s, Directory: dir, Secret: []byte("bench"), Logger: log})
	srv := &http.Server{Addr: addr, Handler: edgeShim(s, reg, pulls)}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		_ = srv.Close()
	}()
	_ = srv.ListenAndServe()
	pulls.Close()
	_ = s.Close()
	return true
}

// startShim starts this test binary as a server process (env selects origin or edge) and
// waits for its /metrics.
func startShim(t *testing.T, addrVar string, env ...string) (addr string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), addrVar+"="+addr), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitUntil(t, 10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err == nil
	})
	return addr
}

// TestMeasureEdge measures one edge hop, with the origin and the edge each in its own process
// so /metrics reports only that node's CPU: the same fan-out first from the origin alone, then
// from the edge (the presenter still on the origin, the viewers on the edge).
//
//	LECTERN_BENCH_EDGE_VIEWERS=50 LECTERN_BENCH_SECONDS=10 go test -run TestMeasureEdge -v ./bench/
func TestMeasureEdge(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LECTERN_BENCH_EDGE_VIEWERS"))
	if n == 0 {
		t.Skip("set LECTERN_BENCH_EDGE_VIEWERS to measure")
	}
	secs, _ := strconv.Atoi(os.Getenv("LECTERN_BENCH_SECONDS"))
	if secs == 0 {
		secs = 10
	}
	origin := "http://" + startShim(t, "LECTERN_BENCH_SHIM_ADDR")
	edgeURL := "http://" + startShim(t, "LECTERN_BENCH_EDGE_ADDR", "LECTERN_BENCH_EDGE_ORIGIN="+origin)
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(2*secs+120)*time.Second)
	defer cancel()
	cfg := FanoutConfig{URL: origin, Room: "single", StreamKey: "secret", Viewers: n, Duration: time.Duration(secs) * time.Second}
	single, err := Fanout(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Room, cfg.ViewURL = "edge", edgeURL
	hop, err := Fanout(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("single node (viewers on the origin):\n%s\nedge (presenter on the origin, viewers on the edge):\n%s\n", single, hop)
	fmt.Printf("added per edge hop: latency p50 %s, p99 %s; server CPU per delivered packet %.2f µs (edge) vs %.2f µs (single node) = %+.1f %%\n",
		hop.LatencyP50-single.LatencyP50, hop.LatencyP99-single.LatencyP99, hop.CPUPerPacketMicros, single.CPUPerPacketMicros,
		100*(hop.CPUPerPacketMicros/single.CPUPerPacketMicros-1))
}
