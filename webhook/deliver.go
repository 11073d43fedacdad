package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// maxAnswer is how much of an endpoint's answer is read (and thrown away) so the connection
// can be reused.
const maxAnswer = 64 << 10

// post makes one attempt: it returns the HTTP status (0 when there was no answer) and an error
// unless the endpoint answered 2xx. The signature is made now, not when the event was
// queued, so a retry minutes later still passes the receiver's age check.
func (d *Dispatcher) post(j job) (int, error) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.hook.URL, bytes.NewReader(j.body))
	if err != nil {
		return 0, fmt.Errorf("bad endpoint URL: %w", err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Lectern-Webhook/1")
	h.Set("X-Lectern-Event", j.ev.Type)
	h.Set("X-Lectern-Event-Id", j.ev.ID)
	h.Set(SignatureHeader, Sign(j.hook.Secret, time.Now(), j.body))
	client := d.admin
	if j.hook.WebinarID != "" {
		client = d.webinar
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, cause(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswer))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("endpoint answered %s", res.Status)
	}
	return res.StatusCode, nil
}

// cause strips the URL from a client error: the delivery log and the server log must not
// repeat it, since chat services put their secret in the path.
func cause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, context.DeadlineExceeded) {
			return errors.New("no answer within the timeout")
		}
		return ue.Err
	}
	return err
}

// timers are the pending retries, so Close can cancel them.
type timers struct {
	mu      sync.Mutex
	set     map[*time.Timer]struct{}
	stopped bool
}

func newTimers() *timers { return &timers{set: map[*time.Timer]struct{}{}} }

func (t *timers) after(d time.Duration, f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		t.mu.Lock()
		_, live := t.set[tm]
		delete(t.set, tm)
		t.mu.Unlock()
		if live {
			f()
		}
	})
	t.set[tm] = struct{}{}
}

func (t *timers) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for tm := range t.set {
		tm.Stop()
	}
	clear(t.set)
}
