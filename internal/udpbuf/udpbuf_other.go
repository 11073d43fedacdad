//go:build !linux

package udpbuf

import "net"

// Grow sets the receive buffer as far as the kernel allows.
func Grow(c *net.UDPConn, size int) { _ = c.SetReadBuffer(size) }
