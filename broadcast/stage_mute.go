package broadcast

// Host controls of the stage: muting a presenter's audio or video on the server.
//
// A mute is a drop at the source: the presenter's read loop discards the medium's packets
// before any room track sees them, so no viewer (plain or slot), tap or recording gets them,
// and the presenter's browser cannot override it. Muting releases the presenter's hold on
// its tracks; unmuting is then a "reconnect" of that medium (sequence numbers continue
// without a gap, video waits for a keyframe, asked for at once), so viewers see no NACK
// storm and no broken picture. Mutes are kept by credential (Publisher.Key), so a muted
// presenter who reconnects stays muted.

// Mute says which of a stage member's media the server holds back.
type Mute struct {
	Audio bool `json:"audio"`
	Video bool `json:"video"` // the camera and the screen share
}

// SetMute sets the mute of the presenter publishing with key (now, and when it publishes
// later) and reports whether that changed anything.
func (s *Server) SetMute(roomName, key string, m Mute) bool {
	r := s.room(roomName, true)
	if r == nil {
		return false
	}
	if key == "" {
		key = streamKeyID
	}
	r.mu.Lock()
	changed := r.mutes[key] != m
	if m == (Mute{}) {
		delete(r.mutes, key)
	} else {
		r.mutes[key] = m
	}
	if p := r.presenters[key]; p != nil {
		p.applyMute(m)
	}
	r.mu.Unlock()
	if changed {
		s.log.Info("stage mute", "room", roomName, "publisher", key, "audio", m.Audio, "video", m.Video)
		r.stageChanged()
	}
	return changed
}

// MuteOf is the mute set for key.
func (s *Server) MuteOf(roomName, key string) Mute {
	r := s.room(roomName, false)
	if r == nil {
		return Mute{}
	}
	if key == "" {
		key = streamKeyID
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mutes[key]
}

func (p *presenter) applyMute(m Mute) {
	p.mute[roleAudio].Store(m.Audio)
	p.mute[roleCamera].Store(m.Video)
	p.mute[roleScreen].Store(m.Video)
}

// gate is the read loop's mute check for one packet of role: true drops it. On the first
// dropped packet the presenter lets go of its tracks, so the first packet after the unmute
// starts a fresh source on them. Only role's own read loop calls it (gated is its state).
func (p *presenter) gate(role trackRole, up *upstream, tracks ...*roomTrack) bool {
	if !p.mute[role].Load() {
		p.gated[role] = false
		return false
	}
	if !p.gated[role] {
		p.gated[role] = true
		for _, t := range tracks {
			if t != nil {
				t.release(up)
			}
		}
	}
	p.s.m.mutedPackets.Inc()
	return true
}

// OnStage sets f to run, on its own goroutine, after the stage of a room changes: a presenter
// comes or goes, the active speaker or the spotlight changes, a mute changes. f must be
// cheap; calls may come in bursts (the caller debounces).
func (s *Server) OnStage(f func(room string)) { s.onStage.Store(&f) }

func (r *room) stageChanged() {
	if f := r.s.onStage.Load(); f != nil {
		r.s.goFunc(func() { (*f)(r.name) })
	}
}
