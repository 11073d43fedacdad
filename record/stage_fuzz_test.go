package record

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A speaker's name comes from the network (a display name); whatever it is, its track name
// fills exactly the room the header keeps for it, so rewriting the header in place keeps
// its size, and a valid name is cut only between characters.
func FuzzLaneName(f *testing.F) {
	f.Add("Ada Lovelace", "Grace Hopper")
	f.Add(strings.Repeat("é", 60), "x")
	f.Add("", "\x00\xff")
	f.Fuzz(func(t *testing.T, a, b string) {
		got := laneName([]string{a, b}, "Speaker")
		if len(got) != nameCap {
			t.Fatalf("name of %d bytes, want %d", len(got), nameCap)
		}
		full := a + " / " + b
		name := strings.TrimRight(got, "\x00")
		if !strings.HasPrefix(full, name) && !strings.HasPrefix(full, got) {
			t.Fatalf("name %q is not a prefix of %q", got, full)
		}
		if utf8.ValidString(full) && !utf8.ValidString(got) {
			t.Fatalf("name %q cut inside a character", got)
		}
	})
}
