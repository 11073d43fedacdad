// Package web holds Lectern's pages as static files embedded in the binary: no CDN, no
// third-party script, style or font, so a strict Content-Security-Policy holds.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static is the tree served under /static/ and the pages' HTML.
var Static, _ = fs.Sub(files, "static")
