package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/usagepipe/usagepipe/internal/redact"
)

// Redacted is how a set secret prints.
const Redacted = redact.Mark

// Secret declares a string flag whose value never prints (it shows as [Redacted] when set). Its default is
// always empty: secrets come from the command line or, better, the environment: USAGEPIPE_<NAME>, or the file
// USAGEPIPE_<NAME>_FILE names (a Compose or Kubernetes secret; trailing line breaks dropped), unless the flag
// set declares its own <name>-file flag, which then has that variable.
func (f *FlagSet) Secret(p *string, name, usage string) {
	*p = ""
	f.Var((*secret)(p), name, usage+" (secret; prefer "+EnvName(name)+" or "+SecretFileEnv(name)+")")
	f.secrets = append(f.secrets, name)
}

// SecretFileEnv is the variable naming the file that holds the named secret flag's value.
func SecretFileEnv(flagName string) string { return EnvName(flagName) + "_FILE" }

// secret is a string flag.Value that hides its value.
type secret string

func (s *secret) Set(v string) error { *s = secret(v); return nil }

func (s *secret) String() string {
	if s == nil || *s == "" {
		return ""
	}
	return Redacted
}

// Bytes declares a size flag: a plain number of bytes or a number with a suffix B, KiB, MiB or GiB ("5MiB").
func (f *FlagSet) Bytes(p *int64, name string, value int64, usage string) {
	*p = value
	f.Var((*byteSize)(p), name, usage)
}

// byteSize is an int64 flag.Value with binary unit suffixes.
type byteSize int64

var byteUnits = []struct {
	suffix string
	factor int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

func (b *byteSize) Set(v string) error {
	v = strings.TrimSpace(v)
	factor := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(v, u.suffix) {
			v, factor = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/factor {
		return fmt.Errorf("invalid size %q: want bytes or a number with B, KiB, MiB or GiB", v)
	}
	*b = byteSize(n * factor)
	return nil
}

func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	n := int64(*b)
	for _, u := range byteUnits {
		if n != 0 && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return "0"
}
