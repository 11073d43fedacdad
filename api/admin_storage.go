package api

import (
	"net/http"
	"os"
	"sort"

	"github.com/labstack/echo/v4"

	"lectern/models"
)

// webinarStorage is one row of GET /api/admin/storage.
type webinarStorage struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	DatabaseBytes  int64  `json:"database_bytes"` // an estimate: its rows' values
	RecordingBytes int64  `json:"recording_bytes"`
	Recordings     int    `json:"recordings"`
	TotalBytes     int64  `json:"total_bytes"`
}

type storageAnswer struct {
	Webinars       []webinarStorage `json:"webinars"` // largest first
	DatabaseBytes  int64            `json:"database_bytes"`
	RecordingBytes int64            `json:"recording_bytes"`
	TotalBytes     int64            `json:"total_bytes"`
}

// adminStorage is GET /api/admin/storage: what each webinar takes, so an admin sees what a
// shorter retention or a deletion would free.
func (s *Server) adminStorage(c echo.Context) error {
	if _, err := requireAdmin(c); err != nil {
		return err
	}
	usage, err := s.Store.StorageUsage(c.Request().Context())
	if err != nil {
		return err
	}
	out := storageAnswer{Webinars: make([]webinarStorage, 0, len(usage))}
	for _, u := range usage {
		row := webinarStorage{ID: u.ID, Title: u.Title, DatabaseBytes: u.DBBytes, Recordings: len(u.Recordings)}
		for _, r := range u.Recordings {
			row.RecordingBytes += s.recordingSize(r)
		}
		row.TotalBytes = row.DatabaseBytes + row.RecordingBytes
		out.DatabaseBytes += row.DatabaseBytes
		out.RecordingBytes += row.RecordingBytes
		out.Webinars = append(out.Webinars, row)
	}
	out.TotalBytes = out.DatabaseBytes + out.RecordingBytes
	sort.SliceStable(out.Webinars, func(i, j int) bool { return out.Webinars[i].TotalBytes > out.Webinars[j].TotalBytes })
	return c.JSON(http.StatusOK, out)
}

// recordingSize is the size of the recording's file as it is on disk now: a running recording
// grows, and one cut short by a crash has no size in the database.
func (s *Server) recordingSize(r models.Recording) int64 {
	if s.Recorder == nil {
		return r.Bytes
	}
	st, err := os.Stat(s.Recorder.Path(r.WebinarID, r.ID))
	if err != nil {
		return 0 // deleted, or never written: it takes no space
	}
	return st.Size()
}
