package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SecretFile is the server secret's file name in the data directory. It signs join tokens and
// OIDC state cookies, seals TOTP secrets and peppers recovery codes. Losing it invalidates
// those (users re-enrol 2FA); leaking it lets someone forge join tokens, so it is 0600.
const SecretFile = "auth.key"

const secretLen = 32

// LoadOrCreateSecret reads the server secret from dir, creating a random one on first use.
func LoadOrCreateSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, SecretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != secretLen {
			return nil, fmt.Errorf("server secret %s: want %d bytes, have %d", path, secretLen, len(b))
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	b = make([]byte, secretLen)
	rand.Read(b)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	// O_EXCL: when two processes (server and CLI) start at once, one wins and the other reads.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateSecret(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, fmt.Errorf("server secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	return b, nil
}

// DeriveKey gives an independent 256-bit key for one purpose, so no two features share a key
// (a join-token signature can never be replayed as a state cookie, and so on).
func DeriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lectern/v1/" + purpose))
	return m.Sum(nil)
}

// Sealer encrypts and authenticates small values (TOTP secrets, OIDC state) with AES-256-GCM.
type Sealer struct{ aead cipher.AEAD }

// NewSealer makes a Sealer from a 32-byte key (use DeriveKey).
func NewSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain; context binds the ciphertext to its use (e.g. the user id), so a sealed
// value copied to another row or purpose does not open.
func (s *Sealer) Seal(plain []byte, context string) string {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(context)))
}

// Open decrypts what Seal produced with the same context.
func (s *Sealer) Open(sealed, context string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, ErrInvalidToken
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(context))
	if err != nil {
		return nil, ErrInvalidToken
	}
	return plain, nil
}
