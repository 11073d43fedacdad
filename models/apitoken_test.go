package models

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAPITokens(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	a := mustUser(t, s, "a@example.org")
	b := mustUser(t, s, "b@example.org")
	tok, plain, err := s.CreateAPIToken(ctx, a.ID, "obs script")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, APITokenPrefix) || len(plain) != len(APITokenPrefix)+43 {
		t.Errorf("token %q has the wrong shape", plain)
	}
	var stored int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE token_hash = ? OR name = ?`, plain, plain).Scan(&stored)
	if stored != 0 {
		t.Error("plaintext token found in the database")
	}
	now := time.Unix(1_800_000_000, 0)
	got, u, err := s.APITokenUser(ctx, plain, now)
	if err != nil || got.ID != tok.ID || u.ID != a.ID || !got.LastUsedAt.Equal(now) {
		t.Fatalf("APITokenUser = %+v %v %v", got, u.ID, err)
	}
	if u, _ := s.User(ctx, a.ID); !u.LastSeenAt.Equal(now) {
		t.Errorf("token use did not count as activity: %v", u.LastSeenAt)
	}
	for _, bad := range []string{"", plain + "x", plain[:len(plain)-1], strings.ToUpper(plain)} {
		if _, _, err := s.APITokenUser(ctx, bad, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("APITokenUser(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	if _, _, err := s.CreateAPIToken(ctx, a.ID, " "); err == nil {
		t.Error("empty token name accepted")
	}
	if err := s.RevokeAPIToken(ctx, b.ID, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoking another account's token: %v, want ErrNotFound", err)
	}
	if err := s.RevokeAPIToken(ctx, a.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.APITokenUser(ctx, plain, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked token still works: %v", err)
	}
	list, err := s.APITokens(ctx, a.ID)
	if err != nil || len(list) != 1 || list[0].RevokedAt.IsZero() || list[0].Name != "obs script" {
		t.Errorf("APITokens = %+v, %v", list, err)
	}
}
