package bus

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/usagepipe/usagepipe/internal/redact"
)

// Config says how to reach NATS. Secrets (Password, Token, the contents of CredsFile and NKeySeedFile, and any
// password embedded in URL) are never logged: String redacts them.
type Config struct {
	URL          string // one or more comma-separated nats:// URLs; default nats://127.0.0.1:4222
	Name         string // client connection name, shown in server monitoring
	User         string
	Password     string
	Token        string
	CredsFile    string // JWT + nkey creds file
	NKeySeedFile string // nkey seed file
	TLSCAFile    string
	TLSCertFile  string
	TLSKeyFile   string
	Log          *slog.Logger // default slog.Default()
	// Partitions is the partition count P this service uses, which Ready checks against the one USAGE_EVENTS
	// records; 0 leaves it to Provision's Topology.
	Partitions int
}

// String describes c with every secret redacted; safe to log.
func (c Config) String() string {
	parts := []string{"url=" + redact.URLs(c.url())}
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("name", c.Name)
	add("user", c.User)
	if c.Password != "" {
		add("password", redact.Mark)
	}
	if c.Token != "" {
		add("token", redact.Mark)
	}
	add("creds_file", c.CredsFile)
	add("nkey_seed_file", c.NKeySeedFile)
	add("tls_ca_file", c.TLSCAFile)
	add("tls_cert_file", c.TLSCertFile)
	add("tls_key_file", c.TLSKeyFile)
	return "nats{" + strings.Join(parts, " ") + "}"
}

// LogValue makes slog use the redacted form.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c Config) url() string {
	if c.URL == "" {
		return nats.DefaultURL
	}
	return c.URL
}

func (c Config) logger() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

// authOptions turns credentials and TLS files into nats options.
func (c Config) authOptions() ([]nats.Option, error) {
	var opts []nats.Option
	if c.User != "" || c.Password != "" {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.Token != "" {
		opts = append(opts, nats.Token(c.Token))
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NKeySeedFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("bus: nkey seed file %s: %w", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if c.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLSCAFile))
	}
	if c.TLSCertFile != "" || c.TLSKeyFile != "" {
		opts = append(opts, nats.ClientCert(c.TLSCertFile, c.TLSKeyFile))
	}
	return opts, nil
}
