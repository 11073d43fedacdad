package record

import (
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// vp8Assembler turns VP8 RTP packets (RFC 7741) into whole frames. A frame is
// the payloads of consecutive packets sharing one RTP timestamp, from a packet
// with the start bit set and partition 0 to the packet with the marker bit.
// After any loss it waits for the next keyframe, because an inter frame with a
// missing reference decodes as garbage until then.
type vp8Assembler struct {
	frame     []byte
	ts        uint32
	nextSeq   uint16
	inFrame   bool
	haveKey   bool
	needKey   bool // a keyframe should be requested from the presenter
	lastValid bool // nextSeq is meaningful
}

// push adds pkt and returns a completed frame (nil if none yet). keyframe
// reports whether the frame is a VP8 keyframe.
func (a *vp8Assembler) push(pkt *rtp.Packet) (frame []byte, keyframe bool, ts uint32) {
	if a.lastValid && pkt.SequenceNumber != a.nextSeq {
		a.reset()
	}
	a.lastValid = true
	a.nextSeq = pkt.SequenceNumber + 1

	var vp8 codecs.VP8Packet
	payload, err := vp8.Unmarshal(pkt.Payload)
	if err != nil || len(payload) == 0 {
		a.reset()
		return nil, false, 0
	}
	if vp8.S == 1 && vp8.PID == 0 {
		a.frame = append(a.frame[:0], payload...)
		a.ts = pkt.Timestamp
		a.inFrame = true
	} else {
		if !a.inFrame || pkt.Timestamp != a.ts {
			a.reset()
			return nil, false, 0
		}
		a.frame = append(a.frame, payload...)
	}
	if !pkt.Marker {
		return nil, false, 0
	}
	a.inFrame = false
	// Bit 0 of the VP8 frame tag is 0 for keyframes (RFC 6386 section 9.1).
	key := a.frame[0]&0x01 == 0
	if key {
		a.haveKey = true
	}
	if !a.haveKey {
		a.needKey = true
		return nil, false, 0
	}
	return append([]byte(nil), a.frame...), key, a.ts
}

// reset drops the partial frame and waits for a keyframe.
func (a *vp8Assembler) reset() {
	a.frame = a.frame[:0]
	a.inFrame = false
	if a.haveKey {
		a.needKey = true
	}
	a.haveKey = false
}

// takeNeedKey reports (once) that a keyframe should be requested.
func (a *vp8Assembler) takeNeedKey() bool {
	n := a.needKey
	a.needKey = false
	return n
}
