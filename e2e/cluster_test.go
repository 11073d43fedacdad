package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/opus/pkg/oggreader"
	"github.com/pion/webrtc/v4"

	"lectern/bench"
	"lectern/cluster"
	"lectern/internal/pgtest"
)

// clusterSentences are spoken by the presenter: long enough to span every phase up to the
// NATS outage and the finals after it.
var clusterSentences = []string{
	"Good morning everyone and welcome to the class.",
	"Today we will talk about the weather and the seasons.",
	"Please open your books at page twenty.",
	"Write down three questions for the next lesson.",
	"The summer is warm and the winter is cold.",
	"In the spring the trees grow new green leaves.",
	"In the autumn the leaves turn brown and fall.",
	"Rain comes from the clouds in the sky.",
	"Snow falls when the air is very cold.",
	"The wind moves the clouds across the sky.",
	"We will read the next chapter on monday.",
	"Thank you all for listening today.",
}

// TestClusterThreeNodes runs three real `lectern serve` processes joined by one NATS server
// (in this process, restartable on its port) and one PostgreSQL store: a presenter on A, one
// viewer on A and twenty on B and C, caption SSE and chat across nodes, NATS away for 10 s,
// then A killed and the presenter moving to B.
func TestClusterThreeNodes(t *testing.T) {
	for _, bin := range []string{"flite", "opusenc", filepath.Join(pgtest.Bin, "postgres"), filepath.Join(pgtest.Bin, "initdb")} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s missing: %v", bin, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	began := time.Now()

	pg, err := pgtest.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Stop() })
	store, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nats := startNATS(t)
	w := createClusterWebinar(t, store, "Cluster class")
	admin := adminToken(t, store)

	_, ogg, spans, err := bench.MakeSpeech(ctx, bench.SpeechConfig{Sentences: clusterSentences, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	source := readOpusPackets(t, ogg)

	a := startNode(t, nats.url(), store)
	b := startNode(t, nats.url(), store)
	c := startNode(t, nats.url(), store)
	t.Logf("nodes up after %s: A %s, B %s, C %s", time.Since(began).Round(time.Millisecond), a.URL, b.URL, c.URL)

	// 1. The presenter on A; one viewer on A, ten on B, ten on C.
	pub, err := bench.PublishOgg(ctx, a.URL, w.ID, w.StreamKey, ogg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close(context.Background()) })
	api := viewerAPI(t)
	viewers := map[string][]*clusterViewer{}
	viewers["A"] = append(viewers["A"], watch(t, ctx, api, a.URL, w.ID))
	for i := range 20 {
		node, url := "B", b.URL
		if i%2 == 1 {
			node, url = "C", c.URL
		}
		viewers[node] = append(viewers[node], watch(t, ctx, api, url, w.ID))
	}
	capA, capB, capC := readFinals(t, ctx, a.URL, w.ID), readFinals(t, ctx, b.URL, w.ID), readFinals(t, ctx, c.URL, w.ID)
	sendDone := make(chan error, 1)
	go func() { sendDone <- pub.Send(ctx) }()

	all := append(append(slices.Clone(viewers["A"]), viewers["B"]...), viewers["C"]...)
	waitFor(t, 20*time.Second, "every viewer receives 150 audio packets", func() bool {
		for _, v := range all {
			if v.count() < 150 {
				return false
			}
		}
		return true
	})
	checkIdentical(t, "phase 1", source, all)
	waitRoles(t, b.URL, admin, w.ID, "origin="+a.URL+" relays="+strings.Join(slices.Sorted(slices.Values([]string{b.URL, c.URL})), ","))

	// 2. Captions: B and C show A's finals with the same ids.
	waitFor(t, 45*time.Second, "two finals on A, B and C", func() bool {
		return len(capA.finals()) >= 2 && len(capB.finals()) >= 2 && len(capC.finals()) >= 2
	})
	sameFinals(t, "before the outage", capA.finals()[:2], capB.finals(), capC.finals())

	// 3. Chat: a participant on C writes, another on B reads it.
	cleo := joinNode(t, c.URL, w.ID, "Cleo")
	bert := joinNode(t, b.URL, w.ID, "Bert")
	chatB := openChat(t, ctx, b.URL, w.ID, bert)
	sent := time.Now()
	postChat(t, c.URL, w.ID, cleo, "hello from node C")
	waitFor(t, 10*time.Second, "C's chat on B's channel", func() bool { return chatB.has("hello from node C") })
	t.Logf("chat C→B delivered in %s", time.Since(sent).Round(time.Millisecond))

	// 4. NATS away for 10 s: media goes on; captions and chat come back.
	before := counts(all)
	finalsBefore := len(capA.finals())
	nats.stop()
	down := time.Now()
	time.Sleep(10 * time.Second)
	during := counts(all)
	for i, v := range all {
		if got := during[i] - before[i]; got < 250 { // 500 sent in 10 s; a loaded machine drops some
			t.Errorf("viewer %d on %s got %d packets while NATS was away, want ≥ 250", i, v.node, got)
		}
	}
	atDown := finalsBefore
	nats.start()
	back := time.Now()
	t.Logf("A published %d finals while NATS was away", len(capA.finals())-atDown)
	t.Logf("NATS away %s; packets per viewer meanwhile: min %d", back.Sub(down).Round(time.Millisecond), minDelta(before, during))
	waitFor(t, 40*time.Second, "a new final on B and C after NATS is back", func() bool {
		return capB.finalAfter(back) && capC.finalAfter(back)
	})
	t.Logf("captions resume on B and C %s after NATS is back", time.Since(back).Round(time.Millisecond))
	var chatBack time.Duration
	for i := 0; ; i++ {
		text := fmt.Sprintf("after the outage %d", i)
		postChat(t, c.URL, w.ID, cleo, text)
		if waitUntil(3*time.Second, func() bool { return chatB.has(text) }) {
			chatBack = time.Since(back)
			break
		}
		if i == 4 {
			t.Fatalf("no chat from C reached B within %s of NATS coming back", time.Since(back).Round(time.Second))
		}
	}
	t.Logf("chat C→B resumes %s after NATS is back", chatBack.Round(time.Millisecond))
	if len(capA.finals()) <= finalsBefore {
		t.Errorf("A's captions stopped: %d finals before the outage, %d after", finalsBefore, len(capA.finals()))
	}

	select {
	case err := <-sendDone:
		if err != nil {
			t.Fatalf("presenter: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("presenter did not finish")
	}
	checkIdentical(t, "after the outage", source, all)
	if !waitUntil(30*time.Second, func() bool {
		n := len(capA.finals())
		return n > 0 && len(capB.finals()) >= n && len(capC.finals()) >= n
	}) {
		t.Fatalf("B and C lack some of A's finals:\nA %s\nB %s\nC %s", finalIDs(capA.finals()), finalIDs(capB.finals()), finalIDs(capC.finals()))
	}
	finals := capA.finals()
	t.Logf("%d finals in all; B and C show each once with A's id and text", len(finals))
	sameFinals(t, "whole speech", finals, capB.finals(), capC.finals())
	if rep := bench.Score(spans, pub.Started, finals); rep.Missing > 0 {
		t.Errorf("%d of %d sentences got no final on A:\n%s", rep.Missing, len(spans), rep)
	}
	checkTranscript(t, b.URL, w.ID, finals)

	// 5. A dies: its origin lease expires, the presenter moves to B, C pulls from B.
	a.kill()
	killed := time.Now()
	var pub2 *bench.AudioPublisher
	waitFor(t, 30*time.Second, "WHIP to B answers 201", func() bool {
		p, err := bench.PublishOgg(ctx, b.URL, w.ID, w.StreamKey, ogg)
		if err != nil {
			t.Logf("WHIP to B after A died: %v", err)
			time.Sleep(250 * time.Millisecond)
			return false
		}
		pub2 = p
		return true
	})
	t.Cleanup(func() { pub2.Close(context.Background()) })
	t.Logf("presenter on B %s after A was killed (lease 2s)", time.Since(killed).Round(time.Millisecond))
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	go pub2.Send(sendCtx)
	oldB, oldC := counts(viewers["B"]), counts(viewers["C"])
	fresh := []*clusterViewer{watch(t, ctx, api, c.URL, w.ID), watch(t, ctx, api, c.URL, w.ID)}
	waitFor(t, 30*time.Second, "new viewers on C receive 150 packets from B", func() bool {
		return fresh[0].count() >= 150 && fresh[1].count() >= 150
	})
	t.Logf("new viewers on C play %s after A was killed", time.Since(killed).Round(time.Millisecond))
	checkIdentical(t, "after the takeover", source, fresh)
	waitRoles(t, c.URL, admin, w.ID, fmt.Sprintf("origin=%s relays=%s", b.URL, c.URL))
	// The edge on C re-pulls from B: viewers who watched A's stream through C play again
	// without reconnecting.
	waitFor(t, 15*time.Second, "C's viewers from before the takeover get 100 more packets", func() bool {
		for i, v := range viewers["C"] {
			if v.count()-oldC[i] < 100 {
				return false
			}
		}
		return true
	})
	recoveredB := 0
	for i, v := range viewers["B"] {
		if v.count()-oldB[i] > 50 {
			recoveredB++
		}
	}
	t.Logf("%d of %d viewers on B (now the origin) from before the takeover got media again without reconnecting", recoveredB, len(viewers["B"]))
	t.Logf("whole test: %s", time.Since(began).Round(time.Millisecond))
}

// natsServer is the cluster's NATS, embedded, stopped and started again on one port and
// JetStream directory.
type natsServer struct {
	t        *testing.T
	addr     string
	storeDir string
	srv      *natsserver.Server
}

func startNATS(t *testing.T) *natsServer {
	n := &natsServer{t: t, addr: freeLoopback(t), storeDir: t.TempDir()}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *natsServer) start() {
	srv, err := cluster.StartServer(n.addr, n.storeDir)
	if err != nil {
		n.t.Fatal(err)
	}
	n.srv = srv
}

func (n *natsServer) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

func (n *natsServer) url() string { return "nats://" + n.addr }

func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNode runs one cluster node on a port of its own (its --node-url must be known before
// it starts; startServer's later --addr overrides its default).
func startNode(t *testing.T, natsURL, store string) *server {
	addr := freeLoopback(t)
	return startServer(t, t.TempDir(), "--addr", addr, "--node-url", "http://"+addr, "--nats", natsURL,
		"--store", store, "--cluster-lease", "2s")
}

func lectern(t *testing.T, stdin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lectern %s: %v %s", args[0]+" "+args[1], err, stderr.Bytes())
	}
	return out
}

func createClusterWebinar(t *testing.T, store, title string) webinar {
	t.Helper()
	out := lectern(t, "", "webinar", "create", "--store", store, "--data", t.TempDir(), "--title", title, "--json")
	var w webinar
	if err := json.Unmarshal(out, &w); err != nil || w.ID == "" || w.StreamKey == "" {
		t.Fatalf("webinar create printed %q: %v", out, err)
	}
	return w
}

// adminToken makes an admin account in the shared store and an API token for it.
func adminToken(t *testing.T, store string) string {
	t.Helper()
	dir := t.TempDir()
	lectern(t, "a long admin password\n", "user", "add", "--store", store, "--data", dir, "--email", "admin@cluster.example", "--password-stdin", "--admin")
	return strings.TrimSpace(string(lectern(t, "", "token", "create", "--store", store, "--data", dir, "--email", "admin@cluster.example")))
}

// readOpusPackets is the presenter's packets, as sent, to compare what viewers get with.
func readOpusPackets(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		pkt, _, err := r.ParseNextPacket()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pkt, []byte("OpusHead")) && !bytes.HasPrefix(pkt, []byte("OpusTags")) {
			out = append(out, bytes.Clone(pkt))
		}
	}
}

// viewerAPI is a pion API for WHEP viewers on loopback.
func viewerAPI(t *testing.T) *webrtc.API {
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
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// clusterViewer is a WHEP viewer that keeps every audio packet it receives.
type clusterViewer struct {
	node string
	pc   *webrtc.PeerConnection
	n    atomic.Int64
	mu   sync.Mutex
	pkts []rtpPayload
}

type rtpPayload struct {
	seq     uint16
	payload []byte
}

func watch(t *testing.T, ctx context.Context, api *webrtc.API, base, id string) *clusterViewer {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	v := &clusterViewer{node: base, pc: pc}
	t.Cleanup(func() { pc.Close() })
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			v.read(tr)
		}
	})
	if err := negotiateWHEP(ctx, pc, base+"/whep/"+id); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v *clusterViewer) read(tr *webrtc.TrackRemote) {
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		v.mu.Lock()
		v.pkts = append(v.pkts, rtpPayload{seq: pkt.SequenceNumber, payload: bytes.Clone(pkt.Payload)})
		v.mu.Unlock()
		v.n.Add(1)
	}
}

func (v *clusterViewer) count() int64 { return v.n.Load() }

func counts(vs []*clusterViewer) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = v.count()
	}
	return out
}

func minDelta(a, b []int64) int64 {
	m := int64(-1)
	for i := range a {
		if d := b[i] - a[i]; m < 0 || d < m {
			m = d
		}
	}
	return m
}

// sourceIndex maps what each viewer got to the presenter's packets: the RTP sequence numbers
// it sees are the presenter's, shifted by an offset found from the packets whose payload is
// unique in the file. It returns, per source index, the payload received, and how many
// received packets differ from the source at their place.
func (v *clusterViewer) sourceIndex(source [][]byte, unique map[[32]byte]int) (got map[int][]byte, mismatches int) {
	v.mu.Lock()
	pkts := slices.Clone(v.pkts)
	v.mu.Unlock()
	// Unwrap sequence numbers, then vote for the offset.
	seqs := make([]int, len(pkts))
	var last, base int
	for i, p := range pkts {
		s := int(p.seq)
		if i > 0 && s < last-30000 {
			base += 1 << 16
		} else if i > 0 && s > last+30000 {
			base -= 1 << 16
		}
		last = s
		seqs[i] = s + base
	}
	votes := map[int]int{}
	for i, p := range pkts {
		if idx, ok := unique[sha256.Sum256(p.payload)]; ok {
			votes[seqs[i]-idx]++
		}
	}
	offset, best := 0, 0
	for off, n := range votes {
		if n > best {
			offset, best = off, n
		}
	}
	got = map[int][]byte{}
	for i, p := range pkts {
		idx := seqs[i] - offset
		if idx < 0 || idx >= len(source) || !bytes.Equal(source[idx], p.payload) {
			mismatches++
			continue
		}
		got[idx] = p.payload
	}
	return got, mismatches
}

// checkIdentical asserts every viewer received the presenter's payloads unchanged at their
// place in the stream, and that all of them hash alike over the packets every one received.
func checkIdentical(t *testing.T, when string, source [][]byte, vs []*clusterViewer) {
	t.Helper()
	seen := map[[32]byte]int{}
	unique := map[[32]byte]int{}
	for i, p := range source {
		h := sha256.Sum256(p)
		seen[h]++
		unique[h] = i
	}
	for h, n := range seen {
		if n > 1 {
			delete(unique, h)
		}
	}
	gots := make([]map[int][]byte, len(vs))
	for i, v := range vs {
		var bad int
		gots[i], bad = v.sourceIndex(source, unique)
		if bad > 0 {
			t.Errorf("%s: viewer %d on %s: %d of %d packets differ from what the presenter sent at that place", when, i, v.node, bad, v.count())
		}
	}
	var common []int
	for idx := range gots[0] {
		if !slices.ContainsFunc(gots, func(g map[int][]byte) bool { _, ok := g[idx]; return !ok }) {
			common = append(common, idx)
		}
	}
	slices.Sort(common)
	if len(common) < 100 {
		t.Fatalf("%s: only %d packets received by every viewer", when, len(common))
	}
	var want [32]byte
	for i, g := range gots {
		h := sha256.New()
		for _, idx := range common {
			h.Write(g[idx])
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		if i == 0 {
			want = sum
		} else if sum != want {
			t.Errorf("%s: viewer %d on %s: payload hash differs from viewer 0's", when, i, vs[i].node)
		}
	}
	t.Logf("%s: %d viewers byte-identical over %d common packets (source %d..%d)", when, len(vs), len(common), common[0], common[len(common)-1])
}

// waitRoles waits until a node's cluster view of the webinar is want.
func waitRoles(t *testing.T, base, token, id, want string) {
	t.Helper()
	var got string
	start := time.Now()
	if !waitUntil(15*time.Second, func() bool { got = clusterRoles(base, token, id); return got == want }) {
		t.Fatalf("cluster view on %s: %s, want %s", base, got, want)
	}
	t.Logf("cluster view on %s is %s after %s", base, want, time.Since(start).Round(time.Millisecond))
}

// clusterRoles summarises an admin's /api/status cluster view for one webinar.
func clusterRoles(base, token, id string) string {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/status", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	var st struct {
		Cluster *struct {
			Nodes []cluster.Node `json:"nodes"`
		} `json:"cluster"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil || st.Cluster == nil {
		return fmt.Sprintf("status %d without a cluster view: %v", res.StatusCode, err)
	}
	var origins, relays []string
	for _, n := range st.Cluster.Nodes {
		if slices.Contains(n.Originates, id) {
			origins = append(origins, n.URL)
		}
		if slices.Contains(n.Relays, id) {
			relays = append(relays, n.URL)
		}
	}
	slices.Sort(relays)
	return "origin=" + strings.Join(origins, ",") + " relays=" + strings.Join(relays, ",")
}

// finalsReader keeps the finals one node's caption stream delivers.
type finalsReader struct {
	mu   sync.Mutex
	list []bench.Received
}

func readFinals(t *testing.T, ctx context.Context, base, id string) *finalsReader {
	t.Helper()
	r, err := bench.ReadCaptions(ctx, base, id, "", "")
	if err != nil {
		t.Fatal(err)
	}
	f := &finalsReader{}
	go func() {
		for ev := range r.Events() {
			if ev.Final {
				f.mu.Lock()
				f.list = append(f.list, ev)
				f.mu.Unlock()
			}
		}
	}()
	return f
}

func (f *finalsReader) finals() []bench.Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list)
}

func (f *finalsReader) finalAfter(at time.Time) bool {
	for _, ev := range f.finals() {
		if ev.At.After(at) {
			return true
		}
	}
	return false
}

func finalIDs(rs []bench.Received) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID + "@" + r.At.Format("15:04:05.000")
	}
	return strings.Join(ids, " ")
}

// sameFinals asserts B's and C's streams hold each of want once, with its id and text.
func sameFinals(t *testing.T, when string, want []bench.Received, others ...[]bench.Received) {
	t.Helper()
	for i, got := range others {
		byID := map[string][]string{}
		for _, ev := range got {
			byID[ev.ID] = append(byID[ev.ID], ev.Text)
		}
		for _, w := range want {
			if texts := byID[w.ID]; len(texts) != 1 || texts[0] != w.Text {
				t.Errorf("%s: node %c has final %s as %q, want %q once", when, 'B'+i, w.ID, texts, w.Text)
			}
		}
	}
}

// checkTranscript asserts the stored transcript holds every final once.
func checkTranscript(t *testing.T, base, id string, finals []bench.Received) {
	t.Helper()
	var doc struct {
		Captions []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"captions"`
	}
	if err := json.Unmarshal(get(t, base+"/api/webinars/"+id+"/transcript.json"), &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, c := range doc.Captions {
		have[c.ID]++
		if have[c.ID] == 2 {
			t.Errorf("transcript holds final %s %q twice", c.ID, c.Text)
		}
	}
	for _, f := range finals {
		if have[f.ID] == 0 {
			t.Errorf("final %s %q is not in the transcript", f.ID, f.Text)
		}
	}
	if len(doc.Captions) != len(finals) {
		t.Errorf("transcript holds %d finals, the caption stream showed %d", len(doc.Captions), len(finals))
	}
}

// joinNode joins the webinar as a participant on one node and returns the token.
func joinNode(t *testing.T, base, id, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name})
	res, err := http.Post(base+"/api/webinars/"+id+"/join", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Token string `json:"token"`
		State string `json:"state"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusCreated || out.Token == "" {
		t.Fatalf("join on %s: %d %+v", base, res.StatusCode, out)
	}
	return out.Token
}

func postChat(t *testing.T, base, id, token, text string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": text})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/webinars/"+id+"/chat", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("chat on %s: %d %s", base, res.StatusCode, b)
	}
}

// chatStream is a participant's live channel, keeping the chat texts it delivers.
type chatStream struct {
	mu    sync.Mutex
	texts []string
}

func openChat(t *testing.T, ctx context.Context, base, id, token string) *chatStream {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/webinars/"+id+"/channel", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		t.Fatalf("channel on %s: %d", base, res.StatusCode)
	}
	s := &chatStream{}
	t.Cleanup(func() { res.Body.Close() })
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		chat := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				chat = false
			case strings.HasPrefix(line, "event:"):
				chat = strings.TrimSpace(line[6:]) == "chat"
			case strings.HasPrefix(line, "data:") && chat:
				var m struct {
					Text string `json:"text"`
				}
				if json.Unmarshal([]byte(strings.TrimSpace(line[5:])), &m) == nil {
					s.mu.Lock()
					s.texts = append(s.texts, m.Text)
					s.mu.Unlock()
				}
			}
		}
	}()
	return s
}

func (s *chatStream) has(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.texts, text)
}

// waitFor polls cond every 100 ms and fails the test when within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	if !waitUntil(within, cond) {
		t.Fatalf("not within %s: %s", within, what)
	}
	t.Logf("%s: after %s", what, time.Since(start).Round(time.Millisecond))
}

func waitUntil(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}
