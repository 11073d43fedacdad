package transcribe

// jitterBuffer puts RTP packets back in sequence-number order. It holds at most depth packets
// behind a hole: when more are waiting, the missing one is declared lost and playout moves on
// (the decoder conceals it). Sequence numbers wrap at 2^16; comparisons use the signed 16-bit
// distance, so wrap needs no special case.
type jitterBuffer struct {
	depth   int
	started bool
	next    uint16 // sequence number due next
	held    map[uint16]tapPacket

	lost, late, dups uint64 // counters, read by the owner
}

// resetJump is the distance beyond which a sequence number means the sender restarted rather
// than a late or early packet.
const resetJump = 3000

func newJitterBuffer(depth int) *jitterBuffer {
	return &jitterBuffer{depth: depth, held: make(map[uint16]tapPacket, depth+1)}
}

// push adds one packet and appends to out every packet that is now due, in order.
func (j *jitterBuffer) push(p tapPacket, out []tapPacket) []tapPacket {
	if !j.started {
		j.started, j.next = true, p.seq
	}
	d := int16(p.seq - j.next)
	switch {
	case d > resetJump || d < -resetJump:
		out = j.flush(out)
		j.next = p.seq
	case d < 0:
		j.late++
		return out
	}
	if _, ok := j.held[p.seq]; ok {
		j.dups++
		return out
	}
	j.held[p.seq] = p
	return j.release(out)
}

func (j *jitterBuffer) release(out []tapPacket) []tapPacket {
	for len(j.held) > 0 {
		if p, ok := j.held[j.next]; ok {
			delete(j.held, j.next)
			out = append(out, p)
			j.next++
			continue
		}
		if len(j.held) <= j.depth {
			break
		}
		j.lost++
		j.next++
	}
	return out
}

// flush releases everything held, in order, skipping holes: used when packets stop coming
// (nothing will fill the holes) and before a restart.
func (j *jitterBuffer) flush(out []tapPacket) []tapPacket {
	for len(j.held) > 0 {
		if p, ok := j.held[j.next]; ok {
			delete(j.held, j.next)
			out = append(out, p)
		} else {
			j.lost++
		}
		j.next++
	}
	return out
}

// reset forgets everything, for a new session.
func (j *jitterBuffer) reset() {
	clear(j.held)
	j.started = false
}
