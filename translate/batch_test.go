package translate

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestInBatches(t *testing.T) {
	var calls [][]string
	upper := func(b []string) ([]string, error) {
		calls = append(calls, b)
		out := make([]string, len(b))
		for i, s := range b {
			out[i] = strings.ToUpper(s)
		}
		return out, nil
	}
	got, err := InBatches([]string{"a", "", "b", "  ", "c", "d", "e"}, 2, upper)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A", "", "B", "", "C", "D", "E"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if len(calls) != 3 || len(calls[0]) != 2 || len(calls[2]) != 1 {
		t.Fatalf("batches %q", calls)
	}
	if _, err := InBatches([]string{"a", "b"}, 5, func([]string) ([]string, error) { return []string{"x"}, nil }); err == nil {
		t.Fatal("a short answer was accepted")
	}
	boom := errors.New("boom")
	if _, err := InBatches([]string{"a"}, 5, func([]string) ([]string, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	if got, _ := InBatches([]string{"", ""}, 5, upper); len(got) != 2 || len(calls) != 3 {
		t.Fatal("empty texts were sent")
	}
}
