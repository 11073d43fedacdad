// Package e2e holds end-to-end tests that run the real lectern binary as a user would: the
// server as a separate process, admin commands against its data directory, and headless
// Chromium on the pages. It has no non-test code beyond this comment.
package e2e
