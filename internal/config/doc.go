// Package config parses a worker's command line: flags that fall back to USAGEPIPE_* environment variables,
// secret flags that never print, the NATS flags every worker shares, and the -validate convention.
//
// # Precedence
//
// A flag given on the command line wins; otherwise the environment variable named by [EnvName]
// (--nats-url → USAGEPIPE_NATS_URL) is used when set and non-empty; otherwise the flag's default.
//
// # Secrets
//
// Flags declared with [FlagSet.Secret] print as "[REDACTED]" when set, in usage text, in [FlagSet.Describe]
// and through the flag package; their values are only reachable through the pointer the caller holds.
// [FlagSet.Describe] (so -validate) also hides the user info of every URL-valued flag (--nats-url
// nats://user:password@host prints as nats://[REDACTED]@host), whatever its kind.
//
// # Concurrency
//
// A FlagSet is used from one goroutine while parsing; the values it fills are then read-only.
package config
