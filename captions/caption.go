// Package captions carries caption events from the speech pipeline to viewers: the Caption
// value, the per-webinar hub that fans events out per language, and subtitle exports.
package captions

// Caption is one caption event, exactly as it goes on the wire to viewers (SSE data is this
// value as JSON). A partial carries the ID its final will have, so clients replace it in place;
// a final is immutable. StartMS and EndMS are milliseconds on the webinar's timeline: since
// its first audio, every presenter session (reconnect, server restart) following the last
// with its real gap.
type Caption struct {
	ID      string `json:"id"`
	Seq     int64  `json:"seq"`
	Final   bool   `json:"final"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	Text    string `json:"text"`
	Lang    string `json:"lang"`
	Speaker string `json:"speaker,omitempty"`
	// Status is set on a translated stream when the translation could not be produced and Text
	// is the source line instead ("translation unavailable").
	Status string `json:"status,omitempty"`
	// Pivot names the language a translation went through, when it was not direct.
	Pivot string `json:"pivot,omitempty"`
	// Unsaved marks a final the store could not take yet (a full disk): shown now, stored
	// later with the same ID and Seq, when the same final is sent again without the mark.
	Unsaved bool `json:"unsaved,omitempty"`
}

// Status is the state of a webinar's live captions, sent to viewers as an SSE event of its
// own type ("event: status") so caption handlers never see it. State is "ok", "delayed" (the
// speech engine is behind: captions come late, partials may stop) or "paused" (it is skipping
// audio to catch up; the stored transcript is completed later) or "unavailable" (no live
// captions for this webinar; Reason says why). LagMS is how far behind the words captions are.
type Status struct {
	State  string `json:"state"`
	LagMS  int64  `json:"lag_ms"`
	Reason string `json:"reason,omitempty"`
}
