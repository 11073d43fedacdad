package record

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lectern/broadcast"
)

// Broadcaster is the part of broadcast.Server a Manager taps.
type Broadcaster interface {
	AddTap(room string, t broadcast.Tap) (remove func())
	RequestKeyframe(room string)
	RequestScreenKeyframe(room string)
}

// StageBroadcaster is the part of broadcast.Server that gives every stage presenter's own
// audio. A Manager whose Broadcaster has it records each stage slot on a track of its own.
type StageBroadcaster interface {
	AddStageTap(room string, t broadcast.StageTap) (remove func())
}

// Manager runs at most one recording per webinar, each a tap on the
// webinar's broadcast room writing DIR/{webinar}/{id}.webm, or {id}.mkv when
// the presenter sends H.264.
type Manager struct {
	dir     string
	bc      Broadcaster
	log     *slog.Logger
	dropped prometheus.Counter

	mu     sync.Mutex
	active map[string]*active
}

type active struct {
	id     string
	rec    *Recorder
	remove func()
}

// Stopped describes a recording that has ended.
type Stopped struct {
	ID       string
	Duration time.Duration
	Bytes    int64
}

// NewManager records under dir; it registers lectern_record_dropped_packets_total on reg.
func NewManager(dir string, bc Broadcaster, reg prometheus.Registerer, log *slog.Logger) (*Manager, error) {
	dropped := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "lectern_record_dropped_packets_total",
		Help: "Presenter RTP packets not recorded because the recorder's queue was full (slow disk).",
	})
	if err := reg.Register(dropped); err != nil {
		return nil, fmt.Errorf("record metrics: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Manager{dir: dir, bc: bc, log: log, dropped: dropped, active: map[string]*active{}}, nil
}

// Path is where a recording's file lives: {id}.mkv if the recording is
// Matroska (H.264), else {id}.webm (also for a file not written yet).
func (m *Manager) Path(webinar, id string) string {
	m.mu.Lock()
	a := m.active[webinar]
	m.mu.Unlock()
	if a != nil && a.id == id {
		return a.rec.Path()
	}
	base := filepath.Join(m.dir, webinar, id)
	if _, err := os.Stat(base + mkvFormat.ext); err == nil {
		return base + mkvFormat.ext
	}
	return base + webmFormat.ext
}

// Active returns the id of the webinar's running recording, if any.
func (m *Manager) Active(webinar string) (id string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.active[webinar]
	if a == nil {
		return "", false
	}
	return a.id, true
}

// Start begins recording the webinar. started is false (and id the running
// recording's) when one was already running.
func (m *Manager) Start(webinar string) (id string, started bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.active[webinar]; a != nil {
		return a.id, false, nil
	}
	id = newRecordingID()
	path := filepath.Join(m.dir, webinar, id+webmFormat.ext)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", false, fmt.Errorf("record %s: %w", webinar, err)
	}
	sb, stage := m.bc.(StageBroadcaster)
	rec, err := Create(path, Options{
		StageAudio: stage,
		Log:        m.log.With("webinar", webinar, "recording", id),
		Dropped:    m.dropped,
		NeedKeyframe: func(screen bool) {
			if screen {
				m.bc.RequestScreenKeyframe(webinar)
			} else {
				m.bc.RequestKeyframe(webinar)
			}
		},
	})
	if err != nil {
		return "", false, err
	}
	remove := m.bc.AddTap(webinar, rec)
	if stage {
		untapRoom, untapStage := remove, sb.AddStageTap(webinar, rec)
		remove = func() { untapStage(); untapRoom() }
	}
	m.active[webinar] = &active{id: id, rec: rec, remove: remove}
	// A recording started mid-stream needs keyframes to begin its video.
	m.bc.RequestKeyframe(webinar)
	m.bc.RequestScreenKeyframe(webinar)
	m.log.Info("recording started", "webinar", webinar, "recording", id)
	return id, true, nil
}

// Stop ends the webinar's recording and finalizes its file. ok is false when
// none was running.
func (m *Manager) Stop(webinar string) (st Stopped, ok bool, err error) {
	m.mu.Lock()
	a := m.active[webinar]
	delete(m.active, webinar)
	m.mu.Unlock()
	if a == nil {
		return Stopped{}, false, nil
	}
	a.remove()
	err = a.rec.Close()
	st = Stopped{ID: a.id, Duration: a.rec.Duration()}
	if fi, serr := os.Stat(a.rec.Path()); serr == nil {
		st.Bytes = fi.Size()
	} else {
		err = errors.Join(err, serr)
	}
	m.log.Info("recording stopped", "webinar", webinar, "recording", a.id, "duration", st.Duration, "bytes", st.Bytes)
	return st, true, err
}

// Remove deletes every recording file of a webinar (the webinar is gone).
func (m *Manager) Remove(webinar string) error {
	if err := os.RemoveAll(filepath.Join(m.dir, webinar)); err != nil {
		return fmt.Errorf("remove recordings of %s: %w", webinar, err)
	}
	return nil
}

// Webinars lists the webinars being recorded (for stopping all at shutdown).
func (m *Manager) Webinars() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.active))
	for w := range m.active {
		out = append(out, w)
	}
	return out
}

func newRecordingID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
