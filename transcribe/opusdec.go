package transcribe

import (
	"time"

	"github.com/pion/opus"
)

// maxFill is the longest gap in the RTP timeline filled with audio (concealment, then
// silence). Longer gaps (DTX, a muted presenter) close any open utterance with this much
// silence and then jump the timeline, so a pause costs no CPU.
const maxFill = 2 * time.Second

// opusTimeline decodes in-order Opus packets to 16 kHz mono and places them on the session's
// timeline by RTP timestamp (48 kHz clock, per RFC 7587), so lost packets and DTX pauses keep
// captions aligned with the video.
//
// pion/opus has no packet-loss concealment API (an empty packet is an error), so lost audio is
// concealed here: the last decoded frame repeated with a fast fade for up to plcFrames frames,
// then silence. That is crude for listening but keeps the recogniser's input continuous.
type opusTimeline struct {
	dec       opus.Decoder
	out       []float32
	last      []float32 // last decoded 20 ms, source of concealment
	plcFrames int

	started bool
	firstTS uint32
	extTS   int64 // last packet's timestamp, unwrapped, relative to firstTS
	pos     int64 // samples (16 kHz) handed to the pipeline so far

	decodeErrors, concealed uint64
}

func newOpusTimeline(plcFrames int) *opusTimeline {
	dec, err := opus.NewDecoderWithOutput(SampleRate, 1)
	if err != nil {
		panic(err) // 16 kHz mono is always supported
	}
	return &opusTimeline{dec: dec, out: make([]float32, 5760), plcFrames: plcFrames}
}

func (o *opusTimeline) reset() {
	o.dec.Init(SampleRate, 1) //nolint:errcheck // same arguments as the constructor
	o.started, o.pos, o.last = false, 0, o.last[:0]
}

// add decodes one packet; feed receives PCM at its timeline position, jump moves the timeline
// forward without audio.
func (o *opusTimeline) add(p tapPacket, feed func(pcm []float32), jump func(pos int64)) {
	if !o.started {
		o.started, o.firstTS, o.extTS = true, p.ts, 0
	} else {
		o.extTS += int64(int32(p.ts - (o.firstTS + uint32(o.extTS))))
	}
	at := o.extTS / 3 // 48 kHz → 16 kHz
	if gap := at - o.pos; gap > 0 {
		o.fill(gap, feed, jump)
	}
	n, err := o.dec.DecodeToFloat32(p.payload, o.out)
	if err != nil || n == 0 {
		// Treated as lost: the next packet's timestamp opens a gap that is concealed.
		o.decodeErrors++
		return
	}
	pcm := o.out[:n]
	o.last = append(o.last[:0], pcm[max(0, n-FrameSamples):]...)
	feed(pcm)
	o.pos += int64(n)
}

// fill covers gap samples before the next packet: concealment, silence, then a jump.
func (o *opusTimeline) fill(gap int64, feed func(pcm []float32), jump func(pos int64)) {
	maxSamples := int64(maxFill.Seconds() * SampleRate)
	fill := min(gap, maxSamples)
	buf := make([]float32, FrameSamples)
	gain := float32(0.7)
	for done, frames := int64(0), 0; done < fill; frames++ {
		n := min(int64(FrameSamples), fill-done)
		chunk := buf[:n]
		clear(chunk)
		if frames < o.plcFrames && len(o.last) > 0 {
			for i := range chunk {
				chunk[i] = o.last[i%len(o.last)] * gain
			}
			gain *= 0.5
			o.concealed++
		}
		feed(chunk)
		done += n
	}
	o.pos += fill
	if gap > fill {
		o.pos += gap - fill
		jump(o.pos)
	}
}
