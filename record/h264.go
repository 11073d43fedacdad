package record

import (
	"encoding/binary"

	"github.com/pion/rtp"
)

// H.264 NAL unit types (ITU-T H.264 table 7-1) and RTP packetizations (RFC 6184).
const (
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28
	// maxAccessUnit bounds one reassembled access unit: a 4K keyframe is a
	// few MB; anything larger is garbage from a broken sender.
	maxAccessUnit = 8 << 20
)

// h264Assembler turns H.264 RTP packets (RFC 6184: single NAL units, STAP-A,
// FU-A) into access units in the length-prefixed form Matroska stores
// (V_MPEG4/ISO/AVC with 4-byte lengths). An access unit is the NAL units of
// consecutive packets sharing one RTP timestamp, up to the marker bit. After
// any loss it waits for the next IDR access unit. Keyframes always carry the
// newest SPS and PPS, so a decoder can start at any of them, and a switch
// between two encoders (camera and screen share) brings its parameter sets.
type h264Assembler struct {
	au        []byte
	nals      int  // NAL units in au
	idr       bool // au holds an IDR slice
	params    bool // au holds an SPS or PPS
	ts        uint32
	inAU      bool
	fu        []byte // the NAL unit an FU-A is rebuilding
	inFU      bool
	sps, pps  []byte
	nextSeq   uint16
	lastValid bool
	lost      bool // skip to the next marker: the next access unit starts after it
	haveKey   bool
	needKey   bool
}

// push adds pkt and returns a completed access unit (nil if none yet).
func (a *h264Assembler) push(pkt *rtp.Packet) (frame []byte, keyframe bool, ts uint32) {
	if a.lastValid && pkt.SequenceNumber != a.nextSeq {
		a.reset()
	}
	a.lastValid = true
	a.nextSeq = pkt.SequenceNumber + 1
	if a.inAU && pkt.Timestamp != a.ts {
		// The previous access unit lost its last packet (marker); in sequence,
		// this packet starts the next one.
		a.reset()
		a.lost = false
	}
	if a.lost {
		// A packet inside a damaged access unit would start a truncated one.
		a.lost = !pkt.Marker
		return nil, false, 0
	}
	if !a.inAU {
		a.au, a.nals, a.idr, a.params = a.au[:0], 0, false, false
		a.ts, a.inAU = pkt.Timestamp, true
	}
	if !a.payload(pkt.Payload) {
		a.reset()
		a.lost = !pkt.Marker
		return nil, false, 0
	}
	if !pkt.Marker {
		return nil, false, 0
	}
	a.inAU = false
	// An IDR without parameter sets cannot be decoded by anyone.
	if a.inFU || a.nals == 0 || a.idr && (a.sps == nil || a.pps == nil) {
		a.reset()
		a.lost = false
		return nil, false, 0
	}
	if a.idr {
		a.haveKey = true
	}
	if !a.haveKey {
		a.needKey = true
		return nil, false, 0
	}
	out := make([]byte, 0, len(a.au)+len(a.sps)+len(a.pps)+8)
	if a.idr && !a.params {
		out = appendNAL(appendNAL(out, a.sps), a.pps)
	}
	return append(out, a.au...), a.idr, a.ts
}

// payload adds one RTP payload's NAL units; false if it is malformed or of a
// packetization we do not take (STAP-B, MTAP, FU-B: not used in WebRTC).
func (a *h264Assembler) payload(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	switch t := p[0] & 0x1f; {
	case t >= 1 && t <= 23:
		return !a.inFU && a.nal(p)
	case t == nalSTAPA:
		if a.inFU {
			return false
		}
		for i := 1; i < len(p); {
			if i+2 > len(p) {
				return false
			}
			n := int(binary.BigEndian.Uint16(p[i:]))
			i += 2
			if n == 0 || i+n > len(p) || !a.nal(p[i:i+n]) {
				return false
			}
			i += n
		}
		return true
	case t == nalFUA:
		return a.fragment(p)
	}
	return false
}

// fragment adds an FU-A: start, middle or end of one NAL unit.
func (a *h264Assembler) fragment(p []byte) bool {
	if len(p) < 3 {
		return false
	}
	start, end := p[1]&0x80 != 0, p[1]&0x40 != 0
	switch {
	case start && !a.inFU:
		// The NAL header: F and NRI from the indicator, type from the FU header.
		a.fu = append(a.fu[:0], p[0]&0xe0|p[1]&0x1f)
		a.inFU = true
	case start || !a.inFU:
		return false
	}
	a.fu = append(a.fu, p[2:]...)
	if len(a.fu) > maxAccessUnit {
		return false
	}
	if !end {
		return true
	}
	a.inFU = false
	return a.nal(a.fu)
}

// nal appends one whole NAL unit to the access unit, remembering parameter sets.
func (a *h264Assembler) nal(n []byte) bool {
	if len(n) == 0 || n[0]&0x80 != 0 || len(a.au)+len(n) > maxAccessUnit {
		return false
	}
	switch n[0] & 0x1f {
	case nalIDR:
		a.idr = true
	case nalSPS:
		a.sps, a.params = append(a.sps[:0], n...), true
	case nalPPS:
		a.pps, a.params = append(a.pps[:0], n...), true
	}
	a.au = appendNAL(a.au, n)
	a.nals++
	return true
}

// reset drops the partial access unit and waits for a keyframe.
func (a *h264Assembler) reset() {
	a.au, a.nals, a.inAU, a.inFU, a.lost = a.au[:0], 0, false, false, true
	if a.haveKey {
		a.needKey = true
	}
	a.haveKey = false
}

// takeNeedKey reports (once) that a keyframe should be requested.
func (a *h264Assembler) takeNeedKey() bool {
	n := a.needKey
	a.needKey = false
	return n
}

func appendNAL(b, n []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
	return append(b, n...)
}

// avcConfig is the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1)
// Matroska keeps as the track's CodecPrivate: one SPS, one PPS, 4-byte NAL
// lengths. ok is false if the SPS is too short to name a profile.
func avcConfig(sps, pps []byte) (cfg []byte, ok bool) {
	if len(sps) < 4 || len(pps) == 0 {
		return nil, false
	}
	cfg = []byte{1, sps[1], sps[2], sps[3], 0xfc | 3, 0xe0 | 1}
	cfg = binary.BigEndian.AppendUint16(cfg, uint16(len(sps)))
	cfg = append(cfg, sps...)
	cfg = append(cfg, 1)
	cfg = binary.BigEndian.AppendUint16(cfg, uint16(len(pps)))
	return append(cfg, pps...), true
}

// paramSets returns the SPS and PPS an RTP payload carries as single NAL
// units or inside a STAP-A (how encoders send them, before each IDR).
func paramSets(p []byte) (sps, pps []byte) {
	take := func(n []byte) {
		if len(n) == 0 {
			return
		}
		switch n[0] & 0x1f {
		case nalSPS:
			sps = n
		case nalPPS:
			pps = n
		}
	}
	if len(p) == 0 {
		return nil, nil
	}
	if p[0]&0x1f != nalSTAPA {
		take(p)
		return sps, pps
	}
	for i := 1; i+2 <= len(p); {
		n := int(binary.BigEndian.Uint16(p[i:]))
		i += 2
		if i+n > len(p) {
			break
		}
		take(p[i : i+n])
		i += n
	}
	return sps, pps
}
