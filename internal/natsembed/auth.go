package natsembed

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// Auth is who may connect: users with passwords, public user nkeys, or a token. Empty: anyone.
type Auth struct {
	Users []User   // users with their passwords
	NKeys []string // public user nkeys ("U…"); a client proves it holds the seed by signing the server's nonce
	Token string   // a token; excludes Users and NKeys; never printed
}

// User is a user name and its password.
type User struct {
	Name     string
	Password string // plain or a bcrypt hash ("$2a$…"); never printed
}

// TLS makes the client port TLS-only.
type TLS struct {
	CertFile, KeyFile string // the server's certificate (chain) and key, PEM; required
	CAFile            string // CA of the client certificates (PEM); required with Verify
	Verify            bool   // require a client certificate signed by CAFile
}

// String describes a without its secrets.
func (a *Auth) String() string {
	switch {
	case a == nil || a.empty():
		return "none"
	case a.Token != "":
		return "token"
	}
	names := make([]string, len(a.Users))
	for i, u := range a.Users {
		names[i] = strconv.Quote(u.Name)
	}
	return fmt.Sprintf("users [%s] with passwords, %d nkeys", strings.Join(names, " "), len(a.NKeys))
}

func (a *Auth) empty() bool { return len(a.Users) == 0 && a.Token == "" && len(a.NKeys) == 0 }

// Check reports every problem of the authentication settings at once.
func (a *Auth) Check() error {
	if a == nil {
		return nil
	}
	var errs []error
	for _, u := range a.Users {
		if u.Name == "" || u.Password == "" {
			errs = append(errs, errors.New("a user needs a password, and a password a user"))
		}
	}
	if a.Token != "" && (len(a.Users) > 0 || len(a.NKeys) > 0) {
		errs = append(errs, errors.New("a token excludes users and nkeys"))
	}
	for _, k := range a.NKeys {
		if !nkeys.IsValidPublicUserKey(k) {
			errs = append(errs, fmt.Errorf("%q is not a public user nkey (U…)", k))
		}
	}
	return errors.Join(errs...)
}

// apply sets a's authentication on so.
func (a *Auth) apply(so *server.Options) {
	if a == nil {
		return
	}
	for _, u := range a.Users {
		so.Users = append(so.Users, &server.User{Username: u.Name, Password: u.Password})
	}
	for _, k := range a.NKeys {
		so.Nkeys = append(so.Nkeys, &server.NkeyUser{Nkey: k})
	}
	so.Authorization = a.Token
}

// Check reports every problem of the TLS settings at once (the files are read at start).
func (t *TLS) Check() error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.CertFile == "" || t.KeyFile == "" {
		errs = append(errs, errors.New("TLS needs a certificate and a key"))
	}
	if t.Verify && t.CAFile == "" {
		errs = append(errs, errors.New("verifying client certificates needs a CA"))
	}
	return errors.Join(errs...)
}

// apply loads the certificate files and makes the client port TLS-only on so.
func (t *TLS) apply(so *server.Options) error {
	if t == nil {
		return nil
	}
	cfg, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: t.CertFile, KeyFile: t.KeyFile, CaFile: t.CAFile, Verify: t.Verify,
	})
	if err != nil {
		return fmt.Errorf("natsembed: TLS: %w", err)
	}
	so.TLS, so.TLSConfig, so.TLSVerify = true, cfg, t.Verify
	so.TLSTimeout = tlsTimeout.Seconds()
	return nil
}
