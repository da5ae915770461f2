package childproc

import (
	"os"
	"strings"
)

// CleanEnv is the parent's environment without USAGEPIPE_* and OTEL_* settings (the caller sets its
// children's own), with tracing export off; append a child's settings to it.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "USAGEPIPE_") && !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, "OTEL_SDK_DISABLED=true")
}
