package record

import "github.com/pion/rtp"

// source is where a queued packet comes from.
type source int

const (
	srcAudio source = iota
	srcCamera
	srcScreen
	srcStage // a stage presenter's own audio (stage.go)
)

const (
	// screenIdleMs ends a screen share that sent nothing for this long: a
	// browser that stops sharing just stops sending (WHIP cannot renegotiate),
	// and an idle shared screen still repeats a frame about every second.
	screenIdleMs = 3000
	// keyRetryMs is how often a keyframe is asked for again while waiting.
	keyRetryMs = 1000
)

// videoIn is one presenter video (camera or screen share) as the recorder
// reassembles and times it.
type videoIn struct {
	asm     assembler
	clock   trackClock
	session string
	lastMs  int64 // time of its newest frame
	seen    bool  // a frame was seen
	askedMs int64 // when a keyframe was last asked for (-1: not waiting)
}

// assembler turns one video's RTP packets into whole frames, waiting for a
// keyframe at the start and after any loss.
type assembler interface {
	push(pkt *rtp.Packet) (frame []byte, keyframe bool, ts uint32)
	takeNeedKey() bool // a keyframe should be requested (reported once)
}

func newAssembler(mime string) assembler {
	if mime == mimeH264 {
		return &h264Assembler{needKey: true}
	}
	return &vp8Assembler{needKey: true}
}

// picture routes whole frames to the two video tracks: the main picture
// (videoTrack) shows the screen share while it is shared and the camera
// otherwise; cameraTrack gets the camera frames the main picture does not
// show. Each switch waits for a keyframe of the source switched to, so both
// tracks decode cleanly; until it comes the old source carries on.
type picture struct {
	in       [3]videoIn // indexed by source; [srcAudio] unused
	main     source     // srcAudio: nothing shown yet
	mainMs   int64      // newest main-track time (blocks must not go back)
	camLive  bool       // cameraTrack started at a camera keyframe
	cameraMs int64
}

func (p *picture) init() {
	for i := range p.in {
		p.in[i].clock.rate = 90000
		p.in[i].askedMs = -1
	}
	p.main = srcAudio
}

// handleVideo reassembles a camera or screen packet and writes a completed
// frame where the picture routes it.
func (r *Recorder) handleVideo(it item) {
	if it.mime != r.videoMime {
		if !r.otherCodec {
			r.otherCodec = true
			r.opts.Log.Warn("video in another codec than the recording's is not recorded", "codec", it.mime, "recording", r.videoMime)
		}
		return
	}
	in := &r.pic.in[it.src]
	if it.session != in.session || in.asm == nil {
		// A new presenter session: its first frames are inter frames
		// referencing nothing we have.
		in.session = it.session
		in.asm = newAssembler(it.mime)
	}
	frame, key, ts := in.asm.push(it.pkt)
	if in.asm.takeNeedKey() {
		r.askKeyframe(it.src, -1)
	}
	if frame == nil {
		return
	}
	ms := in.clock.at(it.session, ts, r.sessionStart(&in.clock, it.session))
	in.lastMs, in.seen = ms, true
	if key {
		in.askedMs = -1
	}
	track, wait := r.pic.route(it.src, key, ms)
	switch track {
	case videoTrack:
		r.pic.mainMs = max(r.pic.mainMs, ms)
		r.write(r.video, key, r.pic.mainMs, frame)
	case cameraTrack:
		r.pic.cameraMs = max(r.pic.cameraMs, ms)
		r.write(r.camera, key, r.pic.cameraMs, frame)
	}
	if wait != srcAudio {
		r.askKeyframe(wait, ms)
	}
}

// route decides which track a frame of src at ms goes to (videoTrack,
// cameraTrack, or 0: dropped) and which source's keyframe the picture waits
// for (srcAudio: none).
func (p *picture) route(src source, key bool, ms int64) (track uint64, wait source) {
	want := p.wanted(ms)
	if src == srcScreen { // a screen frame always makes the screen wanted
		switch {
		case p.main == srcScreen:
			return videoTrack, srcAudio
		case key:
			// The camera leaves the main picture and continues on its own
			// track from its next keyframe.
			p.main, p.camLive = srcScreen, false
			return videoTrack, srcCamera
		}
		return 0, srcScreen
	}
	switch {
	case p.main == srcCamera:
		if want == srcScreen {
			return videoTrack, srcScreen
		}
		return videoTrack, srcAudio
	case p.main == srcAudio || want == srcCamera && key:
		if !key {
			return 0, srcCamera
		}
		p.main = srcCamera
		return videoTrack, srcAudio
	}
	// The screen share is the main picture.
	wait = srcAudio
	if want == srcCamera {
		wait = srcCamera // the share ended: back to the camera at its keyframe
	}
	if key {
		p.camLive = true
	}
	if !p.camLive {
		return 0, srcCamera
	}
	return cameraTrack, wait
}

// wanted is the source the main picture should show at ms: the screen share
// while it sends, else the camera.
func (p *picture) wanted(ms int64) source {
	s := &p.in[srcScreen]
	if s.seen && ms-s.lastMs < screenIdleMs {
		return srcScreen
	}
	return srcCamera
}

// askKeyframe asks the presenter for src's keyframe, at most once per
// keyRetryMs of media time (ms < 0: ask now).
func (r *Recorder) askKeyframe(src source, ms int64) {
	in := &r.pic.in[src]
	if ms >= 0 && in.askedMs >= 0 && ms-in.askedMs < keyRetryMs {
		return
	}
	in.askedMs = max(ms, 0)
	if r.opts.NeedKeyframe != nil {
		r.opts.NeedKeyframe(src == srcScreen)
	}
}
