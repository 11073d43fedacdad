package pgtest

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// procAttr gives the server's processes the postgres user's credentials when running as
// root (initdb refuses root), with dir made theirs; this process's own user otherwise. The
// server itself (server true) dies with the test binary, even one killed by its -timeout.
func procAttr(dir string) (func(server bool) *syscall.SysProcAttr, error) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user (Debian's postgresql package): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	return func(server bool) *syscall.SysProcAttr {
		if !server {
			return &syscall.SysProcAttr{Credential: cred}
		}
		return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGINT}
	}, nil
}
