package transcribe

import (
	"path/filepath"
	"testing"
)

// BenchmarkVADSegment measures VAD and segmentation per second of real speech (no engine):
// ns/op divided by 1e9 is the real-time factor of this stage.
func BenchmarkVADSegment(b *testing.B) {
	pcm := readWAV(b, "/work/shared/speech/real/real_jfk.wav")[:SampleRate]
	v := newVAD(DefaultVADConfig())
	for b.Loop() {
		for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
			v.classify(pcm[i : i+FrameSamples])
		}
	}
}

// BenchmarkOpusDecode measures reorder + decode to 16 kHz per second of Opus (50 packets).
func BenchmarkOpusDecode(b *testing.B) {
	dir := b.TempDir()
	pcm := concat(readWAV(b, "/work/shared/speech/real/real_jfk.wav"))
	path := filepath.Join(dir, "jfk.wav")
	writeWAV16(b, path, pcm)
	pkts := rtpize(opusPackets(b, path), 1, 0, 0, 0)[:50]
	b.ResetTimer()
	for b.Loop() {
		j := newJitterBuffer(5)
		o := newOpusTimeline(5)
		var out []tapPacket
		for _, p := range pkts {
			out = j.push(tapPacket{seq: p.SequenceNumber, ts: p.Timestamp, payload: p.Payload}, out[:0])
			for _, q := range out {
				o.add(q, func([]float32) {}, func(int64) {})
			}
		}
	}
}
