// Package web holds Lectern's pages as static files embedded in the binary: no CDN, no
// third-party script, style or font, so a strict Content-Security-Policy holds.
package web

import (
	"embed"
	"io/fs"
)

// static/mediapipe/ (the studio's background segmentation model and WASM) is not in git:
// `make` fetches it (scripts/fetch-mediapipe.sh) before building, and this pattern embeds it
// with the rest when it is there. go:embed cannot name a directory that may be missing, but
// static always exists, so a build without the model still compiles and the studio hides the
// option. Embedding keeps one self-contained binary that serves the model itself (about 12 MB
// more) rather than depending on files beside it.
//
//go:embed static
var files embed.FS

// Static is the tree served under /static/ and the pages' HTML.
var Static, _ = fs.Sub(files, "static")
