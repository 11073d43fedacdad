package broadcast

import (
	"fmt"

	"github.com/pion/webrtc/v4"
)

// wantTrack is one track a viewer's offer asks for (see the slot mapping in stage.go).
type wantTrack struct {
	rt    *roomTrack
	role  trackRole
	codec webrtc.RTPCodecCapability
	label string
	main  bool // one of the room's main tracks
}

// viewerTracks maps a WHEP offer's m-lines onto room tracks, in m-line order per kind:
// one audio m-line gets the active speaker's audio, N > 1 get stage slots 0..N-1, and a
// seventh the active speaker's audio too (an edge's pull: its slot viewers and its plain
// viewers both fan out from one upstream session, see relay.go); video
// m-lines get the active speaker's camera, the screen share, then slot 0, 1, ... cameras (the
// active speaker's own slot camera is idle meanwhile: it is on the first m-line, see route).
func viewerTracks(r *room, info offerInfo) ([]wantTrack, error) {
	var out []wantTrack
	mainTrack := func(role trackRole) {
		out = append(out, wantTrack{rt: r.tracks[role], role: role, codec: *r.tracks[role].codec.Load(), label: role.String(), main: true})
	}
	slotTrack := func(k int, role trackRole) {
		rt := r.slotTrack(k, role)
		c := *rt.codec.Load()
		if role != roleAudio && !info.videoCodecs[mimeName(c.MimeType)] {
			return // this slot's presenter sends a codec the viewer cannot decode: leave the m-line empty
		}
		out = append(out, wantTrack{rt: rt, role: role, codec: c, label: fmt.Sprintf("%s-slot%d", role, k)})
	}
	switch {
	case info.audio == 1:
		mainTrack(roleAudio)
	case info.audio > 1:
		for k := 0; k < min(info.audio, MaxStage); k++ {
			slotTrack(k, roleAudio)
		}
		if info.audio > MaxStage {
			mainTrack(roleAudio)
		}
	}
	if info.video > 0 {
		c := r.tracks[roleCamera].codec.Load()
		if !info.videoCodecs[mimeName(c.MimeType)] {
			return nil, fmt.Errorf("%w: the room sends %s, which the offer does not accept", ErrBadOffer, c.MimeType)
		}
		mainTrack(roleCamera)
	}
	if info.video > 1 {
		if c := r.tracks[roleScreen].codec.Load(); info.videoCodecs[mimeName(c.MimeType)] {
			mainTrack(roleScreen)
		}
	}
	for k := 0; k < min(info.video-2, MaxStage); k++ {
		slotTrack(k, roleCamera)
	}
	return out, nil
}

// addDown records a bound track so close takes it off the fan-out.
func (v *viewer) addDown(main bool, d *downTrack) {
	if main {
		v.downs[d.role] = d
		return
	}
	v.extra = append(v.extra, d)
}
