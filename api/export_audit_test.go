package api

import (
	"context"
	"testing"

	"lectern/auth"
	"lectern/models"
)

// TestAnonymousExportNotAudited: anonymous downloads of a public transcript write nothing
// (they grew the audit log without bound); a signed-in download is still audited
// (issue 8, item 14).
func TestAnonymousExportNotAudited(t *testing.T) {
	s := newAuthServer(t, nil)
	host := s.user(t, "host@example.com", false)
	w := s.webinar(t, host, models.VisibilityPublic, "")
	for range 20 {
		if r := s.call(t, creds{}, "GET", "/api/webinars/"+w.ID+"/transcript.vtt", "", ""); r.status != 200 {
			t.Fatalf("anonymous export: %d %s", r.status, r.body)
		}
	}
	events, err := s.store.AuditEvents(context.Background(), models.AuditFilter{Action: auth.EventExport})
	if err != nil || len(events) != 0 {
		t.Fatalf("%d anonymous exports audited (%v), want none", len(events), err)
	}
	if r := s.call(t, creds{session: s.session(t, host)}, "GET", "/api/webinars/"+w.ID+"/transcript.srt", "", ""); r.status != 200 {
		t.Fatalf("host export: %d %s", r.status, r.body)
	}
	events, err = s.store.AuditEvents(context.Background(), models.AuditFilter{Action: auth.EventExport})
	if err != nil || len(events) != 1 || events[0].ActorID != host.ID || events[0].Target != w.ID {
		t.Fatalf("host export audit: %+v %v", events, err)
	}
}
