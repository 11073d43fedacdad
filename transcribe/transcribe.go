// Package transcribe turns a presenter's audio into caption events: reorder and decode Opus,
// detect voice activity, cut utterances, and run a speech engine on them in a bounded worker
// pool that emits partial captions while someone speaks and a final caption when they pause.
// Live webinars (Live) and files (TranscribeFile) go through the same segmentation and pool,
// so accuracy measured offline is the live path's accuracy.
package transcribe

import (
	"fmt"
	"time"
)

// Event is one caption: a partial (replaced in place by later partials and then by the final
// with the same ID) or a final (immutable, stored). Start and End are audio time since the
// session's first audio packet (or the start of the file); SessionStart is the wall time that
// packet arrived (zero for a file).
//
// A partial with empty Text clears a shown partial whose utterance turned out to hold no
// words (a cough, noise), since no final will replace it. Finals never have empty Text unless
// Failed is set: then the engine failed after retries and Text is empty, Error says why, and
// Start/End still record the stretch of speech that has no caption.
type Event struct {
	ID      string // session + utterance number: stable across partials and the final
	Session string
	Final   bool
	Failed  bool
	Start   time.Duration
	End     time.Duration
	Text    string
	Engine  string
	Error   string        // why a Failed final failed
	Lag     time.Duration // wall time from the end of this event's audio to its emission

	// SessionStart places the session in time, so a webinar's sessions can share a timeline.
	SessionStart time.Time
	// Gap marks a Failed final that was skipped live because the pool was too far behind:
	// its audio is kept and decoded when the pool is idle, and a Fill event follows.
	Gap bool
	// Fill is the late final of an earlier Gap, with the same ID: it completes the stored
	// transcript and is not meant for live viewers.
	Fill bool
	// Status, when set, makes this a status event rather than a caption: the state of live
	// captions (StatusOK, StatusDelayed or StatusPaused), with Lag how far behind they are.
	Status string
}

// Live caption states reported in Event.Status.
const (
	StatusOK      = "ok"      // captions keep up
	StatusDelayed = "delayed" // the pool is behind: partials are shed, finals may be less accurate
	StatusPaused  = "paused"  // the pool is skipping audio; the transcript is completed later
)

// utteranceID is the ID shared by an utterance's partials and its final.
func utteranceID(session string, n int) string {
	return fmt.Sprintf("%s-%d", session, n)
}
