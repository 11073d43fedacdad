package whisper

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// fakeServer speaks whisper.cpp's or OpenAI's transcription protocol: it parses the
// multipart request as the real servers do, decodes the WAV, records what it got and
// answers with the reply the test chose.
type fakeServer struct {
	t   *testing.T
	api string
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []fakeRequest
	inFlight int
	maxSeen  int // most requests served at once

	// reply answers a well-formed request; nil means 200 with one segment "hello world".
	reply func(r fakeRequest, w http.ResponseWriter, req *http.Request)
}

type fakeRequest struct {
	Fields  map[string][]string
	Auth    string
	Rate    int
	Chans   int
	Bits    int
	Samples []int16
}

func newFake(t *testing.T, api string) *fakeServer {
	f := &fakeServer{t: t, api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) URL() string { return f.srv.URL }

func (f *fakeServer) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

func (f *fakeServer) serve(w http.ResponseWriter, req *http.Request) {
	path := "/inference"
	if f.api == APIOpenAI {
		path = "/v1/audio/transcriptions"
	}
	if req.Method != http.MethodPost || req.URL.Path != path {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	if err := req.ParseMultipartForm(32 << 20); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"bad multipart: %v"}`, err)
		return
	}
	file, _, err := req.FormFile("file")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"no 'file' field in the request"}`)
		return
	}
	data, _ := io.ReadAll(file)
	r := fakeRequest{Fields: req.MultipartForm.Value, Auth: req.Header.Get("Authorization")}
	if err := decodeWAV(data, &r); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"failed to read audio data"}`)
		return
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	f.inFlight++
	f.maxSeen = max(f.maxSeen, f.inFlight)
	reply := f.reply
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if reply == nil {
		reply = replySegments(f.api, seg{0, 1, "Hello world.", 0.01})
	}
	reply(r, w, req)
}

// decodeWAV parses a RIFF WAV as a server would.
func decodeWAV(b []byte, r *fakeRequest) error {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return fmt.Errorf("not RIFF/WAVE")
	}
	if int(binary.LittleEndian.Uint32(b[4:]))+8 != len(b) {
		return fmt.Errorf("RIFF size %d for %d bytes", binary.LittleEndian.Uint32(b[4:]), len(b))
	}
	var data []byte
	for p := 12; p+8 <= len(b); {
		id, n := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		if p+8+n > len(b) {
			return fmt.Errorf("chunk %q overruns file", id)
		}
		body := b[p+8 : p+8+n]
		switch id {
		case "fmt ":
			if binary.LittleEndian.Uint16(body) != 1 {
				return fmt.Errorf("not PCM")
			}
			r.Chans = int(binary.LittleEndian.Uint16(body[2:]))
			r.Rate = int(binary.LittleEndian.Uint32(body[4:]))
			r.Bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			data = body
		}
		p += 8 + n + n%2
	}
	for i := 0; i+1 < len(data); i += 2 {
		r.Samples = append(r.Samples, int16(binary.LittleEndian.Uint16(data[i:])))
	}
	return nil
}

type seg struct {
	start, end float64
	text       string
	noSpeech   float64
}

// replySegments answers in the server's own verbose_json dialect.
func replySegments(api string, segs ...seg) func(fakeRequest, http.ResponseWriter, *http.Request) {
	return func(r fakeRequest, w http.ResponseWriter, _ *http.Request) {
		var out []map[string]any
		text := ""
		for i, s := range segs {
			m := map[string]any{
				"id": i, "start": s.start, "end": s.end, "text": " " + s.text,
				"temperature": 0.0, "avg_logprob": -0.25, "no_speech_prob": s.noSpeech,
				"tokens": []int{50364, 2425, 1002},
			}
			if api == APIOpenAI {
				m["seek"] = 0
				m["compression_ratio"] = 1.1
			} else {
				// whisper.cpp adds word timings to each segment.
				m["words"] = []map[string]any{
					{"word": " " + s.text, "start": s.start, "end": s.end, "t_dtw": -1, "probability": 0.9},
				}
			}
			out = append(out, m)
			text += " " + s.text
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"task": "transcribe", "language": "english",
			"duration": float64(len(r.Samples)) / 16000, "text": text, "segments": out,
		})
	}
}

func replyStatus(status int, body string) func(fakeRequest, http.ResponseWriter, *http.Request) {
	return func(_ fakeRequest, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// tone is loud enough to count as speech for the silence guard.
func tone(seconds float64, amp float64) []float32 {
	n := int(seconds * 16000)
	pcm := make([]float32, n)
	for i := range pcm {
		pcm[i] = float32(amp * math.Sin(2*math.Pi*220*float64(i)/16000))
	}
	return pcm
}
