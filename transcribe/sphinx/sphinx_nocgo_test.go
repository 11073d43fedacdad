//go:build !cgo

package sphinx

import (
	"context"
	"errors"
	"strings"
	"testing"

	"lectern/transcribe"
)

func TestNotCompiled(t *testing.T) {
	e, err := New(Config{})
	if !errors.Is(err, ErrNotCompiled) || e != nil {
		t.Fatalf("New = %v, %v; want ErrNotCompiled", e, err)
	}
	if !strings.Contains(err.Error(), "CGO_ENABLED=1") {
		t.Errorf("error does not say how to fix it: %v", err)
	}
	var eng transcribe.Engine = &Engine{}
	if _, err := eng.Transcribe(context.Background(), nil, transcribe.Options{}); !errors.Is(err, ErrNotCompiled) {
		t.Errorf("Transcribe: %v", err)
	}
}
