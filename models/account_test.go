package models

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := testOpen(t, ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustUser(t *testing.T, s *Store, email string) User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Email: email, DisplayName: "Test", PasswordHash: "$argon2id$x"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCreateUserEmails(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "  Ada@Example.org ")
	if u.Email != "ada@example.org" {
		t.Errorf("stored email %q, want lower-cased and trimmed", u.Email)
	}
	for _, tc := range []struct {
		email string
		want  error
	}{
		{"ADA@example.ORG", ErrConflict},
		{"ada@example.org", ErrConflict},
		{"", nil},
		{"no-at-sign", nil},
		{strings.Repeat("a", 250) + "@x.org", nil},
	} {
		_, err := s.CreateUser(ctx, NewUser{Email: tc.email})
		if err == nil {
			t.Errorf("CreateUser(%q) succeeded, want an error", tc.email)
		} else if tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CreateUser(%q) = %v, want %v", tc.email, err, tc.want)
		}
	}
	got, err := s.UserByEmail(ctx, "ADA@EXAMPLE.ORG")
	if err != nil || got.ID != u.ID {
		t.Fatalf("UserByEmail any case = %v, %v", got.ID, err)
	}
	if _, err := s.UserByEmail(ctx, "bob@example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown email: %v, want ErrNotFound", err)
	}
	if _, err := s.User(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
}

func TestUserSecretsStayOutOfJSONAndLogs(t *testing.T) {
	u := User{ID: "u1", Email: "a@b.c", PasswordHash: "$argon2id$SECRETHASH", TOTPSecret: "SEALEDTOTP"}
	b, _ := json.Marshal(u)
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("user", "user", u)
	for _, out := range []string{string(b), sb.String()} {
		if strings.Contains(out, "SECRETHASH") || strings.Contains(out, "SEALEDTOTP") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if !strings.Contains(sb.String(), "a@b.c") {
		t.Errorf("log lost the email: %s", sb.String())
	}
}

func TestUserUpdates(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "a@example.org")
	if err := s.SetPasswordHash(ctx, u.ID, "new"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserAdmin(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDisplayName(ctx, u.ID, " Ada "); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1_800_000_000, 0)
	if err := s.RecordLogin(ctx, u.ID, at); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(ctx, u.ID)
	if got.PasswordHash != "new" || !got.Admin || got.DisplayName != "Ada" || !got.LastLoginAt.Equal(at) || !got.LastSeenAt.Equal(at) {
		t.Errorf("after updates: %+v", got)
	}
	if err := s.TouchUser(ctx, u.ID, at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); !got.LastSeenAt.Equal(at) {
		t.Errorf("TouchUser moved last seen backwards to %v", got.LastSeenAt)
	}
	for name, err := range map[string]error{
		"password": s.SetPasswordHash(ctx, "nope", "x"),
		"admin":    s.SetUserAdmin(ctx, "nope", true),
		"disable":  s.SetUserDisabled(ctx, "nope", true, "r"),
		"totp":     s.SetTOTPSecret(ctx, "nope", "x"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on unknown user: %v, want ErrNotFound", name, err)
		}
	}
}

func TestDisableUserRevokesSessions(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "a@example.org")
	now := time.Now()
	if err := s.CreateAuthSession(ctx, AuthSession{IDHash: "h1", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), CSRFToken: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(ctx, u.ID, true, "left the school"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(ctx, u.ID)
	if !got.Disabled || got.DisabledReason != "left the school" {
		t.Errorf("disabled = %v %q", got.Disabled, got.DisabledReason)
	}
	if sess, _ := s.AuthSession(ctx, "h1"); !sess.Revoked() {
		t.Error("disabling left the session live")
	}
	if err := s.SetUserDisabled(ctx, u.ID, false, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); got.Disabled || got.DisabledReason != "" || got.LastSeenAt.IsZero() {
		t.Errorf("enable: %+v", got)
	}
}

func TestDisableInactiveUsers(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	old := mustUser(t, s, "old@example.org")
	active := mustUser(t, s, "active@example.org")
	gone := mustUser(t, s, "gone@example.org")
	// Backdate creation: every account is 100 days old; one signed in yesterday.
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET created_at = ?`, time.Now().Add(-100*24*time.Hour).Unix()); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogin(ctx, active.ID, time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(ctx, gone.ID, true, "manual"); err != nil {
		t.Fatal(err)
	}
	ids, err := s.DisableInactiveUsers(ctx, time.Now().Add(-90*24*time.Hour), "stale")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != old.ID {
		t.Fatalf("disabled %v, want only %s", ids, old.ID)
	}
	if u, _ := s.User(ctx, gone.ID); u.DisabledReason != "manual" {
		t.Errorf("an already disabled account's reason was overwritten: %q", u.DisabledReason)
	}
	if u, _ := s.User(ctx, active.ID); u.Disabled {
		t.Error("active account disabled")
	}
}

func TestOIDCLinks(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	a := mustUser(t, s, "a@example.org")
	b := mustUser(t, s, "b@example.org")
	if _, err := s.UserByOIDC(ctx, "https://idp", "sub1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlinked: %v", err)
	}
	if err := s.LinkOIDC(ctx, a.ID, "https://idp", "sub1"); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkOIDC(ctx, b.ID, "https://idp", "sub1"); !errors.Is(err, ErrConflict) {
		t.Errorf("second link of the same subject: %v, want ErrConflict", err)
	}
	if err := s.LinkOIDC(ctx, "nobody", "https://idp", "sub2"); err == nil {
		t.Error("linked a subject to an unknown user")
	}
	u, err := s.UserByOIDC(ctx, "https://idp", "sub1")
	if err != nil || u.ID != a.ID {
		t.Errorf("UserByOIDC = %v, %v", u.ID, err)
	}
	if sub, err := s.OIDCSubject(ctx, a.ID, "https://idp"); err != nil || sub != "sub1" {
		t.Errorf("OIDCSubject = %q, %v", sub, err)
	}
	if _, err := s.OIDCSubject(ctx, b.ID, "https://idp"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OIDCSubject of an unlinked user: %v", err)
	}
	if _, err := s.UserByOIDC(ctx, "https://other", "sub1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other issuer, same subject: %v", err)
	}
}

func TestTOTPStepsAndRecoveryCodes(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "a@example.org")
	if err := s.EnableTOTP(ctx, u.ID, 5, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("enable without a pending secret: %v, want ErrNotFound", err)
	}
	if err := s.SetTOTPSecret(ctx, u.ID, "sealed"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnableTOTP(ctx, u.ID, 100, []string{"h1", "h2"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.User(ctx, u.ID); !got.TOTPEnabled || got.TOTPSecret != "sealed" {
		t.Errorf("after enable: %+v", got)
	}
	if err := s.SetTOTPSecret(ctx, u.ID, "attacker"); !errors.Is(err, ErrConflict) {
		t.Errorf("new secret over an enabled factor: %v, want ErrConflict", err)
	}
	if got, _ := s.User(ctx, u.ID); !got.TOTPEnabled || got.TOTPSecret != "sealed" {
		t.Errorf("refused SetTOTPSecret changed the account: %+v", got)
	}
	for _, tc := range []struct {
		step int64
		want bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		ok, err := s.UseTOTPStep(ctx, u.ID, tc.step)
		if err != nil || ok != tc.want {
			t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
	}
	for _, tc := range []struct {
		hash string
		want bool
	}{{"h1", true}, {"h1", false}, {"nope", false}, {"h2", true}} {
		ok, err := s.UseRecoveryCode(ctx, u.ID, tc.hash)
		if err != nil || ok != tc.want {
			t.Errorf("UseRecoveryCode(%s) = %v, %v; want %v", tc.hash, ok, err, tc.want)
		}
	}
	if err := s.ReplaceRecoveryCodes(ctx, u.ID, []string{"h3"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RecoveryCodesLeft(ctx, u.ID); n != 1 {
		t.Errorf("codes left %d, want 1", n)
	}
	if err := s.DisableTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := s.User(ctx, u.ID)
	if n, _ := s.RecoveryCodesLeft(ctx, u.ID); got.TOTPEnabled || got.TOTPSecret != "" || n != 0 {
		t.Errorf("after disable: enabled=%v secret=%q codes=%d", got.TOTPEnabled, got.TOTPSecret, n)
	}
}
