package bench

import (
	"encoding/binary"
	"math"
	"sync/atomic"
	"time"
)

// Every synthetic packet ends with a 16-byte stamp so a viewer can compute
// latency and loss from the payload alone: magic "LB", kind, flags (low nibble)
// and publisher index (high nibble: a stage has several), a per-publisher,
// per-kind sequence number and the send time in Unix nanoseconds.
const stampLen = 16

const (
	kindAudio byte = 0
	kindVideo byte = 1

	flagKeyframe byte = 1 // first packet of a keyframe
)

type stamp struct {
	kind, flags byte
	pub         byte // publisher index 0..15: 0 is the stream key's presenter
	seq         uint32
	sent        int64 // unix nanos
}

func putStamp(payload []byte, s stamp) {
	b := payload[len(payload)-stampLen:]
	b[0], b[1], b[2], b[3] = 'L', 'B', s.kind, s.flags&0x0f|s.pub<<4
	binary.BigEndian.PutUint32(b[4:8], s.seq)
	binary.BigEndian.PutUint64(b[8:16], uint64(s.sent))
}

func readStamp(payload []byte) (stamp, bool) {
	if len(payload) < stampLen {
		return stamp{}, false
	}
	b := payload[len(payload)-stampLen:]
	if b[0] != 'L' || b[1] != 'B' || b[2] > kindVideo {
		return stamp{}, false
	}
	return stamp{kind: b[2], flags: b[3] & 0x0f, pub: b[3] >> 4, seq: binary.BigEndian.Uint32(b[4:8]), sent: int64(binary.BigEndian.Uint64(b[8:16]))}, true
}

// latencyHist is a lock-free histogram of 20 µs buckets up to 2 s, shared by
// every viewer's read loop.
type latencyHist struct {
	buckets [100000]atomic.Uint64
	over    atomic.Uint64
	count   atomic.Uint64
}

const histBucket = 20 * time.Microsecond

func (h *latencyHist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := int(d / histBucket)
	if i >= len(h.buckets) {
		h.over.Add(1)
	} else {
		h.buckets[i].Add(1)
	}
	h.count.Add(1)
}

// quantile returns the upper edge of the bucket holding quantile q.
func (h *latencyHist) quantile(q float64) time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(n)))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= want {
			return time.Duration(i+1) * histBucket
		}
	}
	return time.Duration(len(h.buckets)) * histBucket
}

// seqSet records which sequence numbers arrived (duplicates from NACK repair count once).
type seqSet struct{ bits []uint64 }

func (s *seqSet) add(seq uint32) {
	w := int(seq / 64)
	for w >= len(s.bits) {
		s.bits = append(s.bits, 0)
	}
	s.bits[w] |= 1 << (seq % 64)
}

// countRange counts members in [from, to).
func (s *seqSet) countRange(from, to uint32) uint64 {
	var n uint64
	for q := from; q < to; q++ {
		if w := int(q / 64); w < len(s.bits) && s.bits[w]&(1<<(q%64)) != 0 {
			n++
		}
	}
	return n
}
