package record

import (
	"testing"

	"github.com/pion/rtp"
)

// FuzzVP8Assembler feeds arbitrary RTP payloads, markers and sequence steps:
// the assembler must not panic, must only emit non-empty frames, and the
// first frame it emits (and the first after every loss) must be a keyframe.
func FuzzVP8Assembler(f *testing.F) {
	f.Add([]byte{0x10, 0x00, 1, 2, 3}, []byte{0x00, 4, 5}, true, uint8(1))
	f.Add([]byte{0x90, 0x80, 0x80, 0x01, 0x00}, []byte{0x10, 0x01}, false, uint8(2))
	f.Add([]byte{0x10}, []byte{}, true, uint8(0))
	f.Fuzz(func(t *testing.T, a, b []byte, marker bool, step uint8) {
		var asm vp8Assembler
		feedAssembler(t, asm.push, a, b, marker, step, func(frame []byte, key, keyDue bool) {
			if len(frame) == 0 {
				t.Fatal("empty frame emitted")
			}
			if keyDue && !key {
				t.Fatal("inter frame emitted before a keyframe")
			}
		})
	})
}

// feedAssembler pushes a, b, a, b, a as one stream (sequence numbers step apart, a new
// timestamp every other packet, the last one marked) and calls check for every frame emitted,
// with whether a keyframe is due there (the first frame, and the first after a loss).
func feedAssembler(t *testing.T, push func(*rtp.Packet) ([]byte, bool, uint32), a, b []byte, marker bool, step uint8,
	check func(frame []byte, key, keyDue bool)) {
	t.Helper()
	var seq uint16
	var ts uint32
	keyDue := true
	for i, payload := range [][]byte{a, b, a, b, a} {
		seq += uint16(step)
		if i%2 == 1 {
			ts += 3000
		}
		frame, key, _ := push(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts, Marker: marker || i == 4}, Payload: payload})
		if i > 0 && step != 1 {
			keyDue = true
		}
		if frame == nil {
			continue
		}
		check(frame, key, keyDue)
		keyDue = false
	}
}
