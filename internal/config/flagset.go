package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/usagepipe/usagepipe/internal/buildinfo"
	"github.com/usagepipe/usagepipe/internal/redact"
)

// EnvPrefix is the prefix of every environment variable that backs a flag.
const EnvPrefix = "USAGEPIPE_"

// validateFlag is the flag that asks a worker to check its configuration and exit.
const validateFlag = "validate"

// versionFlag is the flag that asks a command to print its build and exit.
const versionFlag = "version"

// ErrVersion is what Parse returns after --version printed the build. It wraps flag.ErrHelp: a caller that
// exits successfully after -h does so after --version too.
var ErrVersion = fmt.Errorf("version printed: %w", flag.ErrHelp)

// Sources of a flag's value, as reported by [FlagSet.Source].
const (
	SourceFlag    = "flag"
	SourceEnv     = "env"
	SourceDefault = "default"
	SourceFile    = "file" // a secret read from the file its USAGEPIPE_<NAME>_FILE variable names
)

// FlagSet is a flag.FlagSet (ContinueOnError) whose flags fall back to environment variables. Declare flags with
// the embedded FlagSet's methods ([flag.FlagSet.String], …), [FlagSet.Secret] and [FlagSet.Bytes].
type FlagSet struct {
	*flag.FlagSet
	getenv   func(string) string
	sources  map[string]string
	validate *bool
	version  *bool
	secrets  []string // names of the Secret flags
}

// NewFlagSet returns an empty FlagSet for the named worker that reads the environment through getenv. It
// declares -validate and -version. Usage, the version and parse errors are written to the flag set's output (set
// it with SetOutput).
func NewFlagSet(name string, getenv func(string) string) *FlagSet {
	f := &FlagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv, sources: map[string]string{}}
	f.validate = f.Bool(validateFlag, false, "check the configuration, print it (secrets redacted) and exit")
	f.version = f.Bool(versionFlag, false, "print the build (module version, commit, its time) and exit")
	return f
}

// EnvName is the environment variable that backs the named flag: USAGEPIPE_ + upper case, '-' and '.' as '_'.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(flagName))
}

// Parse parses args, then sets every flag not given on the command line from its environment variable.
// It returns flag.ErrHelp for -h, and ErrVersion (which wraps flag.ErrHelp) once --version printed the build;
// errors name the variable whose value is invalid.
func (f *FlagSet) Parse(args []string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	if *f.version {
		fmt.Fprintln(f.Output(), buildinfo.Read().String(f.Name()))
		return ErrVersion
	}
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", f.Args())
	}
	f.Visit(func(fl *flag.Flag) { f.sources[fl.Name] = SourceFlag })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if f.sources[fl.Name] != "" || fl.Name == validateFlag || fl.Name == versionFlag {
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
	for _, name := range f.secrets {
		errs = append(errs, f.readSecretFile(name))
	}
	return errors.Join(errs...)
}

// readSecretFile sets the named secret flag from the file its USAGEPIPE_<NAME>_FILE variable names, when the
// flag set has no <name>-file flag of its own. The file and a value given otherwise exclude each other.
func (f *FlagSet) readSecretFile(name string) error {
	env := SecretFileEnv(name)
	path := f.getenv(env)
	if path == "" || f.Lookup(name+"-file") != nil {
		return nil
	}
	if f.sources[name] != SourceDefault {
		return fmt.Errorf("%s and %s (--%s) exclude each other", env, EnvName(name), name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", env, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return fmt.Errorf("%s: %s is empty", env, path)
	}
	f.sources[name] = SourceFile
	return f.Set(name, v)
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
		if fl.Name == validateFlag || fl.Name == versionFlag {
			return
		}
		v := redact.URLs(fl.Value.String())
		lines = append(lines, fmt.Sprintf("  --%s=%q (%s)", fl.Name, v, f.Source(fl.Name)))
	})
	sort.Strings(lines)
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
