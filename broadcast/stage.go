package broadcast

// Stage: up to MaxStage presenters per room (host, co-hosts, panelists).
//
// Each presenter holds a stage slot (0..5) for as long as its session lives; the same
// credential publishing again (a reconnecting browser, OBS restarting) takes over its own slot
// instead of a second one, so a flapping connection can never fill the stage.
//
// How a WHEP viewer gets several presenters: fixed slot m-lines in the viewer's offer, not
// renegotiation.
//   - A viewer that offers N > 1 audio m-lines gets stage slot k's audio on its k-th audio
//     m-line (k < 6): every voice, unmixed. Video m-lines are: the large tile (active speaker's
//     camera), the screen share, then slot 0, 1, ... cameras for the strip.
//   - A plain WHEP player (one audio, one or two video m-lines) gets the room's main tracks:
//     the active speaker's audio and camera (and whoever shares a screen).
// Why fixed slots: WHEP (RFC 9725) has no server-initiated renegotiation, and OBS, GStreamer
// and ffmpeg players never renegotiate; a slot mapping fixed for the session needs no
// signalling channel at all. A slot whose presenter changes behaves exactly like today's
// presenter reconnect: its roomTrack rewrites sequence numbers and timestamps once per packet
// (not per viewer) so the viewer's stream stays continuous, and video waits for a keyframe.
// The main tracks switch speakers the same way: a change of source is a "reconnect" with a
// keyframe request to the new speaker. So a packet still goes, by pointer, to every viewer of
// the track it belongs to; the only per-viewer work remains the SSRC/payload-type header
// rewrite in downTrack.write. The active speaker's audio is forwarded twice (slot and main
// track), each with its own header copy around one shared payload; its camera only once, on
// the main track (see route).
//
// Active speaker: each presenter's audio energy is smoothed (RFC 6464 audio level when the
// publisher sends it, else the Opus packet size: Opus VBR/DTX packets are tiny in silence);
// a challenger must be louder by speakerMargin for speakerHold without a break to take over,
// so a cough or a laugh does not flip the large tile. A host's spotlight pin overrides it.

import (
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// MaxStage is the number of presenters a room carries at once.
const MaxStage = 6

// ErrStageFull refuses a presenter when MaxStage others are publishing.
var ErrStageFull = errors.New("the stage is full: 6 presenters are publishing already")

const (
	streamKeyID   = StreamKeyPublisher
	speakerHold   = 1500 * time.Millisecond // a challenger must lead this long to become the active speaker
	speakerMargin = 6.0                     // and be this much louder (dB of audio level, or Opus bytes)
	speakerStale  = time.Second             // a presenter not heard for this long counts as silent
	levelSmooth   = 0.15                    // EWMA weight of one 20 ms packet (~130 ms time constant)
)

// StreamKeyPublisher is the Publisher.Key of the webinar's stream key (the host's OBS).
const StreamKeyPublisher = "stream-key"

// Publisher says who a WHIP session belongs to.
type Publisher struct {
	// Key identifies the credential: publishing again with the same key replaces that
	// session instead of taking a second slot. "" is the webinar's stream key.
	Key  string
	Name string // display name: the speaker's name in captions and on the watch page
}

// StageMember is one presenter on a room's stage.
type StageMember struct {
	Publisher
	Session string
	Slot    int
	Active  bool // the active speaker (or the pinned spotlight)
	Pinned  bool // a host pinned the spotlight on this presenter
	Mute    Mute // what the server holds back (stage_mute.go)
}

// speakerState is the room's active-speaker decision; mu serialises decisions only.
type speakerState struct {
	mu     sync.Mutex
	leader *presenter // who is louder than the active speaker, since when
	since  time.Time
	pin    string // Publisher.Key pinned by a host, "" for none
}

// level is a presenter's smoothed audio energy, written by its own audio read loop only.
type level struct {
	ewma  atomic.Uint64 // float64 bits
	heard atomic.Int64  // unix nanos of the last audio packet
}

func (l *level) update(e float64, now time.Time) {
	old := math.Float64frombits(l.ewma.Load())
	l.ewma.Store(math.Float64bits(old + levelSmooth*(e-old)))
	l.heard.Store(now.UnixNano())
}

func (l *level) at(now time.Time) float64 {
	if now.UnixNano()-l.heard.Load() > int64(speakerStale) {
		return 0
	}
	return math.Float64frombits(l.ewma.Load())
}

// packetEnergy is the loudness of one audio packet: 127 minus the RFC 6464 level (dB above
// -127 dBov) when the extension is present, else the Opus payload size capped at 127.
func packetEnergy(pk *rtp.Packet, levelID uint8) float64 {
	if levelID != 0 {
		if b := pk.GetExtension(levelID); len(b) > 0 {
			var a rtp.AudioLevelExtension
			if a.Unmarshal(b) == nil {
				return float64(127 - a.Level)
			}
		}
	}
	return math.Min(127, float64(len(pk.Payload)))
}

// audioLevelID is the header extension ID the presenter negotiated for RFC 6464, or 0.
func audioLevelID(r *webrtc.RTPReceiver) uint8 {
	for _, h := range r.GetParameters().HeaderExtensions {
		if h.URI == sdp.AudioLevelURI {
			return uint8(h.ID)
		}
	}
	return 0
}

// observe records one audio packet's energy and, with several presenters, decides whether
// the active speaker changes.
func (r *room) observe(p *presenter, energy float64, now time.Time) {
	p.level.update(energy, now)
	list := *r.stage.Load()
	if len(list) < 2 {
		return
	}
	r.spk.mu.Lock()
	defer r.spk.mu.Unlock()
	r.setActive(r.choose(list, r.active.Load(), now))
}

// choose applies the pin, then the hysteresis. Called with spk.mu held.
func (r *room) choose(list []*presenter, cur *presenter, now time.Time) *presenter {
	if r.spk.pin != "" {
		for _, x := range list {
			if x.who.Key == r.spk.pin {
				return x
			}
		}
	}
	var best *presenter
	for _, x := range list {
		if best == nil || x.level.at(now) > best.level.at(now) {
			best = x
		}
	}
	if cur == nil || !onStage(list, cur) {
		r.spk.leader = nil
		return best
	}
	if best == cur || best.level.at(now) < cur.level.at(now)+speakerMargin {
		r.spk.leader = nil
		return cur
	}
	if r.spk.leader != best {
		r.spk.leader, r.spk.since = best, now
		return cur
	}
	if now.Sub(r.spk.since) < speakerHold {
		return cur
	}
	r.spk.leader = nil
	return best
}

func onStage(list []*presenter, p *presenter) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// setActive switches the main tracks to p. Called with spk.mu held.
func (r *room) setActive(p *presenter) {
	if old := r.active.Swap(p); old != p && p != nil {
		r.s.m.speakerSwitches.Inc()
		r.s.log.Info("active speaker", "room", r.name, "session", p.id, "speaker", p.who.Name)
		r.stageChanged()
	}
}

// repick chooses the active speaker at once after the stage or the pin changed.
func (r *room) repick() {
	defer r.stageChanged()
	list := *r.stage.Load()
	r.spk.mu.Lock()
	defer r.spk.mu.Unlock()
	cur := r.active.Load()
	if cur != nil && !onStage(list, cur) {
		cur = nil
	}
	if len(list) == 0 {
		r.active.Store(nil)
		return
	}
	r.setActive(r.choose(list, cur, time.Now()))
}

// onMain reports whether p's packets of this role go to the room's main (plain-viewer)
// tracks: audio and camera follow the active speaker.
func (r *room) onMain(p *presenter) bool { return r.active.Load() == p }

// slotTrack returns stage slot k's track for role (audio or camera), creating it on first use.
func (r *room) slotTrack(k int, role trackRole) *roomTrack {
	if role == roleScreen || k < 0 || k >= MaxStage {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.slots[k][role] == nil {
		r.slots[k][role] = newRoomTrack(role, r.s.cfg, r.s.m)
	}
	return r.slots[k][role]
}

// stageFull reports whether a new credential would be refused (checked before any
// PeerConnection exists, and again when the session is installed).
func (r *room) stageFull(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.presenters[key] == nil && len(r.presenters) >= MaxStage
}

// publishStage rebuilds the copy-on-write presenter list. Called with r.mu held.
func (r *room) publishStage() {
	list := make([]*presenter, 0, len(r.presenters))
	for _, x := range r.presenters {
		list = append(list, x)
	}
	r.stage.Store(&list)
}

// feed forwards p from src. A change of source (another speaker, a reconnect) is handled
// like a presenter reconnect: sequence and timestamp continue, video waits for a keyframe.
// wmu makes the track single-writer although several presenters' loops may call it.
func (t *roomTrack) feed(src *upstream, codec webrtc.RTPCodecCapability, p *packet, now time.Time) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.feedLocked(src, codec, p, now)
}

// feedActive feeds p while pr is the room's active speaker, checked under the track's lock:
// the speaker losing the turn cannot slip a packet in after the next speaker's first one
// (which would flip the track back and forth, each flip a new keyframe wait).
func (t *roomTrack) feedActive(r *room, pr *presenter, src *upstream, codec webrtc.RTPCodecCapability, p *packet, now time.Time) (fed bool) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if r.active.Load() == pr {
		t.feedLocked(src, codec, p, now)
		return true
	}
	return false
}

// route forwards one audio or camera packet of p to the room's main track (while p is the
// active speaker and sends the room's codec) and to p's stage slot track.
//
// The active speaker's camera goes to the main track only: every viewer that has slot camera
// m-lines also has the main camera m-line before them (stage_viewer.go), so its slot would
// send the same picture to the same viewers twice. Its slot is released and restarts
// (continuous sequence numbers, a keyframe asked for) when it loses the turn. Audio goes to
// both: slot viewers get every voice on its slot and no main audio. The main track rewrites
// the header of the packet it is fed, so audio needs a second header copy (the payload is
// shared); the camera, fed once, needs none.
func (p *presenter) route(role trackRole, main, slot *roomTrack, up *upstream, codec webrtc.RTPCodecCapability, pk *packet, now time.Time) {
	if p.room.onMain(p) && strings.EqualFold(main.codec.Load().MimeType, codec.MimeType) {
		if role == roleCamera {
			p.room.tapVideo(p.id, codec.MimeType, &pk.Packet)
			if main.feedActive(p.room, p, up, codec, pk, now) {
				if !p.parked[role] {
					p.parked[role] = true
					slot.release(up)
				}
				return
			} // lost the turn just now: pk is untouched, its slot takes it
		} else {
			mk := &packet{Packet: rtp.Packet{Header: pk.Header, Payload: pk.Payload}, size: pk.size}
			p.room.tap(p.id, &mk.Packet)
			main.feedActive(p.room, p, up, codec, mk, now)
		}
	}
	p.parked[role] = false
	slot.feed(up, codec, pk, now)
}

func (t *roomTrack) feedLocked(src *upstream, codec webrtc.RTPCodecCapability, p *packet, now time.Time) {
	first := t.src != src
	if first {
		t.src = src
		t.startSession(codec, src)
	}
	t.forward(p, first, now)
}

// feedIfFree feeds p unless another presenter holds the track (the screen share: the first
// presenter who shares keeps it until their share ends).
func (t *roomTrack) feedIfFree(src *upstream, codec webrtc.RTPCodecCapability, p *packet, now time.Time) (fed bool) {
	t.wmu.Lock()
	held := t.src != nil && t.src != src
	t.wmu.Unlock()
	if !held {
		t.feed(src, codec, p, now)
	}
	return !held
}

// release ends src's hold on the track if it still has it.
func (t *roomTrack) release(src *upstream) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.src == src {
		t.src = nil
		t.endSession(src)
	}
}

// SetSpotlight pins the room's large tile on the presenter publishing with key ("" unpins:
// the active speaker decides again).
func (s *Server) SetSpotlight(roomName, key string) {
	r := s.room(roomName, true)
	if r == nil {
		return
	}
	r.spk.mu.Lock()
	r.spk.pin = key
	r.spk.mu.Unlock()
	r.repick()
}

// Stage lists the room's presenters.
func (s *Server) Stage(roomName string) []StageMember {
	r := s.room(roomName, false)
	if r == nil {
		return nil
	}
	active := r.active.Load()
	r.spk.mu.Lock()
	pin := r.spk.pin
	r.spk.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []StageMember
	for _, p := range *r.stage.Load() {
		out = append(out, StageMember{Publisher: p.who, Session: p.id, Slot: p.slot, Active: p == active,
			Pinned: pin != "" && pin == p.who.Key, Mute: r.mutes[p.who.Key]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Slot < out[j].Slot })
	return out
}

// EndStage ends the session of the presenter publishing with key, if any (a panelist was
// demoted or removed): its peer connection closes and its slot frees at once.
func (s *Server) EndStage(roomName, key string) bool {
	r := s.room(roomName, false)
	if r == nil {
		return false
	}
	if key == "" {
		key = streamKeyID
	}
	r.mu.Lock()
	p := r.presenters[key]
	r.mu.Unlock()
	if p == nil {
		return false
	}
	r.clearPresenter(p)
	p.close("left the stage")
	return true
}
