//go:build !linux

package pgtest

import (
	"errors"
	"syscall"
)

// procAttr: the PostgreSQL tests run where Debian's postgresql package does.
func procAttr(string) (func(server bool) *syscall.SysProcAttr, error) {
	return nil, errors.New("pgtest: the PostgreSQL tests run on Linux")
}
