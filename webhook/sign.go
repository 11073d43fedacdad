package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a delivery's signature: "t=UNIX,v1=HEX", where HEX is
// HMAC-SHA256(secret, t + "." + body). The scheme is Stripe's, so receivers can reuse code.
const SignatureHeader = "X-Lectern-Signature"

// Tolerance is how old (or how far in the future) a signature's timestamp may be. Receivers
// refuse older ones, so a captured request cannot be replayed later; retries are signed
// afresh, so they always pass.
const Tolerance = 5 * time.Minute

// maxSignatures bounds how many v1 entries a header may carry (one per secret during a
// rotation; more is an attack on the verifier's time).
const maxSignatures = 8

// Verification errors. Receivers answer 400 (or 401) on any of them.
var (
	ErrMalformed = errors.New("webhook: malformed signature header")
	ErrTooOld    = errors.New("webhook: signature timestamp outside the tolerance")
	ErrMismatch  = errors.New("webhook: no signature matches")
)

// Sign returns the header value for body signed with secret at time t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery as a receiver must: header is the X-Lectern-Signature value, body
// the raw request body (before any JSON parsing), now the receiver's clock. It fails unless
// one v1 signature matches and the timestamp is within Tolerance of now. Receivers should
// also remember the event "id" for a while and ignore repeats (a retry after a lost answer).
func Verify(secret, header string, body []byte, now time.Time) error {
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return err
	}
	t, _ := strconv.ParseInt(ts, 10, 64) // parseHeader checked it
	if d := now.Sub(time.Unix(t, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: %s old", ErrTooOld, d.Round(time.Second))
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrMismatch
}

// parseHeader splits "t=UNIX,v1=HEX[,v1=HEX...]" into the timestamp as sent (the signed
// text) and the decoded v1 signatures. Unknown keys (future schemes: v2=...) are skipped.
func parseHeader(h string) (ts string, sigs [][]byte, err error) {
	if len(h) > 1024 {
		return "", nil, fmt.Errorf("%w: longer than 1 KiB", ErrMalformed)
	}
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: %q is not key=value", ErrMalformed, part)
		}
		switch k {
		case "t":
			if ts != "" {
				return "", nil, fmt.Errorf("%w: two timestamps", ErrMalformed)
			}
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 || v[0] == '+' {
				return "", nil, fmt.Errorf("%w: timestamp %q", ErrMalformed, v)
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return "", nil, fmt.Errorf("%w: v1 is not 64 hex digits", ErrMalformed)
			}
			if len(sigs) == maxSignatures {
				return "", nil, fmt.Errorf("%w: more than %d signatures", ErrMalformed, maxSignatures)
			}
			sigs = append(sigs, b)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return "", nil, fmt.Errorf("%w: want t=UNIX,v1=HEX", ErrMalformed)
	}
	return ts, sigs, nil
}
