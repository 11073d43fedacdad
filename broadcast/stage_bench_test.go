package broadcast

import (
	"testing"
	"time"
)

// BenchmarkStageIngest compares one presenter packet's cost to 100 viewers of the main track
// before the stage (forward) and with it (presenter.route: the active-speaker check under the
// track's lock; the active speaker's camera is not fed to its slot as well).
func BenchmarkStageIngest(b *testing.B) {
	for _, stage := range []bool{false, true} {
		name := "forward"
		if stage {
			name = "stage"
		}
		b.Run(name, func(b *testing.B) {
			const n = 100
			rig := newFanoutRig(b, n, nil, 4096)
			r := newRoom("bench", rig.s)
			p := &presenter{room: r, s: rig.s}
			r.active.Store(p)
			slot := newRoomTrack(roleCamera, rig.s.cfg, rig.s.m)
			var up *upstream // no presenter to send keyframe requests to
			codec := *rig.rt.codec.Load()
			pkts := make([]*packet, 1024)
			for i := range pkts {
				pkts[i] = testPacket(uint16(i), 1200)
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				pk := pkts[i%len(pkts)]
				if stage {
					p.route(roleCamera, rig.rt, slot, up, codec, pk, now)
				} else {
					rig.rt.forward(pk, i == 0, now)
				}
				if i%256 == 255 {
					rig.waitWritten(int64(i + 1))
				}
			}
			rig.waitWritten(int64(b.N))
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/pkt-viewer")
		})
	}
}
