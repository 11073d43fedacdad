package models

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"
)

// SecretLen is the length of the server secret the store keeps, in bytes (as auth's file).
const SecretLen = 32

// LoadOrCreateSecret returns the server secret kept in the store, creating a random one on
// first use. Nodes starting together race safely: each offers its own random secret, the
// first insert wins and every node reads the one that won.
func (s *Store) LoadOrCreateSecret(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, SecretLen)
	rand.Read(fresh)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO site_secret(id, secret, created_at) VALUES (1, ?, ?)
		ON CONFLICT(id) DO NOTHING`, base64.StdEncoding.EncodeToString(fresh), time.Now().Unix()); err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	var enc string
	if err := s.db.QueryRowContext(ctx, `SELECT secret FROM site_secret WHERE id = 1`).Scan(&enc); err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(b) != SecretLen {
		return nil, fmt.Errorf("server secret in the store is damaged (%d bytes, want %d): restore it from a backup", len(b), SecretLen)
	}
	return b, nil
}
