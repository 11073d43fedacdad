package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"lectern/captions"
)

// Received is a caption event as a viewer got it, with the wall time it arrived.
type Received struct {
	captions.Caption
	EventID string // the SSE id: line; empty for partials
	At      time.Time
}

// CaptionReader is an SSE client of /api/webinars/{id}/captions.
type CaptionReader struct {
	res    *http.Response
	events chan Received
	done   chan struct{}
	err    error
}

// ReadCaptions subscribes to a webinar's caption stream in lang ("" = spoken language).
// lastEventID, when not empty, resumes after that final.
func ReadCaptions(ctx context.Context, url, room, lang, lastEventID string) (*CaptionReader, error) {
	u := url + "/api/webinars/" + room + "/captions"
	if lang != "" {
		u += "?lang=" + lang
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", u, res.Status)
	}
	r := &CaptionReader{res: res, events: make(chan Received, 4096), done: make(chan struct{})}
	go r.run()
	return r, nil
}

// Events delivers every event; it is closed when the stream ends.
func (r *CaptionReader) Events() <-chan Received { return r.events }

// Close ends the stream.
func (r *CaptionReader) Close() { r.res.Body.Close(); <-r.done }

func (r *CaptionReader) run() {
	defer close(r.done)
	defer close(r.events)
	sc := bufio.NewScanner(r.res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var ev Received
	var data, kind string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event:"):
			kind = strings.TrimSpace(line[6:]) // "status": not a caption
		case strings.HasPrefix(line, "id:"):
			ev.EventID = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(line[5:], " ")
		case line == "":
			if kind == "" && data != "" && json.Unmarshal([]byte(data), &ev.Caption) == nil {
				ev.At = time.Now()
				r.events <- ev
			}
			ev, data, kind = Received{}, "", ""
		}
	}
	r.err = sc.Err()
}
