//go:build !unix

package main

// lockDataDir has no flock to use here: two servers on one directory are not prevented.
func lockDataDir(string) (func(), error) { return func() {}, nil }

func advertise(string, string) error { return nil }

func runningServerURL(string) string { return "" }
