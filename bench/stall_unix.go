//go:build unix

package bench

import "syscall"

// smallReceiveBuffer is a net.Dialer Control that gives the socket a small receive buffer
// before it connects, so the window it offers is small from the start (set after the
// handshake instead, a loopback connection stops reopening its window once it has closed).
func smallReceiveBuffer(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, stalledReceiveBuffer)
	}); cerr != nil {
		return cerr
	}
	return err
}
