package broadcast

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkStageFanout is the stage's fan-out cost per delivered packet, through the read
// loop's real routing (presenter.route) to 100 fake viewers (a counting writer stands in for
// pion's SRTP writer, as in BenchmarkFanout): one presenter to plain viewers (main camera
// only: the single-presenter figure), one presenter to watch pages (main camera + slot
// cameras), three presenters to watch pages (the active one on the main camera, the others
// on their slots). Camera packets, 1200 B, presenters taking turns packet by packet.
func BenchmarkStageFanout(b *testing.B) {
	for _, c := range []struct {
		name       string
		presenters int
		slotViews  bool
	}{{"1pub-plain", 1, false}, {"1pub-watchpage", 1, true}, {"3pub-watchpage", 3, true}} {
		b.Run(c.name, func(b *testing.B) {
			const n = 100
			s, err := New(Config{ViewerQueue: 4096}, prometheus.NewRegistry())
			if err != nil {
				b.Fatal(err)
			}
			r := newRoom("bench", s)
			var ps []*presenter
			var ups []*upstream
			var slots []*roomTrack
			for k := range c.presenters {
				ps = append(ps, &presenter{id: fmt.Sprint(k), room: r, s: s, slot: k})
				pc, err := webrtc.NewPeerConnection(webrtc.Configuration{}) // closed: keyframe requests go nowhere
				if err != nil {
					b.Fatal(err)
				}
				_ = pc.Close()
				ups = append(ups, &upstream{pc: pc, ssrc: uint32(k)})
				slots = append(slots, r.slotTrack(k, roleCamera))
			}
			r.active.Store(ps[0])
			main := r.tracks[roleCamera]
			tracks := []*roomTrack{main}
			if c.slotViews {
				tracks = append(tracks, slots...)
			}
			for _, t := range append([]*roomTrack{main}, slots...) {
				t.keyframeFunc = func(string, []byte) bool { return true } // test packets: start at once, no PLI
			}
			var written atomic.Int64
			var wg sync.WaitGroup
			var viewers []*viewer
			for i := range n {
				v := newViewer(newID(), r, s, nil)
				for _, t := range tracks {
					d := &downTrack{v: v, rt: t, role: roleCamera, codec: *t.codec.Load(), ws: &sumWriter{n: &written}, ssrc: uint32(i), pt: 96, live: true}
					v.extra = append(v.extra, d)
					v.attach(d)
				}
				v.setConnected()
				viewers = append(viewers, v)
				wg.Go(v.writeLoop)
			}
			b.Cleanup(func() {
				for _, v := range viewers {
					close(v.done)
				}
				wg.Wait()
			})
			codec := *main.codec.Load()
			pkts := make([]*packet, 1024)
			for i := range pkts {
				pkts[i] = testPacket(uint16(i), 1200)
			}
			waitAll := func(want int64) {
				for written.Load() < want {
					time.Sleep(10 * time.Microsecond)
				}
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % c.presenters
				ps[k].route(roleCamera, main, slots[k], ups[k], codec, pkts[i%len(pkts)], now)
				if i%256 == 255 {
					waitAll(int64(i+1) * n)
				}
			}
			waitAll(int64(b.N) * n)
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(written.Load()), "ns/delivered")
			b.ReportMetric(float64(written.Load())/float64(b.N), "delivered/pkt")
		})
	}
}

// sumWriter counts every viewer's writes in one counter.
type sumWriter struct{ n *atomic.Int64 }

func (w *sumWriter) WriteRTP(_ *rtp.Header, payload []byte) (int, error) {
	w.n.Add(1)
	return 12 + len(payload), nil
}

func (w *sumWriter) Write(b []byte) (int, error) { return len(b), nil }
