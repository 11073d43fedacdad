package record

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// The file's container follows the presenter's video codec, known from the
// first video packet (and, for H.264, its parameter sets, which Matroska
// wants in the header). Until then the recorder holds what arrives, up to
// holdMax items; a recording with no video by then, or stopped before any, is
// a WebM file whose video tracks stay empty. WebM cannot hold H.264, so H.264
// sessions are written to Matroska, which every player that reads WebM reads.
const (
	mimeVP8  = "video/VP8"
	mimeH264 = "video/H264"
	// holdMax is about 10 s of audio (50 packets a second), plus the video
	// packets before the first H.264 parameter sets.
	holdMax = 1024
)

// format is a container and the video codec it holds.
type format struct {
	docType, ext, codecID string
}

var (
	webmFormat = format{docType: "webm", ext: ".webm", codecID: "V_VP8"}
	mkvFormat  = format{docType: "matroska", ext: ".mkv", codecID: "V_MPEG4/ISO/AVC"}
)

// ContentType is the HTTP content type of a recording file, by extension.
func ContentType(path string) string {
	if strings.EqualFold(filepath.Ext(path), mkvFormat.ext) {
		return "video/x-matroska"
	}
	return "video/webm"
}

// recordable returns the canonical spelling of a video codec the recorder
// writes.
func recordable(mime string) (string, bool) {
	switch {
	case strings.EqualFold(mime, mimeVP8):
		return mimeVP8, true
	case strings.EqualFold(mime, mimeH264):
		return mimeH264, true
	}
	return "", false
}

// hold keeps an item until the container is known, and starts the file when
// it is (or when waiting any longer would hold too much).
func (r *Recorder) hold(it item) {
	r.pending = append(r.pending, it)
	switch {
	case it.mime == mimeVP8:
		r.start(webmFormat, nil)
	case it.mime == mimeH264:
		sps, pps := paramSets(it.pkt.Payload)
		if sps != nil {
			r.sps = sps
		}
		if pps != nil {
			r.pps = pps
		}
		if cfg, ok := avcConfig(r.sps, r.pps); ok {
			r.start(mkvFormat, cfg)
		} else if !r.askedParams {
			// They come with a keyframe; a presenter mid-stream sends one on request.
			r.askedParams = true
			r.askKeyframe(it.src, -1)
		}
	case len(r.pending) >= holdMax:
		r.opts.Log.Warn("no recordable video yet: recording audio to WebM; later H.264 video will be missing")
		r.start(webmFormat, nil)
	}
}

// start writes the file header for f (codecPrivate: H.264's avcC) and
// replays what was held. On failure the recording stays failed and nothing
// more is written.
func (r *Recorder) start(f format, codecPrivate []byte) {
	pending := r.pending
	r.pending = nil
	if f.ext != webmFormat.ext {
		if err := r.rename(f.ext); err != nil {
			r.dead = true
			r.fail(err)
			return
		}
	}
	opts := append(r.writerOptions(), mkvcore.WithEBMLHeader(&webm.EBMLHeader{
		EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8,
		DocType: f.docType, DocTypeVersion: 4, DocTypeReadVersion: 2,
	}))
	declared := tracks(f, codecPrivate)
	if r.opts.StageAudio {
		declared = r.stageTracks(f, codecPrivate, false)
	}
	ws, err := webm.NewSimpleBlockWriter(r.f, declared, opts...)
	if err != nil {
		r.dead = true
		r.fail(fmt.Errorf("start %s: %w", f.docType, err))
		return
	}
	r.writers, r.format, r.codecPrivate = ws, f, codecPrivate
	r.audio, r.video, r.camera = ws[0], ws[1], ws[2]
	if r.opts.StageAudio {
		r.listHeard(declared)
	}
	r.videoMime = mimeVP8
	if f == mkvFormat {
		r.videoMime = mimeH264
	}
	for _, it := range pending {
		r.handle(it)
	}
}

// listHeard rewrites the header just written to list only the stage slots heard so far.
// Should that fail, the file keeps every declared track (some possibly empty).
func (r *Recorder) listHeard(declared []webm.TrackEntry) {
	r.headerVer = r.lanesVer.Load()
	r.laneCount = r.heardLanes()
	err := r.findTracks(declared)
	if err == nil {
		err = r.declareLanes()
	}
	if err != nil {
		r.tracksElem = nil
		r.opts.Log.Warn("recording lists every stage slot's track", "err", err)
	}
}

// rename gives the file the extension of its container (the Manager and the
// API find it by that).
func (r *Recorder) rename(ext string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	to := strings.TrimSuffix(r.path, filepath.Ext(r.path)) + ext
	if err := os.Rename(r.path, to); err != nil {
		return fmt.Errorf("rename to %s: %w", ext, err)
	}
	r.path = to
	return nil
}

func tracks(f format, codecPrivate []byte) []webm.TrackEntry {
	return []webm.TrackEntry{
		{Name: "Audio", TrackNumber: audioTrack, TrackUID: audioTrack, CodecID: "A_OPUS", TrackType: 2,
			Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 2}},
		// Width and height are required by some players; the real size is in
		// the keyframes and decoders follow it.
		{Name: "Screen share, else camera", TrackNumber: videoTrack, TrackUID: videoTrack, CodecID: f.codecID, TrackType: 1,
			CodecPrivate: codecPrivate, Video: &webm.Video{PixelWidth: 640, PixelHeight: 480}},
		{Name: "Camera during screen share", TrackNumber: cameraTrack, TrackUID: cameraTrack, CodecID: f.codecID, TrackType: 1,
			CodecPrivate: codecPrivate, Video: &webm.Video{PixelWidth: 640, PixelHeight: 480}},
	}
}
