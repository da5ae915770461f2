package progress

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestLinesArePrefixedAndWhole: every line carries the elapsed seconds and concurrent lines never interleave.
func TestLinesArePrefixedAndWhole(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() { l.Printf("line %d of %s", i, strings.Repeat("x", 200)) })
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 20 {
		t.Fatalf("%d lines, want 20:\n%s", len(lines), buf.String())
	}
	re := regexp.MustCompile(`^\[ *\d+\.\ds\] line \d+ of x{200}$`)
	for _, line := range lines {
		if !re.MatchString(line) {
			t.Errorf("malformed line %q", line)
		}
	}
}
