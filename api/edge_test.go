package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
	"lectern/captions"
	"lectern/cluster"
	"lectern/edge"
	"lectern/internal/region"
	"lectern/live"
	"lectern/models"
)

// This file runs several nodes in one process: real API servers over one real SQLite store
// (what a PostgreSQL store shares between nodes), real pion peers on loopback, and a fake
// cluster directory (a map the nodes share) in place of the NATS one.

// fakeCluster is the shared registry: nodes by id and each webinar's origin.
type fakeCluster struct {
	mu      sync.Mutex
	nodes   map[string]*cluster.Node
	origins map[string]string // webinar → node id
	dead    map[string]bool
	ends    map[string]func(cluster.StageCommand) // node id → its stage command handler (edge_stage_test.go)
}

type fakeDir struct {
	c  *fakeCluster
	id string
}

func (d fakeDir) Self() cluster.Node {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	return *d.c.nodes[d.id]
}

func (d fakeDir) ClaimOrigin(_ context.Context, w string) (cluster.Node, bool, error) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if o, ok := d.c.origins[w]; ok && o != d.id && !d.c.dead[o] {
		return *d.c.nodes[o], false, nil
	}
	d.c.origins[w] = d.id
	return *d.c.nodes[d.id], true, nil
}

func (d fakeDir) ReleaseOrigin(w string) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	if d.c.origins[w] == d.id {
		delete(d.c.origins, w)
	}
}

func (d fakeDir) Origin(_ context.Context, w string) (cluster.Node, bool, error) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	o, ok := d.c.origins[w]
	if !ok || d.c.dead[o] {
		return cluster.Node{}, false, nil
	}
	return *d.c.nodes[o], true, nil
}

func (d fakeDir) Nodes(context.Context) ([]cluster.Node, error) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	var out []cluster.Node
	for id, n := range d.c.nodes {
		if !d.c.dead[id] {
			out = append(out, *n)
		}
	}
	return out, nil
}

// set changes a node's announced fields (region, load, draining).
func (c *fakeCluster) set(id string, f func(*cluster.Node)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.nodes[id])
}

// kill is the lease expiring: the node is gone and its claims with it.
func (c *fakeCluster) kill(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead[id] = true
	for w, o := range c.origins {
		if o == id {
			delete(c.origins, w)
		}
	}
}

func (c *fakeCluster) origin(w string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.origins[w]
}

// clusterNode is one API server of the test cluster.
type clusterNode struct {
	id   string
	srv  *httptest.Server
	api  *Server
	bc   *broadcast.Server
	live *live.Manager
	once sync.Once
}

func (n *clusterNode) close() {
	n.once.Do(func() {
		n.api.CloseEdges()
		n.api.BeginShutdown()
		n.srv.CloseClientConnections()
		n.srv.Close()
		n.live.Close()
		_ = n.bc.Close()
	})
}

type clusterRig struct {
	fc      *fakeCluster
	nodes   []*clusterNode
	store   *models.Store
	webinar models.Webinar
	secret  []byte
}

// newClusterRig starts n nodes ("a", "b", ...) sharing one secret, store and directory.
func newClusterRig(t *testing.T, n int) *clusterRig {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.CreateWebinar(ctx, models.NewWebinar{Title: "Cluster class"})
	if err != nil {
		t.Fatal(err)
	}
	rig := &clusterRig{fc: &fakeCluster{nodes: map[string]*cluster.Node{}, origins: map[string]string{}, dead: map[string]bool{}},
		store: store, webinar: w, secret: make([]byte, 32)}
	rand.Read(rig.secret)
	for i := range n {
		id := string(rune('a' + i))
		srv := httptest.NewUnstartedServer(nil)
		rig.fc.nodes[id] = &cluster.Node{ID: id, URL: "http://" + srv.Listener.Addr().String()}
		reg := prometheus.NewRegistry()
		bc, err := broadcast.New(broadcast.Config{IncludeLoopback: true, Interfaces: []string{"lo"}, Logger: quietLogger()}, reg)
		if err != nil {
			t.Fatal(err)
		}
		lm := live.New(live.Config{Store: store, Broadcast: bc, Metrics: captions.NewMetrics(reg), Logger: quietLogger()})
		dir := fakeDir{c: rig.fc, id: id}
		a := New(Deps{Store: store, Broadcast: bc, Live: lm, Gatherer: reg, Logger: quietLogger(), Secret: rig.secret, Cluster: dir})
		rig.setPulls(a, edge.Config{})
		srv.Config.Handler = a
		srv.Start()
		node := &clusterNode{id: id, srv: srv, api: a, bc: bc, live: lm}
		rig.nodes = append(rig.nodes, node)
	}
	t.Cleanup(func() {
		for _, n := range rig.nodes {
			n.close()
		}
		store.Close()
	})
	return rig
}

// setPulls replaces a node's edge manager with one of quicker timings (and cfg's overrides).
func (rig *clusterRig) setPulls(a *Server, cfg edge.Config) {
	a.edges.pulls.Close()
	cfg.Broadcast, cfg.Directory, cfg.Secret, cfg.Logger = a.Broadcast, a.edges.dir, rig.secret, quietLogger()
	cfg.Registerer = a.Gatherer.(prometheus.Registerer)
	if cfg.Linger == 0 {
		cfg.Linger = 2 * time.Second
	}
	cfg.Check, cfg.Retry, cfg.MaxRetry = 100*time.Millisecond, 100*time.Millisecond, time.Second
	a.edges.pulls = edge.New(cfg)
}

func (rig *clusterRig) url(i int) string { return rig.nodes[i].srv.URL }

// post sends an SDP offer (or anything) and returns status, headers and body.
func post(t *testing.T, url, token, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, res.Header, b.String()
}

// peerAPI is a pion client API on loopback with the default interceptors (NACKs, reports).
func peerAPI(t *testing.T) *webrtc.API {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

func gathered(t *testing.T, pc *webrtc.PeerConnection) string {
	t.Helper()
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	return pc.LocalDescription().SDP
}

// testPresenter sends VP8-shaped video (a keyframe every second and on PLI) and Opus-shaped
// audio; every payload ends with its 8-byte index and is otherwise random.
type testPresenter struct {
	pc           *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticRTP
	plis         atomic.Int64
	wantKey      atomic.Bool
	stop         chan struct{}
	done         chan struct{}
}

func publish(t *testing.T, api *webrtc.API, url, key string, first uint64) *testPresenter {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	p := &testPresenter{pc: pc, stop: make(chan struct{}), done: make(chan struct{})}
	p.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "pres")
	p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pres")
	for _, tr := range []*webrtc.TrackLocalStaticRTP{p.audio, p.video} {
		x, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				pkts, _, err := x.Sender().ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok {
						p.plis.Add(1)
						p.wantKey.Store(true)
					}
				}
			}
		}()
	}
	code, _, body := post(t, url, key, gathered(t, pc))
	if code != http.StatusCreated {
		t.Fatalf("whip %s: %d %s", url, code, body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	go p.run(first)
	t.Cleanup(p.close)
	return p
}

func (p *testPresenter) run(idx uint64) {
	defer close(p.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var vseq, aseq uint16
	var vts, ats uint32
	lastKey := time.Time{}
	for {
		select {
		case <-p.stop:
			return
		case now := <-tick.C:
			key := now.Sub(lastKey) >= time.Second || p.wantKey.Swap(false)
			if key {
				lastKey = now
			}
			vp := make([]byte, 200)
			rand.Read(vp)
			vp[0] = 0x10 // VP8 descriptor: S=1, PID=0
			vp[1] = 0x11 // frame tag: inter frame
			if key {
				vp[1] = 0x10
			}
			binary.BigEndian.PutUint64(vp[len(vp)-8:], idx)
			vseq++
			vts += 1800
			_ = p.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: vseq, Timestamp: vts, Marker: true}, Payload: vp})
			ap := make([]byte, 80)
			rand.Read(ap)
			ap[0] = 0x78
			binary.BigEndian.PutUint64(ap[len(ap)-8:], idx)
			aseq++
			ats += 960
			_ = p.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: ats}, Payload: ap})
			idx++
		}
	}
}

func (p *testPresenter) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
		<-p.done
	}
	_ = p.pc.Close()
}

// testViewer records the hash of every payload it receives, per kind and payload index.
type testViewer struct {
	pc     *webrtc.PeerConnection
	mu     sync.Mutex
	got    map[string]map[uint64][32]byte // "audio"/"video" → index → sha256
	videoS atomic.Uint32                  // SSRC of the video track, for PLIs
	vseq   atomic.Uint32                  // the last video sequence number received, for NACKs
}

func watch(t *testing.T, api *webrtc.API, url, token string) *testViewer {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	v := &testViewer{pc: pc, got: map[string]map[uint64][32]byte{"audio": {}, "video": {}}}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		kind := tr.Kind().String()
		if kind == "video" {
			v.videoS.Store(uint32(tr.SSRC()))
		}
		for {
			pk, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if len(pk.Payload) < 8 {
				continue
			}
			if kind == "video" {
				v.vseq.Store(uint32(pk.SequenceNumber))
			}
			idx := binary.BigEndian.Uint64(pk.Payload[len(pk.Payload)-8:])
			v.mu.Lock()
			v.got[kind][idx] = sha256.Sum256(pk.Payload)
			v.mu.Unlock()
		}
	})
	code, _, body := post(t, url, token, gathered(t, pc))
	if code != http.StatusCreated {
		t.Fatalf("whep %s: %d %s", url, code, body)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return v
}

// has reports whether the viewer received at least n packets of each kind with index ≥ from.
func (v *testViewer) has(from uint64, n int) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, m := range v.got {
		c := 0
		for idx := range m {
			if idx >= from {
				c++
			}
		}
		if c < n {
			return false
		}
	}
	return true
}

// sameAs checks that every payload both received in [from, to) is byte-identical and that
// v received at least 80 % of what ref did there.
func (v *testViewer) sameAs(t *testing.T, name string, ref *testViewer, win [2]uint64) {
	t.Helper()
	from, to := win[0], win[1]
	ref.mu.Lock()
	defer ref.mu.Unlock()
	v.mu.Lock()
	defer v.mu.Unlock()
	for kind, want := range ref.got {
		common, total := 0, 0
		for idx, h := range want {
			if idx < from || idx >= to {
				continue
			}
			total++
			g, ok := v.got[kind][idx]
			if !ok {
				continue
			}
			common++
			if g != h {
				t.Fatalf("%s: %s payload %d differs from the origin viewer's", name, kind, idx)
			}
		}
		if total == 0 || common*5 < total*4 {
			t.Fatalf("%s: %s: received %d of the %d payloads the origin's viewer got in [%d, %d)", name, kind, common, total, from, to)
		}
	}
}

func TestEdgeNodesServeOneWebinar(t *testing.T) {
	rig := newClusterRig(t, 3)
	id, key := rig.webinar.ID, rig.webinar.StreamKey
	api := peerAPI(t)
	whip := func(i int) string { return rig.url(i) + "/whip/" + id }
	whep := func(i int) string { return rig.url(i) + "/whep/" + id }

	pres := publish(t, api, whip(0), key, 0)
	if o := rig.fc.origin(id); o != "a" {
		t.Fatalf("origin after WHIP on a = %q, want a", o)
	}
	if got := rig.nodes[0].api.Originates(); len(got) != 1 || got[0] != id {
		t.Fatalf("a originates %v, want [%s]", got, id)
	}
	// A second node's WHIP is refused with the origin's URL while a holds the claim.
	code, _, body := post(t, whip(1), key, validOffer(t, webrtc.RTPTransceiverDirectionSendonly))
	var conflict struct{ Error, Origin string }
	if code != http.StatusConflict || json.Unmarshal([]byte(body), &conflict) != nil || conflict.Origin != rig.url(0) || conflict.Error == "" {
		t.Fatalf("WHIP on b while a is origin: %d %s", code, body)
	}

	ref := watch(t, api, whep(0), "")
	var edgeViewers []*testViewer
	for i := range 20 {
		edgeViewers = append(edgeViewers, watch(t, api, whep(1+i%2), ""))
	}
	waitFor(t, 60*time.Second, "every viewer to receive media", func() bool {
		for _, v := range edgeViewers {
			if !v.has(0, 25) {
				return false
			}
		}
		return ref.has(0, 25)
	})
	// Exactly one pull per edge, whatever its viewer count: a counts b's and c's pulls as its
	// only viewers besides its own.
	if b, c := rig.nodes[1].api.Edges().Sessions(), rig.nodes[2].api.Edges().Sessions(); b != 1 || c != 1 {
		t.Fatalf("pull sessions: b %d, c %d, want 1 each", b, c)
	}
	if got := metricValue(t, rig.nodes[1].api, "lectern_edge_pull_sessions_total"); got != 1 {
		t.Fatalf("b's lectern_edge_pull_sessions_total = %v, want 1", got)
	}
	if got := rig.nodes[1].api.Edges().Relays(); len(got) != 1 || got[0] != id {
		t.Fatalf("b relays %v, want [%s]", got, id)
	}
	if n := rig.nodes[0].bc.Viewers(id); n != 3 {
		t.Fatalf("origin viewers = %d, want 3 (its own and the two edges' pulls)", n)
	}
	time.Sleep(time.Second)
	mark := latestIndex(ref)
	time.Sleep(2 * time.Second)
	for i, v := range edgeViewers {
		v.sameAs(t, "viewer "+string(rune('0'+i%10))+" on "+rig.nodes[1+i%2].id, ref, around(mark))
	}

	// A keyframe request from a viewer on b reaches the presenter on a, throttled on the way:
	// 40 PLIs in 2 s from every viewer of b arrive as a handful.
	time.Sleep(1500 * time.Millisecond) // joins' keyframe requests are over
	before := pres.plis.Load()
	for range 40 {
		for _, v := range edgeViewers[:2] {
			_ = v.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: v.videoS.Load()}})
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitFor(t, 5*time.Second, "a PLI from b's viewers at the presenter", func() bool { return pres.plis.Load() > before })
	time.Sleep(time.Second)
	if got := pres.plis.Load() - before; got > 8 {
		t.Fatalf("80 PLIs from edge viewers reached the presenter as %d: not throttled", got)
	}

	// A NACK from a viewer on b is answered from b's own packet cache, not forwarded to a.
	nackA := metricValue(t, rig.nodes[0].api, "lectern_broadcast_nack_received_total")
	resentB := metricValue(t, rig.nodes[1].api, "lectern_broadcast_nack_retransmitted_packets_total")
	nv := edgeViewers[0]
	last := uint16(nv.vseq.Load())
	_ = nv.pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: nv.videoS.Load(),
		Nacks: []rtcp.NackPair{{PacketID: last - 20, LostPackets: 0xffff}}}})
	waitFor(t, 5*time.Second, "b to resend the NACKed packets", func() bool {
		return metricValue(t, rig.nodes[1].api, "lectern_broadcast_nack_retransmitted_packets_total")-resentB >= 17
	})
	if got := metricValue(t, rig.nodes[0].api, "lectern_broadcast_nack_received_total") - nackA; got >= 17 {
		t.Fatalf("the edge viewer's NACK reached the origin (%v packets requested there)", got)
	}

	// a dies: its lease expires, the presenter reconnects to b, b becomes the origin, c
	// re-pulls from b and its viewers resume.
	rig.fc.kill("a")
	pres.close()
	rig.nodes[0].close()
	pres2 := publish(t, api, whip(1), key, 1_000_000)
	_ = pres2
	if o := rig.fc.origin(id); o != "b" {
		t.Fatalf("origin after the presenter moved = %q, want b", o)
	}
	waitFor(t, 60*time.Second, "every edge viewer to receive the new presenter", func() bool {
		for _, v := range edgeViewers {
			if !v.has(1_000_000, 25) {
				return false
			}
		}
		return true
	})
	if c := rig.nodes[2].api.Edges().Sessions(); c < 2 {
		t.Fatalf("c's pull sessions = %d, want a second one (from b)", c)
	}
	mark = latestIndexOf(edgeViewers[0])
	time.Sleep(2 * time.Second)
	for i, v := range edgeViewers[1:] {
		v.sameAs(t, "after failover, viewer "+string(rune('1'+i%9)), edgeViewers[0], around(mark))
	}
}

// around is the window of payload indexes compared around mark.
func around(mark uint64) [2]uint64 { return [2]uint64{mark - min(mark, 40), mark + 40} }

func latestIndex(v *testViewer) uint64 { return latestIndexOf(v) }

func latestIndexOf(v *testViewer) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	var max uint64
	for idx := range v.got["video"] {
		if idx > max {
			max = idx
		}
	}
	return max
}

func TestEdgeCascadeAndLinger(t *testing.T) {
	rig := newClusterRig(t, 3)
	id, key := rig.webinar.ID, rig.webinar.StreamKey
	b := rig.fc.nodes["b"]
	// c pulls from the edge b instead of the origin: a tree a ← b ← c.
	rig.setPulls(rig.nodes[2].api, edge.Config{Linger: time.Second, Upstream: func(context.Context, string) (cluster.Node, bool, error) {
		return *b, true, nil
	}})
	rig.setPulls(rig.nodes[1].api, edge.Config{Linger: time.Second})
	api := peerAPI(t)
	publish(t, api, rig.url(0)+"/whip/"+id, key, 0)
	ref := watch(t, api, rig.url(0)+"/whep/"+id, "")
	v := watch(t, api, rig.url(2)+"/whep/"+id, "")
	waitFor(t, 60*time.Second, "the viewer two hops away to receive media", func() bool { return v.has(0, 25) && ref.has(0, 25) })
	mark := latestIndex(ref)
	time.Sleep(2 * time.Second)
	v.sameAs(t, "viewer on c", ref, around(mark))
	if a, bv := rig.nodes[0].bc.Viewers(id), rig.nodes[1].bc.Viewers(id); a != 2 || bv != 1 {
		t.Fatalf("viewers: a %d (want its own and b's pull), b %d (want c's pull)", a, bv)
	}
	if s := rig.nodes[1].api.Edges().Sessions(); s != 1 {
		t.Fatalf("b pulled %d times, want 1", s)
	}
	// The last viewer leaves: c's pull ends after its linger, then b's (c hung up upstream).
	_ = v.pc.Close()
	waitFor(t, 30*time.Second, "c's pull to end", func() bool { return len(rig.nodes[2].api.Edges().Relays()) == 0 })
	waitFor(t, 30*time.Second, "b's pull to end", func() bool { return len(rig.nodes[1].api.Edges().Relays()) == 0 })
	waitFor(t, 30*time.Second, "a to lose b's pull", func() bool { return rig.nodes[0].bc.Viewers(id) == 1 })
}

func TestEdgeNodeTokenPassesTheWaitingRoom(t *testing.T) {
	rig := newClusterRig(t, 1)
	id := rig.webinar.ID
	if err := rig.store.SaveRoomSettings(context.Background(), id, models.RoomSettings{WaitingRoom: true, Chat: models.ChatEveryone, QA: true}); err != nil {
		t.Fatal(err)
	}
	other := make([]byte, 32)
	rand.Read(other)
	offer := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"another cluster's secret", edge.Token(other, id), http.StatusUnauthorized},
		{"another webinar's token", edge.Token(rig.secret, id+"x"), http.StatusUnauthorized},
		{"truncated", edge.Token(rig.secret, id)[:20], http.StatusUnauthorized},
		{"node token", edge.Token(rig.secret, id), http.StatusCreated},
	} {
		code, _, body := post(t, rig.url(0)+"/whep/"+id, tc.token, offer)
		if code != tc.want {
			t.Fatalf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		}
	}
	n := rig.nodes[0].api
	n.conns.mu.Lock()
	sessions := len(n.conns.sessions[id])
	n.conns.mu.Unlock()
	if sessions != 0 {
		t.Fatalf("a node's pull was counted as a participant's session (%d)", sessions)
	}
}

func TestEdgeRegionAndDrainingRedirects(t *testing.T) {
	rig := newClusterRig(t, 3)
	id, key := rig.webinar.ID, rig.webinar.StreamKey
	rig.fc.set("a", func(n *cluster.Node) { n.Region, n.Load = "eu", 0.7 })
	rig.fc.set("b", func(n *cluster.Node) { n.Region = "us" })
	rig.fc.set("c", func(n *cluster.Node) { n.Region, n.Load = "eu", 0.2 })
	for _, n := range rig.nodes {
		n.live.SetPolicyRegions(region.Of([]string{"eu"}))
	}
	offer := validOffer(t, webrtc.RTPTransceiverDirectionRecvonly)
	send := validOffer(t, webrtc.RTPTransceiverDirectionSendonly)
	expect := func(name string, node int, kind, token, body string, want int, to int) {
		t.Helper()
		code, h, resp := post(t, rig.url(node)+"/"+kind+"/"+id+"?via=lb", token, body)
		if code != want {
			t.Fatalf("%s: %d %s, want %d", name, code, resp, want)
		}
		if want == http.StatusTemporaryRedirect {
			if loc := h.Get("Location"); loc != rig.url(to)+"/"+kind+"/"+id+"?via=lb" {
				t.Fatalf("%s: Location %q, want node %d", name, loc, to)
			}
			return
		}
		var e apiError
		if want >= 400 && (json.Unmarshal([]byte(resp), &e) != nil || e.Error == "") {
			t.Fatalf("%s: %q is not a JSON error", name, resp)
		}
	}
	expect("viewer outside the regions", 1, "whep", "", offer, http.StatusTemporaryRedirect, 2)
	expect("presenter outside the regions", 1, "whip", key, send, http.StatusTemporaryRedirect, 2)
	rig.fc.set("c", func(n *cluster.Node) { n.Draining = true })
	expect("viewer outside the regions, c draining", 1, "whep", "", offer, http.StatusTemporaryRedirect, 0)
	expect("viewer on draining c", 2, "whep", "", offer, http.StatusTemporaryRedirect, 0)
	expect("edge pulling from draining c", 2, "whep", edge.Token(rig.secret, id), offer, http.StatusCreated, 0)
	rig.fc.set("a", func(n *cluster.Node) { n.Draining = true })
	expect("viewer outside the regions, nowhere to go", 1, "whep", "", offer, http.StatusForbidden, 0)
	expect("viewer on draining c, nowhere to go", 2, "whep", "", offer, http.StatusServiceUnavailable, 0)
	if rig.fc.origin(id) != "" || rig.nodes[1].bc.Viewers(id) != 0 {
		t.Fatalf("redirected requests changed something: origin %q, viewers on b %d", rig.fc.origin(id), rig.nodes[1].bc.Viewers(id))
	}
	// A presenter in an allowed region is served there (draining does not turn presenters away).
	expect("presenter on draining a", 0, "whip", key, send, http.StatusCreated, 0)
}

func TestEdgeClaimReleasedWhenPresenterLeaves(t *testing.T) {
	rig := newClusterRig(t, 2)
	id, key := rig.webinar.ID, rig.webinar.StreamKey
	api := peerAPI(t)
	code, _, _ := post(t, rig.url(0)+"/whip/"+id, key, "v=0\r\nnot sdp")
	if code != http.StatusBadRequest || rig.fc.origin(id) != "" {
		t.Fatalf("a refused WHIP: %d, origin %q: the claim must not outlive it", code, rig.fc.origin(id))
	}
	pres := publish(t, api, rig.url(0)+"/whip/"+id, key, 0)
	if rig.fc.origin(id) != "a" {
		t.Fatalf("origin %q, want a", rig.fc.origin(id))
	}
	pres.close()
	waitFor(t, 20*time.Second, "a to give the origin up", func() bool { return rig.fc.origin(id) == "" })
	publish(t, api, rig.url(1)+"/whip/"+id, key, 0)
	if rig.fc.origin(id) != "b" {
		t.Fatalf("origin %q after the presenter moved, want b", rig.fc.origin(id))
	}
}

// metricValue reads one unlabelled counter or gauge from a node's /metrics registry.
func metricValue(t *testing.T, a *Server, name string) float64 {
	t.Helper()
	families, err := a.Gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name || len(f.GetMetric()) == 0 {
			continue
		}
		m := f.GetMetric()[0]
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// Nodes with stores of their own: a webinar this node does not hold, live on another node,
// sends its viewers there (307, path and query kept); with no live origin it stays a 404.
func TestUnknownWebinarGoesToItsOrigin(t *testing.T) {
	rig := newClusterRig(t, 2)
	rig.fc.mu.Lock()
	rig.fc.origins["elsewhere"] = "a"
	rig.fc.mu.Unlock()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(node int, path string) (int, string) {
		t.Helper()
		res, err := client.Get(rig.url(node) + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	if code, loc := get(1, "/api/webinars/elsewhere/captions?lang=en"); code != http.StatusTemporaryRedirect ||
		loc != rig.url(0)+"/api/webinars/elsewhere/captions?lang=en" {
		t.Fatalf("captions of a webinar live on a: %d %q", code, loc)
	}
	code, h, _ := post(t, rig.url(1)+"/whep/elsewhere", "", validOffer(t, webrtc.RTPTransceiverDirectionRecvonly))
	if code != http.StatusTemporaryRedirect || h.Get("Location") != rig.url(0)+"/whep/elsewhere" {
		t.Fatalf("WHEP of a webinar live on a: %d %q", code, h.Get("Location"))
	}
	if code, _ := get(0, "/api/webinars/elsewhere/captions"); code != http.StatusNotFound {
		t.Fatalf("the origin itself without the webinar: %d, want 404 (no loop)", code)
	}
	if code, _ := get(1, "/api/webinars/nowhere/captions"); code != http.StatusNotFound {
		t.Fatalf("a webinar live nowhere: %d, want 404", code)
	}
}
