package broadcast

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// countingWriter stands in for pion's SRTP writer: it counts, or blocks until
// released to play a viewer whose socket never drains.
type countingWriter struct {
	n     atomic.Int64
	block chan struct{} // nil: never blocks
}

func (w *countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.block != nil {
		<-w.block
	}
	w.n.Add(1)
	return 12 + len(payload), nil
}

func (w *countingWriter) Write(b []byte) (int, error) { return len(b), nil }

// fanoutRig is a room track with fake viewers, without WebRTC.
type fanoutRig struct {
	s       *Server
	rt      *roomTrack
	viewers []*viewer
	writers []*countingWriter
	wg      sync.WaitGroup
}

func newFanoutRig(tb testing.TB, n int, blocked map[int]bool, queue int) *fanoutRig {
	s, err := New(Config{ViewerQueue: queue}, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	r := newRoom("bench", s)
	rig := &fanoutRig{s: s, rt: r.tracks[roleCamera]}
	// Test packets are not VP8; call every one a keyframe so joiners start at once.
	rig.rt.keyframeFunc = func(string, []byte) bool { return true }
	for i := range n {
		v := newViewer(newID(), r, s, nil)
		w := &countingWriter{}
		if blocked[i] {
			w.block = make(chan struct{})
		}
		d := &downTrack{v: v, rt: rig.rt, role: roleCamera, codec: *rig.rt.codec.Load(), ws: w, ssrc: uint32(i), pt: 96, live: true}
		v.downs[roleCamera] = d
		v.setConnected()
		v.attach(d)
		rig.viewers, rig.writers = append(rig.viewers, v), append(rig.writers, w)
		rig.wg.Go(v.writeLoop)
	}
	tb.Cleanup(func() {
		for i, v := range rig.viewers {
			close(v.done)
			if rig.writers[i].block != nil {
				close(rig.writers[i].block)
			}
		}
		rig.wg.Wait()
	})
	return rig
}

func testPacket(seq uint16, size int) *packet {
	p := &packet{size: size}
	p.Version, p.SequenceNumber, p.Timestamp = 2, seq, uint32(seq)*3000
	p.Payload = make([]byte, size)
	return p
}

// A viewer whose writes never return only loses its own packets.
func TestStuckViewerDropsOnlyItsOwn(t *testing.T) {
	const queue, packets = 512, 4000
	rig := newFanoutRig(t, 5, map[int]bool{2: true}, queue)
	now := time.Now()
	for i := range packets {
		rig.rt.forward(testPacket(uint16(i), 200), i == 0, now)
		if i%256 == 255 { // a paced source: healthy viewers keep up, the stuck one cannot
			waitFor(t, 10*time.Second, "healthy viewers to drain", func() bool {
				for j, w := range rig.writers {
					if j != 2 && w.n.Load() != int64(i+1) {
						return false
					}
				}
				return true
			})
		}
	}
	waitFor(t, 10*time.Second, "healthy viewers to get every packet", func() bool {
		for i, w := range rig.writers {
			if i != 2 && w.n.Load() != packets {
				return false
			}
		}
		return true
	})
	// The stuck writer holds its first batch (at most a queue) and a full queue.
	if d := rig.viewers[2].dropped.Load(); d < packets-2*queue {
		t.Errorf("stuck viewer dropped %d, want at least %d", d, packets-2*queue)
	}
	for i, v := range rig.viewers {
		if i != 2 && v.dropped.Load() != 0 {
			t.Errorf("viewer %d dropped %d packets", i, v.dropped.Load())
		}
	}
	if got := testutil.ToFloat64(rig.s.m.dropped); got != float64(rig.viewers[2].dropped.Load()) {
		t.Errorf("dropped metric %v, stuck viewer counted %d", got, rig.viewers[2].dropped.Load())
	}
}

// BenchmarkFanout measures the broadcast's own per-packet-per-viewer cost (queue,
// batch drain, header rewrite), without SRTP and UDP, which pion and the kernel add.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{10, 100, 500} {
		b.Run(itoa(n)+"viewers", func(b *testing.B) {
			rig := newFanoutRig(b, n, nil, 4096)
			pkts := make([]*packet, 1024)
			for i := range pkts {
				pkts[i] = testPacket(uint16(i), 1200)
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rig.rt.forward(pkts[i%len(pkts)], i == 0, now)
				if i%256 == 255 { // keep queues from overflowing: wait for the writers
					rig.waitWritten(int64(i + 1))
				}
			}
			rig.waitWritten(int64(b.N))
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/pkt-viewer")
		})
	}
}

func itoa(n int) string {
	b := []byte{}
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// waitWritten waits until every writer has written n packets.
func (rig *fanoutRig) waitWritten(n int64) {
	for _, w := range rig.writers {
		for w.n.Load() < n {
			time.Sleep(10 * time.Microsecond)
		}
	}
}
