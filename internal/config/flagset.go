package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/usagepipe/usagepipe/internal/redact"
)

// EnvPrefix is the prefix of every environment variable that backs a flag.
const EnvPrefix = "USAGEPIPE_"

// validateFlag is the flag that asks a worker to check its configuration and exit.
const validateFlag = "validate"

// Sources of a flag's value, as reported by [FlagSet.Source].
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceDefault = "default"
)

// FlagSet is a flag.FlagSet (ContinueOnError) whose flags fall back to environment variables. Declare flags with
// the embedded FlagSet's methods ([flag.FlagSet.String], …), [FlagSet.Secret] and [FlagSet.Bytes].
type FlagSet struct {
	*flag.FlagSet
	getenv   func(string) string
	sources  map[string]string
	validate *bool
}

// NewFlagSet returns an empty FlagSet for the named worker that reads the environment through getenv. It
// declares -validate. Usage and parse errors are written to the flag set's output (set it with SetOutput).
func NewFlagSet(name string, getenv func(string) string) *FlagSet {
	f := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv, sources: map[string]string{}}
	f.validate = f.Bool(validateFlag, false, "check the configuration, print it (secrets redacted) and exit")
	return f
}

// EnvName is the environment variable that backs the named flag: USAGEPIPE_ + upper case, '-' and '.' as '_'.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Parse parses args, then sets every flag not given on the command line from its environment variable.
// It returns flag.ErrHelp for -h; errors name the variable whose value is invalid.
func (f *FlagSet) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", f.Args())
	}
	f.Visit(func(fl *flag.Flag) { f.sources[fl.Name] = SourceFlag })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if f.sources[fl.Name] != "" || fl.Name == validateFlag {
			return
		}
		f.sources[fl.Name] = SourceDefault
		if v := f.getenv(EnvName(fl.Name)); v != "" {
			if err := fl.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s (for --%s): %w", EnvName(fl.Name), fl.Name, err))
				return
			}
			f.sources[fl.Name] = SourceEnv
		}
	})
	return errors.Join(errs...)
}

// Source says where the named flag's value came from: [SourceFlag], [SourceEnv] or [SourceDefault]
// ("" before Parse or for an unknown flag).
func (f *FlagSet) Source(name string) string { return f.sources[name] }

// ValidateOnly reports whether -validate was given: the caller checks its configuration, calls
// [FlagSet.Validate] and exits without starting.
func (f *FlagSet) ValidateOnly() bool { return *f.validate }

// Validate writes the effective settings (see [FlagSet.Describe]) and the verdict to w, and returns problems
// (nil when the configuration is valid), wrapped as an invalid configuration; the caller names the worker.
func (f *FlagSet) Validate(w io.Writer, problems error) error {
	f.Describe(w)
	if problems != nil {
		fmt.Fprintf(w, "%s: configuration invalid\n", f.Name())
		return fmt.Errorf("invalid configuration: %w", problems)
	}
	fmt.Fprintf(w, "%s: configuration ok\n", f.Name())
	return nil
}

// Describe writes one line per flag, sorted: name, effective value and its source. Secret flags print as
// [Redacted], and so does the user info of any value that may hold a URL with user info (any value with an
// '@': nats://user:password@host, a token-style https://token@host, a bare user:password@host).
func (f *FlagSet) Describe(w io.Writer) {
	var lines []string
	f.VisitAll(func(fl *flag.Flag) {
		if fl.Name == validateFlag {
			return
		}
		v := redact.URLs(fl.Value.String())
		lines = append(lines, fmt.Sprintf("  --%s=%q (%s)", fl.Name, v, f.Source(fl.Name)))
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
