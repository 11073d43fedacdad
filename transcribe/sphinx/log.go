//go:build cgo

package sphinx

/*
#include <sphinxbase/err.h>
void lectern_sphinx_route_log(void);
*/
import "C"

import (
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// PocketSphinx's log callback is process-wide, so its logger is too: the first Engine's.
var (
	routeLog  sync.Once
	logTarget atomic.Pointer[slog.Logger]
)

func setupLog(l *slog.Logger) {
	logTarget.CompareAndSwap(nil, l)
	routeLog.Do(func() { C.lectern_sphinx_route_log() })
}

//export sphinxLog
func sphinxLog(lvl C.int, msg *C.char) {
	l := logTarget.Load()
	if l == nil {
		return
	}
	text := strings.TrimSpace(C.GoString(msg))
	// Its errors include benign ones ("Couldn't find <s> in first frame" on silence), so
	// they are warnings here; only fatal ones (which end the process) are errors.
	switch {
	case lvl >= C.ERR_FATAL:
		l.Error("pocketsphinx", "msg", text)
	case lvl >= C.ERR_ERROR:
		l.Warn("pocketsphinx", "msg", text)
	default:
		l.Debug("pocketsphinx", "msg", text)
	}
}
