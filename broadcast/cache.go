package broadcast

import (
	"sync/atomic"

	"github.com/pion/rtp"
)

// packet is one presenter RTP packet after ingest rewriting. It is immutable once
// published: the same pointer sits in the room's cache and in every viewer's queue,
// so nothing is copied or re-packetised per viewer; the garbage collector frees it
// when the last queue and the cache have let go.
type packet struct {
	rtp.Packet
	size int // bytes on the wire from the presenter, for the bytes metric
}

// packetCache is a ring of recent packets indexed by sequence number. Sequence
// numbers are not rewritten per viewer, so one cache per room track answers every
// viewer's NACKs and supplies the keyframe replay for joiners. Only the track's read
// loop writes; NACK handlers on viewer goroutines read through atomics.
type packetCache struct {
	slots []atomic.Pointer[packet]
	mask  uint16
}

func newPacketCache(size int) *packetCache {
	// size must be a power of two no larger than 32768 so seq&mask wraps cleanly.
	return &packetCache{slots: make([]atomic.Pointer[packet], size), mask: uint16(size - 1)}
}

func (c *packetCache) put(p *packet) {
	c.slots[p.SequenceNumber&c.mask].Store(p)
}

// get returns the packet with exactly this sequence number, or nil if it was
// never seen or has been overwritten.
func (c *packetCache) get(seq uint16) *packet {
	p := c.slots[seq&c.mask].Load()
	if p == nil || p.SequenceNumber != seq {
		return nil
	}
	return p
}

func (c *packetCache) size() int { return len(c.slots) }
