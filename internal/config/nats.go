package config

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/redact"
)

// Defaults of the shared NATS flags.
const (
	DefaultNATSURL           = "nats://127.0.0.1:4222"
	DefaultPartitions        = 16
	DefaultReplicas          = 1
	DefaultEventsMaxAge      = 7 * 24 * time.Hour
	DefaultEventsDedupWindow = 10 * time.Minute
)

// NATS holds the NATS flags every worker shares. Declare them with [AddNATS]; after Parse, [NATS.Bus] and
// [NATS.Topology] give what internal/bus needs.
type NATS struct {
	URL        string
	User       string
	Password   string // secret
	Token      string // secret
	Creds      string // path of a .creds file
	NKey       string // path of an nkey seed file
	TLSCA      string
	TLSCert    string
	TLSKey     string
	Partitions int
	Replicas   int
	// EventsMaxAge and EventsDedupWindow are USAGE_EVENTS's retention (by arrival time) and Nats-Msg-Id
	// duplicate window. Provision never shrinks either on an existing stream.
	EventsMaxAge      time.Duration
	EventsDedupWindow time.Duration
}

// AddNATS declares --nats-url, --nats-user, --nats-password, --nats-token, --nats-creds, --nats-nkey,
// --nats-tls-ca, --nats-tls-cert, --nats-tls-key, --partitions, --replicas, --events-max-age and
// --events-dedup-window on f.
func AddNATS(f *FlagSet) *NATS {
	n := &NATS{}
	f.StringVar(&n.URL, "nats-url", DefaultNATSURL, "NATS server URL(s), comma-separated")
	f.StringVar(&n.User, "nats-user", "", "NATS user name")
	f.Secret(&n.Password, "nats-password", "NATS password")
	f.Secret(&n.Token, "nats-token", "NATS authentication token")
	f.StringVar(&n.Creds, "nats-creds", "", "path of a NATS credentials (.creds) file")
	f.StringVar(&n.NKey, "nats-nkey", "", "path of a NATS nkey seed file")
	f.StringVar(&n.TLSCA, "nats-tls-ca", "", "path of the CA certificate that signs the NATS servers' certificates")
	f.StringVar(&n.TLSCert, "nats-tls-cert", "", "path of the client certificate for NATS mutual TLS")
	f.StringVar(&n.TLSKey, "nats-tls-key", "", "path of the client key for NATS mutual TLS")
	f.IntVar(&n.Partitions, "partitions", DefaultPartitions, "number of event partitions P (the same on every worker)")
	f.IntVar(&n.Replicas, "replicas", DefaultReplicas, "replicas of streams and buckets (1, or 3 in a cluster)")
	f.DurationVar(&n.EventsMaxAge, "events-max-age", DefaultEventsMaxAge,
		"retention of USAGE_EVENTS by arrival time (an existing stream's longer one is kept)")
	f.DurationVar(&n.EventsDedupWindow, "events-dedup-window", DefaultEventsDedupWindow,
		"Nats-Msg-Id duplicate window of USAGE_EVENTS (an existing stream's longer one is kept)")
	return n
}

// Check reports every problem of the NATS settings at once.
func (n *NATS) Check() error {
	var errs []error
	if n.URL == "" {
		errs = append(errs, errors.New("--nats-url is empty"))
	}
	if n.Partitions < 1 || n.Partitions > 1024 {
		errs = append(errs, fmt.Errorf("--partitions %d: want 1..1024", n.Partitions))
	}
	if n.Replicas < 1 || n.Replicas > 5 {
		errs = append(errs, fmt.Errorf("--replicas %d: want 1..5", n.Replicas))
	}
	if n.EventsDedupWindow <= 0 || n.EventsMaxAge < n.EventsDedupWindow {
		errs = append(errs, fmt.Errorf("--events-dedup-window %v, --events-max-age %v: want 0 < window ≤ max age",
			n.EventsDedupWindow, n.EventsMaxAge))
	}
	if (n.TLSCert == "") != (n.TLSKey == "") {
		errs = append(errs, errors.New("--nats-tls-cert and --nats-tls-key go together"))
	}
	if n.Token != "" && (n.User != "" || n.Password != "" || redact.HasUserInfo(n.URL)) {
		errs = append(errs, errors.New("--nats-token excludes --nats-user/--nats-password and user info in --nats-url"))
	}
	return errors.Join(errs...)
}

// Bus returns the connection settings; name is the client connection name (the worker's name).
func (n *NATS) Bus(name string, log *slog.Logger) bus.Config {
	return bus.Config{
		URL: n.URL, Name: name, User: n.User, Password: n.Password, Token: n.Token,
		CredsFile: n.Creds, NKeySeedFile: n.NKey,
		TLSCAFile: n.TLSCA, TLSCertFile: n.TLSCert, TLSKeyFile: n.TLSKey,
		Log: log, Partitions: n.Partitions,
	}
}

// Topology returns the stream sizing; unset durations take bus defaults.
func (n *NATS) Topology() bus.Topology {
	return bus.Topology{
		Partitions: n.Partitions, Replicas: n.Replicas, EventsMaxAge: n.EventsMaxAge, DedupWindow: n.EventsDedupWindow,
	}.WithDefaults()
}
