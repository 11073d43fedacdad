package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"webinar.ended"}`)
	good := Sign("whsec_a", now, body)
	other := Sign("whsec_b", now, body)
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", "whsec_a", good, body, now, nil},
		{"valid 4 min later", "whsec_a", good, body, now.Add(4 * time.Minute), nil},
		{"tampered body", "whsec_a", good, []byte(`{"id":"evt_1","type":"webinar.started"}`), now, ErrMismatch},
		{"one byte appended", "whsec_a", good, append(append([]byte(nil), body...), ' '), now, ErrMismatch},
		{"wrong secret", "whsec_b", good, body, now, ErrMismatch},
		{"older than 5 min", "whsec_a", good, body, now.Add(5*time.Minute + time.Second), ErrTooOld},
		{"from the future", "whsec_a", good, body, now.Add(-6 * time.Minute), ErrTooOld},
		{"timestamp moved", "whsec_a", strings.Replace(good, "t=1800000000", "t=1800000100", 1), body, now, ErrMismatch},
		{"rotation: second v1 matches", "whsec_a", other + "," + good[strings.Index(good, "v1="):], body, now, nil},
		{"unknown scheme skipped", "whsec_a", good + ",v2=zz", body, now, nil},
		{"empty", "whsec_a", "", body, now, ErrMalformed},
		{"no v1", "whsec_a", "t=1800000000", body, now, ErrMalformed},
		{"no t", "whsec_a", good[strings.Index(good, "v1="):], body, now, ErrMalformed},
		{"short v1", "whsec_a", "t=1800000000,v1=abcd", body, now, ErrMalformed},
		{"two t", "whsec_a", "t=1800000000," + good, body, now, ErrMalformed},
		{"signed t", "whsec_a", "t=+1800000000" + good[strings.Index(good, ","):], body, now, ErrMalformed},
		{"no =", "whsec_a", "t1800000000", body, now, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(c.secret, c.header, c.body, c.now)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Verify(%q) = %v, want %v", c.header, err, c.want)
			}
		})
	}
}

// The header is Stripe's layout: t=UNIX,v1=64 hex digits.
func TestSignFormat(t *testing.T) {
	h := Sign("s", time.Unix(42, 0), []byte("x"))
	ts, v1, ok := strings.Cut(h, ",v1=")
	if !ok || ts != "t=42" || len(v1) != 64 || strings.Trim(v1, "0123456789abcdef") != "" {
		t.Fatalf("header %q", h)
	}
}

// FuzzVerify feeds the header parser whatever a network peer could send: it must not panic,
// must accept only headers it can explain, and a fresh signature of any body must verify.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign("k", now, []byte("{}")), []byte("{}"))
	f.Add("t=1800000000,v1="+strings.Repeat("0", 64), []byte("body"))
	f.Add("t=1,v1=,v1=,v1=", []byte{})
	f.Add("t=1800000000, v1="+strings.Repeat("ab", 32)+" ,v0=x", []byte("x"))
	f.Add(",,,=", []byte(nil))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		if err := Verify("k", Sign("k", now, body), body, now); err != nil {
			t.Fatalf("fresh signature of %q fails: %v", body, err)
		}
		err := Verify("k", header, body, now)
		if err == nil {
			ts, sigs, perr := parseHeader(header)
			n, _ := strconv.ParseInt(ts, 10, 64)
			if perr != nil || len(sigs) == 0 || now.Sub(time.Unix(n, 0)).Abs() > Tolerance {
				t.Fatalf("accepted %q", header)
			}
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooOld) && !errors.Is(err, ErrMismatch) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
