package captions

import (
	"encoding/json"
	"strconv"
)

// Frame is one caption event encoded once for every transport. SSE and JSON share one
// backing array, so a Publish to any number of subscribers costs the same allocations.
// Frames are read-only: many subscribers hold the same bytes.
type Frame struct {
	Seq   int64
	Final bool
	// SSE is a complete Server-Sent Events frame, ready to write as is:
	//
	//	id: <seq>\n        (finals only, so a browser's Last-Event-ID is the last final it saw)
	//	data: <json>\n
	//	\n
	//
	// There is deliberately no "event:" line: captions use the default "message" type, so
	// EventSource.onmessage works and the id/data layout is the whole protocol. Other event
	// kinds, if ever needed, get a named "event:" line and leave this one alone.
	SSE []byte
	// JSON is the Caption as a JSON object (a WebSocket text message). It never contains a
	// newline, which is what makes the single "data:" line above valid.
	JSON []byte
}

// Encode marshals c once and builds its Frame. The live path (Publish) and the resume path
// (FramesFor) both use it, so a replayed final is byte for byte what a live viewer got.
func Encode(c Caption) Frame {
	js, err := json.Marshal(c)
	if err != nil {
		// Caption holds only strings, ints and bools: Marshal cannot fail on it. Invalid
		// UTF-8 is replaced by U+FFFD, not rejected.
		panic("captions: marshal caption: " + err.Error())
	}
	n := len("data: ") + len(js) + len("\n\n")
	if c.Final {
		n += len("id: \n") + 20
	}
	buf := make([]byte, 0, n)
	if c.Final {
		buf = append(buf, "id: "...)
		buf = strconv.AppendInt(buf, c.Seq, 10)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	start := len(buf)
	buf = append(buf, js...)
	end := len(buf)
	buf = append(buf, "\n\n"...)
	return Frame{Seq: c.Seq, Final: c.Final, SSE: buf, JSON: buf[start:end:end]}
}

// FramesFor encodes stored captions (normally finals read back for a resume) as SSE frames,
// in the order given.
func FramesFor(cs []Caption) [][]byte {
	out := make([][]byte, 0, len(cs))
	for _, c := range cs {
		out = append(out, Encode(c).SSE)
	}
	return out
}

// ParseLastEventID reads an SSE Last-Event-ID header value (a final's Seq). An empty or
// malformed value means "no resume" and gives 0, ok=false: a bad header must not stop a
// viewer from getting live captions.
func ParseLastEventID(s string) (seq int64, ok bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// EncodeStatus builds the frame of a status event:
//
//	event: status\n
//	data: {"state":"delayed","lag_ms":4200}\n
//	\n
//
// It has no id line (Last-Event-ID stays the last final) and Seq 0, so a resume never
// filters it out. Browsers read it with addEventListener("status", ...).
func EncodeStatus(s Status) Frame {
	js, err := json.Marshal(s)
	if err != nil {
		panic("captions: marshal status: " + err.Error()) // a string and an int cannot fail
	}
	buf := make([]byte, 0, len("event: status\ndata: \n\n")+len(js))
	buf = append(buf, "event: status\ndata: "...)
	start := len(buf)
	buf = append(buf, js...)
	end := len(buf)
	buf = append(buf, "\n\n"...)
	return Frame{SSE: buf, JSON: buf[start:end:end]}
}
