package live

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/cluster"
	"lectern/models"
	"lectern/transcribe"
)

// clusterRig is two nodes of one cluster in this process: one NATS server, one store (as
// with PostgreSQL), each node its own bus, broadcast and live manager.
type clusterRig struct {
	t        *testing.T
	addr     string
	natsDir  string
	srv      *server.Server
	store    *models.Store
	webinar  models.Webinar
	origin   *Room // node a: holds the origin lease, transcribes
	edge     *Room // node b
	busA     *cluster.Bus
	busB     *cluster.Bus
	managers []*Manager
}

func newClusterRig(t *testing.T) *clusterRig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rig := &clusterRig{t: t, addr: ln.Addr().String(), natsDir: t.TempDir()}
	ln.Close()
	rig.startNATS()
	t.Cleanup(rig.stopNATS)
	ctx := context.Background()
	if rig.store, err = models.Open(ctx, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rig.store.Close() })
	if rig.webinar, err = rig.store.CreateWebinar(ctx, models.NewWebinar{Title: "T", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	rig.busA, rig.origin = rig.node("a")
	rig.busB, rig.edge = rig.node("b")
	if _, mine, err := rig.busA.ClaimOrigin(ctx, rig.webinar.ID); !mine || err != nil {
		t.Fatalf("origin claim: %v %v", mine, err)
	}
	return rig
}

func (rig *clusterRig) startNATS() {
	srv, err := cluster.StartServer(rig.addr, rig.natsDir)
	if err != nil {
		rig.t.Fatal(err)
	}
	rig.srv = srv
}

func (rig *clusterRig) stopNATS() {
	if rig.srv != nil {
		rig.srv.Shutdown()
		rig.srv.WaitForShutdown()
		rig.srv = nil
	}
}

func (rig *clusterRig) node(name string) (*cluster.Bus, *Room) {
	t := rig.t
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bus, err := cluster.Open(ctx, cluster.Config{Self: cluster.Node{ID: name, URL: "http://" + name + ".test"},
		URL: "nats://" + rig.addr, Lease: time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	bc, err := broadcast.New(broadcast.Config{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Store: rig.store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: log,
		Relay: bus, IsOrigin: bus.Originates})
	t.Cleanup(func() { m.Close(); bus.Close(); bc.Close() })
	r, err := m.Room(ctx, rig.webinar)
	if err != nil {
		t.Fatal(err)
	}
	return bus, r
}

// final makes the origin's transcriber produce final number i.
func (rig *clusterRig) final(i int) {
	rig.origin.onEvent("Ada", transcribe.Event{ID: "s-" + itoa(i), Session: "s", Final: true,
		Start: time.Duration(i) * time.Second, End: time.Duration(i)*time.Second + 500*time.Millisecond, Text: "Line " + itoa(i) + "."})
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func frameWithin(t *testing.T, sub *captions.Subscriber, d time.Duration) (captions.Frame, bool) {
	t.Helper()
	select {
	case f, ok := <-sub.Frames():
		return f, ok
	case <-time.After(d):
		return captions.Frame{}, false
	}
}

// Captions transcribed on the origin reach a reader on the other node byte for byte: same
// id, seq, text and speaker, so Last-Event-ID works on either node.
func TestCaptionsRelayedToEdge(t *testing.T) {
	rig := newClusterRig(t)
	onA, onB := rig.origin.Hub().Subscribe("en"), rig.edge.Hub().Subscribe("en")
	defer onA.Close()
	defer onB.Close()

	rig.origin.onEvent("Ada", transcribe.Event{ID: "s-1", Session: "s", End: time.Second, Text: "hel"})
	rig.final(1)
	for _, kind := range []string{"partial", "final"} {
		fa, fb := next(t, onA), next(t, onB)
		if string(fa.SSE) != string(fb.SSE) {
			t.Fatalf("%s differs:\norigin %s\nedge   %s", kind, fa.SSE, fb.SSE)
		}
	}
	// The edge did not transcribe or store anything of its own.
	stored, err := rig.store.Finals(context.Background(), rig.webinar.ID, 0)
	if err != nil || len(stored) != 1 {
		t.Fatalf("stored %+v %v, want the origin's one final", stored, err)
	}
}

// A reader of a translation on the edge makes the origin's room want it (the origin's stage
// translates once for the cluster); the last reader leaving withdraws it.
func TestTranslationDemandGoesToOrigin(t *testing.T) {
	rig := newClusterRig(t)
	sub := rig.edge.Hub().Subscribe("es")
	remote := func() int {
		rig.origin.demandMu.Lock()
		defer rig.origin.demandMu.Unlock()
		return rig.origin.remoteDemand["es"]
	}
	waitFor(t, 5*time.Second, "the origin counts the edge's reader of es", func() bool { return remote() == 1 })
	rig.edge.demandMu.Lock()
	local, remoteOnEdge := rig.edge.localDemand["es"], len(rig.edge.remoteDemand)
	rig.edge.demandMu.Unlock()
	if local != 1 || remoteOnEdge != 0 {
		t.Fatalf("edge demand: local %d, remote languages %d", local, remoteOnEdge)
	}
	sub.Close()
	waitFor(t, 5*time.Second, "the reader left", func() bool { return remote() == 0 })
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// NATS down for 10 s mid-webinar: the origin keeps storing finals; when NATS is back the
// edge's readers get every final they missed (from the store) and the relay resumes, with
// no final lost or shown twice.
func TestCaptionsSurviveNATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s outage")
	}
	rig := newClusterRig(t)
	onB := rig.edge.Hub().Subscribe("en")
	defer onB.Close()
	got := map[int64]int{}
	collect := func(until time.Duration) {
		for {
			f, ok := frameWithin(t, onB, until)
			if !ok {
				return
			}
			if f.Final {
				got[f.Seq]++
			}
		}
	}
	rig.final(1)
	collect(2 * time.Second)
	if len(got) != 1 {
		t.Fatalf("before the outage: %v", got)
	}

	rig.stopNATS()
	for i := 2; i <= 6; i++ { // captions go on while NATS is away
		rig.final(i)
		time.Sleep(time.Second)
	}
	time.Sleep(5 * time.Second) // 10 s in all
	rig.startNATS()
	waitFor(t, 15*time.Second, "both nodes reconnected", func() bool { return rig.busA.Connected() && rig.busB.Connected() })
	rig.final(7)
	collect(5 * time.Second)

	stored, err := rig.store.Finals(context.Background(), rig.webinar.ID, 0)
	if err != nil || len(stored) != 7 {
		t.Fatalf("stored %d finals (%v), want 7", len(stored), err)
	}
	for _, c := range stored {
		if got[c.Seq] != 1 {
			t.Errorf("final seq %d (%q) shown %d times on the edge, want once", c.Seq, c.Text, got[c.Seq])
		}
	}
	if len(got) != len(stored) {
		t.Errorf("edge showed finals %v, stored %d", keys(got), len(stored))
	}
}

func keys(m map[int64]int) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// The relay's latency for a final, origin hub → edge hub, over 200 finals; logged for
// BENCHMARKS.md (go test -run TestRelayLatency -v ./live/).
func TestRelayLatency(t *testing.T) {
	rig := newClusterRig(t)
	onA, onB := rig.origin.Hub().Subscribe("en"), rig.edge.Hub().Subscribe("en")
	defer onA.Close()
	defer onB.Close()
	const n = 200
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	for i := 1; i <= n; i++ {
		rig.final(i)
		next(t, onA)
		shownA := time.Now()
		f := next(t, onB)
		lat = append(lat, time.Since(shownA))
		if !f.Final {
			t.Fatalf("frame %d not a final", i)
		}
	}
	took := time.Since(start)
	slices.Sort(lat)
	p50, p99 := lat[n/2], lat[n*99/100]
	t.Logf("final relay origin hub -> edge hub over NATS: p50 %s p99 %s max %s (%d finals, %.0f finals/s incl. SQLite store)",
		p50.Round(time.Microsecond), p99.Round(time.Microsecond), lat[n-1].Round(time.Microsecond), n, n/took.Seconds())
	if p99 > 2*time.Second { // generous: the target (50 ms) is for BENCHMARKS, not a loaded CI box
		t.Fatalf("p99 %s", p99)
	}
}
