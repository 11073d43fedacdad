//go:build !unix

package bench

import "syscall"

// smallReceiveBuffer leaves the receive buffer as it is where it cannot be set before
// connecting: the stalled client then takes longer to be dropped.
func smallReceiveBuffer(_, _ string, _ syscall.RawConn) error { return nil }
