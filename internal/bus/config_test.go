package bus

import (
	"fmt"
	"strings"
	"testing"
)

func TestConfigStringRedactsSecrets(t *testing.T) {
	cfg := Config{
		URL:       "nats://alice:url-secret@n1:4222, nats://tok-secret@n2:4222,nats://n3:4222",
		Name:      "ingest",
		User:      "alice",
		Password:  "pw-secret",
		Token:     "token-secret",
		CredsFile: "/etc/nats/user.creds", NKeySeedFile: "/etc/nats/seed.nk",
		TLSCAFile: "/etc/ca.pem",
	}
	for _, s := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg.LogValue())} {
		for _, secret := range []string{"url-secret", "tok-secret", "pw-secret", "token-secret"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows %s", s, secret)
			}
		}
		for _, visible := range []string{"n1:4222", "n3:4222", "user=alice", "/etc/nats/user.creds", "[REDACTED]"} {
			if !strings.Contains(s, visible) {
				t.Errorf("%q lacks %s", s, visible)
			}
		}
	}
}
