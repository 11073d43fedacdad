package subtitle

import (
	"bytes"
	"encoding/json"

	"lectern/captions"
)

// writeTXT writes one paragraph per final, separated by blank lines: a readable transcript.
// Each speaker's turn begins with "Name: " where the speaker is known.
func writeTXT(buf *bytes.Buffer, finals []captions.Caption) {
	prev := ""
	for i, c := range finals {
		if i > 0 {
			buf.WriteString("\n")
		}
		if name := cleanText(c.Speaker); name != "" && name != prev {
			buf.WriteString(name + ": ")
		}
		prev = cleanText(c.Speaker)
		buf.WriteString(c.Text)
		buf.WriteString("\n")
	}
}

// jsonCaption is a final in the JSON transcript: the fields of the live Caption that still
// mean something after class, on the export's timeline.
type jsonCaption struct {
	ID      string `json:"id,omitempty"`
	Seq     int64  `json:"seq,omitempty"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
	Lang    string `json:"lang"`
	Speaker string `json:"speaker,omitempty"`
}

// writeJSON writes the transcript as one JSON object: the presenter sessions with where each
// starts on the timeline, and the finals, one a line.
//
//	{"sessions": [{"id": ..., "start_ms": ...}], "captions": [{...}, ...]}
func writeJSON(buf *bytes.Buffer, finals []captions.Caption, sessions []Session) error {
	if sessions == nil {
		sessions = []Session{}
	}
	b, err := json.Marshal(sessions)
	if err != nil {
		return err
	}
	buf.WriteString("{\n\"sessions\": ")
	buf.Write(b)
	buf.WriteString(",\n\"captions\": [")
	for i, c := range finals {
		b, err := json.Marshal(jsonCaption{ID: c.ID, Seq: c.Seq, StartMS: c.StartMS, EndMS: c.EndMS,
			Text: c.Text, Lang: c.Lang, Speaker: c.Speaker})
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n  ")
		buf.Write(b)
	}
	if len(finals) > 0 {
		buf.WriteString("\n")
	}
	buf.WriteString("]\n}\n")
	return nil
}
