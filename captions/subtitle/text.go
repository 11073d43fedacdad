package subtitle

import (
	"bytes"
	"encoding/json"

	"lectern/captions"
)

// writeTXT writes one paragraph per final, separated by blank lines: a readable transcript.
func writeTXT(buf *bytes.Buffer, finals []captions.Caption) {
	for i, c := range finals {
		if i > 0 {
			buf.WriteString("\n")
		}
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

// writeJSON writes the finals as one JSON array ("[]" when there are none), one per line.
func writeJSON(buf *bytes.Buffer, finals []captions.Caption) error {
	if len(finals) == 0 {
		buf.WriteString("[]\n")
		return nil
	}
	buf.WriteString("[\n")
	for i, c := range finals {
		b, err := json.Marshal(jsonCaption{ID: c.ID, Seq: c.Seq, StartMS: c.StartMS, EndMS: c.EndMS,
			Text: c.Text, Lang: c.Lang, Speaker: c.Speaker})
		if err != nil {
			return err
		}
		buf.WriteString("  ")
		buf.Write(b)
		if i < len(finals)-1 {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
	}
	buf.WriteString("]\n")
	return nil
}
