package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id's cost parameters.
//
// DefaultArgon2 is m=64 MiB, t=2, p=1. Measured on the 2-core target (BenchmarkArgon2Choices,
// CPU time per hash, machine shared, load average 10): 0.12-0.17 s of one core, against
// 0.19-0.23 s of CPU spread over both cores for RFC 9106's second setting (64 MiB, t=3, here
// p=2) and 0.04-0.05 s for OWASP's minimum (46 MiB, t=1, p=1). It costs an attacker with a
// stolen database about 3 times OWASP's minimum per guess, while one lane and one hash at a
// time (MaxConcurrentHashes) mean sign-ins can never take more than one of the two cores from
// the live broadcast. The sign-in rate limiter reserves an attempt before any hashing, and at
// most maxHashWaiters requests of each purpose (sign-in, passcode) queue for the hasher, sign-ins
// served first; beyond that ErrBusy answers at once (503). See hashgate.go.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   int
	KeyLen    uint32
}

// DefaultArgon2 is what new hashes use; older hashes with other parameters verify and then
// report NeedsRehash.
var DefaultArgon2 = Argon2Params{MemoryKiB: 64 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// MaxConcurrentHashes bounds CPU and memory: each hash holds MemoryKiB and a core while it runs.
const MaxConcurrentHashes = 1

// maxHashWaiters bounds each purpose's queue in front of the hasher (≈3 s of hashing at the
// default cost).
const maxHashWaiters = 16

// ErrBusy: too many password checks are queued; answer 503 with a Retry-After of a few seconds.
var ErrBusy = errors.New("password hashing busy, try again shortly")

// Password length limits, in characters (min) and bytes (max: argon2 would hash megabytes,
// so the maximum keeps a request from buying a lot of CPU).
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// Errors of the password policy, shown to the user choosing a password.
var (
	ErrPasswordTooShort = fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	ErrPasswordTooLong  = fmt.Errorf("password must be at most %d bytes", MaxPasswordLen)
	ErrPasswordCommon   = errors.New("password is too common; choose another")
)

// CheckPasswordPolicy says whether pw may be chosen as a new password: long enough, not too
// long, not on the embedded list of the most common passwords, and not the email (or its
// local part) itself. It follows NIST SP 800-63B: length and a blocklist, no composition rules.
func CheckPasswordPolicy(pw, email string) error {
	if len(pw) > MaxPasswordLen {
		return ErrPasswordTooLong
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return ErrPasswordTooShort
	}
	lower := strings.ToLower(pw)
	if isCommonPassword(lower) {
		return ErrPasswordCommon
	}
	email = strings.ToLower(strings.TrimSpace(email))
	if email != "" {
		local, _, _ := strings.Cut(email, "@")
		if lower == email || lower == local {
			return ErrPasswordCommon
		}
	}
	return nil
}

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{})
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = struct{}{}
		}
	}
	return m
})

func isCommonPassword(lower string) bool {
	_, ok := commonPasswords()[lower]
	return ok
}

// HashPassword hashes pw with DefaultArgon2 into a PHC string:
// $argon2id$v=19$m=65536,t=2,p=1$<salt b64>$<hash b64> (standard base64, no padding).
func HashPassword(pw string) (string, error) { return HashPasswordWith(pw, DefaultArgon2) }

// HashPasswordWith hashes with explicit parameters (tests use cheap ones).
func HashPasswordWith(pw string, p Argon2Params) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	if p.SaltLen < 8 || p.KeyLen < 16 || p.Time < 1 || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads) {
		return "", fmt.Errorf("argon2 parameters too weak: %+v", p)
	}
	salt := make([]byte, p.SaltLen)
	rand.Read(salt)
	key, err := argon2Key(ForSignIn, pw, salt, p)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func argon2Key(purpose HashPurpose, pw string, salt []byte, p Argon2Params) ([]byte, error) {
	if err := hashing.acquire(purpose); err != nil {
		return nil, err
	}
	defer hashing.release()
	countHash(purpose)
	return argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen), nil
}

// Limits on parameters read from a stored hash: a corrupted or planted hash must not make
// one verification allocate gigabytes or run for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 20
)

// parsePHC reads an argon2id PHC string.
func parsePHC(phc string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	var m, t uint32
	var th uint8
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", m, t, th) != parts[3] {
		return p, nil, nil, errors.New("bad argon2 parameters")
	}
	if m > maxMemoryKiB || t > maxTime || t < 1 || th < 1 || m < 8*uint32(th) {
		return p, nil, nil, errors.New("argon2 parameters out of range")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errors.New("bad argon2 salt or hash")
	}
	return Argon2Params{MemoryKiB: m, Time: t, Threads: th, SaltLen: len(salt), KeyLen: uint32(len(key))}, salt, key, nil
}

// VerifyPassword reports whether pw matches the PHC hash, comparing in constant time. An
// unparsable hash is an error (and never a match), and so is ErrBusy. It is an account
// password check and queues with sign-ins.
func VerifyPassword(pw, phc string) (bool, error) { return verify(ForSignIn, pw, phc) }

// VerifyPasscode is VerifyPassword for a webinar passcode: it queues apart from sign-ins, so a
// flood of joins cannot keep hosts from signing in.
func VerifyPasscode(pw, phc string) (bool, error) { return verify(ForPasscode, pw, phc) }

func verify(purpose HashPurpose, pw, phc string) (bool, error) {
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	got, err := argon2Key(purpose, pw, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether a hash that just verified should be replaced by one made with
// DefaultArgon2 (the parameters were raised since, or the hash is unreadable).
func NeedsRehash(phc string) bool { return NeedsRehashWith(phc, DefaultArgon2) }

// NeedsRehashWith is NeedsRehash against chosen parameters.
func NeedsRehashWith(phc string, want Argon2Params) bool {
	p, _, _, err := parsePHC(phc)
	return err != nil || p != want
}

// dummyHash has the default parameters, so verifying against it costs what a real check costs;
// its salt and key are arbitrary (no password matches it), and making it needs no hashing.
func dummyHash() string { return dummyHashWith(DefaultArgon2) }

func dummyHashWith(p Argon2Params) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(make([]byte, p.SaltLen)), b64.EncodeToString(make([]byte, p.KeyLen)))
}

// DummyVerify spends the time of one password check. Call it when the email is unknown (or
// the account has no password), so response time does not tell which emails have accounts.
func DummyVerify(pw string) { DummyVerifyWith(pw, DefaultArgon2) }

// DummyVerifyWith is DummyVerify at the cost of chosen parameters.
func DummyVerifyWith(pw string, p Argon2Params) { VerifyPassword(pw, dummyHashWith(p)) }
