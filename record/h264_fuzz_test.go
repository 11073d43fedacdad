package record

import (
	"encoding/binary"
	"testing"
)

// FuzzH264Assembler feeds arbitrary RTP payloads, markers and sequence steps:
// the assembler must not panic, must emit only well-formed length-prefixed
// access units, the first one (and the first after every loss) an IDR that
// carries an SPS and a PPS.
func FuzzH264Assembler(f *testing.F) {
	sps, pps, idr := []byte{0x67, 0x42, 0xe0, 0x1f, 0xda}, []byte{0x68, 0xce, 0x3c, 0x80}, []byte{0x65, 0x88, 0x84}
	stap := []byte{0x78}
	for _, n := range [][]byte{sps, pps, idr} {
		stap = binary.BigEndian.AppendUint16(stap, uint16(len(n)))
		stap = append(stap, n...)
	}
	f.Add(stap, []byte{0x41, 0x9a, 0x02}, true, uint8(1))
	f.Add([]byte{0x7c, 0x85, 1, 2, 3}, []byte{0x7c, 0x45, 4, 5}, false, uint8(1))
	f.Add(sps, pps, true, uint8(2))
	f.Add([]byte{0x78, 0x00, 0x00}, []byte{0x7c}, true, uint8(0))
	f.Fuzz(func(t *testing.T, a, b []byte, marker bool, step uint8) {
		var asm h264Assembler
		feedAssembler(t, asm.push, a, b, marker, step, func(frame []byte, key, keyDue bool) {
			types := nalTypes(t, frame)
			if keyDue && !key {
				t.Fatal("inter access unit emitted before an IDR")
			}
			if key && !(types[nalSPS] && types[nalPPS] && types[nalIDR]) {
				t.Fatalf("keyframe without its parameter sets: %v", types)
			}
		})
		// Parameter sets from any payload give a config or nothing, never a panic.
		s, p := paramSets(a)
		_, _ = avcConfig(s, p)
	})
}

// nalTypes checks that b is a non-empty run of 4-byte-length-prefixed NAL
// units and returns the types it holds.
func nalTypes(t testing.TB, b []byte) map[byte]bool {
	t.Helper()
	if len(b) == 0 {
		t.Fatal("empty access unit")
	}
	types := map[byte]bool{}
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("%d stray bytes after the last NAL unit", len(b))
		}
		n := int(binary.BigEndian.Uint32(b))
		if n == 0 || n > len(b)-4 {
			t.Fatalf("NAL length %d of %d bytes left", n, len(b)-4)
		}
		types[b[4]&0x1f] = true
		b = b[4+n:]
	}
	return types
}
