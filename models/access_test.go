package models

import (
	"context"
	"errors"
	"testing"
	"time"
)

func mustWebinar(t *testing.T, s *Store) Webinar {
	t.Helper()
	w, err := s.CreateWebinar(context.Background(), NewWebinar{Title: "Class"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebinarSettingsAndOwnership(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	w := mustWebinar(t, s)
	owner := mustUser(t, s, "host@example.org")
	if _, err := s.WebinarSettings(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no settings yet: %v", err)
	}
	start := time.Unix(1_800_000_000, 0).UTC()
	in := WebinarSettings{WebinarID: w.ID, OwnerID: owner.ID, Visibility: VisibilityRegistration, PasscodeHash: "$argon2id$p",
		StartsAt: start, EndsAt: start.Add(time.Hour)}
	if err := s.SaveWebinarSettings(ctx, in); err != nil {
		t.Fatal(err)
	}
	got, err := s.WebinarSettings(ctx, w.ID)
	if err != nil || got != in {
		t.Fatalf("WebinarSettings = %+v, %v; want %+v", got, err, in)
	}
	if r, err := s.MemberRole(ctx, w.ID, owner.ID); err != nil || r != RoleHost {
		t.Errorf("owner's role = %q, %v; want host", r, err)
	}
	for name, bad := range map[string]WebinarSettings{
		"visibility":      {WebinarID: w.ID, Visibility: "secret"},
		"unknown webinar": {WebinarID: "nope"},
		"unknown owner":   {WebinarID: w.ID, OwnerID: "nobody"},
		"ends first":      {WebinarID: w.ID, StartsAt: start, EndsAt: start.Add(-time.Hour)},
	} {
		if err := s.SaveWebinarSettings(ctx, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if got, _ := s.WebinarSettings(ctx, w.ID); got != in {
		t.Errorf("a refused save changed the settings: %+v", got)
	}
	w2 := mustWebinar(t, s)
	if err := s.SaveWebinarSettings(ctx, WebinarSettings{WebinarID: w2.ID}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.WebinarSettings(ctx, w2.ID); got.Visibility != VisibilityPublic || got.OwnerID != "" {
		t.Errorf("defaults: %+v", got)
	}
}

func TestMembers(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	w := mustWebinar(t, s)
	host := mustUser(t, s, "host@example.org")
	co := mustUser(t, s, "co@example.org")
	pan := mustUser(t, s, "pan@example.org")
	if err := s.SaveWebinarSettings(ctx, WebinarSettings{WebinarID: w.ID, OwnerID: host.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMember(ctx, w.ID, pan.ID, RolePanelist); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMember(ctx, w.ID, co.ID, RoleAttendee); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMember(ctx, w.ID, co.ID, RoleCohost); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"bad role":        s.SetMember(ctx, w.ID, co.ID, "owner"),
		"unknown user":    s.SetMember(ctx, w.ID, "nobody", RoleAttendee),
		"unknown webinar": s.SetMember(ctx, "nope", co.ID, RoleAttendee),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ms, err := s.Members(ctx, w.ID)
	if err != nil || len(ms) != 3 || ms[0].Role != RoleHost || ms[1].Role != RoleCohost || ms[2].Role != RolePanelist {
		t.Errorf("Members = %+v, %v", ms, err)
	}
	if err := s.RemoveMember(ctx, w.ID, host.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing the owner: %v, want refusal", err)
	}
	if err := s.RemoveMember(ctx, w.ID, pan.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MemberRole(ctx, w.ID, pan.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed member's role: %v", err)
	}
	mine, err := s.Memberships(ctx, co.ID)
	if err != nil || len(mine) != 1 || mine[0].WebinarID != w.ID {
		t.Errorf("Memberships = %+v, %v", mine, err)
	}
}

func TestRegistrations(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	w := mustWebinar(t, s)
	r, err := s.CreateRegistration(ctx, NewRegistration{WebinarID: w.ID, Name: " Grace ", Email: "Grace@Example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Role != RoleAttendee || r.Email != "grace@example.org" || r.Name != "Grace" {
		t.Errorf("registration %+v", r)
	}
	for name, in := range map[string]NewRegistration{
		"duplicate email": {WebinarID: w.ID, Name: "G", Email: "GRACE@example.org"},
		"no name":         {WebinarID: w.ID, Email: "x@example.org"},
		"bad email":       {WebinarID: w.ID, Name: "X", Email: "x"},
		"bad role":        {WebinarID: w.ID, Name: "X", Email: "x@example.org", Role: "king"},
		"unknown webinar": {WebinarID: "nope", Name: "X", Email: "x@example.org"},
	} {
		if _, err := s.CreateRegistration(ctx, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := s.CreateRegistration(ctx, NewRegistration{WebinarID: w.ID, Name: "G", Email: "grace@example.org"}); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate: %v, want ErrConflict", err)
	}
	if err := s.SetRegistrationToken(ctx, r.ID, "hash1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Registration(ctx, r.ID); got.TokenHash != "hash1" {
		t.Errorf("token hash %q", got.TokenHash)
	}
	w2 := mustWebinar(t, s)
	if err := s.RevokeRegistration(ctx, w2.ID, r.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking through another webinar: %v, want ErrNotFound", err)
	}
	if err := s.RevokeRegistration(ctx, w.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRegistrationToken(ctx, r.ID, "hash2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("new token for a revoked registration: %v", err)
	}
	list, err := s.Registrations(ctx, w.ID)
	if err != nil || len(list) != 1 || list[0].RevokedAt.IsZero() {
		t.Errorf("Registrations = %+v, %v", list, err)
	}
	if _, err := s.Registration(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown registration: %v", err)
	}
}
