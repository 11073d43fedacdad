package whisper

import (
	"math"
	"testing"
	"time"
)

// FuzzVerboseJSON feeds arbitrary server answers through the parser and the guard: no
// panic, and every time lies inside the audio with end ≥ start.
func FuzzVerboseJSON(f *testing.F) {
	for _, s := range []string{
		`{"task":"transcribe","language":"english","duration":1.5,"text":" Hello.","segments":[{"id":0,"seek":0,"start":0.0,"end":1.5,"text":" Hello.","tokens":[1,2],"temperature":0.0,"avg_logprob":-0.2,"compression_ratio":1.1,"no_speech_prob":0.01}]}`,
		`{"text":"only text","duration":2}`,
		`{"segments":[{"start":-5,"end":1e308,"text":"x","words":[{"word":" x","start":3,"end":1}]}]}`,
		`{"segments":[{"start":"1","end":2}]}`,
		`{"error":"failed to process audio"}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	e, err := New(Config{URLs: []string{"http://127.0.0.1:1"}, Logger: quiet})
	if err != nil {
		f.Fatal(err)
	}
	pcm := tone(1, 0.3)
	audio := time.Second
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := parseVerboseJSON(body)
		if err != nil {
			return
		}
		res := e.result(v, pcm, "en")
		for _, s := range res.Segments {
			if s.Start < 0 || s.End < s.Start || s.End > audio || math.IsNaN(s.NoSpeechProb) {
				t.Errorf("segment %+v outside 0–%v", s, audio)
			}
			for _, w := range s.Words {
				if w.Start < 0 || w.End < w.Start || w.End > audio {
					t.Errorf("word %+v outside 0–%v", w, audio)
				}
			}
		}
		errorMessage(body)
	})
}
