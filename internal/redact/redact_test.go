package redact_test

import (
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/redact"
)

func TestURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://bob:hunter2@h:4222", "nats://[REDACTED]@h:4222"},
		{"nats://t0ken@h:4222, nats://h2:4222", "nats://[REDACTED]@h:4222,nats://h2:4222"},
		{"https://u:p/a?s#s@api.example/public/v1", "https://[REDACTED]@api.example/public/v1"},
		{"bob:pw@h:4222", "[REDACTED]@h:4222"},
		{"", ""},
	}
	for _, tt := range tests {
		if have := redact.URLs(tt.in); have != tt.want {
			t.Errorf("URLs(%q) = %q, want %q", tt.in, have, tt.want)
		}
		if redact.HasUserInfo(tt.in) != strings.Contains(tt.want, redact.Mark) {
			t.Errorf("HasUserInfo(%q) = %v", tt.in, redact.HasUserInfo(tt.in))
		}
	}
}
