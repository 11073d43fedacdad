// Package udpbuf enlarges UDP receive buffers, so a burst that arrives while a reader is
// descheduled waits in the kernel instead of being dropped there.
package udpbuf

import (
	"net"
	"syscall"
)

// Grow enlarges a socket's receive buffer, beyond net.core.rmem_max
// when the process may (SO_RCVBUFFORCE needs CAP_NET_ADMIN); otherwise the
// kernel caps it quietly.
func Grow(c *net.UDPConn, size int) {
	_ = c.SetReadBuffer(size)
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size)
	})
}
