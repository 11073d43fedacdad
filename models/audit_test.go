package models

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestAuditFilters(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	events := []AuditEvent{
		{At: t0, ActorID: "u1", Action: "signin.success", Target: "u1", IP: "192.0.2.1"},
		{At: t0.Add(time.Minute), Action: "signin.failure", Target: "x@example.org", IP: "192.0.2.9"},
		{At: t0.Add(2 * time.Minute), ActorID: "u1", Action: "token.created", Target: "t1", Detail: json.RawMessage(`{"name":"obs"}`)},
		{At: t0.Add(3 * time.Minute), ActorID: "u2", Action: "signin.success", Target: "u2"},
	}
	for _, e := range events {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Audit(ctx, AuditEvent{Action: "x", Detail: json.RawMessage(`{nope`)}); err == nil {
		t.Error("invalid detail JSON accepted")
	}
	if err := s.Audit(ctx, AuditEvent{}); err == nil {
		t.Error("empty action accepted")
	}
	for _, tc := range []struct {
		name string
		f    AuditFilter
		want []string // targets, newest first
	}{
		{"all", AuditFilter{}, []string{"u2", "t1", "x@example.org", "u1"}},
		{"action", AuditFilter{Action: "signin.success"}, []string{"u2", "u1"}},
		{"actor", AuditFilter{ActorID: "u1"}, []string{"t1", "u1"}},
		{"target", AuditFilter{Target: "t1"}, []string{"t1"}},
		{"since", AuditFilter{Since: t0.Add(2 * time.Minute)}, []string{"u2", "t1"}},
		{"until", AuditFilter{Until: t0.Add(time.Minute)}, []string{"u1"}},
		{"range and action", AuditFilter{Action: "signin.success", Since: t0.Add(time.Second), Until: t0.Add(time.Hour)}, []string{"u2"}},
		{"limit", AuditFilter{Limit: 2}, []string{"u2", "t1"}},
		{"none", AuditFilter{Action: "nothing"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.AuditEvents(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var targets []string
			for _, e := range got {
				targets = append(targets, e.Target)
			}
			if len(targets) != len(tc.want) {
				t.Fatalf("got %v, want %v", targets, tc.want)
			}
			for i := range targets {
				if targets[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", targets, tc.want)
				}
			}
		})
	}
	got, _ := s.AuditEvents(ctx, AuditFilter{Target: "t1"})
	if string(got[0].Detail) != `{"name":"obs"}` || !got[0].At.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("round trip: %+v", got[0])
	}
	got, _ = s.AuditEvents(ctx, AuditFilter{Target: "u1"})
	if string(got[0].Detail) != `{}` || got[0].IP != "192.0.2.1" {
		t.Errorf("default detail / ip: %+v", got[0])
	}
}
