//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in the data directory that `lectern serve` holds an exclusive flock
// on. Two servers on one directory would hand out the same caption sequence numbers (each
// hub continues from the largest stored one), so the second must not start. Admin commands
// do not take it: SQLite's WAL lets them work beside the server.
const LockFile = "lectern.lock"

// lockDataDir takes the data directory's lock for this process, writing its PID into the
// file for the next one to name (see serverHolder for the second line, the URL). The kernel drops the lock when the process dies, however
// it dies, so a crash leaves no stale lock. unlock releases it; the file is left in place
// (removing it would let a third process lock a fresh inode while a second holds the old).
func lockDataDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			abs, _ := filepath.Abs(dir)
			return nil, fmt.Errorf("data directory %s is in use by another lectern server (pid %s, lock %s): "+
				"stop that server first, or give this one its own --data", abs, holder, path)
		}
		return nil, fmt.Errorf("data directory lock %s: %w", path, err)
	}
	if err := writeHolder(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory lock %s: %w", path, err)
	}
	return func() {
		f.Truncate(0) // no PID of a process that is gone
		f.Close()
	}, nil
}

func writeHolder(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// advertise adds the server's base URL to its lock file, once it is listening, so that admin
// commands beside it print links to where it really is.
func advertise(dir, base string) error {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(base + "\n")
	return err
}

// readHolder is the PID the lock's holder wrote, or "unknown" (it may be between taking the
// lock and writing).
func readHolder(f *os.File) string {
	b := make([]byte, 256)
	n, _ := f.ReadAt(b, 0)
	if pid, _, _ := strings.Cut(string(b[:n]), "\n"); strings.TrimSpace(pid) != "" {
		return strings.TrimSpace(pid)
	}
	return "unknown"
}

// runningServerURL is the base URL a running server on dir advertised, or "" if none runs.
// A server that exits cleanly empties the file; one that crashed left a PID that is no
// longer alive, which the signal-0 probe tells (EPERM: alive, another user's).
func runningServerURL(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 || lines[1] == "" {
		return ""
	}
	pid, err := strconv.Atoi(lines[0])
	if err != nil || pid <= 0 {
		return ""
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return ""
	}
	return lines[1]
}
