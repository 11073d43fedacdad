package transcribe

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// FuzzLiveRTP feeds arbitrary RTP (sequence numbers, timestamps, session switches and Opus
// payloads) into a Live: nothing may panic, Close must return (no goroutine left behind), and
// every final must have text or be marked failed.
//
// Input layout, repeated: 1 byte flags (bit 0: switch session), 2 bytes seq, 4 bytes ts,
// 1 byte payload length, payload.
func FuzzLiveRTP(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 3, 0xfc, 0xff, 0xfe})
	f.Add([]byte{0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 2, 0x78, 0x01, 1, 0, 0, 0, 0, 0, 0, 1, 0x08})
	f.Add(bytes.Repeat([]byte{0, 0, 5, 0, 0, 3, 0xc0, 4, 0x48, 0x0b, 0xe4, 0xc1}, 20))
	f.Add([]byte{0, 0, 1, 0x80, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		cfg.Workers = 1
		cfg.RetryBackoff = time.Millisecond
		pool, err := NewPool(&spanEngine{}, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &collector{}
		live := NewLive(pool, cfg, c.sink)
		session := "a"
		for len(data) >= 8 {
			flags, seq, ts, n := data[0], binary.BigEndian.Uint16(data[1:3]), binary.BigEndian.Uint32(data[3:7]), int(data[7])
			data = data[8:]
			n = min(n, len(data))
			if flags&1 != 0 {
				session += "b"
			}
			live.WriteAudio(session, &rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: data[:n]})
			data = data[n:]
		}
		live.WriteAudio(session, nil)
		live.Close()
		pool.Close()
		for _, e := range c.finals() {
			if e.Text == "" && !e.Failed {
				t.Errorf("empty final: %+v", e)
			}
		}
	})
}

// FuzzWAV: the WAV parser never panics, and what it accepts decodes to samples in [-1, 1].
func FuzzWAV(f *testing.F) {
	f.Add(encodeWAV(tone(5*time.Millisecond, 440, 0.5, 8000), 8000, 1, 16, false, false))
	f.Add(encodeWAV(tone(5*time.Millisecond, 440, 0.5, 8000), 8000, 2, 24, false, true))
	f.Add(encodeWAV(tone(5*time.Millisecond, 440, 0.5, 8000), 8000, 1, 64, true, false))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pcm, rate, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			return
		}
		if rate < 1000 {
			t.Errorf("accepted rate %d", rate)
		}
		for i, s := range pcm {
			if !(s >= -1 && s <= 1) {
				t.Fatalf("sample %d = %g", i, s)
			}
		}
	})
}
