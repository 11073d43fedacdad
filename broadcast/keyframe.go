package broadcast

import "strings"

// isKeyframeStart reports whether an RTP payload carries the start of (or, for
// H.264, a parameter set that begins) a keyframe. It only looks at a few bytes,
// so it is cheap enough to run on every video packet.
func isKeyframeStart(mime string, payload []byte) bool {
	switch strings.ToLower(mime) {
	case "video/vp8":
		return vp8Keyframe(payload)
	case "video/h264":
		return h264Keyframe(payload)
	case "video/vp9":
		return vp9Keyframe(payload)
	case "video/av1":
		return av1Keyframe(payload)
	}
	return false
}

// vp8Keyframe: RFC 7741 payload descriptor, start of partition 0, then the VP8
// frame tag whose lowest bit (P) is 0 on keyframes.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x, s, pid := p[0]&0x80 != 0, p[0]&0x10 != 0, p[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(p) < 2 {
			return false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: tl0picidx
			i++
		}
		if ext&0x30 != 0 { // T or K: tid/keyidx byte
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// h264Keyframe: an IDR slice or SPS as a single NAL, inside a STAP-A, or at the
// start of an FU-A (RFC 6184).
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; {
	case t == 5 || t == 7:
		return true
	case t == 24: // STAP-A: 16-bit sizes followed by NALs
		for i := 1; i+2 < len(p); {
			n := int(p[i])<<8 | int(p[i+1])
			if n == 0 || i+2 >= len(p) {
				return false
			}
			if nt := p[i+2] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += 2 + n
		}
	case t == 28: // FU-A
		return len(p) > 1 && p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
	}
	return false
}

// vp9Keyframe: descriptor with B (start of frame) set and P (inter-predicted) clear.
func vp9Keyframe(p []byte) bool {
	return len(p) > 0 && p[0]&0x08 != 0 && p[0]&0x40 == 0
}

// av1Keyframe: aggregation header N bit (first packet of a coded video sequence).
func av1Keyframe(p []byte) bool {
	return len(p) > 0 && p[0]&0x08 != 0
}
