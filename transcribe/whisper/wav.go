package whisper

import (
	"encoding/binary"

	"lectern/transcribe"
)

// encodeWAV writes pcm as a 16 kHz mono 16-bit PCM WAV file, the one format every Whisper
// server reads without ffmpeg.
func encodeWAV(pcm []float32) []byte {
	const header = 44
	n := len(pcm) * 2
	b := make([]byte, header+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)  // mono
	binary.LittleEndian.PutUint32(b[24:], transcribe.SampleRate)
	binary.LittleEndian.PutUint32(b[28:], transcribe.SampleRate*2) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)                       // block align
	binary.LittleEndian.PutUint16(b[34:], 16)                      // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	for i, v := range pcm {
		s := v * 32767
		switch {
		case s > 32767:
			s = 32767
		case s < -32768:
			s = -32768
		}
		binary.LittleEndian.PutUint16(b[header+2*i:], uint16(int16(s)))
	}
	return b
}
