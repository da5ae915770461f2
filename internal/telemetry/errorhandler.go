package telemetry

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
)

// The OTel error handler is global to the process, but several workers may share one (usagepipe dev). It is
// installed once and logs with errorLogger: the first worker's logger (Setup), unless the process owner set
// its own (SetErrorLogger). A later Setup never takes it over, so no worker's name is put on another's errors.
var (
	errorLogger      atomic.Pointer[slog.Logger]
	handlerInstalled sync.Once
)

// SetErrorLogger makes l the logger of every OTel error of the process (the SDK's export failures, …),
// whatever workers set up telemetry before or after. A process running several workers calls it first.
func SetErrorLogger(l *slog.Logger) {
	errorLogger.Store(l)
	installErrorHandler()
}

// claimErrorLogger makes l the OTel error logger unless one is set already.
func claimErrorLogger(l *slog.Logger) {
	errorLogger.CompareAndSwap(nil, l)
	installErrorHandler()
}

func installErrorHandler() {
	handlerInstalled.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			if l := errorLogger.Load(); l != nil {
				l.Warn("opentelemetry", "err", err)
			}
		}))
	})
}
