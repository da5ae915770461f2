package usageapi

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// PermanentNetwork reports whether err is a network failure that repeating the request meets again,
// because it is a matter of configuration, not of luck: the server's certificate is not trusted, does
// not match the host or is invalid; or the host name does not exist
// (DNS "no such host"; a DNS timeout or a failing resolver stays retryable). Such a request never
// reached Connect, so it is not ambiguous either.
func PermanentNetwork(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		dns       *net.DNSError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid):
		return true
	case errors.As(err, &dns):
		return dns.IsNotFound
	}
	return false
}
