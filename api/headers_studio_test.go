package api

import (
	"strings"
	"testing"
)

// The studio alone may compile WebAssembly (its virtual background); no page may eval
// JavaScript or load from another origin because of it.
func TestStudioCSPAllowsOnlyWASM(t *testing.T) {
	ts := newTestServer(t)
	studio, _ := ts.do(t, "GET", "/studio/"+ts.webinar.ID, "", "", "")
	watch, _ := ts.do(t, "GET", "/watch/"+ts.webinar.ID, "", "", "")
	sc, wc := studio.Header.Get("Content-Security-Policy"), watch.Header.Get("Content-Security-Policy")
	if !strings.Contains(sc, "script-src 'self' 'wasm-unsafe-eval';") {
		t.Errorf("studio CSP lacks 'wasm-unsafe-eval' for the segmentation WASM: %q", sc)
	}
	if strings.Contains(wc, "wasm") {
		t.Errorf("watch page CSP allows WASM it does not use: %q", wc)
	}
	if got := strings.Replace(sc, " 'wasm-unsafe-eval'", "", 1); got != wc {
		t.Errorf("studio CSP differs from the others by more than 'wasm-unsafe-eval':\n%s\n%s", sc, wc)
	}
}
