package models

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAuthSessions(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "a@example.org")
	now := time.Unix(1_800_000_000, 0).UTC()
	mk := func(hash string, created time.Time) {
		t.Helper()
		if err := s.CreateAuthSession(ctx, AuthSession{IDHash: hash, UserID: u.ID, CreatedAt: created, LastSeenAt: created,
			ExpiresAt: created.Add(time.Hour), MFAPending: hash == "pending", CSRFToken: "csrf-" + hash, IP: "192.0.2.1", UserAgent: "ua"}); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", now)
	mk("b", now.Add(time.Second))
	mk("pending", now.Add(2*time.Second))
	if err := s.CreateAuthSession(ctx, AuthSession{IDHash: "a", UserID: u.ID, ExpiresAt: now}); err == nil {
		t.Error("duplicate session id accepted")
	}
	if err := s.CreateAuthSession(ctx, AuthSession{IDHash: "x", UserID: "nobody", ExpiresAt: now}); err == nil {
		t.Error("session for an unknown user accepted")
	}
	got, err := s.AuthSession(ctx, "pending")
	if err != nil || !got.MFAPending || got.CSRFToken != "csrf-pending" || !got.ExpiresAt.Equal(now.Add(time.Hour+2*time.Second)) {
		t.Fatalf("AuthSession = %+v, %v", got, err)
	}
	if _, err := s.AuthSession(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown session: %v", err)
	}
	if err := s.TouchAuthSession(ctx, "a", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AuthSession(ctx, "a"); !got.LastSeenAt.Equal(now.Add(10 * time.Minute)) {
		t.Errorf("touch: last seen %v", got.LastSeenAt)
	}
	if err := s.RevokeAuthSession(ctx, "a", now); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AuthSession(ctx, "a"); !got.Revoked() {
		t.Error("revoke did not stick")
	}
	live, err := s.UserSessions(ctx, u.ID, now)
	if err != nil || len(live) != 2 || live[0].IDHash != "pending" {
		t.Errorf("UserSessions = %v, %v", live, err)
	}
	n, err := s.RevokeUserSessions(ctx, u.ID, "b", now)
	if err != nil || n != 1 {
		t.Errorf("RevokeUserSessions keeping b = %d, %v; want 1", n, err)
	}
	if got, _ := s.AuthSession(ctx, "b"); got.Revoked() {
		t.Error("kept session was revoked")
	}
	n, err = s.DeleteDeadSessions(ctx, now.Add(2*time.Hour))
	if err != nil || n != 3 {
		t.Errorf("DeleteDeadSessions = %d, %v; want 3", n, err)
	}
}
