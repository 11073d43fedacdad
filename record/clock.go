package record

// trackClock maps one track's RTP timestamps to milliseconds on the
// recording's timeline. RTP time is unwrapped (32-bit wrap), taken relative to
// the track's first packet in the presenter session, and shifted by the
// session's offset so a reconnecting presenter continues the timeline.
type trackClock struct {
	rate    int64 // RTP clock rate, Hz
	session string
	base    uint32
	prev    uint32
	ext     int64 // unwrapped ticks since base
	offset  int64 // ms where this session starts on the recording's timeline
	started bool
	lastMs  int64
}

// at returns the recording time in ms of an RTP timestamp in session. start is
// the time a new session begins at (used only when the session changes).
func (c *trackClock) at(session string, ts uint32, start int64) int64 {
	if !c.started || session != c.session {
		c.session, c.base, c.prev, c.ext = session, ts, ts, 0
		c.offset = start
		c.started = true
	} else {
		c.ext += int64(int32(ts - c.prev))
		c.prev = ts
	}
	ms := c.offset + c.ext*1000/c.rate
	if ms < c.lastMs {
		// Reordered or a timestamp jump backwards: SimpleBlocks must be in order.
		ms = c.lastMs
	}
	c.lastMs = ms
	return ms
}
