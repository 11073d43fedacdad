package record

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"

	"lectern/broadcast"
)

// Every stage presenter's own audio, unmixed: with Options.StageAudio the recorder is also a
// broadcast.StageTap. Track 1 stays the active speaker's audio (the room Tap's): it is what
// a browser plays (players play one audio track) and what re-transcription reads, and with
// one presenter it is all there is, so a one-presenter file keeps its layout (Opus, then the
// two video tracks), track 1 named after the speaker. Once a second stage slot is heard,
// each slot gets an Opus track of its own from then on, tracks 4 to 9, named after the
// speaker ("A / B" when two people used the slot in turn), and track 1 is renamed "Active
// speaker".
//
// Matroska fixes its tracks in the header, written when the file starts, and a track nobody
// spoke on would show as an empty stream. So every possible track is declared with a name
// padded to nameCap bytes (EBML strings may end in zero bytes), and the Tracks element is
// then rewritten in place, same size, listing only the tracks in use and an EBML Void for
// the rest. A track is listed before its first block is written, so a file cut short by a
// crash lists exactly the tracks it holds.
const (
	// nameCap is the room a track's name has in the header, in bytes.
	nameCap = 96
	// headerScan is how much of the file start is searched for the Tracks element.
	headerScan = 64 << 10
	// maxLagMs is how far a slot's audio may fall behind the newest block written before
	// it is moved up: short of the sorter's window, past which its blocks would be dropped.
	maxLagMs = sortWindowMs * 4 / 5
)

// lane is one stage slot's audio track.
type lane struct {
	slot  int
	names []string
}

// laneTap receives one stage presenter session's audio for its lane.
type laneTap struct {
	r    *Recorder
	lane int
}

// WriteAudio queues a stage presenter's Opus packet (broadcast.Tap); it never blocks.
func (t laneTap) WriteAudio(session string, pkt *rtp.Packet) {
	t.r.enqueue(srcStage, t.lane, "", session, pkt)
}

// Join implements broadcast.StageTap, on the presenter's read loop: it only looks up or
// adds the slot's lane.
func (r *Recorder) Join(m broadcast.StageMember) broadcast.Tap {
	if !r.opts.StageAudio {
		return nil
	}
	name := m.Name
	if strings.TrimSpace(name) == "" {
		name = "Speaker " + strconv.Itoa(m.Slot+1)
	}
	r.stageMu.Lock()
	defer r.stageMu.Unlock()
	for i := range r.lanes {
		if r.lanes[i].slot == m.Slot {
			if !slices.Contains(r.lanes[i].names, name) {
				r.lanes[i].names = append(r.lanes[i].names, name)
				r.lanesVer.Add(1)
			}
			return laneTap{r, i}
		}
	}
	if len(r.lanes) == broadcast.MaxStage { // slots are fewer: cannot happen
		return nil
	}
	r.lanes = append(r.lanes, lane{slot: m.Slot, names: []string{name}})
	r.lanesVer.Add(1)
	return laneTap{r, len(r.lanes) - 1}
}

// Leave implements broadcast.StageTap: the slot's track stays, and a speaker coming back
// to the slot continues it.
func (r *Recorder) Leave(broadcast.StageMember) {}

// laneTrack is the Matroska track number of lane i.
func laneTrack(i int) uint64 { return cameraTrack + 1 + uint64(i) }

// handleStage writes one stage presenter's Opus packet to its slot's track, once two slots
// were heard, timed like the other tracks: RTP time from the session's first packet, placed
// where the timeline was when the track's audio began.
func (r *Recorder) handleStage(it item) {
	if len(it.pkt.Payload) == 0 {
		return
	}
	if v := r.lanesVer.Load(); v != r.headerVer {
		r.headerVer = v
		r.laneCount = r.heardLanes()
		if err := r.declareLanes(); err != nil {
			r.fail(err)
		}
	}
	if r.laneCount < 2 { // track 1 holds the only presenter's audio
		return
	}
	c := &r.laneClocks[it.lane]
	ms := c.at(it.session, it.pkt.Timestamp, r.sessionStart(c, it.session))
	if lag := r.lastMs - ms; lag > maxLagMs {
		// The lane fell behind the timeline (a sender clock slower than the others', a
		// burst held up in the network) so far that the muxer would drop its blocks:
		// it moves up to the timeline, a short gap in the track rather than lost audio.
		c.offset += lag
		c.lastMs += lag
		ms += lag
	}
	r.write(r.writers[laneTrack(it.lane)-1], true, ms, it.pkt.Payload)
}

// heardLanes is how many stage slots were heard so far.
func (r *Recorder) heardLanes() int {
	r.stageMu.Lock()
	defer r.stageMu.Unlock()
	return len(r.lanes)
}

// laneName is a track's name from the names of its speakers (def: none yet), padded to
// nameCap bytes.
func laneName(names []string, def string) string {
	s := def
	if len(names) > 0 {
		s = strings.Join(names, " / ")
	}
	for len(s) > nameCap {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s + strings.Repeat("\x00", nameCap-len(s))
}

// stageTracks are the tracks of a stage recording: all of them (inUse false), as declared
// when the file starts, or those in use: track 1, the video tracks and, once two slots were
// heard, each slot's.
func (r *Recorder) stageTracks(f format, codecPrivate []byte, inUse bool) []webm.TrackEntry {
	r.stageMu.Lock()
	lanes := make([][]string, len(r.lanes))
	for i, l := range r.lanes {
		lanes[i] = slices.Clone(l.names)
	}
	r.stageMu.Unlock()
	all := tracks(f, codecPrivate)
	if inUse && len(lanes) < 2 {
		var names []string
		if len(lanes) == 1 {
			names = lanes[0]
		}
		all[0].Name = laneName(names, all[0].Name)
		return all
	}
	n := broadcast.MaxStage
	if inUse {
		n = len(lanes)
	}
	all[0].Name = laneName(nil, "Active speaker")
	for i := range n {
		var names []string
		if i < len(lanes) {
			names = lanes[i]
		}
		all = append(all, webm.TrackEntry{Name: laneName(names, "Speaker"), TrackNumber: laneTrack(i), TrackUID: laneTrack(i),
			CodecID: "A_OPUS", TrackType: 2, Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 2}})
	}
	return all
}

// trackEntries encodes as a Tracks element's content; tracksElement as the element, the way
// ebml-go writes it in the header.
type (
	trackEntries struct {
		TrackEntry []webm.TrackEntry `ebml:"TrackEntry"`
	}
	tracksElement struct {
		Tracks trackEntries `ebml:"Tracks"`
	}
)

// findTracks remembers where the file's Tracks element (as declared) is, for declareLanes.
func (r *Recorder) findTracks(declared []webm.TrackEntry) error {
	var elem bytes.Buffer
	if err := ebml.Marshal(&tracksElement{Tracks: trackEntries{declared}}, &elem); err != nil {
		return fmt.Errorf("encode tracks: %w", err)
	}
	head := make([]byte, headerScan)
	n, err := r.f.ReadAt(head, 0)
	if n == 0 && err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	at := bytes.Index(head[:n], elem.Bytes())
	if at < 0 {
		return errors.New("tracks element not found in the header")
	}
	r.tracksAt, r.tracksElem = int64(at), elem.Bytes()
	return nil
}

// declareLanes rewrites the Tracks element in place to list the slots heard so far.
func (r *Recorder) declareLanes() error {
	if r.tracksElem == nil {
		return nil
	}
	var body bytes.Buffer
	if err := ebml.Marshal(&trackEntries{r.stageTracks(r.format, r.codecPrivate, true)}, &body); err != nil {
		return fmt.Errorf("encode tracks: %w", err)
	}
	// The element keeps its ID and size field; the entries no longer listed become a Void.
	hdr := 4 + sizeLen(r.tracksElem[4])
	out := append(append([]byte{}, r.tracksElem[:hdr]...), body.Bytes()...)
	rest := len(r.tracksElem) - len(out)
	switch {
	case rest == 0:
	case rest >= 2 && rest-2 < 0x7f:
		out = append(out, 0xec, 0x80|byte(rest-2))
	case rest >= 9:
		v := uint64(rest - 9)
		out = append(out, 0xec, 0x01, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return fmt.Errorf("tracks rewrite leaves %d bytes", rest)
	}
	out = append(out, make([]byte, len(r.tracksElem)-len(out))...)
	if _, err := r.f.WriteAt(out, r.tracksAt); err != nil {
		return fmt.Errorf("rewrite tracks: %w", err)
	}
	return nil
}

// sizeLen is the length of an EBML size field from its first byte.
func sizeLen(b byte) int {
	n := 1
	for mask := byte(0x80); mask != 0 && b&mask == 0; mask >>= 1 {
		n++
	}
	return n
}
