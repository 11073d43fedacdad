package cluster

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"lectern/captions"
)

// testLease keeps lease and expiry tests short; production uses DefaultLease.
const testLease = time.Second

// freeAddr is a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testServer is an embedded NATS server on loopback, restartable on the same port.
type testServer struct {
	t        testing.TB
	addr     string
	storeDir string
	srv      *server.Server
}

func startTestServer(t *testing.T) *testServer {
	ts := &testServer{t: t, addr: freeAddr(t), storeDir: t.TempDir()}
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start() {
	srv, err := StartServer(ts.addr, ts.storeDir)
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.srv = srv
}

func (ts *testServer) stop() {
	if ts.srv != nil {
		ts.srv.Shutdown()
		ts.srv.WaitForShutdown()
		ts.srv = nil
	}
}

func (ts *testServer) url() string { return "nats://" + ts.addr }

// openNode connects a node named name to the test server.
func openNode(t *testing.T, ts *testServer, name string) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := Open(ctx, Config{Self: Node{ID: name, URL: "http://" + name + ".test", Region: "eu"},
		URL: ts.url(), Lease: testLease, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// kill stops a node as a crash would: no more heartbeats or renewals, nothing released.
func kill(b *Bus) {
	close(b.stop)
	b.wg.Wait()
	b.nc.Close()
}

// eventually polls cond every 20 ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One node holds an origin at a time; a dead holder's lease expires and another node claims.
func TestOriginLease(t *testing.T) {
	ts := startTestServer(t)
	a, b := openNode(t, ts, "a"), openNode(t, ts, "b")
	ctx := context.Background()

	origin, mine, err := a.ClaimOrigin(ctx, "w1")
	if err != nil || !mine || origin.ID != "a" {
		t.Fatalf("a's claim: %+v %v %v", origin, mine, err)
	}
	// Held over several leases: the holder renews.
	for range 3 {
		time.Sleep(testLease)
		origin, mine, err = b.ClaimOrigin(ctx, "w1")
		if err != nil || mine || origin.ID != "a" {
			t.Fatalf("b's claim while a holds: %+v mine=%v %v", origin, mine, err)
		}
	}
	if o, ok, err := b.Origin(ctx, "w1"); err != nil || !ok || o.URL != "http://a.test" {
		t.Fatalf("origin seen from b: %+v %v %v", o, ok, err)
	}

	kill(a)
	died := time.Now()
	eventually(t, 4*testLease, "b takes the origin of a dead node", func() bool {
		_, mine, err := b.ClaimOrigin(ctx, "w1")
		return err == nil && mine
	})
	t.Logf("origin taken over %s after the holder died (lease %s)", time.Since(died).Round(10*time.Millisecond), testLease)
	if !b.Originates("w1") {
		t.Fatal("b does not know it originates w1")
	}
}

// Releasing frees the origin at once; a released claim is not renewed.
func TestOriginRelease(t *testing.T) {
	ts := startTestServer(t)
	a, b := openNode(t, ts, "a"), openNode(t, ts, "b")
	ctx := context.Background()
	if _, mine, err := a.ClaimOrigin(ctx, "w2"); !mine || err != nil {
		t.Fatalf("claim: %v %v", mine, err)
	}
	a.ReleaseOrigin("w2")
	if _, ok, err := b.Origin(ctx, "w2"); ok || err != nil {
		t.Fatalf("released origin still held: %v %v", ok, err)
	}
	if _, mine, err := b.ClaimOrigin(ctx, "w2"); !mine || err != nil {
		t.Fatalf("claim after release: %v %v", mine, err)
	}
	time.Sleep(testLease) // a's renewals must not bring its claim back
	if o, _, _ := a.Origin(ctx, "w2"); o.ID != "b" {
		t.Fatalf("origin %+v, want b", o)
	}
}

// Nodes lists the live nodes with what they announce; a dead one drops out within a lease.
func TestNodesHeartbeat(t *testing.T) {
	ts := startTestServer(t)
	a, b, c := openNode(t, ts, "a"), openNode(t, ts, "b"), openNode(t, ts, "c")
	ctx := context.Background()
	if _, _, err := b.ClaimOrigin(ctx, "w3"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*testLease, "a sees three nodes, b originating w3", func() bool {
		ns, _ := a.Nodes(ctx)
		return len(ns) == 3 && ns[1].ID == "b" && len(ns[1].Originates) == 1 && ns[1].Originates[0] == "w3"
	})
	c.SetDraining(true)
	eventually(t, 2*testLease, "a sees c draining", func() bool {
		ns, _ := a.Nodes(ctx)
		return len(ns) == 3 && ns[2].Draining
	})
	kill(c)
	eventually(t, 3*testLease, "c drops out", func() bool {
		ns, _ := a.Nodes(ctx)
		return len(ns) == 2
	})
}

// A drain request for another node reaches it over NATS; an unknown id is refused.
func TestDrainNode(t *testing.T) {
	ts := startTestServer(t)
	a, b := openNode(t, ts, "a"), openNode(t, ts, "b")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	eventually(t, 3*testLease, "a knows b", func() bool { ns, _ := a.Nodes(ctx); return len(ns) == 2 })
	if err := a.DrainNode(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if !b.Self().Draining {
		t.Fatal("b not draining after the request")
	}
	if err := a.DrainNode(ctx, "nope"); err != ErrNoNode {
		t.Fatalf("unknown node: %v", err)
	}
}

// Per-webinar counts add up over the nodes, and a change elsewhere is announced.
func TestCountsSummed(t *testing.T) {
	ts := startTestServer(t)
	a, b, c := openNode(t, ts, "a"), openNode(t, ts, "b"), openNode(t, ts, "c")
	changed := make(chan string, 16)
	c.OnCountChange(func(kind, webinar string) { changed <- kind + "/" + webinar })
	a.SetCount(CountViewers, "w4", 3)
	b.SetCount(CountViewers, "w4", 4)
	c.SetCount(CountViewers, "w4", 5)
	eventually(t, 3*testLease, "12 viewers over three nodes", func() bool { return c.Count(CountViewers, "w4") == 12 })
	select {
	case got := <-changed:
		if got != "viewers/w4" {
			t.Fatalf("change %q", got)
		}
	case <-time.After(time.Second):
		t.Fatal("no change announced")
	}
	kill(a)
	eventually(t, 3*testLease, "a dead node's viewers stop counting", func() bool { return c.Count(CountViewers, "w4") == 9 })
}

// Captions sent by the origin reach the other nodes' joins unchanged; demand is summed.
func TestCaptionRelay(t *testing.T) {
	ts := startTestServer(t)
	a, b, c := openNode(t, ts, "a"), openNode(t, ts, "b"), openNode(t, ts, "c")
	got := make(chan CaptionEvent, 16)
	leave := a.JoinCaptions("w5", func(ev CaptionEvent) { got <- ev })
	defer leave()
	bGot := make(chan CaptionEvent, 16)
	defer b.JoinCaptions("w5", func(ev CaptionEvent) { bGot <- ev })()

	want := captions.Caption{ID: "s-1", Seq: 7, Final: true, Text: "Hello.", Lang: "en", Speaker: "Ada", EndMS: 900}
	a.SendCaption("w5", want)
	select {
	case ev := <-bGot:
		if ev.Caption == nil || *ev.Caption != want {
			t.Fatalf("relayed %+v, want %+v", ev.Caption, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("caption not relayed")
	}
	b.SendDemand("w5", "es", 1)
	c.SendDemand("w5", "es", 1)
	eventually(t, 5*time.Second, "the origin sees 2 readers of es", func() bool {
		for {
			select {
			case ev := <-got:
				if ev.Demand != nil && ev.Demand.Lang == "es" && ev.Demand.Readers == 2 {
					return true
				}
			default:
				return false
			}
		}
	})
	kill(c)
	eventually(t, 4*testLease, "a dead node's demand expires", func() bool {
		select {
		case ev := <-got:
			return ev.Demand != nil && ev.Demand.Readers == 1
		default:
			return false
		}
	})
}

func freeAddrB(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func openNodeB(b *testing.B, ts *testServer, name string) *Bus {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bus, err := Open(ctx, Config{Self: Node{ID: name, URL: "http://" + name + ".test"}, URL: ts.url(), Lease: testLease,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return bus
}
