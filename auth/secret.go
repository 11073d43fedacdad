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
//
// The key is written atomically (a synced temp file linked into place, then the directory
// synced), so a crash or a full disk leaves either no key or a whole one. An empty key file,
// which older versions left behind on a full disk, is replaced: nothing can have been signed
// or sealed with an empty key. A key of any other wrong length is refused, because it may be
// a damaged key that is in use, and a new one would silently log every user out of two-factor.
func LoadOrCreateSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, SecretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil && len(b) == secretLen:
		return b, nil
	case err == nil && len(b) == 0:
		// Only `lectern serve` creates the key, under the data directory's lock, so no other
		// process is replacing it at the same time.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("server secret %s is empty and cannot be replaced: %w", path, err)
		}
	case err == nil:
		return nil, fmt.Errorf("server secret %s is damaged (%d bytes, want %d): restore it from a backup; "+
			"or, if no server has run with it, delete it and a new one is made (two-factor enrolments "+
			"and join links made with the old key stop working)", path, len(b), secretLen)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("server secret: %w", err)
	}
	b = make([]byte, secretLen)
	rand.Read(b)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("server secret: %w", err)
	}
	err = writeNew(path, b)
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateSecret(dir) // another process made it first: use theirs
	}
	if err != nil {
		return nil, fmt.Errorf("server secret %s: %w", path, err)
	}
	return b, nil
}

// writeNew creates path holding b, all or nothing: b goes to a temp file in the same
// directory, is synced, and is then linked (not renamed) into place, so that of two
// processes creating it at once one wins and the other gets ErrExist and reads the winner's.
// Syncing the directory makes the new name survive a power cut.
func writeNew(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return os.ErrExist
		}
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
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
