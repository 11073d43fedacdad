package transcribe

import (
	"slices"
	"testing"
)

func TestJitterBuffer(t *testing.T) {
	tests := []struct {
		name  string
		depth int
		in    []uint16
		flush bool
		want  []uint16
		lost  uint64
		late  uint64
		dups  uint64
	}{
		{name: "in order", depth: 3, in: []uint16{1, 2, 3, 4}, want: []uint16{1, 2, 3, 4}},
		{name: "reordered within depth", depth: 3, in: []uint16{1, 3, 2, 5, 4, 6}, want: []uint16{1, 2, 3, 4, 5, 6}},
		{name: "duplicate held", depth: 3, in: []uint16{1, 3, 3, 2}, want: []uint16{1, 2, 3}, dups: 1},
		{name: "duplicate already played is late", depth: 3, in: []uint16{1, 2, 2, 3}, want: []uint16{1, 2, 3}, late: 1},
		{name: "wrap", depth: 3, in: []uint16{65534, 65535, 0, 1}, want: []uint16{65534, 65535, 0, 1}},
		{name: "reorder across wrap", depth: 3, in: []uint16{65534, 0, 65535, 1}, want: []uint16{65534, 65535, 0, 1}},
		{name: "loss declared after depth", depth: 2, in: []uint16{1, 3, 4, 5}, want: []uint16{1, 3, 4, 5}, lost: 1},
		{name: "loss held until depth", depth: 3, in: []uint16{1, 3, 4}, want: []uint16{1}},
		{name: "late after loss", depth: 2, in: []uint16{1, 3, 4, 5, 2}, want: []uint16{1, 3, 4, 5}, lost: 1, late: 1},
		{name: "flush skips holes", depth: 5, in: []uint16{1, 3, 6}, flush: true, want: []uint16{1, 3, 6}, lost: 3},
		{name: "sender restart", depth: 3, in: []uint16{100, 101, 40000, 40001}, want: []uint16{100, 101, 40000, 40001}},
		{name: "burst loss across wrap", depth: 1, in: []uint16{65533, 2, 3}, want: []uint16{65533, 2, 3}, lost: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJitterBuffer(tt.depth)
			var out []tapPacket
			for _, s := range tt.in {
				out = j.push(tapPacket{seq: s}, out)
			}
			if tt.flush {
				out = j.flush(out)
			}
			var got []uint16
			for _, p := range out {
				got = append(got, p.seq)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
			if j.lost != tt.lost || j.late != tt.late || j.dups != tt.dups {
				t.Errorf("lost/late/dups = %d/%d/%d, want %d/%d/%d", j.lost, j.late, j.dups, tt.lost, tt.late, tt.dups)
			}
			if len(j.held) > tt.depth+1 {
				t.Errorf("holds %d packets, depth %d", len(j.held), tt.depth)
			}
		})
	}
}
