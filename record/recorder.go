// Package record writes a webinar's presenter media as viewers get it: Opus
// audio, camera and screen share, depacketized from RTP without transcoding,
// to WebM for VP8 and to Matroska for H.264 (container.go). Clusters have unknown size and start at least every 2 s, so a
// process killed mid-way leaves a file playable up to its last cluster.
//
// Viewers see the camera and the screen share side by side; a file cannot
// composite them without transcoding, and players (browsers first) show only
// the first video track. So the first video track is what a teacher wants to
// see when opening the file: the screen share while it is shared, the camera
// otherwise (switching at keyframes, which decoders follow, resolution
// included). The camera is not lost while the screen is shown: it goes to a
// second video track, "Camera during screen share". Each camera frame is
// written once, so a webinar without screen share costs no extra bytes.
//
// Audio is unmixed: with several presenters on the stage, each one's Opus goes
// to a track of its own, named after them (stage.go).
package record

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
)

const (
	audioTrack  = 1
	videoTrack  = 2 // the main picture: the screen share while shared, else the camera
	cameraTrack = 3 // the camera while the main picture shows the screen share
	// queueLen bounds packets waiting for the disk: about 5 s of audio+video
	// at typical webinar rates. Beyond it packets are dropped, not waited for.
	queueLen = 2048
	// cuesReserve is space kept at the file start for the cue index (about
	// 20 bytes per cluster: several hours at one cluster a second).
	cuesReserve = 256 << 10
	// sessionGapMs separates a reconnected presenter's first frame from the
	// previous session's last one.
	sessionGapMs = 20
	// sortWindowMs is how far apart in time the tracks' blocks may reach the
	// muxer (several presenters' audio, network jitter, a frame assembled late)
	// without a block being dropped; sortMaxBlocks bounds the blocks held per
	// track meanwhile (2.5 s of audio).
	sortWindowMs  = 1000
	sortMaxBlocks = 128
)

// Options configure a Recorder. Zero values are valid.
type Options struct {
	Log *slog.Logger
	// Dropped counts packets dropped because the queue was full.
	Dropped prometheus.Counter
	// NeedKeyframe is called (from the recorder's goroutine) when the camera
	// (screen false) or the screen share (screen true) restarts, lost a packet
	// or is to become the main picture, and the recording waits for its keyframe.
	NeedKeyframe func(screen bool)
	// StageAudio records every stage presenter's own audio, one track per stage slot,
	// beside the active speaker's (stage.go), fed through the recorder's StageTap methods.
	StageAudio bool
}

// Recorder is a broadcast tap writing one WebM (or, for H.264, Matroska)
// file. WriteAudio, WriteVideo and WriteScreen never block: packets go to a
// bounded queue drained by the recorder's own goroutine.
type Recorder struct {
	opts Options
	q    chan item
	stop chan struct{}
	done chan struct{}
	once sync.Once
	f    *os.File

	// Owned by the writer goroutine. The writers are nil until the video
	// codec, and so the container, is known (container.go).
	audio       webm.BlockWriteCloser
	video       webm.BlockWriteCloser
	camera      webm.BlockWriteCloser
	writers     []webm.BlockWriteCloser // every track's, by track number - 1
	pending     []item
	videoMime   string
	sps, pps    []byte // H.264 parameter sets seen before the file started
	askedParams bool   // a keyframe (bringing them) was asked for
	audioClock  trackClock
	lastMs      int64
	pic         picture
	otherCodec  bool // a video packet in another codec was ignored (logged once)
	dead        bool // the file could not be started: nothing more is written
	// Stage audio (stage.go), owned by the writer goroutine.
	format       format
	codecPrivate []byte
	laneClocks   [broadcast.MaxStage]trackClock
	headerVer    uint64 // lanesVer the Tracks element lists
	laneCount    int    // lanes at headerVer
	tracksAt     int64  // where the Tracks element is in the file
	tracksElem   []byte // and what it was as declared (nil: never rewritten)

	// Lanes (stage.go), added by Join on presenters' read loops.
	stageMu  sync.Mutex
	lanes    []lane
	lanesVer atomic.Uint64

	mu       sync.Mutex
	path     string
	duration time.Duration
	err      error
}

type item struct {
	src     source
	lane    int // srcStage: the slot's lane
	mime    string
	session string
	pkt     *rtp.Packet
}

// Create starts a recording in a new file at path.
func Create(path string, opts Options) (*Recorder, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("record: create %s: %w", path, err)
	}
	r := &Recorder{
		opts:       opts,
		q:          make(chan item, queueLen),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		f:          f,
		path:       path,
		audioClock: trackClock{rate: 48000},
	}
	for i := range r.laneClocks {
		r.laneClocks[i].rate = 48000
	}
	r.pic.init()
	go r.run()
	return r, nil
}

func (r *Recorder) writerOptions() []mkvcore.BlockWriterOption {
	// Each recorder gets its own sorter: the library's default is one shared
	// instance. It holds blocks until they span sortWindowMs (or a track has
	// sortMaxBlocks waiting) and writes the oldest first, dropping a block older
	// than one written: tracks may lag each other by up to the window.
	sorter := mkvcore.MustBlockInterceptor(mkvcore.NewMultiTrackBlockSorter(
		mkvcore.WithMaxTimescaleDelay(sortWindowMs), mkvcore.WithMaxDelayedPackets(sortMaxBlocks),
		mkvcore.WithSortRule(mkvcore.BlockSorterDropOutdated)))
	info := *webm.DefaultSegmentInfo
	info.MuxingApp, info.WritingApp = "lectern", "lectern"
	info.DateUTC = time.Now().UTC()
	return []mkvcore.BlockWriterOption{
		mkvcore.WithSegmentInfo(&info),
		mkvcore.WithBlockInterceptor(sorter),
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesReserve),
		mkvcore.WithMinMaxClusterDuration(videoTrack, 1000, 2000),
		mkvcore.WithOnErrorHandler(func(err error) { r.fail(err) }),
		mkvcore.WithOnFatalHandler(func(err error) { r.fail(err) }),
	}
}

// WriteAudio queues a presenter Opus packet (broadcast.Tap): the active speaker's.
func (r *Recorder) WriteAudio(session string, pkt *rtp.Packet) {
	r.enqueue(srcAudio, 0, "", session, pkt)
}

// WriteVideo queues a presenter camera packet (broadcast.VideoTap). VP8 and
// H.264 are recorded; other codecs are ignored.
func (r *Recorder) WriteVideo(session, mime string, pkt *rtp.Packet) {
	if m, ok := recordable(mime); ok {
		r.enqueue(srcCamera, 0, m, session, pkt)
	}
}

// WriteScreen queues a presenter screen-share packet (broadcast.ScreenTap),
// under the same rules as WriteVideo.
func (r *Recorder) WriteScreen(session, mime string, pkt *rtp.Packet) {
	if m, ok := recordable(mime); ok {
		r.enqueue(srcScreen, 0, m, session, pkt)
	}
}

func (r *Recorder) enqueue(src source, lane int, mime, session string, pkt *rtp.Packet) {
	select {
	case <-r.stop:
		return
	default:
	}
	// The caller reuses pkt after we return.
	c := pkt.Clone()
	select {
	case r.q <- item{src: src, lane: lane, mime: mime, session: session, pkt: c}:
	default:
		if r.opts.Dropped != nil {
			r.opts.Dropped.Inc()
		}
	}
}

func (r *Recorder) run() {
	defer close(r.done)
	for {
		select {
		case it := <-r.q:
			r.handle(it)
		case <-r.stop:
			for {
				select {
				case it := <-r.q:
					r.handle(it)
				default:
					r.finish()
					return
				}
			}
		}
	}
}

func (r *Recorder) handle(it item) {
	switch {
	case r.dead:
		return
	case r.audio == nil:
		r.hold(it)
		return
	}
	switch it.src {
	case srcStage:
		r.handleStage(it)
		return
	case srcCamera, srcScreen:
		r.handleVideo(it)
		return
	}
	if len(it.pkt.Payload) == 0 {
		return
	}
	ms := r.audioClock.at(it.session, it.pkt.Timestamp, r.sessionStart(&r.audioClock, it.session))
	r.write(r.audio, true, ms, it.pkt.Payload)
}

// sessionStart is where a clock starting a new session begins: just after
// everything written so far, so timestamps stay monotonic across reconnects.
func (r *Recorder) sessionStart(c *trackClock, session string) int64 {
	if !c.started {
		if r.lastMs == 0 {
			return 0
		}
		return r.lastMs
	}
	if c.session != session {
		return r.lastMs + sessionGapMs
	}
	return 0
}

func (r *Recorder) write(w webm.BlockWriteCloser, key bool, ms int64, b []byte) {
	if _, err := w.Write(key, ms, b); err != nil {
		r.fail(err)
		return
	}
	if ms > r.lastMs {
		r.lastMs = ms
		r.mu.Lock()
		r.duration = time.Duration(ms) * time.Millisecond
		r.mu.Unlock()
	}
}

func (r *Recorder) finish() {
	if r.audio == nil {
		// Stopped before any video: an audio-only (or empty) WebM.
		r.start(webmFormat, nil)
	}
	if r.audio == nil {
		_ = r.f.Close()
		return
	}
	var err error
	for _, w := range r.writers {
		err = errors.Join(err, w.Close())
	}
	if err != nil {
		r.fail(err)
	}
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.opts.Log.Error("recording write failed", "err", err)
		r.err = fmt.Errorf("record: write: %w", err)
	}
}

// Path is the recording's file: its extension changes from .webm to .mkv
// when the presenter's video turns out to be H.264.
func (r *Recorder) Path() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.path
}

// Duration is the media time written so far.
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.duration
}

// Close writes what is queued, finalizes the file (cues, duration) and
// returns the first write error. It is safe to call more than once.
func (r *Recorder) Close() error {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
